#include "render/canvas_2d.h"

#include "render/shader_library.h"

#include <cmath>
#include <cstddef>

namespace segxai::render {

Canvas2D::Canvas2D(ShaderLibrary& shaders, FontAtlas& font) : m_shaders(shaders), m_font(font) {}

void Canvas2D::begin(int width, int height) {
    m_width = width;
    m_height = height;
    m_solid.clear();
    m_text.clear();
}

void Canvas2D::quad(std::vector<Vertex>& out, glm::vec2 min, glm::vec2 max, glm::vec2 uvMin, glm::vec2 uvMax,
                    const glm::vec4& color) {
    const Vertex a{min, uvMin, color}, b{{max.x, min.y}, {uvMax.x, uvMin.y}, color}, c{max, uvMax, color},
        d{{min.x, max.y}, {uvMin.x, uvMax.y}, color};
    out.insert(out.end(), {a, b, c, a, c, d});
}

void Canvas2D::line(glm::vec2 a, glm::vec2 b, float thickness, const glm::vec4& color) {
    const glm::vec2 d = b - a;
    const float length = std::sqrt(glm::dot(d, d));
    if (length <= 0.0f) return;
    const glm::vec2 n = glm::vec2(-d.y, d.x) / length * (thickness * 0.5f);
    const Vertex v0{a + n, {}, color}, v1{b + n, {}, color}, v2{b - n, {}, color}, v3{a - n, {}, color};
    m_solid.insert(m_solid.end(), {v0, v1, v2, v0, v2, v3});
}

void Canvas2D::rect(glm::vec2 min, glm::vec2 max, const glm::vec4& color) {
    quad(m_solid, min, max, {}, {}, color);
}

void Canvas2D::text(glm::vec2 anchor, std::string_view text, float pixelSize, const glm::vec4& color,
                    TextAnchor placement) {
    if (!m_font.valid() || text.empty()) return;
    const FontAtlas::Baked& baked = m_font.baked(pixelSize);
    const glm::vec2 size = m_font.measure(text, pixelSize);
    const int p = int(placement);
    const float fx = float(p % 3) * 0.5f, fy = float(p / 3) * 0.5f;
    glm::vec2 pen = glm::round(anchor - glm::vec2(size.x * fx, size.y * fy));
    pen.y += std::round(baked.ascent * 0.92f);

    TextBatch* batch = nullptr;
    for (auto& b : m_text)
        batch = b.texture == baked.texture.get() ? &b : batch;
    if (!batch) batch = &m_text.emplace_back(TextBatch{baked.texture.get(), {}});
    const glm::vec4 halo(0, 0, 0, 0.85f * color.a);
    for (const glm::vec2 offset :
         {glm::vec2(-1, 0), glm::vec2(1, 0), glm::vec2(0, -1), glm::vec2(0, 1), glm::vec2(1, 1), glm::vec2(0, 0)}) {
        const bool front = offset == glm::vec2(0, 0);
        glm::vec2 cursor = pen + offset;
        for (char c : text) {
            const FontAtlas::Glyph& g = baked.glyph(c);
            const glm::vec2 min = cursor + g.offset;
            quad(batch->vertices, min, min + g.size, g.uvMin, g.uvMax, front ? color : halo);
            cursor.x += g.advance;
        }
    }
}

void Canvas2D::draw(const std::vector<Vertex>& vertices, GLuint texture) {
    if (vertices.empty()) return;
    const ShaderProgram* program = m_shaders.program("canvas.vert", "canvas.frag");
    if (!program) return;
    if (!m_vao) {
        m_vao = createVertexArray();
        m_vbo = createBuffer();
        glBindVertexArray(m_vao.get());
        glBindBuffer(GL_ARRAY_BUFFER, m_vbo.get());
        glEnableVertexAttribArray(0);
        glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, sizeof(Vertex),
                              reinterpret_cast<void*>(offsetof(Vertex, position)));
        glEnableVertexAttribArray(1);
        glVertexAttribPointer(1, 2, GL_FLOAT, GL_FALSE, sizeof(Vertex), reinterpret_cast<void*>(offsetof(Vertex, uv)));
        glEnableVertexAttribArray(2);
        glVertexAttribPointer(2, 4, GL_FLOAT, GL_FALSE, sizeof(Vertex),
                              reinterpret_cast<void*>(offsetof(Vertex, color)));
    }
    glBindVertexArray(m_vao.get());
    glBindBuffer(GL_ARRAY_BUFFER, m_vbo.get());
    glBufferData(GL_ARRAY_BUFFER, GLsizeiptr(vertices.size() * sizeof(Vertex)), vertices.data(), GL_STREAM_DRAW);
    program->use();
    program->set("u_viewportSize", glm::vec2(float(m_width), float(m_height)));
    program->set("u_useTexture", texture ? 1 : 0);
    program->set("u_glyphs", 0);
    bindTexture(GL_TEXTURE_2D, texture, 0);
    glDrawArrays(GL_TRIANGLES, 0, GLsizei(vertices.size()));
    glBindVertexArray(0);
}

void Canvas2D::end() {
    glEnable(GL_BLEND);
    glBlendFuncSeparate(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA, GL_ONE, GL_ONE_MINUS_SRC_ALPHA);
    draw(m_solid, 0);
    for (const auto& batch : m_text)
        draw(batch.vertices, batch.texture);
    glDisable(GL_BLEND);
    m_solid.clear();
    m_text.clear();
}

} // namespace segxai::render
