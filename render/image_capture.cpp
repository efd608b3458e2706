#include "render/image_capture.h"

#include <algorithm>
#include <cstring>
#include <stb_image.h>
#include <stb_image_write.h>

namespace segxai::render {

RgbaImage readFramebuffer(GLuint framebuffer, int width, int height) {
    RgbaImage image;
    image.width = width;
    image.height = height;
    image.pixels.resize(size_t(width) * size_t(height) * 4);
    glBindFramebuffer(GL_FRAMEBUFFER, framebuffer);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, image.pixels.data());
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    // OpenGL's rows run bottom-up.
    const size_t row = size_t(width) * 4;
    std::vector<uint8_t> swap(row);
    for (int y = 0; y < height / 2; ++y) {
        uint8_t* a = image.pixels.data() + size_t(y) * row;
        uint8_t* b = image.pixels.data() + size_t(height - 1 - y) * row;
        std::memcpy(swap.data(), a, row);
        std::memcpy(a, b, row);
        std::memcpy(b, swap.data(), row);
    }
    for (size_t n = 3; n < image.pixels.size(); n += 4)
        image.pixels[n] = 255;
    return image;
}

RgbaImage readFramebuffer(const Framebuffer& framebuffer) {
    return readFramebuffer(framebuffer.name(), framebuffer.width(), framebuffer.height());
}

std::vector<uint8_t> encodePng(const RgbaImage& image) {
    std::vector<uint8_t> bytes;
    stbi_write_png_to_func(
        [](void* context, void* data, int size) {
            auto* out = static_cast<std::vector<uint8_t>*>(context);
            const auto* p = static_cast<const uint8_t*>(data);
            out->insert(out->end(), p, p + size);
        },
        &bytes, image.width, image.height, 4, image.pixels.data(), image.width * 4);
    return bytes;
}

RgbaImage decodePng(const std::vector<uint8_t>& bytes) {
    RgbaImage image;
    int channels = 0;
    unsigned char* data =
        stbi_load_from_memory(bytes.data(), int(bytes.size()), &image.width, &image.height, &channels, 4);
    if (!data) return {};
    image.pixels.assign(data, data + size_t(image.width) * size_t(image.height) * 4);
    stbi_image_free(data);
    return image;
}

} // namespace segxai::render
