#include "engine/model/nnunet_preprocess.h"

#include "engine/core/error.h"
#include "engine/core/half.h"
#include "engine/model/nnunet_normalize.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace segxai {
namespace {

// Internal axis a of the study: which study axis it runs along, and whether reversed.
struct InternalAxes {
    std::array<int, 3> studyAxis{};
    std::array<bool, 3> reversed{};
};

InternalAxes internalAxes(const NnunetCase& c) {
    InternalAxes axes;
    for (int a = 0; a < 3; ++a) {
        const int readerAxis = c.gridAxis[size_t(a)];
        axes.studyAxis[size_t(a)] = c.reorientation.from[size_t(readerAxis)];
        axes.reversed[size_t(a)] = c.reorientation.flip[size_t(readerAxis)];
    }
    return axes;
}

// Calls visit(internal linear index, study linear index) for every voxel of the internal box
// [first, first + extent) (a shape-sized extent: every voxel).
template <typename Visit>
void forEachInternal(const NnunetCase& c, const Shape3& first, const Shape3& extent, Visit&& visit) {
    const InternalAxes axes = internalAxes(c);
    const Geometry& g = c.studyGrid;
    std::array<int64_t, 3> strideOf{1, g.dims[0], g.dims[0] * g.dims[1]};
    std::array<int64_t, 3> step{}, start{};
    for (int a = 0; a < 3; ++a) {
        const int s = axes.studyAxis[size_t(a)];
        const int64_t stride = strideOf[size_t(s)];
        step[size_t(a)] = axes.reversed[size_t(a)] ? -stride : stride;
        const int64_t index = axes.reversed[size_t(a)] ? g.dims[s] - 1 - first[size_t(a)] : first[size_t(a)];
        start[size_t(a)] = index * stride;
    }
    int64_t n = 0;
    for (int64_t x = 0; x < extent[0]; ++x)
        for (int64_t y = 0; y < extent[1]; ++y) {
            int64_t study = start[0] + start[1] + start[2] + x * step[0] + y * step[1];
            for (int64_t z = 0; z < extent[2]; ++z, study += step[2])
                visit(n++, study);
        }
}

// The non-zero mask of all channels, holes filled, and its bounding box (create_nonzero_mask,
// get_bbox_from_mask; an empty mask keeps the whole extent).
void findBox(NnunetCase& c, const std::vector<std::vector<float>>& internal, std::vector<uint8_t>& mask) {
    const Shape3& s = c.shapeBeforeCrop;
    mask.assign(size_t(shapeVoxels(s)), 0);
    for (const auto& channel : internal)
        for (size_t n = 0; n < mask.size(); ++n)
            mask[n] = mask[n] || channel[n] != 0.0f;
    fillHoles(mask, s);
    std::array<int64_t, 3> lo{s[0], s[1], s[2]}, hi{-1, -1, -1};
    int64_t n = 0;
    for (int64_t x = 0; x < s[0]; ++x)
        for (int64_t y = 0; y < s[1]; ++y)
            for (int64_t z = 0; z < s[2]; ++z, ++n) {
                if (!mask[size_t(n)]) continue;
                const std::array<int64_t, 3> v{x, y, z};
                for (int a = 0; a < 3; ++a) {
                    lo[size_t(a)] = std::min(lo[size_t(a)], v[size_t(a)]);
                    hi[size_t(a)] = std::max(hi[size_t(a)], v[size_t(a)]);
                }
            }
    for (int a = 0; a < 3; ++a) {
        const bool empty = hi[size_t(a)] < 0;
        c.box[size_t(a)] = {empty ? 0 : lo[size_t(a)], empty ? s[size_t(a)] : hi[size_t(a)] + 1};
        c.croppedShape[size_t(a)] = c.box[size_t(a)][1] - c.box[size_t(a)][0];
    }
}

template <typename T> std::vector<T> cropped(const std::vector<T>& v, const NnunetCase& c) {
    std::vector<T> out(size_t(shapeVoxels(c.croppedShape)));
    const Shape3& s = c.shapeBeforeCrop;
    size_t n = 0;
    for (int64_t x = c.box[0][0]; x < c.box[0][1]; ++x)
        for (int64_t y = c.box[1][0]; y < c.box[1][1]; ++y) {
            const size_t row = size_t((x * s[1] + y) * s[2]);
            for (int64_t z = c.box[2][0]; z < c.box[2][1]; ++z)
                out[n++] = v[row + size_t(z)];
        }
    return out;
}

// The network's voxels in the world: internal axis a of the model shape runs along reader grid
// axis gridAxis[a] with the zoom's spacing, starting where zoom's grid_mode puts voxel 0; the
// geometry lists the axes in reverse internal order, so a volume's buffer (first axis fastest)
// is the internal C-order array.
Geometry modelGridOf(const NnunetCase& c) {
    Geometry g;
    glm::dvec3 firstVoxel(0.0);
    for (int m = 0; m < 3; ++m) {
        const int a = 2 - m;
        const int axis = c.gridAxis[size_t(a)];
        const double scale = double(c.croppedShape[size_t(a)]) / double(c.modelShape[size_t(a)]);
        g.dims[m] = c.modelShape[size_t(a)];
        g.spacing[m] = c.readerGrid.spacing[axis] * scale;
        g.direction[m] = c.readerGrid.direction[axis];
        firstVoxel[axis] = double(c.box[size_t(a)][0]) + 0.5 * scale - 0.5;
    }
    g.origin = c.readerGrid.voxelToWorld(firstVoxel);
    return g;
}

} // namespace

