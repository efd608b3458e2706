#include "tests/support/gl_context.h"

#include <GLFW/glfw3.h>
#include <cstdio>

namespace segxai::test {
namespace {

// GLFW starts once per test process: initialising and terminating it for every test (every
// Catch2 section) now and then left the next initialisation without a display connection.
bool glfwReady() {
    static const bool ready = [] {
        glfwSetErrorCallback(
            [](int code, const char* text) { std::fprintf(stderr, "GLFW error %d: %s\n", code, text); });
        return glfwInit() == GLFW_TRUE;
    }();
    return ready;
}

} // namespace

GlContext::GlContext() {
    if (!glfwReady()) return;
    glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
    glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
    glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
    m_window = glfwCreateWindow(64, 64, "segxai-test", nullptr, nullptr);
    if (m_window) glfwMakeContextCurrent(m_window);
}

GlContext::~GlContext() {
    if (m_window) {
        glfwMakeContextCurrent(nullptr);
        glfwDestroyWindow(m_window);
    }
}

} // namespace segxai::test
