#include "engine/analysis/synthetic_lesion.h"

#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/model/inference.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace segxai {

std::vector<float> syntheticLesionWeights(const Geometry& g, const SyntheticLesion& lesion) {
    for (int a = 0; a < 3; ++a) {
        if (!(lesion.radiiMm[a] > 0.0)) throw Error("a synthetic lesion needs positive radii");
    }
    const double meanRadius = (lesion.radiiMm.x + lesion.radiiMm.y + lesion.radiiMm.z) / 3.0;
    const double edge = std::max(0.0, lesion.edgeMm);
    std::vector<float> w(g.voxelCount(), 0.0f);
    for (int64_t k = 0; k < g.dims[2]; ++k)
        for (int64_t j = 0; j < g.dims[1]; ++j)
            for (int64_t i = 0; i < g.dims[0]; ++i) {
                const glm::dvec3 d =
                    (g.voxelToWorld(glm::dvec3(double(i), double(j), double(k))) - lesion.centre) / lesion.radiiMm;
                // Approximate signed distance to the surface, mm (negative inside).
                const double s = (glm::length(d) - 1.0) * meanRadius;
                double weight;
                if (edge <= 0.0) {
                    weight = s <= 0.0 ? 1.0 : 0.0;
                } else {
                    const double t = std::clamp(0.5 - s / edge, 0.0, 1.0);
                    weight = t * t * (3.0 - 2.0 * t);
                }
                w[g.linearIndex(i, j, k)] = float(weight);
            }
    return w;
}

Study withSyntheticLesion(const Study& study, const SyntheticLesion& lesion) {
    if (lesion.contrast.size() != study.channels.size()) {
        throw Error(fmt::format("a synthetic lesion needs one contrast per channel ({}), not {}", study.channels.size(),
                                lesion.contrast.size()));
    }
    const std::vector<float> w = syntheticLesionWeights(study.geometry, lesion);
    Study painted = study;
    for (size_t c = 0; c < painted.channels.size(); ++c) {
        const float contrast = float(lesion.contrast[c]);
        for (size_t n = 0; n < w.size(); ++n)
            painted.channels[c].voxels[n] *= 1.0f + contrast * w[n];
    }
    if (painted.groundTruth) {
        for (size_t n = 0; n < w.size(); ++n) {
            if (w[n] >= 0.5f) painted.groundTruth->labels[n] = 1;
        }
    }
    painted.warnings.push_back(fmt::format("a synthetic lesion is painted in at ({:.1f}, {:.1f}, {:.1f}) mm",
                                           lesion.centre.x, lesion.centre.y, lesion.centre.z));
    return painted;
}

SyntheticDetection detectSynthetic(const Segmentation& segmentation, const Study& painted,
                                   const SyntheticLesion& lesion, int classIndex, double threshold) {
    if (classIndex < 1 || classIndex >= int(segmentation.probabilities.size())) throw Error("no such lesion class");
    const std::vector<float> w = syntheticLesionWeights(painted.geometry, lesion);
    const std::vector<float> p = segmentation.probabilities.volume(size_t(classIndex)).voxels;
    SyntheticDetection d;
    d.radiusMm = (lesion.radiiMm.x + lesion.radiiMm.y + lesion.radiiMm.z) / 3.0;
    double sum = 0.0;
    for (size_t n = 0; n < w.size(); ++n) {
        if (w[n] < 0.5f) continue;
        ++d.coreVoxels;
        sum += p[n];
        d.detected = d.detected || p[n] > threshold;
    }
    d.meanProbability = d.coreVoxels ? sum / double(d.coreVoxels) : 0.0;
    return d;
}

std::vector<SyntheticDetection> syntheticSweep(const Model& model, const Study& study, const SyntheticLesion& lesion,
                                               const std::vector<double>& radiiMm,
                                               const std::vector<double>& contrastScales, int classIndex,
                                               double threshold, JobContext* job) {
    std::vector<SyntheticDetection> cells;
    const double meanRadius = (lesion.radiiMm.x + lesion.radiiMm.y + lesion.radiiMm.z) / 3.0;
    const size_t total = radiiMm.size() * contrastScales.size();
    for (double radius : radiiMm) {
        for (double scale : contrastScales) {
            if (job) {
                job->throwIfStopped();
                job->progress(float(cells.size()) / float(std::max<size_t>(1, total)),
                              fmt::format("radius {:g} mm, contrast x{:g}", radius, scale));
            }
            SyntheticLesion l = lesion;
            l.radiiMm = lesion.radiiMm * (radius / meanRadius);
            for (double& c : l.contrast)
                c *= scale;
            const Study painted = withSyntheticLesion(study, l);
            const Segmentation s = segmentStudy(model, painted);
            SyntheticDetection d = detectSynthetic(s, painted, l, classIndex, threshold);
            d.radiusMm = radius;
            d.contrastScale = scale;
            cells.push_back(d);
        }
    }
    if (job) job->progress(1.0f, "sweep done");
    return cells;
}

} // namespace segxai
