// Soak: 500 random engine jobs in one process, as a long viewer session makes them — load a
// study (sometimes a broken one), segment it, explain it with a random method and target,
// while requests supersede and cancel each other at random moments. Nothing may crash or
// hang, every job must end as succeeded, failed with a message or cancelled, and resident
// memory after warm-up may not grow by 5 %.
#include "engine/core/job_runner.h"
#include "engine/core/memory_budget.h"
#include "engine/explain/explanation.h"
#include "engine/io/image_io.h"
#include "engine/io/study_loader.h"
#include "engine/model/inference.h"
#include "engine/model/model.h"
#include "tests/support/temp_dir.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <future>
#include <random>
#include <thread>

using namespace segxai;

namespace {

const std::string kModels = SEGXAI_TEST_DATA "/models/";

struct SoakInputs {
    std::vector<StudyRequest> studies; // the last one is broken
    std::vector<std::shared_ptr<const Model>> models;
};

SoakInputs writeInputs(const test::TempDir& dir) {
    SoakInputs in;
    const std::vector<std::array<int64_t, 3>> sizes{{16, 20, 12}, {24, 16, 12}, {12, 12, 16}};
    for (size_t s = 0; s < sizes.size(); ++s) {
        Geometry g;
        g.dims = {sizes[s][0], sizes[s][1], sizes[s][2]};
        g.spacing = {1.0 + 0.5 * double(s), 1.0, 1.2};
        StudyRequest r;
        for (int c = 0; c < 2; ++c) {
            const std::string path = dir.file(fmt::format("study{}_{}.nii.gz", s, c));
            writeVolume(test::makeVolume(g,
                                         [&](auto i, auto j, auto k) {
                                             return float(std::sin(0.3 * i + 0.2 * j * (c + 1) + 0.1 * k + double(s)));
                                         }),
                        path);
            r.channelPaths.push_back(path);
        }
        in.studies.push_back(r);
    }
    std::ofstream(dir.file("broken.nii.gz")) << "\x1f\x8b not really gzip";
    StudyRequest broken;
    broken.channelPaths = {dir.file("broken.nii.gz"), dir.file("broken.nii.gz")};
    in.studies.push_back(broken);
    in.models = {Model::load(kModels + "tiny_unet_traced.pt"), Model::load(kModels + "tiny_unet_scripted.pt")};
    return in;
}

// A random target on a study: a class, a voxel, a box, an instance (maybe on background: a
// clear failure), or a class above a probability.
std::string randomTarget(std::mt19937& rng, const Geometry& g) {
    auto coordinate = [&](int axis) {
        return std::uniform_int_distribution<int64_t>(0, g.dims[size_t(axis)] - 1)(rng);
    };
    switch (std::uniform_int_distribution<int>(0, 4)(rng)) {
    case 0:
        return fmt::format("class:{}", std::uniform_int_distribution<int>(1, 2)(rng));
    case 1:
        return fmt::format("voxel:{},{},{}", coordinate(0), coordinate(1), coordinate(2));
    case 2:
        return fmt::format("box:{},{},{},{},{},{}", coordinate(0) / 2, coordinate(1) / 2, coordinate(2) / 2,
                           coordinate(0), coordinate(1), coordinate(2));
    case 3:
        return fmt::format("instance:{},{},{}", coordinate(0), coordinate(1), coordinate(2));
    default:
        return "class:lesion:0.4";
    }
}

// Small settings so a job takes tens of milliseconds.
ExplainParameters smallParameters(std::mt19937& rng) {
    ExplainParameters p;
    p.samples = std::uniform_int_distribution<int>(1, 3)(rng);
    p.steps = std::uniform_int_distribution<int>(1, 3)(rng);
    p.window = 8;
    p.stride = 8;
    p.coalitions = 4;
    p.seed = rng();
    p.batch = std::uniform_int_distribution<int>(0, 2)(rng);
    return p;
}

} // namespace

