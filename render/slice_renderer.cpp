#include "render/slice_renderer.h"

#include "render/shader_library.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace segxai::render {
namespace {

// Texture units 0-8 hold the image, the overlay, the colour maps and three label layers with
// their colours.
constexpr int kCertaintyUnit = 9;

} // namespace

void LabelColorTable::upload(const std::vector<glm::u8vec4>& colors) {
    if (!m_texture) m_texture = createTexture();
    glBindTexture(GL_TEXTURE_2D, m_texture.get());
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, GLsizei(colors.size()), 1, 0, GL_RGBA, GL_UNSIGNED_BYTE, colors.data());
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
}

void ColormapTexture::ensureUploaded() {
    if (m_texture) return;
    m_texture = createTexture();
    std::vector<glm::u8vec4> rows;
    for (int map = 0; map < kColormapCount; ++map) {
        const auto table = colormapTable(Colormap(map));
        rows.insert(rows.end(), table.begin(), table.end());
    }
    glBindTexture(GL_TEXTURE_2D, m_texture.get());
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, kColormapSize, kColormapCount, 0, GL_RGBA, GL_UNSIGNED_BYTE, rows.data());
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
}

void drawColourBar(Canvas2D& canvas, const ColourBar& bar, float width, float height, float fs) {
    if (!bar.show) return;
    const float pad = std::round(fs * 0.6f), barWidth = std::round(fs * 0.8f);
    const float top = std::round(height * 0.55f), bottom = std::round(height - pad - fs * 1.6f);
    if (bottom - top < 2.0f * fs) return;
    const float right = width - pad - fs * 1.6f, left = right - barWidth;
    const int steps = 64;
    for (int n = 0; n < steps; ++n) {
        const float t0 = float(n) / steps, t1 = float(n + 1) / steps;
        const glm::vec3 c = colormapColor(bar.colormap, 0.5f * (t0 + t1));
        canvas.rect({left, bottom - (bottom - top) * t1}, {right, bottom - (bottom - top) * t0 + 0.5f},
                    glm::vec4(c, 1.0f));
    }
    const glm::vec4 frame(1.0f, 1.0f, 0.85f, 0.9f), text(1.0f, 1.0f, 0.85f, 1.0f);
    canvas.line({left, top}, {right, top}, 1.0f, frame);
    canvas.line({right, top}, {right, bottom}, 1.0f, frame);
    canvas.line({right, bottom}, {left, bottom}, 1.0f, frame);
    canvas.line({left, bottom}, {left, top}, 1.0f, frame);
    auto label = [](float v) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.3g", v);
        return std::string(buffer);
    };
    const float small = fs * 0.85f;
    canvas.text({left - 4.0f, top}, label(bar.high), small, text, TextAnchor::CenterRight);
    canvas.text({left - 4.0f, bottom}, label(bar.low), small, text, TextAnchor::CenterRight);
    if (bar.signedMap) canvas.text({left - 4.0f, 0.5f * (top + bottom)}, "0", small, text, TextAnchor::CenterRight);
    if (!bar.title.empty()) canvas.text({right, top - 4.0f}, bar.title, small, text, TextAnchor::BottomRight);
    if (bar.threshold > 0.0f && bar.high > bar.low) {
        // The threshold: values between the marks (below it, for unsigned maps) are not drawn.
        const glm::vec4 mark(0.0f, 0.0f, 0.0f, 1.0f);
        auto at = [&](float v) {
            return bottom - (bottom - top) * std::clamp((v - bar.low) / (bar.high - bar.low), 0.0f, 1.0f);
        };
        for (const float v :
             bar.signedMap ? std::vector<float>{-bar.threshold, bar.threshold} : std::vector<float>{bar.threshold}) {
            canvas.line({left - 3.0f, at(v)}, {right + 3.0f, at(v)}, 2.0f, mark);
            canvas.line({left - 3.0f, at(v)}, {right + 3.0f, at(v)}, 1.0f, frame);
        }
    }
    if (!bar.note.empty()) canvas.text({right, bottom + 3.0f}, bar.note, small, text, TextAnchor::TopRight);
}

SliceRenderer::SliceRenderer(ShaderLibrary& shaders, FontAtlas& font) : m_shaders(shaders), m_canvas(shaders, font) {}

void SliceRenderer::reslice(const VolumeTexture* volume, const ResliceGrid& grid, size_t slot) {
    const ShaderProgram* program = m_shaders.program("fullscreen.vert", "reslice.frag");
    if (!program) return;
    if (m_slices.size() <= slot) m_slices.resize(slot + 1);
    Framebuffer& slice = m_slices[slot];
    slice.resize(grid.size.x, grid.size.y, volume->holdsLabels() ? GL_R16 : GL_R32F);
    slice.setFilter(volume->linear() ? GL_LINEAR : GL_NEAREST);
    slice.bind();
    program->use();
    bindTexture(GL_TEXTURE_3D, volume->texture(), 0);
    program->set("u_volume", 0);
    program->set("u_fragToVolume", glm::mat4(grid.sliceFragToVolume));
    glBindVertexArray(m_emptyVao.get());
    glDrawArrays(GL_TRIANGLES, 0, 3);
}

