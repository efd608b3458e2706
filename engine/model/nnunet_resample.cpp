#include "engine/model/nnunet_resample.h"

#include "engine/core/error.h"
#include "engine/core/parallel.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace segxai {
namespace {

// scipy pads a line by 12 edge values before its spline prefilter ('nearest' mode).
constexpr int64_t kPad = 12;

// Where output voxel j of an axis of n input voxels resampled to m reads (zoom with
// grid_mode=True): the first input index it uses and the weights of it and its neighbours.
struct Tap {
    int64_t first = 0;
    std::array<double, 4> weights{};
};

std::vector<Tap> tapsFor(int64_t n, int64_t m, int order) {
    std::vector<Tap> taps(static_cast<size_t>(m));
    const double scale = double(n) / double(m);
    for (int64_t j = 0; j < m; ++j) {
        const double x = (double(j) + 0.5) * scale - 0.5;
        Tap& t = taps[size_t(j)];
        if (order == 0) {
            t.first = std::clamp<int64_t>(int64_t(std::floor(x + 0.5)), 0, n - 1);
            t.weights = {1.0, 0.0, 0.0, 0.0};
        } else if (order == 1) {
            const double f = std::floor(x);
            const double w = x - f;
            t.first = int64_t(f);
            t.weights = {1.0 - w, w, 0.0, 0.0};
        } else { // cubic B-spline on the padded line: neighbours floor(x) - 1 .. floor(x) + 2
            const double f = std::floor(x);
            const double w = x - f, w2 = w * w, w3 = w2 * w;
            t.first = int64_t(f) - 1 + kPad;
            t.weights = {(1.0 - w) * (1.0 - w) * (1.0 - w) / 6.0, (3.0 * w3 - 6.0 * w2 + 4.0) / 6.0,
                         (-3.0 * w3 + 3.0 * w2 + 3.0 * w + 1.0) / 6.0, w3 / 6.0};
        }
    }
    return taps;
}

void checkOrder(int order) {
    if (order != 0 && order != 1 && order != 3)
        throw Error("nnU-Net resampling of order " + std::to_string(order) + " is not supported (0, 1 or 3)");
}

// Lines of a C-order array along `axis`: `count` lines of `length` voxels `stride` apart.
struct Lines {
    int64_t count = 0, length = 0, stride = 1, inner = 1;
    int64_t start(int64_t line, int64_t lineLength) const { return (line / inner) * lineLength * inner + line % inner; }
};

Lines linesOf(const Shape3& shape, int axis) {
    Lines l;
    l.length = shape[size_t(axis)];
    for (int a = axis + 1; a < 3; ++a)
        l.inner *= shape[size_t(a)];
    l.stride = l.inner;
    l.count = shapeVoxels(shape) / std::max<int64_t>(1, l.length);
    return l;
}

// Resamples every line along `axis` to `m` voxels.
std::vector<double> resampleAxis(const std::vector<double>& in, Shape3& shape, int axis, int64_t m, int order) {
    checkOrder(order);
    const Lines lines = linesOf(shape, axis);
    const int64_t n = lines.length;
    const std::vector<Tap> taps = tapsFor(n, m, order);
    Shape3 outShape = shape;
    outShape[size_t(axis)] = m;
    std::vector<double> out(size_t(shapeVoxels(outShape)));
    parallelFor(
        lines.count,
        [&](int64_t begin, int64_t end) {
            std::vector<double> line(size_t(n + 2 * kPad));
            for (int64_t l = begin; l < end; ++l) {
                const int64_t from = lines.start(l, n), to = lines.start(l, m);
                for (int64_t k = 0; k < n; ++k)
                    line[size_t(k + kPad)] = in[size_t(from + k * lines.stride)];
                if (order == 3) {
                    std::fill(line.begin(), line.begin() + kPad, line[size_t(kPad)]);
                    std::fill(line.end() - kPad, line.end(), line[size_t(kPad + n - 1)]);
                    splineFilterLine(line.data(), n + 2 * kPad);
                }
                for (int64_t j = 0; j < m; ++j) {
                    const Tap& t = taps[size_t(j)];
                    double v = 0.0;
                    if (order == 0) {
                        v = line[size_t(t.first + kPad)];
                    } else if (order == 1) { // 'nearest' extension: neighbours clamped to the line
                        const int64_t a = std::clamp<int64_t>(t.first, 0, n - 1);
                        const int64_t b = std::clamp<int64_t>(t.first + 1, 0, n - 1);
                        v = t.weights[0] * line[size_t(a + kPad)] + t.weights[1] * line[size_t(b + kPad)];
                    } else {
                        for (int k = 0; k < 4; ++k)
                            v += t.weights[size_t(k)] * line[size_t(t.first + k)];
                    }
                    out[size_t(to + j * lines.stride)] = v;
                }
            }
        },
        64);
    shape = outShape;
    return out;
}

// The transpose of resampleAxis for orders 0 and 1.
std::vector<double> resampleAxisAdjoint(const std::vector<double>& weights, Shape3& shape, int axis, int64_t n,
                                        int order) {
    if (order > 1) throw Error("the adjoint of nnU-Net's resampling exists here for orders 0 and 1 only");
    const int64_t m = shape[size_t(axis)];
    const std::vector<Tap> taps = tapsFor(n, m, order);
    Shape3 inShape = shape;
    inShape[size_t(axis)] = n;
    const Lines lines = linesOf(inShape, axis);
    std::vector<double> out(size_t(shapeVoxels(inShape)), 0.0);
    parallelFor(
        lines.count,
        [&](int64_t begin, int64_t end) {
            for (int64_t l = begin; l < end; ++l) {
                const int64_t to = lines.start(l, n), from = lines.start(l, m);
                for (int64_t j = 0; j < m; ++j) {
                    const double w = weights[size_t(from + j * lines.stride)];
                    if (w == 0.0) continue;
                    const Tap& t = taps[size_t(j)];
                    if (order == 0) {
                        out[size_t(to + t.first * lines.stride)] += w;
                    } else {
                        const int64_t a = std::clamp<int64_t>(t.first, 0, n - 1);
                        const int64_t b = std::clamp<int64_t>(t.first + 1, 0, n - 1);
                        out[size_t(to + a * lines.stride)] += w * t.weights[0];
                        out[size_t(to + b * lines.stride)] += w * t.weights[1];
                    }
                }
            }
        },
        64);
    shape = inShape;
    return out;
}

// The axes to resample in-plane (all but `separate`) whose size changes, the most shrinking
// first (the intermediate arrays stay smallest; the order does not change the result).
std::vector<int> axesToResample(const Shape3& shape, const Shape3& newShape, std::optional<int> separate) {
    std::vector<int> axes;
    for (int a = 0; a < 3; ++a)
        if (a != separate && shape[size_t(a)] != newShape[size_t(a)]) axes.push_back(a);
    std::sort(axes.begin(), axes.end(), [&](int a, int b) {
        return double(newShape[size_t(a)]) / double(shape[size_t(a)]) <
               double(newShape[size_t(b)]) / double(shape[size_t(b)]);
    });
    return axes;
}

// skimage's resize clips its output to its input's range: the whole channel's, or, when each
// slice along the separate axis was resized on its own, that slice's.
void clipToInputRange(std::vector<double>& data, const Shape3& outShape, const float* input, const Shape3& shape,
                      std::optional<int> separate) {
    if (!separate) {
        const auto [lo, hi] = std::minmax_element(input, input + shapeVoxels(shape));
        const double low = *lo, high = *hi;
        for (double& v : data)
            v = std::clamp(v, low, high);
        return;
    }
    const int s = *separate;
    auto sliceOf = [s](const Shape3& sh, int64_t index) {
        int64_t inner = 1;
        for (int a = s + 1; a < 3; ++a)
            inner *= sh[size_t(a)];
        return size_t((index / inner) % sh[size_t(s)]);
    };
    std::vector<double> low(static_cast<size_t>(shape[size_t(s)]), std::numeric_limits<double>::infinity());
    std::vector<double> high(static_cast<size_t>(shape[size_t(s)]), -std::numeric_limits<double>::infinity());
    for (int64_t n = 0; n < shapeVoxels(shape); ++n) {
        const size_t k = sliceOf(shape, n);
        low[k] = std::min(low[k], double(input[n]));
        high[k] = std::max(high[k], double(input[n]));
    }
    for (int64_t n = 0; n < shapeVoxels(outShape); ++n) {
        const size_t k = sliceOf(outShape, n);
        data[size_t(n)] = std::clamp(data[size_t(n)], low[k], high[k]);
    }
}

} // namespace

