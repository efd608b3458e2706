#pragma once
#include "render/canvas_2d.h"
#include "render/gl_objects.h"
#include "render/slice_view.h"
#include "render/volume_texture.h"

#include <glm/glm.hpp>
#include <string>
#include <vector>

namespace segxai::render {

class ShaderLibrary;

// Colours of label values as a one-row texture (texel n = label n).
class LabelColorTable {
public:
    void upload(const std::vector<glm::u8vec4>& colors);
    GLuint texture() const { return m_texture.get(); }
    bool valid() const { return bool(m_texture); }

private:
    TextureName m_texture;
};

// What a slice view shows: textures and their display settings (all uniforms).
struct SliceLayers {
    const VolumeTexture* image = nullptr;
    float windowLow = 0.0f;
    float windowHigh = 1.0f;

    const VolumeTexture* labels = nullptr;
    const LabelColorTable* labelColors = nullptr;
    float labelOpacity = 0.5f;
    bool labelOutline = false;
};

// What is drawn on top, into the same framebuffer (so screenshots include it).
struct SliceAnnotations {
    bool crosshair = true;
    glm::dvec3 crosshairWorld{0.0};
    glm::vec4 crosshairColor{0.35f, 0.65f, 1.0f, 0.9f};
    bool orientationLetters = true;
    float fontSize = 15.0f;
    std::string topLeftText;     // e.g. "Axial  91 / 181"
    std::string bottomLeftText;  // e.g. world position
};

class SliceRenderer {
public:
    SliceRenderer(ShaderLibrary& shaders, FontAtlas& font);
    void render(const SliceViewport& viewport, const SliceLayers& layers,
                const SliceAnnotations& annotations, Framebuffer& target);

private:
    ShaderLibrary& m_shaders;
    Canvas2D m_canvas;
    VertexArrayName m_emptyVao;
};

} // namespace segxai::render
