#pragma once
#include "render/gl_objects.h"

#include <cstdint>
#include <string>
#include <vector>

namespace segxai::render {

// An 8-bit RGBA picture, top row first.
struct RgbaImage {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> pixels;
    const uint8_t* at(int x, int y) const { return &pixels[(size_t(y) * size_t(width) + size_t(x)) * 4]; }
};

// Reads back a framebuffer (0: the window's) as it is on screen, top row first.
RgbaImage readFramebuffer(GLuint framebuffer, int width, int height);
RgbaImage readFramebuffer(const Framebuffer& framebuffer);

// PNG bytes of an image (the caller writes them, atomically).
std::vector<uint8_t> encodePng(const RgbaImage& image);
// Decodes PNG bytes; an empty image when they are not a PNG.
RgbaImage decodePng(const std::vector<uint8_t>& bytes);

} // namespace segxai::render