void SliceRenderer::render(const SliceViewport& viewport, const SliceLayers& layers,
                           const SliceAnnotations& annotations, Framebuffer& target) {
    // First, before any texture unit is bound for drawing: a first upload binds its texture.
    m_colormaps.ensureUploaded();
    if (!m_emptyVao) m_emptyVao = createVertexArray();
    glDisable(GL_DEPTH_TEST);
    glDisable(GL_BLEND);

    // The volumes this view shows: image (unit 0), overlay (1), labels (3, 5, 7), the overlay's
    // certainty (9).
    std::vector<Source> sources;
    if (layers.image && layers.image->valid()) sources.push_back({layers.image, 0, "HAS_IMAGE", "u_fragToImage", {}});
    if (layers.overlay.visible()) sources.push_back({layers.overlay.values, 1, "HAS_OVERLAY", "u_fragToOverlay", {}});
    if (layers.overlay.fades()) {
        sources.push_back({layers.overlay.certainty, kCertaintyUnit, "HAS_CERTAINTY", "u_fragToCertainty", {}});
    }
    for (int n = 0; n < int(layers.labels.size()); ++n) {
        if (!layers.labels[size_t(n)].visible()) continue;
        const std::string suffix = std::to_string(n);
        sources.push_back(
            {layers.labels[size_t(n)].labels, 3 + 2 * n, "LABELS" + suffix, "u_fragToLabels" + suffix, {}});
    }
    bool resliced = true;
    const std::vector<std::string> features = prepareSources(viewport, layers, sources, resliced);

    target.resize(viewport.width, viewport.height);
    target.bind();
    glClearColor(0, 0, 0, 1);
    glClear(GL_COLOR_BUFFER_BIT);
    drawLayers(viewport, layers, sources, features, resliced);
    drawAnnotations(viewport, annotations);
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
}

std::vector<std::string> SliceRenderer::prepareSources(const SliceViewport& viewport, const SliceLayers& layers,
                                                       std::vector<Source>& sources, bool& resliced) {
    resliced = true;
    int64_t texels = 0;
    for (Source& source : sources) {
        source.grid = resliceGrid(viewport, source.volume->worldToVoxel(), source.volume->dims());
        resliced = resliced && source.grid.kind != ResliceGrid::Kind::Direct;
        texels += int64_t(source.grid.size.x) * source.grid.size.y;
    }
    resliced = resliced && texels <= int64_t(viewport.width) * viewport.height;

    std::vector<std::string> features;
    if (resliced) features.push_back("RESLICED");
    for (size_t s = 0; s < sources.size(); ++s) {
        Source& source = sources[s];
        if (resliced && source.grid.kind == ResliceGrid::Kind::Outside) continue;
        features.push_back(source.feature);
        if (source.unit >= 3 && source.unit < kCertaintyUnit && layers.labels[size_t((source.unit - 3) / 2)].outline) {
            features.push_back("OUTLINE" + std::to_string((source.unit - 3) / 2));
        }
        if (resliced) reslice(source.volume, source.grid, s);
    }
    return features;
}

void SliceRenderer::drawLayers(const SliceViewport& viewport, const SliceLayers& layers,
                               const std::vector<Source>& sources, const std::vector<std::string>& features,
                               bool resliced) {
    const ShaderProgram* program = m_shaders.program("fullscreen.vert", "slice.frag", features);
    if (!program) return;
    const glm::dmat4 fragToWorld = viewport.fragCoordToWorld();
    program->use();
    program->set("u_background", glm::vec3(0.0f));
    program->set("u_image", 0);
    program->set("u_overlay", 1);
    program->set("u_colormaps", 2);
    program->set("u_certainty", kCertaintyUnit);
    for (int n = 0; n < int(layers.labels.size()); ++n) {
        program->set(("u_labels" + std::to_string(n)).c_str(), 3 + 2 * n);
        program->set(("u_labelColors" + std::to_string(n)).c_str(), 4 + 2 * n);
    }
    for (size_t s = 0; s < sources.size(); ++s) {
        const Source& source = sources[s];
        if (resliced && source.grid.kind == ResliceGrid::Kind::Outside) continue;
        if (resliced) {
            bindTexture(GL_TEXTURE_2D, m_slices[s].texture(), source.unit);
            program->set(source.matrix.c_str(), glm::mat4(source.grid.viewFragToSlice));
        } else {
            bindTexture(GL_TEXTURE_3D, source.volume->texture(), source.unit);
            program->set(source.matrix.c_str(), glm::mat4(source.volume->worldToTexture() * fragToWorld));
        }
    }
    program->set("u_window", glm::vec2(layers.windowLow, layers.windowHigh));
    const OverlayLayer& overlay = layers.overlay;
    if (overlay.visible()) {
        bindTexture(GL_TEXTURE_2D, m_colormaps.texture(), 2);
        program->set("u_colormapRow", ColormapTexture::row(overlay.colormap));
        program->set("u_overlaySigned", overlay.signedMap ? 1 : 0);
        program->set("u_overlayRange", overlay.signedMap ? glm::vec2(overlay.negativeExtent, overlay.positiveExtent)
                                                         : glm::vec2(overlay.low, overlay.high));
        program->set("u_overlayThreshold", overlay.threshold);
        program->set("u_overlayOpacity", overlay.opacity);
    }
    for (int n = 0; n < int(layers.labels.size()); ++n) {
        const LabelLayer& layer = layers.labels[size_t(n)];
        if (!layer.visible()) continue;
        const std::string suffix = std::to_string(n);
        bindTexture(GL_TEXTURE_2D, layer.colors->texture(), 4 + 2 * n);
        program->set(("u_labelOpacity" + suffix).c_str(), layer.opacity);
    }
    glBindVertexArray(m_emptyVao.get());
    glDrawArrays(GL_TRIANGLES, 0, 3);
    glBindVertexArray(0);
    glActiveTexture(GL_TEXTURE0);
}

