// Many targets with one method, sharing the model's passes (engine/explanation.h,
// explainTargets), and the perturbation methods over features: segment ablation, KernelSHAP.
#include "engine/core/error.h"
#include "engine/explain/explanation.h"
#include "engine/explain/quadrature.h"
#include "engine/core/resample.h"
#include "engine/torch/explain_common.h"
#include "engine/torch/tensors.h"

#include <ATen/CPUGeneratorImpl.h>
#include <cmath>
#include <numeric>
#include <random>

namespace segxai {
namespace {

// The features perturbation methods switch off: labels on the model grid [X, Y, Z] (the
// predicted segments resampled nearest, or cubes), and the label of each feature.
struct Features {
    torch::Tensor labels;      // float, label per model voxel
    std::vector<float> ids;    // the labels present, one per feature
    std::vector<std::string> names;
};

Features featuresOf(const Problem& p, const LabelVolume* segments, int cube) {
    Features f;
    const Geometry& grid = p.input.grid;
    Volume labels(grid, "features");
    if (cube > 0) {
        for (int64_t k = 0; k < grid.dims[2]; ++k)
            for (int64_t j = 0; j < grid.dims[1]; ++j)
                for (int64_t i = 0; i < grid.dims[0]; ++i) {
                    const int64_t ci = i / cube, cj = j / cube, ck = k / cube;
                    const int64_t nx = (grid.dims[0] + cube - 1) / cube, ny = (grid.dims[1] + cube - 1) / cube;
                    labels.at(i, j, k) = float(ci + nx * (cj + ny * ck));
                }
    } else {
        if (!segments) throw Error("segment ablation and KernelSHAP over segments need the predicted segments");
        const LabelVolume onGrid = resampleNearest(*segments, grid);
        for (size_t n = 0; n < onGrid.labels.size(); ++n) labels.voxels[n] = float(onGrid.labels[n]);
    }
    std::vector<float> present(labels.voxels);
    std::sort(present.begin(), present.end());
    present.erase(std::unique(present.begin(), present.end()), present.end());
    f.ids = present;
    for (float id : present) f.names.push_back(cube > 0 ? fmt::format("cube {}", int64_t(id)) : fmt::format("segment {}", int64_t(id)));
    f.labels = volumesToTensor({labels}, p.reverseAxes)[0][0].clone();
    return f;
}

// The input with the features where `off` is true replaced by the baseline.
torch::Tensor perturbed(const Problem& p, const torch::Tensor& fill, const Features& f, const std::vector<bool>& off) {
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
            for (size_t j = 0; j < n; ++j) a[i][j] += rows[r][i] * rows[r][j];
            a[i][n] += rows[r][i] * y[r];
        }
    for (size_t i = 0; i < n; ++i) a[i][i] += 1e-12 * (1.0 + a[i][i]);
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
            for (size_t c = col; c <= n; ++c) a[r][c] -= factor * a[col][c];
        }
    }
    std::vector<double> solution(n, 0.0);
    for (size_t i = 0; i < n; ++i) solution[i] = std::abs(a[i][i]) < 1e-300 ? 0.0 : a[i][n] / a[i][i];
    return solution;
}

} // namespace

