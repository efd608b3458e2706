#include "render/font_atlas.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <stb_truetype.h>

namespace segxai::render {

std::vector<std::filesystem::path> FontAtlas::defaultFontPaths() {
    return {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf",
            "/usr/share/fonts/dejavu/DejaVuSans.ttf"};
}

FontAtlas::FontAtlas(const std::vector<std::filesystem::path>& candidates) {
    for (const auto& path : candidates) {
        std::ifstream in(path, std::ios::binary);
        if (!in) continue;
        m_fontData.assign(std::istreambuf_iterator<char>(in), {});
        if (!m_fontData.empty()) break;
    }
}

const FontAtlas::Glyph& FontAtlas::Baked::glyph(char c) const {
    const int index = (c >= 32 && c < 127) ? c - 32 : 95;
    return glyphs[size_t(index)];
}

const FontAtlas::Baked& FontAtlas::baked(float pixelSize) {
    const int size = std::clamp(int(std::lround(pixelSize)), 6, 160);
    auto& slot = m_baked[size];
    if (slot) return *slot;
    slot = std::make_unique<Baked>();
    Baked& b = *slot;
    b.pixelSize = float(size);
    if (m_fontData.empty()) return b;

    const int side = size <= 24 ? 256 : size <= 48 ? 512 : size <= 96 ? 1024 : 2048;
    std::vector<unsigned char> pixels(size_t(side) * size_t(side), 0);
    stbtt_bakedchar chars[95];
    stbtt_BakeFontBitmap(m_fontData.data(), 0, float(size), pixels.data(), side, side, 32, 95, chars);
    stbtt_fontinfo info;
    stbtt_InitFont(&info, m_fontData.data(), 0);
    int ascent = 0, descent = 0, gap = 0;
    stbtt_GetFontVMetrics(&info, &ascent, &descent, &gap);
    b.ascent = float(ascent) * stbtt_ScaleForPixelHeight(&info, float(size));
    for (int n = 0; n < 95; ++n) {
        const stbtt_bakedchar& c = chars[n];
        Glyph& g = b.glyphs[size_t(n)];
        g.offset = {c.xoff, c.yoff};
        g.size = {float(c.x1 - c.x0), float(c.y1 - c.y0)};
        g.uvMin = {float(c.x0) / float(side), float(c.y0) / float(side)};
        g.uvMax = {float(c.x1) / float(side), float(c.y1) / float(side)};
        g.advance = c.xadvance;
    }
    b.glyphs[95] = b.glyphs['?' - 32];

    b.texture = createTexture();
    glBindTexture(GL_TEXTURE_2D, b.texture.get());
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_R8, side, side, 0, GL_RED, GL_UNSIGNED_BYTE, pixels.data());
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    return b;
}

glm::vec2 FontAtlas::measure(std::string_view text, float pixelSize) {
    const Baked& b = baked(pixelSize);
    float width = 0;
    for (char c : text)
        width += b.glyph(c).advance;
    return {width, b.pixelSize};
}

} // namespace segxai::render
