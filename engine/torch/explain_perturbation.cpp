// The perturbation methods (engine/torch/explain_families.h): occlusion, and over features
// (the predicted segments or cubes) segment ablation and KernelSHAP, each for every target
// of a problem: one forward per perturbed input scores every target.
#include "engine/core/error.h"
#include "engine/core/resample.h"
#include "engine/torch/explain_families.h"
#include "engine/torch/tensors.h"

#include <cmath>
#include <numeric>
#include <random>

namespace segxai {
namespace {

// The features perturbation methods switch off: labels on the model grid [X, Y, Z] (the
// predicted segments resampled nearest, or cubes), and the label of each feature.
struct Features {
    torch::Tensor labels;   // float, label per model voxel
    std::vector<float> ids; // the labels present, one per feature
    std::vector<std::string> names;
};

// Cube labels on `grid`: cube (ci, cj, ck) of `cube` voxels numbered ci + nx (cj + ny ck).
Volume cubeLabels(const Geometry& grid, int cube) {
    Volume labels(grid, "features");
    const int64_t nx = (grid.dims[0] + cube - 1) / cube, ny = (grid.dims[1] + cube - 1) / cube;
    for (int64_t k = 0; k < grid.dims[2]; ++k)
        for (int64_t j = 0; j < grid.dims[1]; ++j)
            for (int64_t i = 0; i < grid.dims[0]; ++i) {
                labels.at(i, j, k) = float(i / cube + nx * (j / cube + ny * (k / cube)));
            }
    return labels;
}

Features featuresOf(const ExplanationProblem& p, const LabelVolume* segments, int cube) {
    const Geometry& grid = p.input.grid;
    Volume labels(grid, "features");
    if (cube > 0) {
        labels = cubeLabels(grid, cube);
    } else {
        if (!segments) {
            throw Error("segment ablation and KernelSHAP over segments need the predicted segments");
        }
        const LabelVolume onGrid = resampleNearest(*segments, grid);
        for (size_t n = 0; n < onGrid.labels.size(); ++n)
            labels.voxels[n] = float(onGrid.labels[n]);
    }
    Features f;
    f.ids = labels.voxels;
    std::sort(f.ids.begin(), f.ids.end());
    f.ids.erase(std::unique(f.ids.begin(), f.ids.end()), f.ids.end());
    for (float id : f.ids) {
        f.names.push_back(fmt::format("{} {}", cube > 0 ? "cube" : "segment", int64_t(id)));
    }
    f.labels = volumesToTensor({labels}, p.reverseAxes)[0][0].clone();
    return f;
}

// The input with the features where `off` is true replaced by the baseline.
torch::Tensor perturbed(const ExplanationProblem& p, const torch::Tensor& fill, const Features& f,
                        const std::vector<bool>& off) {
    torch::Tensor mask = torch::zeros_like(f.labels, torch::kBool);
    for (size_t i = 0; i < f.ids.size(); ++i) {
        if (off[i]) mask = mask | (f.labels == f.ids[i]);
    }
    return torch::where(mask.unsqueeze(0).unsqueeze(0).expand_as(p.x), fill, p.x);
}

// Feature values spread evenly over their voxels: [X, Y, Z].
torch::Tensor spread(const Features& f, const std::vector<double>& values) {
    torch::Tensor map = torch::zeros_like(f.labels);
    for (size_t i = 0; i < f.ids.size(); ++i) {
        const torch::Tensor inside = f.labels == f.ids[i];
        const double count = inside.sum().item<double>();
        if (count > 0) map.masked_fill_(inside, float(values[i] / count));
    }
    return map;
}

// Least squares for sum phi_i x_i = y (normal equations with a tiny ridge against
// rank deficiency; Gaussian elimination with partial pivoting: a few dozen features at most).
std::vector<double> leastSquares(const std::vector<std::vector<double>>& rows, const std::vector<double>& y) {
    const size_t n = rows.empty() ? 0 : rows.front().size();
    // The augmented matrix [A | b] has rows of n + 1 numbers: checked so that the size
    // arithmetic cannot wrap (a system that large could not be held anyway).
    if (n == 0 || n >= std::vector<double>().max_size()) return {};
    std::vector<std::vector<double>> a(n, std::vector<double>(n + 1, 0.0));
    for (size_t r = 0; r < rows.size(); ++r)
        for (size_t i = 0; i < n; ++i) {
            for (size_t j = 0; j < n; ++j)
                a[i][j] += rows[r][i] * rows[r][j];
            a[i][n] += rows[r][i] * y[r];
        }
    for (size_t i = 0; i < n; ++i)
        a[i][i] += 1e-12 * (1.0 + a[i][i]);
    for (size_t col = 0; col < n; ++col) {
        size_t pivot = col;
        for (size_t r = col + 1; r < n; ++r) {
            if (std::abs(a[r][col]) > std::abs(a[pivot][col])) pivot = r;
        }
        std::swap(a[col], a[pivot]);
        if (std::abs(a[col][col]) < 1e-300) continue;
        for (size_t r = 0; r < n; ++r) {
            if (r == col) continue;
            const double factor = a[r][col] / a[col][col];
            for (size_t c = col; c <= n; ++c)
                a[r][c] -= factor * a[col][c];
        }
    }
    std::vector<double> solution(n, 0.0);
    for (size_t i = 0; i < n; ++i) {
        solution[i] = std::abs(a[i][i]) < 1e-300 ? 0.0 : a[i][n] / a[i][i];
    }
    return solution;
}

// What perturbing one feature or coalition costs each target: [target][feature].
using FeatureValues = std::vector<std::vector<double>>;

// Segment ablation: each feature's value is the drop of S when it alone is switched off.
FeatureValues ablationValues(const ExplanationProblem& p, const Features& f, const torch::Tensor& fill,
                             const std::vector<double>& clean, int batch, JobContext* job) {
    const size_t features = f.ids.size();
    FeatureValues values(p.targetCount(), std::vector<double>(features, 0.0));
    inBatches(int64_t(features), batch, job, "feature", [&](int64_t first, int64_t n) {
        const torch::Tensor inputs = batchOf(first, n, [&](int64_t i) {
            std::vector<bool> off(features, false);
            off[size_t(i)] = true;
            return perturbed(p, fill, f, off);
        });
        const auto scores = scoresForTargets(p.model, inputs, p.scoreTargets);
        for (int64_t b = 0; b < n; ++b) {
            for (size_t t = 0; t < values.size(); ++t) {
                values[t][size_t(first + b)] = clean[t] - scores[size_t(b)][t];
            }
        }
    });
    return values;
}

// KernelSHAP's coalitions (true: switched off): the full and the empty one, then `count`
// with sizes drawn from the Shapley kernel's distribution (so the regression weights are 1)
// and members at random, from the seeded stream.
std::vector<std::vector<bool>> drawCoalitions(size_t features, int count, uint64_t seed) {
    std::vector<std::vector<bool>> coalitions;
    coalitions.push_back(std::vector<bool>(features, false)); // all present: z = 1
    coalitions.push_back(std::vector<bool>(features, true));  // all off: z = 0
    if (features < 2) return coalitions;
    std::mt19937_64 random = streamEngine(seed, SeedStream::KernelShapCoalitions);
    std::vector<double> sizeWeights;
    for (size_t s = 1; s < features; ++s) {
        sizeWeights.push_back(double(features - 1) / (double(s) * double(features - s)));
    }
    std::discrete_distribution<size_t> size(sizeWeights.begin(), sizeWeights.end());
    std::vector<size_t> order(features);
    std::iota(order.begin(), order.end(), 0);
    for (int c = 0; c < count; ++c) {
        const size_t present = size(random) + 1;
        std::shuffle(order.begin(), order.end(), random);
        std::vector<bool> off(features, true);
        for (size_t i = 0; i < present; ++i)
            off[order[i]] = false;
        coalitions.push_back(off);
    }
    return coalitions;
}

// One target's Shapley values from the coalitions' scores [coalition][target]. The empty and
// the full coalition are exact constraints: phi0 = S(none), and the phi sum to S(all) -
// S(none); the last feature's phi is eliminated through the second (Lundberg and Lee).
std::vector<double> shapleyValues(const std::vector<std::vector<bool>>& coalitions,
                                  const std::vector<std::vector<double>>& scores, size_t t) {
    const size_t features = coalitions.front().size();
    if (features == 0) return {};
    const double full = scores[0][t], none = scores[1][t], total = full - none;
    if (features == 1) return {total};
    // y - z_M total = sum over i < M of phi_i (z_i - z_M).
    std::vector<std::vector<double>> rows;
    std::vector<double> y;
    for (size_t c = 2; c < coalitions.size(); ++c) {
        const double last = coalitions[c][features - 1] ? 0.0 : 1.0;
        std::vector<double> row;
        for (size_t i = 0; i + 1 < features; ++i)
            row.push_back((coalitions[c][i] ? 0.0 : 1.0) - last);
        rows.push_back(row);
        y.push_back(scores[c][t] - none - last * total);
    }
    const std::vector<double> phi = leastSquares(rows, y);
    std::vector<double> values(features, 0.0);
    double rest = total;
    for (size_t i = 0; i + 1 < features; ++i) {
        values[i] = phi[i];
        rest -= phi[i];
    }
    values[features - 1] = rest;
    return values;
}

// KernelSHAP: every coalition forwarded once, scoring every target; a regression per target.
FeatureValues kernelShapValues(const ExplanationProblem& p, const Features& f, const torch::Tensor& fill,
                               const ExplainParameters& parameters, JobContext* job) {
    const auto coalitions = drawCoalitions(f.ids.size(), parameters.coalitions, parameters.seed);
    std::vector<std::vector<double>> scores(coalitions.size());
    inBatches(int64_t(coalitions.size()), parameters.batch, job, "coalition", [&](int64_t first, int64_t n) {
        const torch::Tensor inputs =
            batchOf(first, n, [&](int64_t c) { return perturbed(p, fill, f, coalitions[size_t(c)]); });
        const auto s = scoresForTargets(p.model, inputs, p.scoreTargets);
        for (int64_t b = 0; b < n; ++b)
            scores[size_t(first + b)] = s[size_t(b)];
    });
    FeatureValues values;
    for (size_t t = 0; t < p.targetCount(); ++t)
        values.push_back(shapleyValues(coalitions, scores, t));
    return values;
}

} // namespace

std::vector<Explanation> explainOcclusion(const ExplanationProblem& p, const ExplainParameters& parameters,
                                          JobContext* job) {
    if (parameters.window < 1 || parameters.stride < 1) {
        throw Error("occlusion needs a window and a stride of at least 1");
    }
    std::vector<Explanation> out = explanationsWithoutMaps(p, Method::Occlusion, parameters);
    const torch::Tensor fill = baselineFor(p, parameters.baseline);
    const int64_t X = p.x.size(2), Y = p.x.size(3), Z = p.x.size(4);
    const int64_t w = parameters.window, s = parameters.stride;
    std::vector<std::array<int64_t, 3>> corners;
    for (int64_t i = 0; i < X; i += s)
        for (int64_t j = 0; j < Y; j += s)
            for (int64_t k = 0; k < Z; k += s)
                corners.push_back({i, j, k});
    // The window at corner c of a tensor whose spatial axes start at `firstAxis`.
    auto cube = [&](const torch::Tensor& t, const std::array<int64_t, 3>& c, int64_t firstAxis) {
        return t.slice(firstAxis, c[0], std::min(X, c[0] + w))
            .slice(firstAxis + 1, c[1], std::min(Y, c[1] + w))
            .slice(firstAxis + 2, c[2], std::min(Z, c[2] + w));
    };
    const auto clean = scoresForTargets(p.model, p.x, p.scoreTargets)[0];
    std::vector<torch::Tensor> sums;
    for (size_t t = 0; t < out.size(); ++t)
        sums.push_back(torch::zeros({X, Y, Z})); // one each
    torch::Tensor count = torch::zeros({X, Y, Z});
    inBatches(int64_t(corners.size()), parameters.batch, job, "occlusion window", [&](int64_t first, int64_t n) {
        const torch::Tensor inputs = batchOf(first, n, [&](int64_t m) {
            torch::Tensor copy = p.x.clone();
            cube(copy, corners[size_t(m)], 2).copy_(cube(fill, corners[size_t(m)], 2));
            return copy;
        });
        const auto scores = scoresForTargets(p.model, inputs, p.scoreTargets);
        for (int64_t b = 0; b < n; ++b) {
            const auto& c = corners[size_t(first + b)];
            for (size_t t = 0; t < sums.size(); ++t)
                cube(sums[t], c, 0) += clean[t] - scores[size_t(b)][t];
            cube(count, c, 0) += 1.0;
        }
    });
    for (size_t t = 0; t < out.size(); ++t) {
        out[t].score = clean[t];
        out[t].maps = {
            {"", toVolume(p, sums[t] / count.clamp_min(1.0), methodId(Method::Occlusion), parameters.normalize), true}};
    }
    return out;
}

std::vector<Explanation> explainFeatures(const ExplanationProblem& p, Method method,
                                         const ExplainParameters& parameters, const LabelVolume* segments,
                                         JobContext* job) {
    std::vector<Explanation> out = explanationsWithoutMaps(p, method, parameters);
    const Features f = featuresOf(p, segments, parameters.featureCube);
    const torch::Tensor fill = baselineFor(p, parameters.baseline);
    const auto clean = scoresForTargets(p.model, p.x, p.scoreTargets)[0];
    const FeatureValues values = method == Method::SegmentAblation
                                     ? ablationValues(p, f, fill, clean, parameters.batch, job)
                                     : kernelShapValues(p, f, fill, parameters, job);
    const char* kind = parameters.featureCube > 0 ? "cubes" : "predicted segments";
    for (size_t t = 0; t < out.size(); ++t) {
        out[t].score = clean[t];
        out[t].maps = {{"", toVolume(p, spread(f, values[t]), methodId(method), parameters.normalize), true}};
        out[t].notes.push_back(fmt::format("{} features ({})", f.ids.size(), kind));
    }
    return out;
}

} // namespace segxai
