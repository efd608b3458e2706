#include "tests/support/gl_context.h"

#include <GLFW/glfw3.h>

namespace segxai::test {

GlContext::GlContext() {
    if (!glfwInit()) return;
    glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
    glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
    glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
    m_window = glfwCreateWindow(64, 64, "segxai-test", nullptr, nullptr);
    if (m_window) glfwMakeContextCurrent(m_window);
}

GlContext::~GlContext() {
    if (m_window) glfwDestroyWindow(m_window);
    glfwTerminate();
}

} // namespace segxai::test
