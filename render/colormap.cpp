#include "render/colormap.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace segxai::render {
namespace {

struct Stop {
    float t;
    glm::vec3 rgb;
};

glm::vec3 interpolate(const Stop* stops, size_t count, float t) {
    t = std::clamp(t, 0.0f, 1.0f);
    for (size_t n = 1; n < count; ++n) {
        if (t <= stops[n].t) {
            const float f = (t - stops[n - 1].t) / (stops[n].t - stops[n - 1].t);
            return glm::mix(stops[n - 1].rgb, stops[n].rgb, f);
        }
    }
    return stops[count - 1].rgb;
}

// Samples of matplotlib's perceptually uniform maps.
const Stop kInferno[] = {{0.000f, {0.001f, 0.000f, 0.014f}}, {0.125f, {0.087f, 0.045f, 0.225f}},
                         {0.250f, {0.258f, 0.039f, 0.406f}}, {0.375f, {0.416f, 0.090f, 0.433f}},
                         {0.500f, {0.578f, 0.148f, 0.404f}}, {0.625f, {0.736f, 0.216f, 0.330f}},
                         {0.750f, {0.865f, 0.317f, 0.226f}}, {0.875f, {0.955f, 0.469f, 0.100f}},
                         {0.940f, {0.978f, 0.643f, 0.045f}}, {1.000f, {0.988f, 0.998f, 0.645f}}};
const Stop kViridis[] = {{0.000f, {0.267f, 0.005f, 0.329f}}, {0.125f, {0.283f, 0.141f, 0.458f}},
                         {0.250f, {0.254f, 0.265f, 0.530f}}, {0.375f, {0.207f, 0.372f, 0.553f}},
                         {0.500f, {0.164f, 0.471f, 0.558f}}, {0.625f, {0.128f, 0.567f, 0.551f}},
                         {0.750f, {0.135f, 0.659f, 0.518f}}, {0.875f, {0.267f, 0.749f, 0.441f}},
                         {0.940f, {0.478f, 0.821f, 0.318f}}, {1.000f, {0.993f, 0.906f, 0.144f}}};
const Stop kJet[] = {{0.000f, {0.0f, 0.0f, 0.5f}}, {0.110f, {0.0f, 0.0f, 1.0f}}, {0.125f, {0.0f, 0.0f, 1.0f}},
                     {0.375f, {0.0f, 1.0f, 1.0f}}, {0.625f, {1.0f, 1.0f, 0.0f}}, {0.875f, {1.0f, 0.0f, 0.0f}},
                     {1.000f, {0.5f, 0.0f, 0.0f}}};
// Blue (negative) through white (zero) to red (positive), as Moreland's cool-warm ends.
const Stop kBlueWhiteRed[] = {{0.0f, {0.230f, 0.299f, 0.754f}},
                              {0.25f, {0.552f, 0.690f, 0.996f}},
                              {0.5f, {0.970f, 0.970f, 0.970f}},
                              {0.75f, {0.957f, 0.604f, 0.482f}},
                              {1.0f, {0.706f, 0.016f, 0.150f}}};

} // namespace

std::vector<glm::u8vec4> labelPalette(int count) {
    static const glm::u8vec4 first[] = {
        {0, 0, 0, 0},       {255, 0, 0, 255},    {0, 255, 0, 255},     {0, 0, 255, 255},
        {255, 255, 0, 255}, {0, 255, 255, 255},  {255, 0, 255, 255},   {255, 239, 213, 255},
        {0, 0, 205, 255},   {205, 133, 63, 255}, {210, 180, 140, 255}, {102, 205, 170, 255},
        {0, 0, 128, 255},   {0, 139, 139, 255},  {46, 139, 87, 255},   {255, 228, 225, 255},
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
        glm::dvec3 rgb = hue < 1   ? glm::dvec3(1, x, 0)
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

const char* colormapName(Colormap map) {
    switch (map) {
    case Colormap::Grey:
        return "grey";
    case Colormap::Hot:
        return "hot";
    case Colormap::Inferno:
        return "inferno";
    case Colormap::Viridis:
        return "viridis";
    case Colormap::Jet:
        return "jet";
    case Colormap::BlueWhiteRed:
        return "blue-white-red";
    }
    return "";
}

glm::vec3 colormapColor(Colormap map, float t) {
    t = std::clamp(t, 0.0f, 1.0f);
    switch (map) {
    case Colormap::Grey:
        return glm::vec3(t);
    case Colormap::Hot:
        return {std::clamp(3.0f * t, 0.0f, 1.0f), std::clamp(3.0f * t - 1.0f, 0.0f, 1.0f),
                std::clamp(3.0f * t - 2.0f, 0.0f, 1.0f)};
    case Colormap::Inferno:
        return interpolate(kInferno, std::size(kInferno), t);
    case Colormap::Viridis:
        return interpolate(kViridis, std::size(kViridis), t);
    case Colormap::Jet:
        return interpolate(kJet, std::size(kJet), t);
    case Colormap::BlueWhiteRed:
        return interpolate(kBlueWhiteRed, std::size(kBlueWhiteRed), t);
    }
    return glm::vec3(t);
}

std::vector<glm::u8vec4> colormapTable(Colormap map) {
    std::vector<glm::u8vec4> table(kColormapSize);
    for (int n = 0; n < kColormapSize; ++n) {
        const glm::vec3 c = colormapColor(map, float(n) / float(kColormapSize - 1));
        table[size_t(n)] = glm::u8vec4(glm::round(c * 255.0f), 255);
    }
    return table;
}

} // namespace segxai::render
