#include "engine/analysis/lesion_maps.h"

#include "engine/analysis/distance_transform.h"
#include "engine/core/error.h"
#include "engine/core/resample.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <optional>

namespace segxai {

namespace {

// The lesion's bounding box on the study grid grown by `marginMm`, with the lesion's mask and
// the map's values (sampled at the box's voxel centres) in it.
struct Crop {
    Geometry box;
    std::vector<uint8_t> mask;
    std::vector<float> values;
};

std::optional<Crop> cropAround(const Volume& map, const Geometry& g, const std::vector<uint8_t>& lesionMask,
                               double marginMm) {
    if (lesionMask.size() != g.voxelCount()) throw Error("the lesion mask is not on the study's grid");
    Index3 low{g.dims[0], g.dims[1], g.dims[2]}, high{-1, -1, -1};
    for (int64_t k = 0; k < g.dims[2]; ++k)
        for (int64_t j = 0; j < g.dims[1]; ++j)
            for (int64_t i = 0; i < g.dims[0]; ++i) {
                if (!lesionMask[g.linearIndex(i, j, k)]) continue;
                low = {std::min(low[0], i), std::min(low[1], j), std::min(low[2], k)};
                high = {std::max(high[0], i), std::max(high[1], j), std::max(high[2], k)};
            }
    if (high[0] < 0) return std::nullopt; // an empty lesion
    Crop crop;
    crop.box = g;
    for (size_t a = 0; a < 3; ++a) {
        const int64_t margin = int64_t(std::ceil(marginMm / g.spacing[int(a)])) + 1;
        low[a] = std::max<int64_t>(0, low[a] - margin);
        high[a] = std::min<int64_t>(g.dims[a] - 1, high[a] + margin);
        crop.box.dims[a] = high[a] - low[a] + 1;
    }
    crop.box.origin = g.voxelToWorld(glm::dvec3(double(low[0]), double(low[1]), double(low[2])));
    crop.mask.resize(crop.box.voxelCount());
    crop.values.resize(crop.box.voxelCount());
    const bool sameGrid = map.geometry.sameGrid(g);
    const Volume sampled = sameGrid ? Volume() : resampleLinear(map, crop.box);
    for (int64_t k = 0; k < crop.box.dims[2]; ++k)
        for (int64_t j = 0; j < crop.box.dims[1]; ++j)
            for (int64_t i = 0; i < crop.box.dims[0]; ++i) {
                const size_t n = g.linearIndex(i + low[0], j + low[1], k + low[2]), m = crop.box.linearIndex(i, j, k);
                crop.mask[m] = lesionMask[n];
                crop.values[m] = sameGrid ? map.voxels[n] : sampled.voxels[m];
            }
    return crop;
}

} // namespace

RingProfile ringProfile(const Volume& map, const Geometry& g, const std::vector<uint8_t>& lesionMask,
                        const std::vector<double>& edges, int bins) {
    if (edges.size() < 2) throw Error("rings need at least two edges");
    RingProfile profile;
    const auto ringRegion = [](std::string name, double fromMm, double toMm) {
        RingRegion r;
        r.name = std::move(name);
        r.fromMm = fromMm;
        r.toMm = toMm;
        return r;
    };
    profile.regions.push_back(ringRegion("inside", 0.0, 0.0));
    for (size_t e = 0; e + 1 < edges.size(); ++e) {
        profile.regions.push_back(
            ringRegion(fmt::format("{:g}-{:g} mm", edges[e], edges[e + 1]), edges[e], edges[e + 1]));
    }
    const std::optional<Crop> crop = cropAround(map, g, lesionMask, edges.back());
    if (!crop) {
        for (RingRegion& r : profile.regions)
            r.histogram.assign(size_t(bins), 0);
        return profile;
    }
    const Geometry& box = crop->box;
    const std::vector<uint8_t>& boxMask = crop->mask;
    const std::vector<float>& boxValues = crop->values;
    const std::vector<float> distance = distanceToMask(box, boxMask);
    // Region of each voxel (-1: outside every region).
    std::vector<int> region(box.voxelCount(), -1);
    for (size_t n = 0; n < region.size(); ++n) {
        if (boxMask[n]) {
            region[n] = 0;
            continue;
        }
        for (size_t r = 1; r < profile.regions.size(); ++r) {
            // (from, to] with a hair of tolerance: a face neighbour at 1 mm is in "0-1 mm".
            const double d = distance[n];
            if (d > profile.regions[r].fromMm * (1.0 + 1e-6) && d <= profile.regions[r].toMm * (1.0 + 1e-6)) {
                region[n] = int(r);
                break;
            }
        }
    }
    for (size_t n = 0; n < region.size(); ++n) {
        if (region[n] < 0 || !std::isfinite(boxValues[n])) continue;
        const double v = boxValues[n];
        RingRegion& r = profile.regions[size_t(region[n])];
        ++r.voxels;
        r.sum += v;
        r.absSum += std::abs(v);
        if (v > 0.0) {
            r.positiveSum += v;
            r.sharePositive += 1.0;
        } else if (v < 0.0) {
            r.negativeSum += v;
            r.shareNegative += 1.0;
        }
        profile.limit = std::max(profile.limit, std::abs(v));
    }
    int64_t rimVoxels = 0;
    double rimNegative = 0.0;
    for (RingRegion& r : profile.regions) {
        r.histogram.assign(size_t(bins), 0);
        if (r.voxels > 0) {
            r.mean = r.sum / double(r.voxels);
            if (r.toMm > 0.0 && r.toMm <= kRimMm + 1e-9) {
                rimVoxels += r.voxels;
                rimNegative += r.shareNegative;
            }
            r.sharePositive /= double(r.voxels);
            r.shareNegative /= double(r.voxels);
        }
        profile.absTotal += r.absSum;
    }
    profile.sharePositiveInside = profile.regions[0].sharePositive;
    profile.shareNegativeRim = rimVoxels ? rimNegative / double(rimVoxels) : 0.0;
    if (profile.limit > 0.0) {
        for (size_t n = 0; n < region.size(); ++n) {
            if (region[n] < 0 || !std::isfinite(boxValues[n])) continue;
            const double t = (boxValues[n] + profile.limit) / (2.0 * profile.limit); // 0..1
            const int bin = std::clamp(int(t * bins), 0, bins - 1);
            ++profile.regions[size_t(region[n])].histogram[size_t(bin)];
        }
    }
    return profile;
}

Peak peakOf(const Volume& map, const Geometry& studyGrid, const std::vector<uint8_t>& lesionMask) {
    Peak p;
    const std::optional<Crop> crop = cropAround(map, studyGrid, lesionMask, 0.0);
    if (!crop) return p;
    bool any = false;
    for (size_t n = 0; n < crop->mask.size(); ++n) {
        if (!crop->mask[n] || !std::isfinite(crop->values[n])) continue;
        const double v = crop->values[n];
        if (!any || v > p.maximum) p.maximum = v;
        if (!any || std::abs(v) > std::abs(p.maximumMagnitude)) p.maximumMagnitude = v;
        any = true;
    }
    return p;
}

std::vector<float> maxMagnitude(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) throw Error("max-magnitude needs maps of one size");
    std::vector<float> out(a.size());
    for (size_t n = 0; n < a.size(); ++n)
        out[n] = std::abs(b[n]) > std::abs(a[n]) ? b[n] : a[n];
    return out;
}

} // namespace segxai