TEST_CASE("soak: 500 random engine jobs with random cancels neither crash, hang nor grow memory", "[soak]") {
    test::TempDir dir;
    const SoakInputs inputs = writeInputs(dir);
    const std::vector<Method> methods = allMethods();
    JobRunner::Options options;
    options.workers = 2;
    JobRunner runner(options);
    std::mt19937 rng(20261128);
    std::map<JobStatus, int> outcomes;
    std::vector<std::string> unexpected;
    std::map<std::string, int> errors; // distinct failure messages (their beginnings)
    uint64_t residentAfterWarmUp = 0;
    const int jobs = 500, warmUp = 100;

    auto settle = [&] {
        // A hang would stop the test here: wait with a deadline instead of forever.
        auto idle = std::async(std::launch::async, [&] { runner.waitIdle(); });
        REQUIRE(idle.wait_for(std::chrono::seconds(120)) == std::future_status::ready);
        for (const JobReport& r : runner.drain()) {
            ++outcomes[r.status];
            if (r.status == JobStatus::Failed && r.error.empty())
                unexpected.push_back(r.title + ": failed without a message");
            if (r.status != JobStatus::Failed) continue;
            // Only the failures the inputs provoke on purpose: anything else is a bug found.
            const bool broken = r.error.find("broken.nii.gz: cannot read") != std::string::npos,
                       background = r.error.find("is background") != std::string::npos, expected = broken || background;
            ++errors[broken       ? "the broken study (cannot read)"
                     : background ? "an instance target on background"
                                  : r.error];
            if (!expected) unexpected.push_back(r.title + ": " + r.error);
        }
    };

    for (int n = 0; n < jobs; ++n) {
        const size_t studyIndex = std::uniform_int_distribution<size_t>(0, inputs.studies.size() - 1)(rng);
        const StudyRequest request = inputs.studies[studyIndex];
        const auto model = inputs.models[std::uniform_int_distribution<size_t>(0, 1)(rng)];
        const Method method = methods[std::uniform_int_distribution<size_t>(0, methods.size() - 1)(rng)];
        const ExplainParameters parameters = smallParameters(rng);
        const uint64_t targetSeed = rng();
        // Mostly a slot of its own; sometimes a shared one, where a new request supersedes the
        // one before it (queued: dropped; running: asked to stop), as a panel's next request does.
        const JobSlot slot(std::uniform_int_distribution<int>(0, 4)(rng) == 0 ? "panel A" : fmt::format("job {}", n));
        const uint64_t id = runner.submit(
            slot, fmt::format("job {}: {}", n, methodId(method)),
            [=](JobContext& job) {
                const Study study = loadStudy(request, &job);
                job.throwIfStopped();
                const Segmentation segmentation = segmentStudy(*model, study, &job);
                std::mt19937 local{uint32_t(targetSeed)};
                const Target target =
                    resolveTarget(parseTargetSpec(randomTarget(local, study.geometry)), study, segmentation);
                return explain(*model, study, target, {method}, parameters, &job, &segmentation.labels);
            },
            [](std::vector<Explanation>) {});
        // Cancel at a random moment, or let it run, or pile the next request on top of it.
        const int what = std::uniform_int_distribution<int>(0, 9)(rng);
        if (what < 3) {
            std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 30)(rng)));
            runner.cancel(id);
        } else if (what == 3) {
            runner.cancelAll();
        }
        if (n % 10 == 9) settle();
        if (n + 1 == warmUp) {
            settle();
            releaseFreedMemory();
            residentAfterWarmUp = residentMemoryBytes();
        }
    }
    settle();
    releaseFreedMemory();
    const uint64_t residentAtEnd = residentMemoryBytes();
    INFO("succeeded " << outcomes[JobStatus::Succeeded] << ", failed " << outcomes[JobStatus::Failed] << ", cancelled "
                      << outcomes[JobStatus::Cancelled] << "; resident after " << warmUp << " jobs "
                      << residentAfterWarmUp / 1048576.0 << " MiB, after " << jobs << " " << residentAtEnd / 1048576.0
                      << " MiB");
    std::string kinds;
    for (const auto& [error, count] : errors)
        kinds += fmt::format("  {} x {}\n", count, error);
    INFO("failures:\n" << kinds);
    CHECK(unexpected.empty());
    CHECK(outcomes[JobStatus::Succeeded] > 100);
    CHECK(outcomes[JobStatus::Failed] > 10); // the broken study, instances on background
    CHECK(outcomes[JobStatus::Cancelled] > 10);
    CHECK(residentAfterWarmUp > 0);
#if !defined(__SANITIZE_ADDRESS__) // ASan's quarantine keeps freed memory resident by design
    CHECK(double(residentAtEnd) < 1.05 * double(residentAfterWarmUp));
#endif
    WARN("failures:\n" << kinds);
    WARN("soak: succeeded " << outcomes[JobStatus::Succeeded] << ", failed " << outcomes[JobStatus::Failed]
                            << ", cancelled " << outcomes[JobStatus::Cancelled] << "; resident "
                            << residentAfterWarmUp / 1048576.0 << " -> " << residentAtEnd / 1048576.0 << " MiB");
}
