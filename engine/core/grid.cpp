#include "engine/core/grid.h"

#include <algorithm>
#include <cmath>

namespace segxai {

Geometry gridWithSpacing(const Geometry& g, const glm::dvec3& spacing) {
    Geometry out = g;
    out.spacing = spacing;
    for (int a = 0; a < 3; ++a) {
        const double extent = double(g.dims[a]) * g.spacing[a];
        out.dims[a] = std::max<int64_t>(1, int64_t(std::llround(extent / spacing[a])));
    }
    // Keep the corner at index -0.5: origin moves by half the spacing difference.
    out.origin = g.origin + g.direction * ((spacing - g.spacing) * 0.5);
    return out;
}

Geometry rasGrid(const Geometry& g) {
    Geometry out;
    out.direction = glm::dmat3(glm::dvec3(-1, 0, 0), glm::dvec3(0, -1, 0), glm::dvec3(0, 0, 1));
    const WorldBox box = g.worldBounds();
    for (int w = 0; w < 3; ++w) {
        // The source index axis most aligned with world axis w lends its spacing.
        int best = 0;
        for (int a = 1; a < 3; ++a) {
            if (std::abs(g.direction[a][w]) > std::abs(g.direction[best][w])) best = a;
        }
        out.spacing[w] = g.spacing[best];
        out.dims[w] = std::max<int64_t>(1, int64_t(std::llround((box.max[w] - box.min[w]) / out.spacing[w])));
    }
    // First voxel centre: half a voxel inside the box corner where RAS indices start
    // (largest x and y in LPS, smallest z).
    out.origin = {box.max.x - 0.5 * out.spacing.x, box.max.y - 0.5 * out.spacing.y, box.min.z + 0.5 * out.spacing.z};
    return out;
}

} // namespace segxai
