#include "engine/analysis/uncertainty.h"

#include "engine/core/error.h"
#include "engine/core/memory_budget.h"
#include "engine/core/parallel.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace segxai {
namespace {

double entropyTerm(double p) {
    return p > 0.0 ? -p * std::log(p) : 0.0;
}

double gigabytes(uint64_t bytes) {
    return double(bytes) / 1e9;
}

// Runs `body(i, j, k, voxel)` over the grid, slices of k in parallel.
template <typename Body> void forEachVoxel(const Geometry& grid, Body&& body) {
    parallelFor(grid.dims[2], [&](int64_t k0, int64_t k1) {
        for (int64_t k = k0; k < k1; ++k)
            for (int64_t j = 0; j < grid.dims[1]; ++j)
                for (int64_t i = 0; i < grid.dims[0]; ++i)
                    body(i, j, k, grid.linearIndex(i, j, k));
    });
}

} // namespace

uint64_t UncertaintyAccumulator::bytesNeeded(const Geometry& grid, size_t classes, size_t stdClasses, size_t members) {
    const uint64_t voxels = grid.voxelCount();
    return voxels * 4 * (classes + 2 * stdClasses + 1) + voxels * 2 * members;
}

UncertaintyAccumulator::UncertaintyAccumulator(const Geometry& grid, std::vector<std::string> classNames,
                                               std::vector<size_t> stdClasses)
    : m_grid(grid), m_classNames(std::move(classNames)), m_stdClasses(std::move(stdClasses)) {
    if (m_classNames.empty()) throw Error("uncertainty needs at least one class");
    for (size_t c : m_stdClasses) {
        if (c >= m_classNames.size())
            throw Error(fmt::format("class index {} asked for its standard deviation; the model has {} classes", c,
                                    m_classNames.size()));
    }
    const uint64_t needed = bytesNeeded(grid, m_classNames.size(), m_stdClasses.size(), 1);
    const uint64_t available = availableMemoryBytes();
    if (available && needed > available) {
        throw Error(fmt::format("the ensemble's sums over {} classes x {} voxels need {:.1f} GB and {:.1f} GB are "
                                "available",
                                m_classNames.size(), grid.voxelCount(), gigabytes(needed), gigabytes(available)));
    }
    const size_t voxels = grid.voxelCount();
    m_sum.assign(m_classNames.size() * voxels, 0.0f);
    m_first.assign(m_stdClasses.size() * voxels, 0.0f);
    m_sumSquares.assign(m_stdClasses.size() * voxels, 0.0f);
    m_sumEntropy.assign(voxels, 0.0f);
}

void UncertaintyAccumulator::add(const ClassProbabilities& probabilities, const LabelVolume& labels,
                                 const std::string& name) {
    if (probabilities.size() != m_classNames.size()) {
        throw Error(fmt::format("member '{}' has {} classes; the ensemble has {}", name, probabilities.size(),
                                m_classNames.size()));
    }
    if (probabilities.geometry().dims != m_grid.dims || labels.geometry.dims != m_grid.dims)
        throw Error(fmt::format("member '{}' is not on the study's grid", name));
    const size_t voxels = m_grid.voxelCount(), classes = m_classNames.size();
    const bool first = m_memberNames.empty();
    // Class by class over runs of voxels, in float: one pass over each map, which the compiler
    // vectorises for dense probabilities (a few classes, the common case).
    parallelFor(
        int64_t(voxels),
        [&](int64_t v0, int64_t v1) {
            const size_t n = size_t(v1 - v0), begin = size_t(v0);
            std::vector<float> entropy(n, 0.0f), mass(n, 0.0f), p(n);
            for (size_t c = 0; c < classes; ++c) {
                probabilities.read(c, begin, n, p.data());
                float* sum = m_sum.data() + c * voxels + begin;
                for (size_t v = 0; v < n; ++v) {
                    sum[v] += p[v];
                    mass[v] += p[v];
                    entropy[v] += p[v] > 0.0f ? -p[v] * std::log(p[v]) : 0.0f;
                }
            }
            for (size_t v = 0; v < n; ++v) {
                const float rest = std::max(0.0f, 1.0f - mass[v]);
                m_sumEntropy[begin + v] += entropy[v] + (rest > 0.0f ? -rest * std::log(rest) : 0.0f);
            }
            for (size_t s = 0; s < m_stdClasses.size(); ++s) {
                probabilities.read(m_stdClasses[s], begin, n, p.data());
                float* firstP = m_first.data() + s * voxels + begin;
                float* squares = m_sumSquares.data() + s * voxels + begin;
                for (size_t v = 0; v < n; ++v) {
                    if (first) firstP[v] = p[v];
                    const float d = p[v] - firstP[v];
                    squares[v] += d * d;
                }
            }
        },
        1 << 15);
    LabelVolume own = labels;
    own.geometry = m_grid;
    own.name = name;
    m_memberLabels.push_back(std::move(own));
    m_memberNames.push_back(name);
}

