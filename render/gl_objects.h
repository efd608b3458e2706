#pragma once
#include "render/gl.h"

#include <glm/glm.hpp>
#include <string>
#include <utility>

namespace segxai::render {

// Move-only owner of one OpenGL object name. Created and destroyed on the GL thread.
template <typename Deleter> class GlName {
public:
    GlName() = default;
    explicit GlName(GLuint name) : m_name(name) {}
    ~GlName() { reset(); }
    GlName(const GlName&) = delete;
    GlName& operator=(const GlName&) = delete;
    GlName(GlName&& other) noexcept : m_name(std::exchange(other.m_name, 0)) {}
    GlName& operator=(GlName&& other) noexcept {
        if (this != &other) {
            reset();
            m_name = std::exchange(other.m_name, 0);
        }
        return *this;
    }
    GLuint get() const { return m_name; }
    explicit operator bool() const { return m_name != 0; }
    void reset() {
        if (m_name) Deleter{}(m_name);
        m_name = 0;
    }

private:
    GLuint m_name = 0;
};

struct TextureDeleter {
    void operator()(GLuint n) const { glDeleteTextures(1, &n); }
};
struct FramebufferDeleter {
    void operator()(GLuint n) const { glDeleteFramebuffers(1, &n); }
};
struct BufferDeleter {
    void operator()(GLuint n) const { glDeleteBuffers(1, &n); }
};
struct VertexArrayDeleter {
    void operator()(GLuint n) const { glDeleteVertexArrays(1, &n); }
};
struct ProgramDeleter {
    void operator()(GLuint n) const { glDeleteProgram(n); }
};

using TextureName = GlName<TextureDeleter>;
using BufferName = GlName<BufferDeleter>;
using VertexArrayName = GlName<VertexArrayDeleter>;
using ProgramName = GlName<ProgramDeleter>;
using FramebufferName = GlName<FramebufferDeleter>;

TextureName createTexture();
BufferName createBuffer();
VertexArrayName createVertexArray();

// A colour target (RGBA8 unless told otherwise). Resizing or a new format reallocates; the
// texture is what the UI shows.
class Framebuffer {
public:
    void resize(int width, int height, GLenum internalFormat = GL_RGBA8);
    // Sampling of the colour texture (linear unless told otherwise).
    void setFilter(GLenum filter);
    void bind() const; // binds and sets the viewport
    GLuint texture() const { return m_color.get(); }
    GLuint name() const { return m_framebuffer.get(); }
    int width() const { return m_width; }
    int height() const { return m_height; }
    bool valid() const { return bool(m_framebuffer); }

private:
    FramebufferName m_framebuffer;
    TextureName m_color;
    int m_width = 0;
    int m_height = 0;
    GLenum m_format = GL_RGBA8;
};

// A linked program with cached uniform setters.
class ShaderProgram {
public:
    ShaderProgram() = default;
    explicit ShaderProgram(ProgramName program) : m_program(std::move(program)) {}
    void use() const { glUseProgram(m_program.get()); }
    GLuint get() const { return m_program.get(); }
    GLint location(const char* name) const { return glGetUniformLocation(m_program.get(), name); }
    void set(const char* name, int v) const { glUniform1i(location(name), v); }
    void set(const char* name, float v) const { glUniform1f(location(name), v); }
    void set(const char* name, const glm::vec2& v) const;
    void set(const char* name, const glm::vec3& v) const;
    void set(const char* name, const glm::vec4& v) const;
    void set(const char* name, const glm::ivec3& v) const;
    void set(const char* name, const glm::mat4& m) const;

private:
    ProgramName m_program;
};

// Binds `texture` of `target` to texture unit `unit`.
void bindTexture(GLenum target, GLuint texture, int unit);

} // namespace segxai::render
