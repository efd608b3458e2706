#include "engine/batch/batch_runner.h"

#include "engine/batch/batch_config.h"
#include "engine/batch/batch_folder.h"
#include "engine/batch/batch_study.h"
#include "engine/core/cpu_usage.h"
#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/memory_budget.h"
#include "engine/io/atomic_file.h"
#include "engine/io/json_text.h"
#include "engine/io/manifest.h"
#include "engine/io/study_channels.h"
#include "engine/io/study_prefetcher.h"
#include "engine/model/device.h"
#include "engine/model/model.h"

#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <set>

namespace fs = std::filesystem;

namespace segxai {
namespace {

using nlohmann::json;

std::vector<std::string> inputPaths(const StudyRequest& r) {
    std::vector<std::string> paths = r.channelPaths;
    if (r.groundTruthPath) paths.push_back(*r.groundTruthPath);
    return paths;
}

// DIR/batch.json: what merge needs without the manifest (the study ids in order) and what
// decides whether a finished study is still valid (the configuration's hash). Every shard
// writes the same content.
std::string writeBatchDescription(const BatchRequest& request, const BatchConfig& config, const Manifest& manifest) {
    const json configJson = config.toJson();
    std::error_code ec;
    const std::string model = fs::weakly_canonical(request.model, ec).string();
    const std::string hash = textHash(configJson.dump() + "\n" + model + "\n" + filesIdentity({request.model}));
    json ids = json::array();
    for (const auto& s : manifest.studies)
        ids.push_back(s.id);
    const json description = {{"config", configJson},
                              {"config_hash", hash},
                              {"model", model},
                              {"manifest", fs::weakly_canonical(request.manifest, ec).string()},
                              {"channels", manifest.channelNames},
                              {"studies", ids}};
    writeFileAtomically((fs::path(request.out) / "batch.json").string(), readableJson(description) + "\n",
                        {request.manifest, request.model});
    return hash;
}

} // namespace

BatchResult runBatch(const BatchRequest& request, JobControl& control,
                     const std::function<void(const BatchStudyEvent&)>& onEvent) {
    using Clock = std::chrono::steady_clock;
    const BatchConfig config = readBatchConfig(request.config);
    Manifest manifest = readManifest(request.manifest);
    if (manifest.studies.empty()) throw Error(request.manifest + ": no studies");
    for (const auto& s : manifest.studies)
        checkStudyId(s.id);
    const std::shared_ptr<const Model> model = Model::load(request.model);
    const ChannelMatch match =
        matchManifest(manifest, model->card().inputChannels, request.keepChannelOrder, request.manifest);
    if (match.reorders())
        logInfo("channels: {} (manifest columns matched to the model's inputs by name)", match.mapping);
    std::error_code ec;
    fs::create_directories(request.out, ec);
    if (ec || !fs::is_directory(request.out))
        throw Error(request.out + ": cannot create the output folder (" + ec.message() + ")");
    const std::string configHash = writeBatchDescription(request, config, manifest);

    // This run's studies; finished ones are skipped before anything is loaded.
    BatchResult result;
    std::vector<size_t> todo;
    std::vector<std::string> inputsHash(manifest.studies.size());
    for (size_t p = 0; p < manifest.studies.size(); ++p) {
        if (request.shard && !request.shard->includes(p)) continue;
        ++result.selected;
        inputsHash[p] = filesIdentity(inputPaths(manifest.studies[p].request));
        todo.push_back(p);
    }
    size_t position = 0;
    auto event = [&](BatchStudyEvent::Kind kind, const std::string& id) {
        BatchStudyEvent e;
        e.kind = kind;
        e.id = id;
        e.position = position;
        e.count = result.selected;
        return e;
    };
    std::vector<size_t> compute;
    for (size_t p : todo) {
        const auto& entry = manifest.studies[p];
        if (studyComplete(request.out, entry.id, configHash, inputsHash[p])) {
            ++result.skipped;
            onEvent(event(BatchStudyEvent::Kind::Skipped, entry.id));
            ++position;
        } else {
            compute.push_back(p);
        }
    }

    std::vector<StudyRequest> requests;
    for (size_t p : compute)
        requests.push_back(manifest.studies[p].request);
    StudyPrefetcher prefetcher(requests, request.prefetch);
    for (size_t p : compute) {
        const ManifestEntry& entry = manifest.studies[p];
        if (control.stopRequested()) {
            result.cancelled = true;
            break;
        }
        onEvent(event(BatchStudyEvent::Kind::Started, entry.id));
        const auto start = Clock::now();
        const CpuMeter cpu;
        try {
            StudyOutputFolder folder(request.out, entry.id);
            JobContext job(control);
            job.progress(0.0f, "loading");
            const Study study = prefetcher.next();
            std::vector<std::string> inputs = inputPaths(entry.request);
            inputs.push_back(request.model);
            const auto stages = runBatchStudy(*model, study, entry.id, config, folder.path(), inputs, &job);
            const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
            releaseFreedMemory();
            json completion = {{"id", entry.id},
                               {"config_hash", configHash},
                               {"inputs_hash", inputsHash[p]},
                               {"inputs", inputPaths(entry.request)},
                               {"seconds", seconds},
                               {"stage_seconds", stages},
                               {"resident_bytes", residentMemoryBytes()},
                               {"device", computeDevice().description},
                               {"threads", computeDevice().threads},
                               {"cpu_seconds", cpu.cpuSeconds()},
                               {"cpu_per_wall", cpu.cpuPerWall()}};
            folder.commit(completion);
            clearStudyFailure(request.out, entry.id);
            ++result.done;
            BatchStudyEvent e = event(BatchStudyEvent::Kind::Done, entry.id);
            e.seconds = seconds;
            e.residentBytes = completion["resident_bytes"].get<uint64_t>();
            onEvent(e);
        } catch (const JobCancelled&) {
            result.cancelled = true;
            break;
        } catch (const std::exception& error) {
            if (control.stopRequested()) {
                result.cancelled = true;
                break;
            }
            releaseFreedMemory();
            ++result.failed;
            BatchStudyEvent e = event(BatchStudyEvent::Kind::Failed, entry.id);
            e.error = error.what();
            e.residentBytes = residentMemoryBytes();
            try {
                recordStudyFailure(request.out, entry.id, e.error);
            } catch (const std::exception& unrecorded) {
                e.error += std::string(" (and the failure could not be recorded: ") + unrecorded.what() + ")";
            }
            onEvent(e);
        }
        ++position;
    }
    if (!request.shard && !result.cancelled) result.merged = mergeBatch(request.out);
    return result;
}

} // namespace segxai