UncertaintyMaps UncertaintyAccumulator::finish() {
    if (m_memberNames.empty()) throw Error("uncertainty needs at least one member");
    const size_t voxels = m_grid.voxelCount(), classes = m_classNames.size();
    const double members = double(m_memberNames.size());
    UncertaintyMaps out;
    out.classNames = m_classNames;
    out.labels = LabelVolume(m_grid, "ensemble");
    out.entropy = Volume(m_grid, "entropy");
    out.expectedEntropy = Volume(m_grid, "expected_entropy");
    out.mutualInformation = Volume(m_grid, "mutual_information");
    out.disagreement = Volume(m_grid, "disagreement");
    out.stdClasses = m_stdClasses;
    for (size_t c : m_stdClasses)
        out.classStd.emplace_back(m_grid, "std_" + m_classNames[c]);
    out.probabilities = ClassProbabilities(m_grid, classes);
    std::vector<float> mean(voxels);
    for (size_t c = 0; c < classes; ++c) {
        for (size_t v = 0; v < voxels; ++v)
            mean[v] = float(double(m_sum[c * voxels + v]) / members);
        out.probabilities.offer(c, mean);
    }
    forEachVoxel(m_grid, [&](int64_t, int64_t, int64_t, size_t voxel) {
        double entropy = 0.0, mass = 0.0, best = -1.0;
        uint16_t label = 0;
        for (size_t c = 0; c < classes; ++c) {
            const double p = double(m_sum[c * voxels + voxel]) / members;
            entropy += entropyTerm(p);
            mass += p;
            if (p > best) {
                best = p;
                label = uint16_t(c);
            }
        }
        entropy += entropyTerm(std::max(0.0, 1.0 - mass));
        const double expected = double(m_sumEntropy[voxel]) / members;
        out.labels.labels[voxel] = label;
        out.entropy.voxels[voxel] = float(entropy);
        out.expectedEntropy.voxels[voxel] = float(expected);
        out.mutualInformation.voxels[voxel] = float(std::max(0.0, entropy - expected));
        int differing = 0;
        for (const LabelVolume& member : m_memberLabels)
            differing += member.labels[voxel] != label;
        out.disagreement.voxels[voxel] = float(double(differing) / members);
        for (size_t s = 0; s < m_stdClasses.size(); ++s) {
            // Deviations from the first member's value: exact 0 for identical members, and no
            // cancellation between two large sums.
            const double meanShift =
                double(m_sum[m_stdClasses[s] * voxels + voxel]) / members - double(m_first[s * voxels + voxel]);
            const double meanSquare = double(m_sumSquares[s * voxels + voxel]) / members;
            out.classStd[s].voxels[voxel] = float(std::sqrt(std::max(0.0, meanSquare - meanShift * meanShift)));
        }
    });
    out.memberLabels = std::move(m_memberLabels);
    out.memberNames = m_memberNames;
    return out;
}

} // namespace segxai
