#include "engine/core/resample.h"

#include "engine/core/parallel.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace segxai {

// Coefficients within rounding of a whole number are snapped, so grids that share voxel
// centres resample exactly.
glm::dmat4 targetToSource(const Geometry& source, const Geometry& target) {
    glm::dmat4 m = source.worldToVoxelMatrix() * target.voxelToWorldMatrix();
    for (int c = 0; c < 4; ++c)
        for (int r = 0; r < 3; ++r)
            if (std::abs(m[c][r] - std::round(m[c][r])) < 1e-9) m[c][r] = std::round(m[c][r]);
    return m;
}

namespace {

// The lower corner and fractions of the trilinear cell at continuous index `c` of `grid`; false
// beyond its voxels' extent. Degenerate axes (a single slice) are sampled at their only index.
bool linearCell(const Geometry& grid, const glm::dvec3& c, int64_t base[3], double frac[3]) {
    for (int a = 0; a < 3; ++a) {
        if (grid.dims[a] == 1) {
            if (std::abs(c[a]) > 0.5) return false;
            base[a] = 0;
            frac[a] = 0.0;
            continue;
        }
        if (c[a] < -0.5 || c[a] > double(grid.dims[a]) - 0.5) return false;
        const double clamped = std::clamp(c[a], 0.0, double(grid.dims[a] - 1));
        base[a] = std::min<int64_t>(int64_t(std::floor(clamped)), grid.dims[a] - 2);
        frac[a] = clamped - double(base[a]);
    }
    return true;
}

// The trilinear value of `source` at continuous voxel index `c`, `outside` beyond its voxels'
// extent.
float trilinear(const Volume& source, const glm::dvec3& c, float outside) {
    const Geometry& sg = source.geometry;
    const int64_t nx = sg.dims[0], ny = sg.dims[1], nz = sg.dims[2];
    int64_t base[3];
    double frac[3];
    if (!linearCell(sg, c, base, frac)) return outside;
    const int64_t sx = nx > 1 ? 1 : 0, sy = ny > 1 ? nx : 0, sz = nz > 1 ? nx * ny : 0;
    const float* p = source.voxels.data() + base[0] + nx * (base[1] + ny * base[2]);
    const double fx = frac[0], fy = frac[1], fz = frac[2];
    const double c00 = p[0] * (1 - fx) + p[sx] * fx;
    const double c10 = p[sy] * (1 - fx) + p[sy + sx] * fx;
    const double c01 = p[sz] * (1 - fx) + p[sz + sx] * fx;
    const double c11 = p[sz + sy] * (1 - fx) + p[sz + sy + sx] * fx;
    const double c0 = c00 * (1 - fy) + c10 * fy;
    const double c1 = c01 * (1 - fy) + c11 * fy;
    return float(c0 * (1 - fz) + c1 * fz);
}

} // namespace

LinearTaps linearTaps(const Geometry& grid, const glm::dvec3& c) {
    LinearTaps taps;
    int64_t base[3];
    double frac[3];
    if (!linearCell(grid, c, base, frac)) return taps;
    for (int corner = 0; corner < 8; ++corner) {
        double weight = 1.0;
        int64_t at[3];
        for (int a = 0; a < 3; ++a) {
            const bool upper = (corner >> a) & 1;
            if (upper && grid.dims[a] == 1) weight = 0.0;
            at[a] = base[a] + (upper ? 1 : 0);
            weight *= upper ? frac[a] : 1.0 - frac[a];
        }
        if (weight == 0.0) continue;
        taps.voxel[size_t(taps.count)] = grid.linearIndex(at[0], at[1], at[2]);
        taps.weight[size_t(taps.count)] = weight;
        ++taps.count;
    }
    return taps;
}

