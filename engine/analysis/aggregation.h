#pragma once
#include "engine/core/volume.h"
#include "engine/explain/explanation.h"
#include "engine/io/study.h"
#include "engine/model/model.h"
#include "engine/model/segmentation.h"

#include <array>
#include <string>
#include <vector>

namespace segxai {

// Agg2Exp aggregation (docs/methods.md#aggregation): where a class's attribution lies
// across the predicted segments. phi is |E|, or E's positive part, or its negative part's
// magnitude.
enum class AttributionPart { Absolute, Positive, Negative };
constexpr int kAttributionParts = 3;
const char* attributionPartName(AttributionPart part); // "abs", "positive", "negative"

// One class's attribution over the segments: mass(k) = sum over S_k of phi / sum of phi
// (sums to 1 over k, or is all 0 when phi is 0 everywhere), mean(k) = sum over S_k of phi / |S_k|.
struct SegmentShares {
    std::array<std::vector<double>, kAttributionParts> mass, mean;
};

// `maps` (one per input channel; phi summed over them) on any grid placed in the world,
// sampled at the segmentation's voxel centres; `segments` label k = segment k,
// 0..segmentCount-1. Throws segxai::Error when a label is out of range.
SegmentShares aggregateOverSegments(const std::vector<const Volume*>& maps, const LabelVolume& segments,
                                    int segmentCount);
// One map whose values are already on the segmentation's grid.
SegmentShares aggregateOverSegments(const std::vector<float>& values, const std::vector<uint16_t>& segments,
                                    int segmentCount);

// Every target class's shares for one study and one method: rows = target classes, columns
// = segments (the model's classes).
struct AggregationMatrix {
    std::string method;
    std::vector<std::string> classNames; // the model's classes (segments)
    std::vector<int> targetClasses;      // rows: class indices
    std::vector<SegmentShares> rows;
    std::vector<int64_t> segmentVoxels; // |S_k|

    double mass(AttributionPart part, size_t row, size_t segment) const {
        return rows[row].mass[size_t(part)][segment];
    }
    double mean(AttributionPart part, size_t row, size_t segment) const {
        return rows[row].mean[size_t(part)][segment];
    }
};

// The class x segment matrix of one study and one method: each class of `classes` (empty:
// every foreground class) explained with its predicted region as the target, all in one
// shared pass (explainTargets). The shares are taken on the maps' own grid (the model's),
// with the predicted segments resampled onto it nearest-neighbour; segmentVoxels counts the
// study's voxels. Classes are explained in chunks that fit the available memory, each reduced
// to its rows before the next (a 105-class model on a body CT never holds 104 maps); a class
// predicted nowhere gets a row of zeros without running the model (its score is zero whatever
// the input). Throws segxai::Error like explain().
// `maps`, when given, receives each class's explanation (rows' order; then all in one chunk).
AggregationMatrix aggregateStudy(const Model& model, const Study& study, const Segmentation& segmentation,
                                 Method method, const ExplainParameters& parameters, std::vector<int> classes = {},
                                 JobContext* job = nullptr, std::vector<Explanation>* maps = nullptr);
// The same for a caller that needs no more of the study's voxels (`segxai aggregate`): they are
// let go once they are on the model's grid (a body CT's 0.4 GB, beside every chunk's work).
AggregationMatrix aggregateStudy(const Model& model, Study&& study, const Segmentation& segmentation, Method method,
                                 const ExplainParameters& parameters, std::vector<int> classes = {},
                                 JobContext* job = nullptr);

// The cohort view: the mean over studies of each cell (studies must share classes and rows).
AggregationMatrix cohortMean(const std::vector<AggregationMatrix>& studies);

// Column names as existing Agg2Exp analyses expect: "{class}_explanation_in_{segment}_mass"
// and "_mean" (the |E| part), then "_positive_mass", ... for the other parts.
std::vector<std::string> aggregationColumns(const AggregationMatrix& m);
std::vector<double> aggregationRow(const AggregationMatrix& m);

} // namespace segxai
