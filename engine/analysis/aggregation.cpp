#include "engine/analysis/aggregation.h"

#include "engine/core/error.h"
#include "engine/core/resample.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fmt/format.h>
#include <numeric>
#include <optional>

namespace segxai {

const char* attributionPartName(AttributionPart part) {
    switch (part) {
    case AttributionPart::Absolute:
        return "abs";
    case AttributionPart::Positive:
        return "positive";
    case AttributionPart::Negative:
        return "negative";
    }
    return "abs";
}

namespace {

struct Sums {
    std::array<std::vector<double>, kAttributionParts> sums;
    std::vector<int64_t> counts;
    explicit Sums(int segmentCount) : counts(size_t(segmentCount), 0) {
        for (auto& s : sums)
            s.assign(size_t(segmentCount), 0.0);
    }
    void add(const std::vector<float>& values, const std::vector<uint16_t>& segments, bool count) {
        if (values.size() != segments.size()) throw Error("the map and the segments are not on one grid");
        for (size_t n = 0; n < values.size(); ++n) {
            const size_t k = segments[n];
            if (k >= counts.size()) throw Error(fmt::format("segment label {} is not below {}", k, counts.size()));
            if (count) ++counts[k];
            const double v = values[n];
            if (!std::isfinite(v)) continue;
            sums[0][k] += std::abs(v);
            if (v > 0.0) sums[1][k] += v;
            if (v < 0.0) sums[2][k] -= v;
        }
    }
    SegmentShares shares() const {
        SegmentShares s;
        for (int p = 0; p < kAttributionParts; ++p) {
            double total = 0.0;
            for (double x : sums[size_t(p)])
                total += x;
            s.mass[size_t(p)].assign(counts.size(), 0.0);
            s.mean[size_t(p)].assign(counts.size(), 0.0);
            for (size_t k = 0; k < counts.size(); ++k) {
                if (total > 0.0) s.mass[size_t(p)][k] = sums[size_t(p)][k] / total;
                if (counts[k] > 0) s.mean[size_t(p)][k] = sums[size_t(p)][k] / double(counts[k]);
            }
        }
        return s;
    }
};

} // namespace

SegmentShares aggregateOverSegments(const std::vector<float>& values, const std::vector<uint16_t>& segments,
                                    int segmentCount) {
    Sums sums(segmentCount);
    sums.add(values, segments, true);
    return sums.shares();
}

SegmentShares aggregateOverSegments(const std::vector<const Volume*>& maps, const LabelVolume& segments,
                                    int segmentCount) {
    Sums sums(segmentCount);
    for (size_t m = 0; m < maps.size(); ++m) {
        const Volume& map = *maps[m];
        const bool same = map.geometry.sameGrid(segments.geometry);
        sums.add(same ? map.voxels : resampleLinear(map, segments.geometry).voxels, segments.labels, m == 0);
    }
    return sums.shares();
}

namespace {

Target classRegionTarget(const Segmentation& segmentation, int c) {
    Target t;
    t.classIndex = c;
    t.className = segmentation.classNames[size_t(c)];
    t.mask.resize(segmentation.labels.labels.size());
    for (size_t n = 0; n < t.mask.size(); ++n)
        t.mask[n] = segmentation.labels.labels[n] == c;
    t.voxelCount = size_t(std::count(t.mask.begin(), t.mask.end(), uint8_t(1)));
    t.description = fmt::format("class {} ({} voxels)", t.className, t.voxelCount);
    if (t.voxelCount == 0)
        t.warnings.push_back(fmt::format("class {} is not predicted anywhere: its map is zero", t.className));
    return t;
}

} // namespace

namespace {

// aggregateStudy(), letting go of `release`'s voxels (the study's, when given) once the model's
// input is made.
AggregationMatrix aggregateClasses(const Model& model, const Study& study, const Segmentation& segmentation,
                                   Method method, const ExplainParameters& parameters, std::vector<int> classes,
                                   JobContext* job, std::vector<Explanation>* maps, Study* release) {
    const int K = int(segmentation.classNames.size());
    if (classes.empty()) {
        for (int c = 1; c < K; ++c)
            classes.push_back(c);
    }
    for (int c : classes) {
        if (c < 0 || c >= K) throw Error(fmt::format("class {} is not one of the model's {} classes", c, K));
    }
    AggregationMatrix m;
    m.method = methodId(method);
    m.classNames = segmentation.classNames;
    m.targetClasses = classes;
    m.segmentVoxels.assign(size_t(K), 0);
    for (uint16_t label : segmentation.labels.labels) {
        if (label < K) ++m.segmentVoxels[label];
    }
    // On the maps' own grid (the model's): the segments resampled there once, nearest
    // neighbour, rather than every map interpolated onto the study's finer grid.
    std::optional<LabelVolume> onMapGrid;
    // Classes a chunk at a time, each chunk's maps reduced to its rows before the next is
    // explained (unless the caller keeps the maps): memory for a chunk, not for every class.
    // A class predicted nowhere has no target voxel, so its score is zero whatever the input,
    // its map is zero and its row is zeros: it is explained only when the caller keeps the maps
    // (a 105-class model's random weights predict 48 classes of a body CT, a trained one most).
    std::vector<size_t> order;
    for (size_t row = 0; row < classes.size(); ++row) {
        if (maps || m.segmentVoxels[size_t(classes[row])] > 0) order.push_back(row);
    }
    const size_t chunk = maps ? order.size() : targetsPerChunk(model, study, order.size(), method);
    SegmentShares none; // a class whose explanation has no map
    for (auto* part : {&none.mass, &none.mean})
        part->fill(std::vector<double>(size_t(K), 0.0));
    m.rows.assign(classes.size(), none);
    if (order.empty()) return m;
    // The study on the model's grid, once for every chunk.
    const ExplanationInput input(model, study, job);
    if (release) releaseVoxels(*release); // the maps keep the channels' names
    const auto makeTarget = [&](size_t i) { return classRegionTarget(segmentation, classes[order[i]]); };
    const auto take = [&](size_t i, Explanation&& explanation) {
        std::vector<const Volume*> channels;
        for (const ExplanationMap& map : explanation.maps)
            channels.push_back(&map.values);
        if (!channels.empty()) {
            const Geometry& grid = channels.front()->geometry;
            if (!onMapGrid || !onMapGrid->geometry.sameGrid(grid)) {
                onMapGrid = grid.sameGrid(segmentation.labels.geometry) ? segmentation.labels
                                                                        : resampleNearest(segmentation.labels, grid);
            }
            m.rows[order[i]] = aggregateOverSegments(channels, *onMapGrid, K);
        }
        if (maps) maps->push_back(std::move(explanation));
    };
    if (maps) maps->clear();
    explainInChunks(input, order.size(), chunk, makeTarget, method, parameters, &segmentation.labels, job, take);
    return m;
}

} // namespace

AggregationMatrix aggregateStudy(const Model& model, const Study& study, const Segmentation& segmentation,
                                 Method method, const ExplainParameters& parameters, std::vector<int> classes,
                                 JobContext* job, std::vector<Explanation>* maps) {
    return aggregateClasses(model, study, segmentation, method, parameters, std::move(classes), job, maps, nullptr);
}

AggregationMatrix aggregateStudy(const Model& model, Study&& study, const Segmentation& segmentation, Method method,
                                 const ExplainParameters& parameters, std::vector<int> classes, JobContext* job) {
    return aggregateClasses(model, study, segmentation, method, parameters, std::move(classes), job, nullptr, &study);
}

AggregationMatrix cohortMean(const std::vector<AggregationMatrix>& studies) {
    if (studies.empty()) throw Error("no studies to average");
    AggregationMatrix mean = studies.front();
    for (size_t s = 1; s < studies.size(); ++s) {
        const AggregationMatrix& m = studies[s];
        if (m.targetClasses != mean.targetClasses || m.classNames != mean.classNames) {
            throw Error("the studies' aggregation matrices have different classes");
        }
        for (size_t r = 0; r < m.rows.size(); ++r)
            for (int p = 0; p < kAttributionParts; ++p)
                for (size_t k = 0; k < m.classNames.size(); ++k) {
                    mean.rows[r].mass[size_t(p)][k] += m.rows[r].mass[size_t(p)][k];
                    mean.rows[r].mean[size_t(p)][k] += m.rows[r].mean[size_t(p)][k];
                }
        for (size_t k = 0; k < m.segmentVoxels.size(); ++k)
            mean.segmentVoxels[k] += m.segmentVoxels[k];
    }
    const double n = double(studies.size());
    for (auto& row : mean.rows)
        for (int p = 0; p < kAttributionParts; ++p)
            for (size_t k = 0; k < mean.classNames.size(); ++k) {
                row.mass[size_t(p)][k] /= n;
                row.mean[size_t(p)][k] /= n;
            }
    for (auto& v : mean.segmentVoxels)
        v = int64_t(std::llround(double(v) / n));
    return mean;
}

namespace {
// Class names as column-name parts: anything but letters, digits and '_' becomes '_', so R's
// read.csv and pandas see the same names ("deep grey" -> "deep_grey").
std::string columnPart(const std::string& name) {
    std::string part = name;
    for (char& ch : part)
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') ch = '_';
    return part;
}
} // namespace

std::vector<std::string> aggregationColumns(const AggregationMatrix& m) {
    std::vector<std::string> columns;
    for (int p = 0; p < kAttributionParts; ++p) {
        const std::string part = p == 0 ? "" : std::string("_") + attributionPartName(AttributionPart(p));
        for (int c : m.targetClasses) {
            for (const std::string& segment : m.classNames) {
                const std::string base = fmt::format("{}_explanation_in_{}{}", columnPart(m.classNames[size_t(c)]),
                                                     columnPart(segment), part);
                columns.push_back(base + "_mass");
                columns.push_back(base + "_mean");
            }
        }
    }
    return columns;
}

std::vector<double> aggregationRow(const AggregationMatrix& m) {
    std::vector<double> row;
    for (int p = 0; p < kAttributionParts; ++p) {
        for (size_t r = 0; r < m.rows.size(); ++r) {
            for (size_t k = 0; k < m.classNames.size(); ++k) {
                row.push_back(m.rows[r].mass[size_t(p)][k]);
                row.push_back(m.rows[r].mean[size_t(p)][k]);
            }
        }
    }
    return row;
}

} // namespace segxai