Volume resampleLinear(const Volume& source, const Geometry& target, float outside) {
    if (source.geometry.sameGrid(target, 1e-9)) return source;
    Volume out(target, source.name);
    const glm::dmat4 map = targetToSource(source.geometry, target);
    parallelFor(target.dims[2], [&](int64_t k0, int64_t k1) {
        for (int64_t k = k0; k < k1; ++k) {
            for (int64_t j = 0; j < target.dims[1]; ++j) {
                for (int64_t i = 0; i < target.dims[0]; ++i) {
                    const glm::dvec3 c(map * glm::dvec4(double(i), double(j), double(k), 1.0));
                    out.at(i, j, k) = trilinear(source, c, outside);
                }
            }
        }
    });
    return out;
}

std::optional<float> sampleLinear(const Volume& volume, const glm::dvec3& world) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float value = trilinear(volume, volume.geometry.worldToVoxel(world), nan);
    return std::isnan(value) ? std::nullopt : std::optional<float>(value);
}

namespace {

template <typename Value>
std::vector<float> scatter(const std::vector<Value>& values, const Geometry& from, const Geometry& to) {
    if (from.sameGrid(to, 1e-9)) return std::vector<float>(values.begin(), values.end());
    std::vector<float> out(to.voxelCount(), 0.0f);
    const glm::dmat4 map = targetToSource(to, from); // a `from` voxel to a `to` continuous index
    for (int64_t k = 0; k < from.dims[2]; ++k)
        for (int64_t j = 0; j < from.dims[1]; ++j)
            for (int64_t i = 0; i < from.dims[0]; ++i) {
                const float v = float(values[from.linearIndex(i, j, k)]);
                if (v == 0.0f) continue;
                const glm::dvec3 c(map * glm::dvec4(double(i), double(j), double(k), 1.0));
                int64_t base[3];
                double frac[3];
                bool inside = true;
                for (int a = 0; a < 3; ++a) {
                    if (to.dims[a] == 1) {
                        inside = inside && std::abs(c[a]) <= 0.5;
                        base[a] = 0;
                        frac[a] = 0.0;
                        continue;
                    }
                    inside = inside && c[a] >= -0.5 && c[a] <= double(to.dims[a]) - 0.5;
                    const double clamped = std::clamp(c[a], 0.0, double(to.dims[a] - 1));
                    base[a] = std::min<int64_t>(int64_t(std::floor(clamped)), to.dims[a] - 2);
                    frac[a] = clamped - double(base[a]);
                }
                if (!inside) continue;
                for (int corner = 0; corner < 8; ++corner) {
                    double w = 1.0;
                    int64_t index[3];
                    bool valid = true;
                    for (int a = 0; a < 3; ++a) {
                        const int bit = corner >> a & 1;
                        if (to.dims[a] == 1 && bit) valid = false;
                        index[a] = base[a] + bit;
                        w *= bit ? frac[a] : 1.0 - frac[a];
                    }
                    if (valid && w > 0.0) out[to.linearIndex(index[0], index[1], index[2])] += float(w * v);
                }
            }
    return out;
}

} // namespace

std::vector<float> scatterLinear(const std::vector<float>& values, const Geometry& from, const Geometry& to) {
    return scatter(values, from, to);
}

std::vector<float> scatterLinear(const std::vector<uint8_t>& mask, const Geometry& from, const Geometry& to) {
    return scatter(mask, from, to);
}

LabelVolume resampleNearest(const LabelVolume& source, const Geometry& target) {
    LabelVolume out(target, source.name);
    const glm::dmat4 map = targetToSource(source.geometry, target);
    const Geometry& sg = source.geometry;
    parallelFor(target.dims[2], [&](int64_t k0, int64_t k1) {
        for (int64_t k = k0; k < k1; ++k) {
            for (int64_t j = 0; j < target.dims[1]; ++j) {
                for (int64_t i = 0; i < target.dims[0]; ++i) {
                    const glm::dvec3 c(map * glm::dvec4(double(i), double(j), double(k), 1.0));
                    const int64_t si = std::llround(c.x), sj = std::llround(c.y), sk = std::llround(c.z);
                    out.at(i, j, k) = sg.contains(si, sj, sk) ? source.at(si, sj, sk) : 0;
                }
            }
        }
    });
    return out;
}

} // namespace segxai
