#include "engine/analysis/spatial_augmentation.h"

#include "engine/core/error.h"
#include "engine/core/parallel.h"
#include "engine/core/seed_streams.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace segxai {
namespace {

constexpr double kMaxDegrees = 30.0;
constexpr int kMaxShiftVoxels = 16;

// Rotation about the voxel axes i, then j, then k, by the angles in degrees.
glm::dmat3 rotation(const glm::dvec3& degrees) {
    const glm::dvec3 r = glm::radians(degrees);
    const double cx = std::cos(r.x), sx = std::sin(r.x), cy = std::cos(r.y), sy = std::sin(r.y), cz = std::cos(r.z),
                 sz = std::sin(r.z);
    // glm is column-major: each constructor row below is one column.
    const glm::dmat3 aboutI(1, 0, 0, 0, cx, sx, 0, -sx, cx);
    const glm::dmat3 aboutJ(cy, 0, -sy, 0, 1, 0, sy, 0, cy);
    const glm::dmat3 aboutK(cz, sz, 0, -sz, cz, 0, 0, 0, 1);
    return aboutK * aboutJ * aboutI;
}

// Indices within rounding of a whole voxel are that voxel, so that whole-voxel shifts read
// voxels exactly.
glm::dvec3 snapped(glm::dvec3 index) {
    for (int a = 0; a < 3; ++a) {
        const double whole = std::round(index[a]);
        if (std::abs(index[a] - whole) < 1e-9) index[a] = whole;
    }
    return index;
}

glm::dvec3 centre(const Geometry& grid) {
    return glm::dvec3(double(grid.dims[0] - 1), double(grid.dims[1] - 1), double(grid.dims[2] - 1)) * 0.5;
}

// The trilinear value of `voxels` (on `grid`) at continuous index `c`, clamped to the grid.
float sampleClamped(const std::vector<float>& voxels, const Geometry& grid, glm::dvec3 c) {
    std::array<int64_t, 3> lo{};
    std::array<double, 3> w{};
    for (int a = 0; a < 3; ++a) {
        const double top = double(grid.dims[size_t(a)] - 1);
        const double x = std::clamp(c[a], 0.0, top);
        lo[size_t(a)] = std::min(int64_t(std::floor(x)), std::max<int64_t>(0, grid.dims[size_t(a)] - 2));
        w[size_t(a)] = x - double(lo[size_t(a)]);
    }
    double value = 0.0;
    for (int corner = 0; corner < 8; ++corner) {
        double weight = 1.0;
        std::array<int64_t, 3> at{};
        for (int a = 0; a < 3; ++a) {
            const bool up = (corner >> a) & 1;
            weight *= up ? w[size_t(a)] : 1.0 - w[size_t(a)];
            at[size_t(a)] = std::min(lo[size_t(a)] + (up ? 1 : 0), grid.dims[size_t(a)] - 1);
        }
        if (weight != 0.0) value += weight * double(voxels[grid.linearIndex(at[0], at[1], at[2])]);
    }
    return float(value);
}

// `voxels` read at `from(x)` for every voxel x of `grid`.
template <typename From>
std::vector<float> resampledAt(const std::vector<float>& voxels, const Geometry& grid, From&& from) {
    std::vector<float> out(voxels.size());
    parallelFor(grid.dims[2], [&](int64_t k0, int64_t k1) {
        for (int64_t k = k0; k < k1; ++k)
            for (int64_t j = 0; j < grid.dims[1]; ++j)
                for (int64_t i = 0; i < grid.dims[0]; ++i)
                    out[grid.linearIndex(i, j, k)] =
                        sampleClamped(voxels, grid, from(glm::dvec3(double(i), double(j), double(k))));
    });
    return out;
}

} // namespace

std::string SpatialJitter::name() const {
    return fmt::format("rotation {:.1f}, {:.1f}, {:.1f} deg, shift {:g}, {:g}, {:g} voxels", rotationDegrees.x,
                       rotationDegrees.y, rotationDegrees.z, shiftVoxels.x, shiftVoxels.y, shiftVoxels.z);
}