AxisMap rasAxisMap(const Geometry& g) {
    // nibabel's io_orientation on the RAS affine: each voxel axis in turn takes the world axis its
    // direction is closest to, that world axis then being out of the running. SegXAI's
    // directions are orthonormal, so nibabel's polar decomposition leaves them as they are.
    double r[3][3];
    for (int a = 0; a < 3; ++a) {
        r[0][a] = -g.direction[a].x; // LPS -> RAS
        r[1][a] = -g.direction[a].y;
        r[2][a] = g.direction[a].z;
    }
    AxisMap map;
    for (int in = 0; in < 3; ++in) {
        int out = 0;
        for (int w = 1; w < 3; ++w)
            if (std::abs(r[w][in]) > std::abs(r[out][in])) out = w;
        map.from[size_t(out)] = in;
        map.flip[size_t(out)] = r[out][in] < 0.0;
        for (int a = 0; a < 3; ++a)
            r[out][a] = 0.0;
    }
    return map;
}

Geometry reorientedGrid(const Geometry& g, const AxisMap& map) {
    Geometry out = g;
    glm::dvec3 first(0.0);
    for (int w = 0; w < 3; ++w) {
        const int a = map.from[size_t(w)];
        out.dims[w] = g.dims[a];
        out.spacing[w] = g.spacing[a];
        out.direction[w] = map.flip[size_t(w)] ? -g.direction[a] : g.direction[a];
        first[a] = map.flip[size_t(w)] ? double(g.dims[a] - 1) : 0.0;
    }
    out.origin = g.voxelToWorld(first);
    return out;
}

void fillHoles(std::vector<uint8_t>& mask, const Shape3& s) {
    // Background reachable from the border through 6-neighbours stays background; the rest is filled.
    std::vector<uint8_t> outside(mask.size(), 0);
    std::vector<int64_t> queue;
    auto push = [&](int64_t n) {
        if (!mask[size_t(n)] && !outside[size_t(n)]) {
            outside[size_t(n)] = 1;
            queue.push_back(n);
        }
    };
    for (int64_t x = 0; x < s[0]; ++x)
        for (int64_t y = 0; y < s[1]; ++y)
            for (int64_t z = 0; z < s[2]; ++z)
                if (x == 0 || y == 0 || z == 0 || x == s[0] - 1 || y == s[1] - 1 || z == s[2] - 1)
                    push((x * s[1] + y) * s[2] + z);
    const std::array<int64_t, 3> stride{s[1] * s[2], s[2], 1};
    for (size_t head = 0; head < queue.size(); ++head) {
        const int64_t n = queue[head];
        const std::array<int64_t, 3> v{n / stride[0], n / stride[1] % s[1], n % s[2]};
        for (int a = 0; a < 3; ++a) {
            if (v[size_t(a)] > 0) push(n - stride[size_t(a)]);
            if (v[size_t(a)] + 1 < s[size_t(a)]) push(n + stride[size_t(a)]);
        }
    }
    for (size_t n = 0; n < mask.size(); ++n)
        mask[n] = !outside[n];
}

int64_t NnunetCase::readerIndex(int64_t studyIndex) const {
    const Index3 d = studyGrid.dims;
    const std::array<int64_t, 3> s{studyIndex % d[0], studyIndex / d[0] % d[1], studyIndex / (d[0] * d[1])};
    std::array<int64_t, 3> r{};
    for (int w = 0; w < 3; ++w) {
        const int a = reorientation.from[size_t(w)];
        r[size_t(w)] = reorientation.flip[size_t(w)] ? d[a] - 1 - s[size_t(a)] : s[size_t(a)];
    }
    return r[0] + readerGrid.dims[0] * (r[1] + readerGrid.dims[1] * r[2]);
}

