#include "render/shell_normals.h"

#include <cmath>

namespace segxai::render {

std::vector<glm::u8vec4> shellNormals(const glm::ivec3& dims, const uint16_t* labels) {
    const size_t sx = 1, sy = size_t(dims.x), sz = size_t(dims.x) * size_t(dims.y);
    std::vector<glm::u8vec4> out(sz * size_t(dims.z), glm::u8vec4(128, 128, 128, 0));
    for (int k = 0; k < dims.z; ++k) {
        for (int j = 0; j < dims.y; ++j) {
            for (int i = 0; i < dims.x; ++i) {
                const size_t n = size_t(i) * sx + size_t(j) * sy + size_t(k) * sz;
                const uint16_t label = labels[n];
                if (label == 0) continue;
                auto same = [&](bool inside, size_t m) { return inside && labels[m] == label ? 1.0f : 0.0f; };
                const glm::vec3 g(same(i + 1 < dims.x, n + sx) - same(i > 0, n - sx),
                                  same(j + 1 < dims.y, n + sy) - same(j > 0, n - sy),
                                  same(k + 1 < dims.z, n + sz) - same(k > 0, n - sz));
                const float length = glm::length(g);
                if (length == 0.0f) continue;
                const glm::vec3 normal = -g / length; // away from the label
                out[n] = glm::u8vec4(glm::round((normal * 0.5f + 0.5f) * 255.0f), 255);
            }
        }
    }
    return out;
}

} // namespace segxai::render
