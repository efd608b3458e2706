#include "render/colormap.h"

#include <cmath>

namespace segxai::render {

std::vector<glm::u8vec4> labelPalette(int count) {
    static const glm::u8vec4 first[] = {
        {0, 0, 0, 0},       {255, 0, 0, 255},   {0, 255, 0, 255},     {0, 0, 255, 255},
        {255, 255, 0, 255}, {0, 255, 255, 255}, {255, 0, 255, 255},   {255, 239, 213, 255},
        {0, 0, 205, 255},   {205, 133, 63, 255}, {210, 180, 140, 255}, {102, 205, 170, 255},
        {0, 0, 128, 255},   {0, 139, 139, 255}, {46, 139, 87, 255},   {255, 228, 225, 255},
    };
    std::vector<glm::u8vec4> palette(size_t(std::max(count, 1)));
    for (int n = 0; n < count; ++n) {
        if (n < int(std::size(first))) {
            palette[size_t(n)] = first[n];
            continue;
        }
        // Golden-angle hues: neighbouring labels get distant colours.
        const double hue = std::fmod(n * 137.508, 360.0) / 60.0;
        const double x = 1.0 - std::abs(std::fmod(hue, 2.0) - 1.0);
        glm::dvec3 rgb = hue < 1 ? glm::dvec3(1, x, 0)
                         : hue < 2 ? glm::dvec3(x, 1, 0)
                         : hue < 3 ? glm::dvec3(0, 1, x)
                         : hue < 4 ? glm::dvec3(0, x, 1)
                         : hue < 5 ? glm::dvec3(x, 0, 1)
                                   : glm::dvec3(1, 0, x);
        rgb = 0.25 + 0.7 * rgb;
        palette[size_t(n)] = glm::u8vec4(glm::u8vec3(rgb * 255.0), 255);
    }
    return palette;
}

} // namespace segxai::render