void splineFilterLine(double* c, int64_t n) {
    // One pole, z = sqrt(3) - 2; boundaries as scipy's 'nearest' mode initialises them (its
    // reflect initialisation, checked against scipy 1.10 to 1e-15).
    const double z = std::sqrt(3.0) - 2.0;
    const double gain = (1.0 - z) * (1.0 - 1.0 / z);
    for (int64_t k = 0; k < n; ++k)
        c[k] *= gain;
    const double zn = std::pow(z, double(n));
    const double c0 = c[0];
    double zi = z;
    c[0] = c[0] + zn * c[n - 1];
    for (int64_t i = 1; i < n; ++i) {
        c[0] += zi * (c[i] + zn * c[n - 1 - i]);
        zi *= z;
    }
    c[0] *= z / (1.0 - zn * zn);
    c[0] += c0;
    for (int64_t k = 1; k < n; ++k)
        c[k] += z * c[k - 1];
    c[n - 1] *= z / (z - 1.0);
    for (int64_t k = n - 2; k >= 0; --k)
        c[k] = z * (c[k + 1] - c[k]);
}

Shape3 nnunetNewShape(const Shape3& shape, const std::array<double, 3>& spacing, const std::array<double, 3>& target) {
    Shape3 out{};
    for (int a = 0; a < 3; ++a) {
        // Python's round(): half to even, as std::nearbyint in the default rounding mode.
        out[size_t(a)] = int64_t(std::nearbyint(spacing[size_t(a)] / target[size_t(a)] * double(shape[size_t(a)])));
    }
    return out;
}

