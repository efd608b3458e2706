#pragma once
#include "render/gl_objects.h"

#include <array>
#include <filesystem>
#include <glm/glm.hpp>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace segxai::render {

// Printable ASCII baked from a TrueType font into one R8 texture per pixel size, so text in
// views (orientation letters, colour bar labels) is drawn into the view's framebuffer and
// screenshots include it.
class FontAtlas {
public:
    struct Glyph {
        glm::vec2 offset{0}; // top-left of the quad relative to the pen on the baseline
        glm::vec2 size{0};   // quad size in pixels
        glm::vec2 uvMin{0}, uvMax{0};
        float advance = 0;
    };
    struct Baked {
        TextureName texture;
        float pixelSize = 0;
        float ascent = 0;
        std::array<Glyph, 96> glyphs{}; // ' ' .. '~' and a fallback box
        const Glyph& glyph(char c) const;
    };

    // Reads the first font that exists among `candidates`; valid() tells whether one did.
    explicit FontAtlas(const std::vector<std::filesystem::path>& candidates);
    bool valid() const { return !m_fontData.empty(); }

    // Baked at a whole pixel size (created on first use, on the GL thread).
    const Baked& baked(float pixelSize);
    glm::vec2 measure(std::string_view text, float pixelSize);

    static std::vector<std::filesystem::path> defaultFontPaths();

private:
    std::vector<unsigned char> m_fontData;
    std::map<int, std::unique_ptr<Baked>> m_baked;
};

} // namespace segxai::render
