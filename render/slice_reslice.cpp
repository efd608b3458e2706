#include "render/slice_reslice.h"

#include <algorithm>
#include <cmath>

namespace segxai::render {
namespace {

// The voxel axis parallel (or antiparallel) to `direction`, or -1.
int axisAlong(const glm::dmat4& voxelToWorld, const glm::dvec3& direction) {
    for (int a = 0; a < 3; ++a) {
        const glm::dvec3 axis = glm::normalize(glm::dvec3(voxelToWorld[a]));
        // Within 0.003 degrees: across 1,000 voxels the slice strays less than 0.05 voxel.
        if (std::abs(glm::dot(axis, direction)) > 1.0 - 1e-9) return a;
    }
    return -1;
}

} // namespace

ResliceGrid resliceGrid(const SliceViewport& viewport, const glm::dmat4& worldToVoxel, const glm::ivec3& dims) {
    ResliceGrid grid;
    const glm::dmat4 voxelToWorld = glm::inverse(worldToVoxel);
    const int r = axisAlong(voxelToWorld, viewport.frame.right);
    const int u = axisAlong(voxelToWorld, viewport.frame.up);
    const int n = axisAlong(voxelToWorld, viewport.frame.normal);
    if (r < 0 || u < 0 || n < 0 || r == u || u == n || r == n) return grid; // oblique: Direct

    grid.kind = ResliceGrid::Kind::Outside;
    const double depth = glm::dvec3(worldToVoxel * glm::dvec4(viewport.center, 1.0))[n];
    if (depth < -0.5 || depth > double(dims[n]) - 0.5) return grid;
    // The voxels in view, one voxel of margin.
    glm::dvec2 low(1e300), high(-1e300);
    const double w = viewport.width, h = viewport.height;
    for (const glm::dvec2 pixel : {glm::dvec2(0, 0), glm::dvec2(w, 0), glm::dvec2(0, h), glm::dvec2(w, h)}) {
        const glm::dvec3 v = glm::dvec3(worldToVoxel * glm::dvec4(viewport.pixelToWorld(pixel), 1.0));
        low = glm::min(low, glm::dvec2(v[r], v[u]));
        high = glm::max(high, glm::dvec2(v[r], v[u]));
    }
    const int i0 = std::max(0, int(std::floor(low.x)) - 1), i1 = std::min(dims[r] - 1, int(std::ceil(high.x)) + 1);
    const int j0 = std::max(0, int(std::floor(low.y)) - 1), j1 = std::min(dims[u] - 1, int(std::ceil(high.y)) + 1);
    if (i0 > i1 || j0 > j1) return grid;

    grid.kind = ResliceGrid::Kind::Resliced;
    grid.size = {i1 - i0 + 1, j1 - j0 + 1};
    // Slice pass: texel (x, y) (gl_FragCoord x + 0.5, y + 0.5) is voxel (i0 + x, j0 + y) at `depth`.
    glm::dmat4 fragToVoxel(0.0);
    fragToVoxel[0][r] = 1.0;
    fragToVoxel[1][u] = 1.0;
    fragToVoxel[3][r] = double(i0) - 0.5;
    fragToVoxel[3][u] = double(j0) - 0.5;
    fragToVoxel[3][n] = depth;
    fragToVoxel[3][3] = 1.0;
    glm::dmat4 voxelToTexture(1.0);
    for (int a = 0; a < 3; ++a) {
        voxelToTexture[a][a] = 1.0 / double(dims[a]);
        voxelToTexture[3][a] = 0.5 / double(dims[a]);
    }
    grid.sliceFragToVolume = voxelToTexture * fragToVoxel;
    // View: voxel (i, j) along (r, u) is slice texture coordinate ((i - i0 + 0.5) / width, ...).
    glm::dmat4 voxelToSlice(0.0);
    voxelToSlice[r][0] = 1.0 / double(grid.size.x);
    voxelToSlice[u][1] = 1.0 / double(grid.size.y);
    voxelToSlice[3][0] = (0.5 - double(i0)) / double(grid.size.x);
    voxelToSlice[3][1] = (0.5 - double(j0)) / double(grid.size.y);
    voxelToSlice[3][3] = 1.0;
    grid.viewFragToSlice = voxelToSlice * worldToVoxel * viewport.fragCoordToWorld();
    return grid;
}

} // namespace segxai::render