std::optional<int> nnunetSeparateAxis(const NnunetResampling& r, const std::array<double, 3>& current,
                                      const std::array<double, 3>& target) {
    constexpr double kAnisotropy = 3.0; // nnunetv2/configuration.py: ANISO_THRESHOLD
    auto anisotropic = [&](const std::array<double, 3>& s) {
        return *std::max_element(s.begin(), s.end()) / *std::min_element(s.begin(), s.end()) > kAnisotropy;
    };
    // The axes whose spacing is the largest (np.where(max / s == 1)).
    auto lowResolutionAxes = [](const std::array<double, 3>& s) {
        const double most = *std::max_element(s.begin(), s.end());
        std::vector<int> axes;
        for (int a = 0; a < 3; ++a)
            if (most / s[size_t(a)] == 1.0) axes.push_back(a);
        return axes;
    };
    std::vector<int> axes;
    if (r.forceSeparateZ) {
        if (!*r.forceSeparateZ) return std::nullopt;
        axes = lowResolutionAxes(current);
    } else if (anisotropic(current)) {
        axes = lowResolutionAxes(current);
    } else if (anisotropic(target)) {
        axes = lowResolutionAxes(target);
    }
    if (axes.size() != 1) return std::nullopt; // none, or ties: resampled together
    return axes[0];
}

std::vector<double> nnunetResample(const float* input, const Shape3& shape, const Shape3& newShape, int order,
                                   std::optional<int> separate, int orderZ) {
    std::vector<double> data(input, input + shapeVoxels(shape));
    if (shape == newShape) return data;
    Shape3 current = shape;
    for (int axis : axesToResample(shape, newShape, separate))
        data = resampleAxis(data, current, axis, newShape[size_t(axis)], order);
    // skimage's resize clips to its input's range (order 0 cannot leave it).
    if (order > 0) clipToInputRange(data, current, input, shape, separate);
    if (separate && shape[size_t(*separate)] != newShape[size_t(*separate)])
        data = resampleAxis(data, current, *separate, newShape[size_t(*separate)], orderZ);
    return data;
}

std::vector<double> nnunetResampleAdjoint(const std::vector<double>& weights, const Shape3& shape,
                                          const Shape3& newShape, int order, std::optional<int> separate, int orderZ) {
    if (shape == newShape) return weights;
    std::vector<double> data = weights;
    Shape3 current = newShape;
    if (separate && shape[size_t(*separate)] != newShape[size_t(*separate)])
        data = resampleAxisAdjoint(data, current, *separate, shape[size_t(*separate)], orderZ);
    std::vector<int> axes = axesToResample(shape, newShape, separate);
    std::reverse(axes.begin(), axes.end());
    for (int axis : axes)
        data = resampleAxisAdjoint(data, current, axis, shape[size_t(axis)], order);
    return data;
}

} // namespace segxai
