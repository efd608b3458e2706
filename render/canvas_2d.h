#pragma once
#include "render/font_atlas.h"
#include "render/gl_objects.h"

#include <glm/glm.hpp>
#include <string_view>
#include <vector>

namespace segxai::render {

class ShaderLibrary;

// Where a text's anchor point sits on its box.
enum class TextAnchor {
    TopLeft,
    TopCenter,
    TopRight,
    CenterLeft,
    Center,
    CenterRight,
    BottomLeft,
    BottomCenter,
    BottomRight
};

// 2D annotations drawn on top of a view into its framebuffer, in pixel coordinates (origin
// top-left, y down): crosshair lines, rectangles, text. Collected between begin() and end(),
// drawn in one pass per texture at end().
class Canvas2D {
public:
    Canvas2D(ShaderLibrary& shaders, FontAtlas& font);

    void begin(int width, int height);
    void line(glm::vec2 a, glm::vec2 b, float thickness, const glm::vec4& color);
    void rect(glm::vec2 min, glm::vec2 max, const glm::vec4& color);
    // Text with a dark halo so it reads on any image.
    void text(glm::vec2 anchor, std::string_view text, float pixelSize, const glm::vec4& color,
              TextAnchor placement = TextAnchor::TopLeft);
    glm::vec2 measure(std::string_view text, float pixelSize) { return m_font.measure(text, pixelSize); }
    void end();

private:
    struct Vertex {
        glm::vec2 position;
        glm::vec2 uv;
        glm::vec4 color;
    };
    struct TextBatch {
        GLuint texture;
        std::vector<Vertex> vertices;
    };
    void quad(std::vector<Vertex>& out, glm::vec2 min, glm::vec2 max, glm::vec2 uvMin, glm::vec2 uvMax,
              const glm::vec4& color);
    void draw(const std::vector<Vertex>& vertices, GLuint texture);

    ShaderLibrary& m_shaders;
    FontAtlas& m_font;
    VertexArrayName m_vao;
    BufferName m_vbo;
    int m_width = 1;
    int m_height = 1;
    std::vector<Vertex> m_solid;
    std::vector<TextBatch> m_text;
};

} // namespace segxai::render
