#pragma once
struct GLFWwindow;

namespace segxai::test {

// A hidden window with an OpenGL 3.3 core context, current on this thread (tests run under
// Xvfb). available() is false when no display exists; render tests then fail with a reason.
class GlContext {
public:
    GlContext();
    ~GlContext();
    bool available() const { return m_window != nullptr; }

private:
    GLFWwindow* m_window = nullptr;
};

} // namespace segxai::test
