#pragma once
#include "render/gl_objects.h"

#include <glm/glm.hpp>
#include <string>
#include <vector>

namespace segxai::render {

// A transfer function for volume rendering: control points on the normalised value axis
// (0..1 of the display range), each with an opacity (per voxel-length step) and a colour;
// piecewise-linear in between, transparent below the first point.
struct TransferFunction {
    struct Point {
        float value = 0.0f;
        float opacity = 0.0f;
        glm::vec3 color{1.0f};
    };
    std::vector<Point> points;

    enum class Preset { MrBrain, MrSoft, CtBone, CtSoftTissue };
    static TransferFunction preset(Preset preset);
    static const char* presetName(Preset preset);
    static constexpr int kPresetCount = 4;

    // 256 RGBA entries (alpha: opacity per one-voxel step).
    std::vector<glm::u8vec4> table() const;
    void sortPoints();
};

// The transfer function as a one-row texture; uploads when the table changed.
class TransferTexture {
public:
    void update(const TransferFunction& function);
    GLuint texture() const { return m_texture.get(); }
    bool valid() const { return bool(m_texture); }

private:
    TextureName m_texture;
    std::vector<glm::u8vec4> m_uploaded;
};

} // namespace segxai::render