std::vector<SpatialJitter> spatialJitters(int passes, double maxDegrees, int maxShiftVoxels, uint64_t seed) {
    if (passes < 0) throw Error("spatial augmentation: the number of passes cannot be negative");
    if (!(maxDegrees >= 0.0 && maxDegrees <= kMaxDegrees))
        throw Error(
            fmt::format("spatial augmentation: rotation {} degrees is outside [0, {}]", maxDegrees, kMaxDegrees));
    if (maxShiftVoxels < 0 || maxShiftVoxels > kMaxShiftVoxels) {
        throw Error(
            fmt::format("spatial augmentation: shift {} voxels is outside [0, {}]", maxShiftVoxels, kMaxShiftVoxels));
    }
    std::mt19937_64 engine = streamEngine(seed, SeedStream::SpatialAugmentation);
    std::uniform_real_distribution<double> angle(-maxDegrees, maxDegrees);
    std::uniform_int_distribution<int> shift(-maxShiftVoxels, maxShiftVoxels);
    std::vector<SpatialJitter> out;
    for (int t = 0; t < passes; ++t) {
        SpatialJitter j;
        for (int a = 0; a < 3; ++a)
            j.rotationDegrees[a] = angle(engine);
        for (int a = 0; a < 3; ++a)
            j.shiftVoxels[a] = double(shift(engine));
        out.push_back(j);
    }
    return out;
}

namespace {

// T (or T^-1) as x -> linear x + offset in voxel indices, made once per volume.
struct IndexAffine {
    glm::dmat3 linear{1.0};
    glm::dvec3 offset{0.0};
    bool identityLinear = true; // no rotation: whole-voxel shifts stay whole
    glm::dvec3 operator()(const glm::dvec3& x) const {
        return identityLinear ? x + offset : snapped(linear * x + offset);
    }
};

IndexAffine motion(const SpatialJitter& jitter, const Geometry& grid, bool inverse) {
    IndexAffine a;
    const glm::dvec3 c = centre(grid), t = jitter.shiftVoxels;
    if (jitter.rotationDegrees == glm::dvec3(0.0)) {
        a.offset = inverse ? -t : t;
        return a;
    }
    // In millimetres along the voxel axes: index offsets scaled by the spacing.
    const glm::dmat3 toMm(glm::dvec3(grid.spacing.x, 0, 0), glm::dvec3(0, grid.spacing.y, 0),
                          glm::dvec3(0, 0, grid.spacing.z));
    const glm::dmat3 r = rotation(jitter.rotationDegrees);
    a.identityLinear = false;
    a.linear = glm::inverse(toMm) * (inverse ? glm::transpose(r) : r) * toMm;
    // T(x) = c + L (x - c) + t; T^-1(y) = c + L^-1 (y - t - c).
    a.offset = inverse ? c - a.linear * (c + t) : c - a.linear * c + t;
    return a;
}

} // namespace

glm::dvec3 movedFrom(const SpatialJitter& jitter, const Geometry& grid, const glm::dvec3& index) {
    return motion(jitter, grid, false)(index);
}

glm::dvec3 movedTo(const SpatialJitter& jitter, const Geometry& grid, const glm::dvec3& index) {
    return motion(jitter, grid, true)(index);
}

Study movedStudy(const Study& study, const SpatialJitter& jitter) {
    return transformedStudy(study, [&](const Volume& channel, size_t) {
        return resampledAt(channel.voxels, channel.geometry, motion(jitter, channel.geometry, false));
    });
}

Segmentation movedBack(const Segmentation& moved, const SpatialJitter& jitter) {
    const Geometry& grid = moved.labels.geometry;
    Segmentation out;
    out.classNames = moved.classNames;
    out.seconds = moved.seconds;
    out.device = moved.device;
    out.slidingWindow = moved.slidingWindow;
    out.notes = moved.notes;
    out.labels = LabelVolume(grid, moved.labels.name);
    out.probabilities = ClassProbabilities(grid, moved.probabilities.size());
    const IndexAffine back = motion(jitter, grid, true);
    std::vector<float> best;
    for (size_t c = 0; c < moved.probabilities.size(); ++c) {
        const std::vector<float> p = resampledAt(moved.probabilities.volume(c).voxels, grid, back);
        if (c == 0) {
            best = p;
        } else {
            for (size_t v = 0; v < p.size(); ++v) {
                if (p[v] > best[v]) {
                    best[v] = p[v];
                    out.labels.labels[v] = uint16_t(c);
                }
            }
        }
        out.probabilities.offer(c, p);
    }
    return out;
}

} // namespace segxai