void SliceRenderer::drawLegend(const std::vector<LegendEntry>& legend, float left, float bottom, float fs) {
    const glm::vec4 textColor(1.0f, 1.0f, 0.85f, 1.0f);
    const float line = std::round(fs * 1.25f), swatch = std::round(fs * 0.8f);
    float y = bottom - line * float(legend.size());
    for (const LegendEntry& entry : legend) {
        const glm::vec2 a(left, y + (line - swatch) * 0.5f), b = a + glm::vec2(swatch);
        if (entry.outline) {
            m_canvas.line({a.x, a.y}, {b.x, a.y}, 1.5f, entry.colour);
            m_canvas.line({b.x, a.y}, {b.x, b.y}, 1.5f, entry.colour);
            m_canvas.line({b.x, b.y}, {a.x, b.y}, 1.5f, entry.colour);
            m_canvas.line({a.x, b.y}, {a.x, a.y}, 1.5f, entry.colour);
        } else {
            m_canvas.rect(a, b, entry.colour);
        }
        m_canvas.text({b.x + fs * 0.4f, y + line * 0.5f}, entry.label, fs * 0.85f, textColor, TextAnchor::CenterLeft);
        y += line;
    }
}

void SliceRenderer::drawAnnotations(const SliceViewport& viewport, const SliceAnnotations& annotations) {
    const float w = float(viewport.width), h = float(viewport.height);
    m_canvas.begin(viewport.width, viewport.height);
    if (annotations.crosshair) {
        const glm::vec2 c = glm::vec2(viewport.worldToPixel(annotations.crosshairWorld));
        const glm::vec2 p = glm::floor(c) + 0.5f; // crisp one-pixel lines
        m_canvas.line({0, p.y}, {w, p.y}, 1.0f, annotations.crosshairColor);
        m_canvas.line({p.x, 0}, {p.x, h}, 1.0f, annotations.crosshairColor);
    }
    for (const auto& [lo, hi] : annotations.boxes) {
        const glm::vec2 a = glm::floor(lo) + 0.5f, b = glm::floor(hi) + 0.5f;
        m_canvas.line({a.x, a.y}, {b.x, a.y}, 1.5f, annotations.boxColor);
        m_canvas.line({b.x, a.y}, {b.x, b.y}, 1.5f, annotations.boxColor);
        m_canvas.line({b.x, b.y}, {a.x, b.y}, 1.5f, annotations.boxColor);
        m_canvas.line({a.x, b.y}, {a.x, a.y}, 1.5f, annotations.boxColor);
    }
    const glm::vec4 textColor(1.0f, 1.0f, 0.85f, 1.0f);
    const float fs = annotations.fontSize, pad = std::round(fs * 0.4f);
    if (annotations.orientationLetters) {
        const SliceFrame& f = viewport.frame;
        const auto letter = [](const glm::dvec3& d) { return std::string(1, orientationLetter(d)); };
        m_canvas.text({w * 0.5f, pad}, letter(f.up), fs * 1.2f, textColor, TextAnchor::TopCenter);
        m_canvas.text({w * 0.5f, h - pad}, letter(-f.up), fs * 1.2f, textColor, TextAnchor::BottomCenter);
        m_canvas.text({pad, h * 0.5f}, letter(-f.right), fs * 1.2f, textColor, TextAnchor::CenterLeft);
        m_canvas.text({w - pad, h * 0.5f}, letter(f.right), fs * 1.2f, textColor, TextAnchor::CenterRight);
    }
    if (!annotations.topLeftText.empty()) {
        m_canvas.text({pad, pad}, annotations.topLeftText, fs, textColor);
    }
    if (!annotations.topRightText.empty()) {
        m_canvas.text({w - pad, pad}, annotations.topRightText, fs, textColor, TextAnchor::TopRight);
    }
    drawColourBar(m_canvas, annotations.colourBar, w, h, fs);
    if (!annotations.bottomLeftText.empty()) {
        m_canvas.text({pad, h - pad}, annotations.bottomLeftText, fs, textColor, TextAnchor::BottomLeft);
    }
    drawLegend(annotations.legend, pad, h - pad - (annotations.bottomLeftText.empty() ? 0.0f : fs * 1.3f), fs);
    m_canvas.end();
}

} // namespace segxai::render
