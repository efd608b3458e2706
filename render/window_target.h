#pragma once
#include "render/gl.h"

#include <string>

namespace segxai::render {

// The window's own framebuffer (0), for the application: the rest of the app draws into
// views' framebuffers, and only render/ calls OpenGL.

// "4.5 (Core Profile) Mesa 22.3.6": the context's version string.
std::string openGlVersion();
// Binds the window's framebuffer and clears it to `r, g, b` over `width` x `height` pixels.
void clearWindow(int width, int height, float r, float g, float b);
// Copies a framebuffer (`width` x `height`) into the window's rectangle [x0, x1) x [y0, y1)
// (bottom-up rows): nearest when the sizes match, linear otherwise.
void blitToWindow(GLuint framebuffer, int width, int height, int x0, int y0, int x1, int y1);
// Waits until the GPU has finished all submitted work (frame timing).
void finishGpuWork();

} // namespace segxai::render
