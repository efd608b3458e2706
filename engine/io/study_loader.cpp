#include "engine/io/study_loader.h"

#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/core/resample.h"
#include "engine/io/image_io.h"

#include <cmath>
#include <fmt/format.h>

namespace segxai {
namespace {

void checkOverlap(const Geometry& reference, const Geometry& other, const std::string& path,
                  const std::string& referencePath) {
    if (!reference.worldBounds().intersects(other.worldBounds())) {
        throw Error(fmt::format("{}: does not overlap {} in world space; the channels of a "
                                "study must be co-registered",
                                path, referencePath));
    }
}

size_t replaceNonFinite(std::vector<float>& voxels) {
    size_t count = 0;
    for (float& v : voxels) {
        if (!std::isfinite(v)) {
            v = 0.0f;
            ++count;
        }
    }
    return count;
}

std::string uniqueName(std::string name, const std::vector<Volume>& channels) {
    const std::string base = name;
    for (int n = 2;; ++n) {
        bool taken = false;
        for (const auto& c : channels)
            taken = taken || c.name == name;
        if (!taken) return name;
        name = fmt::format("{}_{}", base, n);
    }
}

} // namespace

Study loadStudy(const StudyRequest& request, JobContext* job) {
    if (request.channelPaths.empty()) throw Error("a study needs at least one image file");
    Study study;
    const size_t files = request.channelPaths.size() + (request.groundTruthPath ? 1 : 0);
    const size_t reference = request.referenceChannel < request.channelPaths.size() ? request.referenceChannel : 0;
    const std::string& referencePath = request.channelPaths[reference];
    std::vector<Volume> volumes(request.channelPaths.size());
    // The reference channel first: the others are resampled onto its grid.
    for (size_t step = 0; step < request.channelPaths.size(); ++step) {
        const size_t c = step == 0 ? reference : step <= reference ? step - 1 : step;
        const std::string& path = request.channelPaths[c];
        const std::string series = c < request.dicomSeries.size() ? request.dicomSeries[c] : "";
        std::optional<JobContext> part;
        if (job) {
            part = job->sub(float(step) / float(files), float(step + 1) / float(files));
            part->progress(0.0f, "reading " + volumeNameFromPath(path));
        }
        Volume volume = readVolume(path, series, part ? &*part : nullptr, &study.warnings);
        if (step == 0) {
            study.geometry = volume.geometry;
        } else if (!volume.geometry.sameGrid(study.geometry)) {
            checkOverlap(study.geometry, volume.geometry, path, referencePath);
            study.warnings.push_back(fmt::format("{}: grid {} differs from {}; resampled onto it "
                                                 "(linear)",
                                                 volume.name, volume.geometry.describe(), study.geometry.describe()));
            volume = resampleLinear(volume, study.geometry);
        }
        if (const size_t bad = replaceNonFinite(volume.voxels)) {
            study.warnings.push_back(fmt::format("{}: {} voxels were NaN or infinite; set to 0", volume.name, bad));
        }
        volumes[c] = std::move(volume);
        if (job) job->throwIfStopped();
    }
    for (size_t c = 0; c < volumes.size(); ++c) {
        volumes[c].name = uniqueName(volumes[c].name, study.channels);
        study.channels.push_back(std::move(volumes[c]));
        study.sourcePaths.push_back(request.channelPaths[c]);
    }
    if (request.groundTruthPath) {
        const std::string& path = *request.groundTruthPath;
        std::optional<JobContext> step;
        if (job) {
            step = job->sub(float(files - 1) / float(files), 1.0f);
            step->progress(0.0f, "reading ground truth");
        }
        LabelVolume labels = readLabelVolume(path, step ? &*step : nullptr, &study.warnings);
        if (!labels.geometry.sameGrid(study.geometry)) {
            checkOverlap(study.geometry, labels.geometry, path, referencePath);
            study.warnings.push_back(fmt::format("{}: grid {} differs from the study's; resampled "
                                                 "onto it (nearest neighbour)",
                                                 labels.name, labels.geometry.describe()));
            labels = resampleNearest(labels, study.geometry);
        }
        study.groundTruth = std::move(labels);
        study.groundTruthPath = path;
    }
    if (job) job->progress(1.0f, "loaded");
    return study;
}

} // namespace segxai
