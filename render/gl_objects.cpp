#include "render/gl_objects.h"

#include <glm/gtc/type_ptr.hpp>
#include <stdexcept>

namespace segxai::render {

TextureName createTexture() {
    GLuint n = 0;
    glGenTextures(1, &n);
    return TextureName(n);
}

BufferName createBuffer() {
    GLuint n = 0;
    glGenBuffers(1, &n);
    return BufferName(n);
}

VertexArrayName createVertexArray() {
    GLuint n = 0;
    glGenVertexArrays(1, &n);
    return VertexArrayName(n);
}

void Framebuffer::resize(int width, int height, GLenum internalFormat) {
    width = std::max(1, width);
    height = std::max(1, height);
    if (m_framebuffer && width == m_width && height == m_height && internalFormat == m_format) return;
    if (!m_framebuffer) {
        GLuint n = 0;
        glGenFramebuffers(1, &n);
        m_framebuffer = FramebufferName(n);
        m_color = createTexture();
    }
    glBindTexture(GL_TEXTURE_2D, m_color.get());
    const bool single = internalFormat == GL_R32F || internalFormat == GL_R16;
    glTexImage2D(GL_TEXTURE_2D, 0, internalFormat, width, height, 0, single ? GL_RED : GL_RGBA,
                 internalFormat == GL_R32F ? GL_FLOAT : GL_UNSIGNED_BYTE, nullptr);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    glBindFramebuffer(GL_FRAMEBUFFER, m_framebuffer.get());
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, m_color.get(), 0);
    if (glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE) {
        glBindFramebuffer(GL_FRAMEBUFFER, 0);
        throw std::runtime_error("OpenGL framebuffer is incomplete");
    }
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    m_width = width;
    m_height = height;
    m_format = internalFormat;
}

void Framebuffer::setFilter(GLenum filter) {
    glBindTexture(GL_TEXTURE_2D, m_color.get());
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, filter);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, filter);
}

void Framebuffer::bind() const {
    glBindFramebuffer(GL_FRAMEBUFFER, m_framebuffer.get());
    glViewport(0, 0, m_width, m_height);
}

void ShaderProgram::set(const char* name, const glm::vec2& v) const {
    glUniform2fv(location(name), 1, glm::value_ptr(v));
}
void ShaderProgram::set(const char* name, const glm::vec3& v) const {
    glUniform3fv(location(name), 1, glm::value_ptr(v));
}
void ShaderProgram::set(const char* name, const glm::vec4& v) const {
    glUniform4fv(location(name), 1, glm::value_ptr(v));
}
void ShaderProgram::set(const char* name, const glm::ivec3& v) const {
    glUniform3iv(location(name), 1, glm::value_ptr(v));
}
void ShaderProgram::set(const char* name, const glm::mat4& m) const {
    glUniformMatrix4fv(location(name), 1, GL_FALSE, glm::value_ptr(m));
}

void bindTexture(GLenum target, GLuint texture, int unit) {
    glActiveTexture(GLenum(GL_TEXTURE0 + unit));
    glBindTexture(target, texture);
}

} // namespace segxai::render