NnunetInput nnunetPreprocess(const std::vector<Volume>& channels, const NnunetPlan& plan) {
    if (channels.size() != plan.channelNames.size()) {
        throw Error(fmt::format("{}: the model expects {} input channel(s), the study has {}", plan.folder,
                                plan.channelNames.size(), channels.size()));
    }
    NnunetInput out;
    NnunetCase& c = out.recipe;
    c.studyGrid = channels[0].geometry;
    if (plan.reorientToRas) c.reorientation = rasAxisMap(c.studyGrid);
    c.readerGrid = reorientedGrid(c.studyGrid, c.reorientation);
    for (int a = 0; a < 3; ++a) {
        c.gridAxis[size_t(a)] = 2 - plan.transposeForward[size_t(a)]; // readers hand out (k, j, i) arrays
        c.shapeBeforeCrop[size_t(a)] = c.readerGrid.dims[c.gridAxis[size_t(a)]];
        c.spacing[size_t(a)] = c.readerGrid.spacing[c.gridAxis[size_t(a)]];
    }
    std::vector<std::vector<float>> internal;
    for (const Volume& v : channels) {
        std::vector<float> values(size_t(shapeVoxels(c.shapeBeforeCrop)));
        forEachInternal(c, {0, 0, 0}, c.shapeBeforeCrop,
                        [&](int64_t n, int64_t study) { values[size_t(n)] = v.voxels[size_t(study)]; });
        internal.push_back(std::move(values));
    }
    std::vector<uint8_t> mask;
    findBox(c, internal, mask);
    mask = cropped(mask, c);
    c.modelShape = nnunetNewShape(c.croppedShape, c.spacing, plan.spacing);
    const auto separate = nnunetSeparateAxis(plan.dataResampling, c.spacing, plan.spacing);
    c.modelGrid = modelGridOf(c);
    for (size_t ch = 0; ch < channels.size(); ++ch) {
        std::vector<float> values = cropped(internal[ch], c);
        internal[ch].clear();
        internal[ch].shrink_to_fit();
        normalizeNnunetChannel(values, mask, plan.normalization[ch], plan.folder);
        const std::vector<double> resampled =
            nnunetResample(values.data(), c.croppedShape, c.modelShape, plan.dataResampling.order, separate,
                           plan.dataResampling.orderZ);
        Volume v(c.modelGrid, channels[ch].name);
        std::transform(resampled.begin(), resampled.end(), v.voxels.begin(), [](double x) { return float(x); });
        out.channels.push_back(std::move(v));
    }
    return out;
}

std::vector<float> nnunetTargetWeights(const std::vector<uint8_t>& mask, const NnunetCase& c, const NnunetPlan& plan) {
    std::vector<double> weights(size_t(shapeVoxels(c.croppedShape)), 0.0);
    const Shape3 first{c.box[0][0], c.box[1][0], c.box[2][0]};
    forEachInternal(c, first, c.croppedShape, [&](int64_t n, int64_t study) {
        if (mask[size_t(study)]) weights[size_t(n)] = 1.0;
    });
    const auto separate = nnunetSeparateAxis(plan.probabilityResampling, plan.spacing, c.spacing);
    const std::vector<double> model =
        nnunetResampleAdjoint(weights, c.modelShape, c.croppedShape, plan.probabilityResampling.order, separate,
                              plan.probabilityResampling.orderZ);
    return std::vector<float>(model.begin(), model.end());
}

Segmentation nnunetExport(const std::vector<uint16_t>& halfLogits, const NnunetCase& c, const NnunetPlan& plan) {
    const NnunetLabels& labels = plan.labels;
    const size_t classes = labels.names.size();
    const int64_t modelVoxels = shapeVoxels(c.modelShape), cropVoxels = shapeVoxels(c.croppedShape);
    if (halfLogits.size() != classes * size_t(modelVoxels))
        throw Error(
            fmt::format("{}: the network's output does not have {} classes of the model grid", plan.folder, classes));
    // resampling_fn_probabilities: from the configuration's spacing back to the image's, in
    // float16 (computed in double, stored rounded).
    const auto separate = nnunetSeparateAxis(plan.probabilityResampling, plan.spacing, c.spacing);
    std::vector<uint16_t> logits(classes * size_t(cropVoxels), 0);
    std::vector<float> channel(static_cast<size_t>(modelVoxels));
    for (size_t k = labels.regions ? 1 : 0; k < classes; ++k) {
        const uint16_t* from = halfLogits.data() + k * size_t(modelVoxels);
        std::transform(from, from + modelVoxels, channel.begin(), halfToFloat);
        const std::vector<double> back =
            nnunetResample(channel.data(), c.modelShape, c.croppedShape, plan.probabilityResampling.order, separate,
                           plan.probabilityResampling.orderZ);
        std::transform(back.begin(), back.end(), logits.begin() + ptrdiff_t(k * size_t(cropVoxels)), doubleToHalf);
    }
    Segmentation s;
    s.classNames = labels.names;
    s.probabilities = ClassProbabilities(c.studyGrid, classes);
    // Outside the non-zero box nnU-Net sets the background to 1 (softmax models).
    if (!labels.regions) s.probabilities.fill(0, 1.0f);
    s.labels = LabelVolume(c.studyGrid, "segmentation");
    const Shape3 first{c.box[0][0], c.box[1][0], c.box[2][0]};
    std::vector<float> values(classes);
    forEachInternal(c, first, c.croppedShape, [&](int64_t n, int64_t study) {
        for (size_t k = 0; k < classes; ++k)
            values[k] = halfToFloat(logits[k * size_t(cropVoxels) + size_t(n)]);
        s.labels.labels[size_t(study)] = nnunetVoxel(values, labels);
        s.probabilities.setVoxel(size_t(study), values.data());
    });
    return s;
}

} // namespace segxai
