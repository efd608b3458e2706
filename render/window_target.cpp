#include "render/window_target.h"

namespace segxai::render {

std::string openGlVersion() {
    const auto* version = reinterpret_cast<const char*>(glGetString(GL_VERSION));
    return version ? version : "unknown";
}

void clearWindow(int width, int height, float r, float g, float b) {
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    glViewport(0, 0, width, height);
    glClearColor(r, g, b, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
}

void blitToWindow(GLuint framebuffer, int width, int height, int x0, int y0, int x1, int y1) {
    const bool sameSize = x1 - x0 == width && y1 - y0 == height;
    glDisable(GL_SCISSOR_TEST);
    glBindFramebuffer(GL_READ_FRAMEBUFFER, framebuffer);
    glBindFramebuffer(GL_DRAW_FRAMEBUFFER, 0);
    glBlitFramebuffer(0, 0, width, height, x0, y0, x1, y1, GL_COLOR_BUFFER_BIT, sameSize ? GL_NEAREST : GL_LINEAR);
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
}

void finishGpuWork() {
    glFinish();
}

} // namespace segxai::render