std::vector<Explanation> explainTargets(const Model& model, const Study& study, const std::vector<Target>& targets, Method method,
                                        const ExplainParameters& parameters, const LabelVolume* segments, JobContext* job) {
    if (targets.empty()) return {};
    for (const Target& t : targets) {
        if (t.mask.size() != study.geometry.voxelCount()) throw Error("a target does not belong to this study");
    }
    const auto start = Clock::now();
    if (job) job->progress(0.0f, "preparing the input");
    Problem p{model, study, prepareModelInput(study, model.card(), model.expectedInputChannels()), {}, {}, model.card().reverseAxes};
    p.x = volumesToTensor(p.input.channels, p.reverseAxes);
    std::vector<ScoreTarget> scoreTargets;
    for (const Target& t : targets) scoreTargets.push_back({maskOnModelGrid(t.mask, study.geometry, p.input.grid, p.reverseAxes), t.classIndex});
    p.target = scoreTargets.front();
    const size_t T = targets.size();
    std::vector<Explanation> out;
    for (const Target& t : targets) out.push_back(base(method, parameters, t, model));
    const Normalize normalize = parameters.normalize;
    const std::string id = methodId(method);

    switch (method) {
    case Method::Saliency:
    case Method::SaliencyAbs:
    case Method::InputXGradient: {
        std::vector<double> scores;
        const auto gradients = inputGradients(model, p.x, scoreTargets, &scores);
        for (size_t t = 0; t < T; ++t) {
            const torch::Tensor g = gradients[t][0];
            const torch::Tensor m = method == Method::Saliency ? g : method == Method::SaliencyAbs ? g.abs() : p.x[0] * g;
            out[t].maps = perChannel(p, m, id, normalize, method != Method::SaliencyAbs);
            out[t].score = scores[t];
        }
        break;
    }
    case Method::SegGradCam:
    case Method::SegHiResGradCam:
    case Method::SegGradCamPlusPlus: {
        std::string layer = parameters.layer;
        if (layer.empty()) {
            const std::vector<int64_t> shape{p.x.size(1), p.x.size(2), p.x.size(3), p.x.size(4)};
            layer = defaultCamLayer(model, model.card().camLayer.empty() ? model.layers(shape) : std::vector<LayerInfo>{});
        }
        const int index = method == Method::SegGradCam ? 0 : method == Method::SegHiResGradCam ? 1 : 2;
        std::array<bool, 3> which{false, false, false};
        which[size_t(index)] = true;
        const auto maps = camMapsForTargets(model, p.x, scoreTargets, layer, parameters.variant, which, job);
        const auto scores = scoresForTargets(model, p.x, scoreTargets)[0];
        for (size_t t = 0; t < T; ++t) {
            out[t].layer = layer;
            out[t].maps = {{"", toVolume(p, maps[t][size_t(index)], id, normalize), false}};
            out[t].score = scores[t];
        }
        break;
    }
    case Method::SmoothGrad:
    case Method::IntegratedGradients: {
        const bool smooth = method == Method::SmoothGrad;
        const Quadrature q = quadrature(parameters.rule, parameters.steps);
        const torch::Tensor x0 = smooth ? torch::Tensor() : baselineFor(p, parameters.baseline);
        const torch::Tensor delta = smooth ? torch::Tensor() : p.x - x0;
        const torch::Tensor sigma = smooth ? parameters.noiseFraction * (torch::amax(p.x, {2, 3, 4}, true) - torch::amin(p.x, {2, 3, 4}, true))
                                           : torch::Tensor();
        const int64_t total = smooth ? parameters.samples : int64_t(q.points.size());
        if (total < 1) throw Error(std::string(methodTitle(method)) + " needs at least one sample");
        std::vector<torch::Tensor> sums;
        for (size_t t = 0; t < T; ++t) sums.push_back(torch::zeros_like(p.x[0])); // one tensor each
        inBatches(total, parameters.batch, job, smooth ? "SmoothGrad sample" : "IG step", [&](int64_t first, int64_t count) {
            const torch::Tensor inputs = batchOf(first, count, [&](int64_t n) {
                if (!smooth) return torch::Tensor(x0 + q.points[size_t(n)] * delta);
                // explain()'s noise: one generator per sample, seeded from (seed, sample).
                auto generator = at::make_generator<at::CPUGeneratorImpl>(parameters.seed * 0x9E3779B97F4A7C15ull + uint64_t(n));
                return torch::Tensor(p.x + torch::randn(p.x.sizes(), generator, torch::kFloat32) * sigma);
            });
            const auto gradients = inputGradients(model, inputs, scoreTargets);
            for (size_t t = 0; t < T; ++t) {
                for (int64_t b = 0; b < count; ++b) sums[t] += (smooth ? 1.0 : q.weights[size_t(first + b)]) * gradients[t][b];
            }
        });
        const auto ends = scoresForTargets(model, smooth ? p.x : torch::cat({p.x, x0}, 0), scoreTargets);
        for (size_t t = 0; t < T; ++t) {
            out[t].score = ends[0][t];
            if (smooth) {
                out[t].maps = perChannel(p, sums[t] / double(total), id, normalize, true);
            } else {
                const torch::Tensor ig = delta[0] * sums[t];
                const double change = ends[0][t] - ends[1][t], sum = ig.sum().item<double>();
                out[t].completenessGap = change != 0.0 ? std::abs(sum - change) / std::abs(change) : std::abs(sum);
                out[t].maps = perChannel(p, ig, id, normalize, true);
            }
        }
        break;
    }
    case Method::Occlusion: {
        if (parameters.window < 1 || parameters.stride < 1) throw Error("occlusion needs a window and a stride of at least 1");
        const torch::Tensor fill = baselineFor(p, parameters.baseline);
        const int64_t X = p.x.size(2), Y = p.x.size(3), Z = p.x.size(4), w = parameters.window, s = parameters.stride;
        std::vector<std::array<int64_t, 3>> corners;
        for (int64_t i = 0; i < X; i += s)
            for (int64_t j = 0; j < Y; j += s)
                for (int64_t k = 0; k < Z; k += s) corners.push_back({i, j, k});
        auto cube = [&](const torch::Tensor& t, const std::array<int64_t, 3>& c, int64_t firstAxis) {
            return t.slice(firstAxis, c[0], std::min(X, c[0] + w)).slice(firstAxis + 1, c[1], std::min(Y, c[1] + w))
                .slice(firstAxis + 2, c[2], std::min(Z, c[2] + w));
        };
        const auto clean = scoresForTargets(model, p.x, scoreTargets)[0];
        std::vector<torch::Tensor> sums;
        for (size_t t = 0; t < T; ++t) sums.push_back(torch::zeros({X, Y, Z})); // one tensor each
        torch::Tensor count = torch::zeros({X, Y, Z});
        inBatches(int64_t(corners.size()), parameters.batch, job, "occlusion window", [&](int64_t first, int64_t n) {
            const torch::Tensor inputs = batchOf(first, n, [&](int64_t m) {
                torch::Tensor copy = p.x.clone();
                cube(copy, corners[size_t(m)], 2).copy_(cube(fill, corners[size_t(m)], 2));
                return copy;
            });
            const auto scores = scoresForTargets(model, inputs, scoreTargets);
            for (int64_t b = 0; b < n; ++b) {
                const auto& c = corners[size_t(first + b)];
                for (size_t t = 0; t < T; ++t) cube(sums[t], c, 0) += clean[t] - scores[size_t(b)][t];
                cube(count, c, 0) += 1.0;
            }
        });
        for (size_t t = 0; t < T; ++t) {
            out[t].score = clean[t];
            out[t].maps = {{"", toVolume(p, sums[t] / count.clamp_min(1.0), id, normalize), true}};
        }
        break;
    }
    case Method::SegmentAblation:
    case Method::KernelShap: {
        const Features f = featuresOf(p, segments, parameters.featureCube);
        const size_t M = f.ids.size();
        const torch::Tensor fill = baselineFor(p, parameters.baseline);
        const auto clean = scoresForTargets(model, p.x, scoreTargets)[0];
        std::vector<std::vector<double>> values(T, std::vector<double>(M, 0.0));
        if (method == Method::SegmentAblation) {
            inBatches(int64_t(M), parameters.batch, job, "feature", [&](int64_t first, int64_t n) {
                const torch::Tensor inputs = batchOf(first, n, [&](int64_t i) {
                    std::vector<bool> off(M, false);
                    off[size_t(i)] = true;
                    return perturbed(p, fill, f, off);
                });
                const auto scores = scoresForTargets(model, inputs, scoreTargets);
                for (int64_t b = 0; b < n; ++b)
                    for (size_t t = 0; t < T; ++t) values[t][size_t(first + b)] = clean[t] - scores[size_t(b)][t];
            });
        } else {
            // Coalitions: sizes drawn from the Shapley kernel's distribution (so the regression
            // weights are 1), members at random, seeded. The empty and the full coalition are
            // exact constraints: phi0 = S(none), and the phi sum to S(all) - S(none); the last
            // feature's phi is eliminated through the second (Lundberg and Lee's KernelSHAP).
            std::mt19937_64 random(parameters.seed * 0x9E3779B97F4A7C15ull + 17);
            std::vector<std::vector<bool>> coalitions;
            coalitions.push_back(std::vector<bool>(M, false)); // all present: z = 1
            coalitions.push_back(std::vector<bool>(M, true));  // all off: z = 0
            if (M > 1) {
                std::vector<double> sizeWeights;
                for (size_t s = 1; s < M; ++s) sizeWeights.push_back(double(M - 1) / (double(s) * double(M - s)));
                std::discrete_distribution<size_t> size(sizeWeights.begin(), sizeWeights.end());
                std::vector<size_t> order(M);
                std::iota(order.begin(), order.end(), 0);
                for (int c = 0; c < parameters.coalitions; ++c) {
                    const size_t present = size(random) + 1;
                    std::shuffle(order.begin(), order.end(), random);
                    std::vector<bool> off(M, true);
                    for (size_t i = 0; i < present; ++i) off[order[i]] = false;
                    coalitions.push_back(off);
                }
            }
            std::vector<std::vector<double>> scores(coalitions.size());
            inBatches(int64_t(coalitions.size()), parameters.batch, job, "coalition", [&](int64_t first, int64_t n) {
                const torch::Tensor inputs = batchOf(first, n, [&](int64_t c) { return perturbed(p, fill, f, coalitions[size_t(c)]); });
                const auto s = scoresForTargets(model, inputs, scoreTargets);
                for (int64_t b = 0; b < n; ++b) scores[size_t(first + b)] = s[size_t(b)];
            });
            for (size_t t = 0; t < T; ++t) {
                const double full = scores[0][t], none = scores[1][t], total = full - none;
                if (M == 1) {
                    values[t][0] = total;
                    continue;
                }
                // y - z_M total = sum over i < M of phi_i (z_i - z_M).
                std::vector<std::vector<double>> rows;
                std::vector<double> y;
                for (size_t c = 2; c < coalitions.size(); ++c) {
                    const double last = coalitions[c][M - 1] ? 0.0 : 1.0;
                    std::vector<double> row;
                    for (size_t i = 0; i + 1 < M; ++i) row.push_back((coalitions[c][i] ? 0.0 : 1.0) - last);
                    rows.push_back(row);
                    y.push_back(scores[c][t] - none - last * total);
                }
                const std::vector<double> phi = leastSquares(rows, y);
                double rest = total;
                for (size_t i = 0; i + 1 < M; ++i) {
                    values[t][i] = phi[i];
                    rest -= phi[i];
                }
                values[t][M - 1] = rest;
            }
        }
        for (size_t t = 0; t < T; ++t) {
            out[t].score = clean[t];
            out[t].maps = {{"", toVolume(p, spread(f, values[t]), id, normalize), true}};
            out[t].notes.push_back(fmt::format("{} features ({})", M, parameters.featureCube > 0 ? "cubes" : "predicted segments"));
        }
        break;
    }
    }
    const double seconds = secondsSince(start);
    for (Explanation& e : out) {
        e.seconds = seconds / double(T);
        if (T > 1) e.notes.push_back(fmt::format("{} targets explained together in {:.2f} s", T, seconds));
    }
    if (job) job->progress(1.0f, "explained");
    return out;
}

} // namespace segxai
