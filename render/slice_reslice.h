#pragma once
#include "render/slice_view.h"

#include <glm/glm.hpp>

namespace segxai::render {

// A slice view samples each volume it shows through a 2D texture holding the slice on the
// volume's own voxel grid, made by one small pass: far fewer 3D texture fetches than one per
// screen pixel, and 2D fetches in the view are what a software rasteriser does fastest. The
// picture is the same: the slice plane passes at a fixed depth, so trilinear sampling is
// bilinear within it, and nearest (labels) picks the same voxel. That holds when the
// volume's axes lie along the view's right, up and normal; otherwise the view samples the
// volume in 3D (Direct).
struct ResliceGrid {
    enum class Kind { Resliced, Direct, Outside };
    Kind kind = Kind::Direct;
    glm::ivec2 size{0};                // texels of the slice texture (the visible voxels)
    glm::dmat4 sliceFragToVolume{1.0}; // slice pass: its gl_FragCoord -> volume texture coordinates
    glm::dmat4 viewFragToSlice{1.0};   // view: gl_FragCoord -> slice texture coordinates (z = 0)
};

// The slice of a volume (world -> continuous voxel index `worldToVoxel`, `dims` voxels) that
// `viewport` shows. Outside: the slice plane misses the volume, or none of it is in view.
ResliceGrid resliceGrid(const SliceViewport& viewport, const glm::dmat4& worldToVoxel, const glm::ivec3& dims);

} // namespace segxai::render
