#include "engine/analysis/lesions.h"

#include "engine/analysis/connected_components.h"
#include "engine/analysis/distance_transform.h"
#include "engine/core/error.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace segxai {

const char* lesionGroupName(LesionGroup group) {
    switch (group) {
    case LesionGroup::TruePositive:
        return "TP";
    case LesionGroup::FalsePositive:
        return "FP";
    case LesionGroup::FalseNegative:
        return "FN";
    case LesionGroup::Unmatched:
        return "-";
    }
    return "-";
}

namespace {

// Components of at least `minimumSize` voxels, largest first (scan order on ties).
std::vector<int32_t> largestFirst(const Components& components, int64_t minimumSize) {
    std::vector<int32_t> order;
    for (int32_t c = 1; c <= components.count(); ++c) {
        if (components.sizes[size_t(c)] >= minimumSize) order.push_back(c);
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t b) { return components.sizes[size_t(a)] > components.sizes[size_t(b)]; });
    return order;
}

} // namespace

std::vector<uint8_t> LesionSet::mask(int id) const {
    std::vector<uint8_t> m(ids.size());
    for (size_t n = 0; n < ids.size(); ++n)
        m[n] = ids[n] == id;
    return m;
}

int LesionSet::lesionAt(const Index3& v) const {
    if (!grid.contains(v[0], v[1], v[2])) return 0;
    return ids[grid.linearIndex(v[0], v[1], v[2])];
}

namespace {

// The predicted components of at least the minimum size, largest first, as lesions (their
// voxels in set.ids); TP when they touch the ground truth. Returns the mask of kept voxels.
std::vector<uint8_t> keepPredicted(LesionSet& set, const std::vector<uint8_t>& predicted,
                                   const std::vector<uint8_t>& truthMask, bool hasTruth) {
    const LesionOptions& options = set.options;
    const Components components = connectedComponents(set.grid, predicted, options.connectivity);
    std::vector<int32_t> idOf(size_t(components.count()) + 1, 0);
    for (int32_t c : largestFirst(components, options.minimumSize)) {
        Lesion lesion;
        lesion.id = int(set.lesions.size()) + 1;
        lesion.group = hasTruth ? LesionGroup::FalsePositive : LesionGroup::Unmatched;
        idOf[size_t(c)] = lesion.id;
        set.lesions.push_back(lesion);
    }
    std::vector<uint8_t> kept(predicted.size(), 0);
    for (size_t n = 0; n < kept.size(); ++n) {
        const int32_t id = idOf[size_t(components.labels[n])];
        if (id == 0) continue;
        set.ids[n] = id;
        kept[n] = 1;
        if (truthMask[n]) set.lesions[size_t(id - 1)].group = LesionGroup::TruePositive;
    }
    return kept;
}

// Missed lesions: ground-truth components no kept prediction touches (FN), and the lesion-
// wise detection counts.
void addMissed(LesionSet& set, const std::vector<uint8_t>& truthMask, const std::vector<uint8_t>& kept) {
    const Components truthComponents = connectedComponents(set.grid, truthMask, set.options.connectivity);
    std::vector<uint8_t> touched(size_t(truthComponents.count()) + 1, 0);
    for (size_t n = 0; n < kept.size(); ++n) {
        if (kept[n]) touched[size_t(truthComponents.labels[n])] = 1;
    }
    std::vector<int32_t> missedId(size_t(truthComponents.count()) + 1, 0);
    for (int32_t c : largestFirst(truthComponents, set.options.minimumSize)) {
        ++set.truthLesions;
        if (touched[size_t(c)]) {
            ++set.detectedTruthLesions;
            continue;
        }
        Lesion lesion;
        lesion.id = int(set.lesions.size()) + 1;
        lesion.group = LesionGroup::FalseNegative;
        missedId[size_t(c)] = lesion.id;
        set.lesions.push_back(lesion);
    }
    for (size_t n = 0; n < kept.size(); ++n) {
        const int32_t id = missedId[size_t(truthComponents.labels[n])];
        if (id != 0 && set.ids[n] == 0) set.ids[n] = id;
    }
}

// Lesion-wise sensitivity, precision and F1, and the voxel Dice of the thresholded class.
void scoreDetection(LesionSet& set, const std::vector<uint8_t>& predicted, const std::vector<uint8_t>& truthMask) {
    int tp = 0, predictedCount = 0;
    for (const Lesion& l : set.lesions) {
        if (l.group == LesionGroup::FalseNegative) continue;
        ++predictedCount;
        tp += l.group == LesionGroup::TruePositive;
    }
    set.sensitivity = set.truthLesions ? double(set.detectedTruthLesions) / set.truthLesions : 0.0;
    set.precision = predictedCount ? double(tp) / predictedCount : 0.0;
    set.f1 = set.sensitivity + set.precision > 0.0
                 ? 2.0 * set.sensitivity * set.precision / (set.sensitivity + set.precision)
                 : 0.0;
    size_t both = 0, sum = 0;
    for (size_t n = 0; n < predicted.size(); ++n) {
        both += predicted[n] && truthMask[n];
        sum += predicted[n] + truthMask[n];
    }
    set.voxelDice = sum ? 2.0 * double(both) / double(sum) : 1.0;
}

// Sizes, probabilities, centroids in one pass; then the voxel nearest each centroid.
void measure(LesionSet& set, const Volume& probability) {
    const Geometry& g = set.grid;
    const double voxelMm3 = g.spacing.x * g.spacing.y * g.spacing.z;
    for (int64_t k = 0; k < g.dims[2]; ++k)
        for (int64_t j = 0; j < g.dims[1]; ++j)
            for (int64_t i = 0; i < g.dims[0]; ++i) {
                const size_t n = g.linearIndex(i, j, k);
                if (set.ids[n] == 0) continue;
                Lesion& l = set.lesions[size_t(set.ids[n] - 1)];
                ++l.voxels;
                l.meanProbability += probability.voxels[n];
                l.maxProbability = std::max(l.maxProbability, double(probability.voxels[n]));
                l.centroid += glm::dvec3(double(i), double(j), double(k));
            }
    for (Lesion& l : set.lesions) {
        l.volumeMm3 = double(l.voxels) * voxelMm3;
        l.meanProbability /= double(std::max<int64_t>(1, l.voxels));
        l.centroid /= double(std::max<int64_t>(1, l.voxels));
    }
    std::vector<double> best(set.lesions.size() + 1, std::numeric_limits<double>::infinity());
    for (int64_t k = 0; k < g.dims[2]; ++k)
        for (int64_t j = 0; j < g.dims[1]; ++j)
            for (int64_t i = 0; i < g.dims[0]; ++i) {
                const int32_t id = set.ids[g.linearIndex(i, j, k)];
                if (id == 0) continue;
                const glm::dvec3 d = glm::dvec3(double(i), double(j), double(k)) - set.lesions[size_t(id - 1)].centroid;
                if (glm::dot(d, d) < best[size_t(id)]) {
                    best[size_t(id)] = glm::dot(d, d);
                    set.lesions[size_t(id - 1)].representative = {i, j, k};
                }
            }
}

// FP: distance to the nearest ground-truth voxel; FN: to the nearest kept prediction.
void measureDistances(LesionSet& set, const std::vector<uint8_t>& truthMask, const std::vector<uint8_t>& kept) {
    const std::vector<float> toTruth = distanceToMask(set.grid, truthMask);
    const std::vector<float> toPrediction = distanceToMask(set.grid, kept);
    std::vector<double> nearest(set.lesions.size() + 1, std::numeric_limits<double>::infinity());
    for (size_t n = 0; n < set.ids.size(); ++n) {
        const int32_t id = set.ids[n];
        if (id == 0) continue;
        const LesionGroup group = set.lesions[size_t(id - 1)].group;
        const float d = group == LesionGroup::FalseNegative ? toPrediction[n] : toTruth[n];
        nearest[size_t(id)] = std::min(nearest[size_t(id)], double(d));
    }
    for (Lesion& l : set.lesions) {
        if (l.group == LesionGroup::TruePositive) {
            l.distanceMm = 0.0;
        } else if (std::isfinite(nearest[size_t(l.id)])) {
            l.distanceMm = nearest[size_t(l.id)];
        }
    }
}

} // namespace

