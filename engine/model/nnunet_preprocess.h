#pragma once
// nnU-Net's preprocessing and export (tests/data/nnunet/PIPELINE.md, sections 4, 5 and 7) as a
// recipe of the model input: the study read as nnU-Net's reader reads it (reoriented to RAS for
// NibabelIOWithReorient), transposed, cropped to its non-zero box, normalised and resampled
// to the configuration's spacing; the network's output resampled back, turned into
// probabilities and labels and put back onto the study's grid.
#include "engine/core/geometry.h"
#include "engine/core/volume.h"
#include "engine/model/nnunet_resample.h"
#include "engine/model/segmentation.h"

#include <array>
#include <cstdint>
#include <vector>

namespace segxai {

// Voxel axis w of a reoriented grid is axis from[w] of the source, reversed when flip[w].
struct AxisMap {
    std::array<int, 3> from{0, 1, 2};
    std::array<bool, 3> flip{false, false, false};
    bool identity() const { return from == std::array<int, 3>{0, 1, 2} && flip == std::array<bool, 3>{}; }
};

// The voxel axes of `g` permuted and flipped to the closest RAS orientation, as nibabel's
// io_orientation and as_reoriented do it (the voxels are not resampled).
AxisMap rasAxisMap(const Geometry& g);
Geometry reorientedGrid(const Geometry& g, const AxisMap& map);

// What preprocessing did to a study, for the way back (nnU-Net's properties). Shapes and boxes
// are in nnU-Net's internal axis order.
struct NnunetCase {
    Geometry studyGrid;
    AxisMap reorientation;         // study grid -> the grid nnU-Net's reader sees
    Geometry readerGrid;           // the study grid after that
    std::array<int, 3> gridAxis{}; // internal axis a is axis gridAxis[a] of the reader grid
    Shape3 shapeBeforeCrop{};
    std::array<std::array<int64_t, 2>, 3> box{}; // [first, last + 1) of the non-zero box
    Shape3 croppedShape{};
    Shape3 modelShape{};
    std::array<double, 3> spacing{}; // the reader grid's spacing, internal order
    Geometry modelGrid;              // the network's voxels in the world; its axes run in reverse internal order
    int64_t readerIndex(int64_t studyIndex) const;
};

struct NnunetInput {
    NnunetCase recipe;
    std::vector<Volume> channels; // on recipe.modelGrid, normalised; buffers in internal C order
};

// Preprocesses a study's channels (all on the study's grid) as DefaultPreprocessor.run_case
// does. Throws segxai::Error when the channel count is not the plan's.
NnunetInput nnunetPreprocess(const std::vector<Volume>& channels, const NnunetPlan& plan);

// The network's output as class logits in half precision ([classes][model voxels], internal C
// order; region models: class 0 unused, class c the region whose label is c) to a
// segmentation on the study's grid: resampled back (linear, nearest along a separate axis),
// softmax (or sigmoid per region), labels as nnU-Net writes them, probabilities outside the
// non-zero box as nnU-Net sets them (background 1, or 0 for regions).
Segmentation nnunetExport(const std::vector<uint16_t>& halfLogits, const NnunetCase& recipe, const NnunetPlan& plan);

// Weights on the model grid (its Volume buffer order) for a mask on the study grid: the adjoint
// of the export's resampling, so that sum(weights * logits) is the sum of the exported logits
// over the mask (voxels outside the non-zero box weigh nothing: nnU-Net sets them without the
// network).
std::vector<float> nnunetTargetWeights(const std::vector<uint8_t>& mask, const NnunetCase& recipe,
                                       const NnunetPlan& plan);

// scipy.ndimage.binary_fill_holes with its default (6-connected) structure, in place.
void fillHoles(std::vector<uint8_t>& mask, const Shape3& shape);

} // namespace segxai
