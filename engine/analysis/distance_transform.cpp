#include "engine/analysis/distance_transform.h"

#include "engine/core/parallel.h"

#include <cmath>
#include <limits>

namespace segxai {
namespace {

constexpr double kFar = 1e30; // squared distance standing for "no mask voxel on this line"

// One line of the separable transform: f holds squared distances (kFar where unknown); on
// return d[q] = min over p of f[p] + (spacing * (q - p))^2.
void transformLine(const double* f, double* d, int64_t n, double spacing, std::vector<int64_t>& v,
                   std::vector<double>& z) {
    const double s2 = spacing * spacing, infinity = std::numeric_limits<double>::infinity();
    v.assign(size_t(n), 0);
    z.assign(size_t(n) + 1, 0.0);
    // Where the parabolas from sites p and q (p < q) cross, in index units.
    auto crossing = [&](int64_t p, int64_t q) {
        return ((f[q] + s2 * double(q) * double(q)) - (f[p] + s2 * double(p) * double(p))) / (2.0 * s2 * double(q - p));
    };
    int64_t k = -1; // index of the rightmost parabola of the lower envelope
    for (int64_t q = 0; q < n; ++q) {
        if (f[q] >= kFar) continue; // not a site
        if (k < 0) {
            k = 0;
            v[0] = q;
            z[0] = -infinity;
            z[1] = infinity;
            continue;
        }
        double s = crossing(v[size_t(k)], q);
        while (s <= z[size_t(k)]) {
            --k;
            s = crossing(v[size_t(k)], q);
        }
        ++k;
        v[size_t(k)] = q;
        z[size_t(k)] = s;
        z[size_t(k) + 1] = infinity;
    }
    if (k < 0) {
        for (int64_t q = 0; q < n; ++q)
            d[q] = kFar;
        return;
    }
    int64_t j = 0;
    for (int64_t q = 0; q < n; ++q) {
        while (z[size_t(j) + 1] < double(q))
            ++j;
        const double diff = spacing * double(q - v[size_t(j)]);
        d[q] = diff * diff + f[v[size_t(j)]];
    }
}

} // namespace

std::vector<float> distanceToMask(const Geometry& grid, const std::vector<uint8_t>& mask) {
    const int64_t nx = grid.dims[0], ny = grid.dims[1], nz = grid.dims[2];
    std::vector<double> squared(mask.size());
    for (size_t n = 0; n < mask.size(); ++n)
        squared[n] = mask[n] ? 0.0 : kFar;
    const int64_t strides[3] = {1, nx, nx * ny};
    const int64_t sizes[3] = {nx, ny, nz};
    for (int axis = 0; axis < 3; ++axis) {
        const int64_t n = sizes[axis], stride = strides[axis];
        const int64_t lines = int64_t(mask.size()) / std::max<int64_t>(1, n);
        const int other1 = (axis + 1) % 3, other2 = (axis + 2) % 3;
        parallelFor(
            lines,
            [&](int64_t begin, int64_t end) {
                std::vector<double> f(static_cast<size_t>(n)), d(static_cast<size_t>(n)), z;
                std::vector<int64_t> v;
                for (int64_t line = begin; line < end; ++line) {
                    // The line's first voxel: coordinates on the two other axes.
                    const int64_t a = line % sizes[other1], b = line / sizes[other1];
                    const int64_t first = a * strides[other1] + b * strides[other2];
                    for (int64_t q = 0; q < n; ++q)
                        f[size_t(q)] = squared[size_t(first + q * stride)];
                    transformLine(f.data(), d.data(), n, grid.spacing[axis], v, z);
                    for (int64_t q = 0; q < n; ++q)
                        squared[size_t(first + q * stride)] = d[size_t(q)];
                }
            },
            64);
    }
    std::vector<float> out(mask.size());
    for (size_t n = 0; n < out.size(); ++n) {
        out[n] = squared[n] >= kFar * 0.5 ? std::numeric_limits<float>::infinity() : float(std::sqrt(squared[n]));
    }
    return out;
}

std::vector<uint8_t> dilateMm(const Geometry& grid, const std::vector<uint8_t>& mask, double radiusMm) {
    const std::vector<float> distance = distanceToMask(grid, mask);
    std::vector<uint8_t> out(mask.size());
    // A hair of tolerance: voxels exactly radiusMm away are inside despite rounding.
    const float limit = float(radiusMm * (1.0 + 1e-6));
    for (size_t n = 0; n < out.size(); ++n)
        out[n] = distance[n] <= limit;
    return out;
}

} // namespace segxai