LesionSet findLesions(const Segmentation& segmentation, const LabelVolume* truth, const LesionOptions& options) {
    if (options.classIndex < 1 || options.classIndex >= int(segmentation.probabilities.size())) {
        throw Error(fmt::format("class {} is not a foreground class of this model ({} classes)", options.classIndex,
                                segmentation.probabilities.size()));
    }
    const Volume probability = segmentation.probabilities.volume(size_t(options.classIndex));
    const Geometry& g = probability.geometry;
    if (truth && !truth->geometry.sameGrid(g)) throw Error("the ground truth is not on the study's grid");
    LesionSet set;
    set.grid = g;
    set.options = options;
    set.hasTruth = truth != nullptr;
    set.ids.assign(g.voxelCount(), 0);
    const size_t count = g.voxelCount();
    std::vector<uint8_t> predicted(count), truthMask(count, 0);
    for (size_t n = 0; n < count; ++n)
        predicted[n] = probability.voxels[n] > options.threshold;
    if (truth) {
        for (size_t n = 0; n < count; ++n)
            truthMask[n] = truth->labels[n] != 0;
    }
    const std::vector<uint8_t> kept = keepPredicted(set, predicted, truthMask, truth != nullptr);
    if (truth) {
        addMissed(set, truthMask, kept);
        scoreDetection(set, predicted, truthMask);
    }
    measure(set, probability);
    if (truth) measureDistances(set, truthMask, kept);
    return set;
}

} // namespace segxai
