#pragma once
#include "render/canvas_2d.h"
#include "render/colormap.h"
#include "render/gl_objects.h"
#include "render/slice_reslice.h"
#include "render/slice_view.h"
#include "render/volume_texture.h"

#include <array>
#include <glm/glm.hpp>
#include <string>
#include <vector>

namespace segxai::render {

class ShaderLibrary;

// Colours of label values as a one-row texture (texel n = label n).
class LabelColorTable {
public:
    void upload(const std::vector<glm::u8vec4>& colors);
    GLuint texture() const { return m_texture.get(); }
    bool valid() const { return bool(m_texture); }

private:
    TextureName m_texture;
};

// Every colour map as one row of a texture, uploaded once.
class ColormapTexture {
public:
    void ensureUploaded();
    GLuint texture() const { return m_texture.get(); }
    // Texture coordinate of a map's row centre.
    static float row(Colormap map) { return (float(int(map)) + 0.5f) / float(kColormapCount); }

private:
    TextureName m_texture;
};

struct LabelLayer {
    const VolumeTexture* labels = nullptr;
    const LabelColorTable* colors = nullptr;
    float opacity = 0.5f;
    bool outline = false;
    bool visible() const { return labels && labels->valid() && colors && colors->valid(); }
    bool operator==(const LabelLayer&) const = default;
};

// A scalar map over the image (probabilities, explanation maps). Unsigned maps use [low,
// high]; signed maps are centred at zero with separate extents for each side.
struct OverlayLayer {
    const VolumeTexture* values = nullptr;
    Colormap colormap = Colormap::Hot;
    bool signedMap = false;
    float low = 0.0f, high = 1.0f;                      // unsigned
    float negativeExtent = 1.0f, positiveExtent = 1.0f; // signed
    float threshold = 0.0f;                             // |value| below is transparent
    float opacity = 0.6f;
    // Optional: a certainty in [0, 1] per voxel (its own grid) that scales the opacity, so that
    // the map fades where the model is unsure (1: as opaque as `opacity`, 0: not drawn).
    const VolumeTexture* certainty = nullptr;
    bool visible() const { return values && values->valid(); }
    bool fades() const { return visible() && certainty && certainty->valid(); }
    bool operator==(const OverlayLayer&) const = default;
};

// What a slice view shows: textures and their display settings (all uniforms).
struct SliceLayers {
    const VolumeTexture* image = nullptr;
    float windowLow = 0.0f;
    float windowHigh = 1.0f;
    OverlayLayer overlay;
    std::array<LabelLayer, 3> labels; // drawn in order, on top of the overlay
    bool operator==(const SliceLayers&) const = default;
};

// A colour bar for the overlay, drawn at the view's lower right.
struct ColourBar {
    bool show = false;
    Colormap colormap = Colormap::Inferno;
    bool signedMap = false;
    float low = 0.0f, high = 1.0f; // unsigned: the range; signed: -extent .. +extent
    std::string title;
    float threshold = 0.0f; // |value| below which the map is not drawn: marked on the bar (0: none)
    std::string note;       // under the bar: what its ends are ("p99.5; max 456")
    bool operator==(const ColourBar&) const = default;
};

// One line of a view's legend: a swatch (filled, or an outline) and what it stands for.
struct LegendEntry {
    std::string label;
    glm::vec4 colour{1.0f};
    bool outline = false;
    bool operator==(const LegendEntry&) const = default;
};

// Draws a colour bar with `canvas` in a view of `width` x `height` pixels.
void drawColourBar(Canvas2D& canvas, const ColourBar& bar, float width, float height, float fontSize);

// What is drawn on top, into the same framebuffer (so screenshots include it).
struct SliceAnnotations {
    bool crosshair = true;
    glm::dvec3 crosshairWorld{0.0};
    glm::vec4 crosshairColor{0.35f, 0.65f, 1.0f, 0.9f};
    bool orientationLetters = true;
    float fontSize = 15.0f;
    std::string topLeftText; // e.g. "Axial  91 / 181"
    // Outlined rectangles in pixels (min, max corners), e.g. a box target crossing the slice.
    std::vector<std::pair<glm::vec2, glm::vec2>> boxes;
    glm::vec4 boxColor{1.0f, 0.85f, 0.2f, 1.0f};
    ColourBar colourBar;
    std::string topRightText;        // e.g. the panel's method
    std::string bottomLeftText;      // e.g. world position
    std::vector<LegendEntry> legend; // lower left, above bottomLeftText
    bool operator==(const SliceAnnotations&) const = default;
};

class SliceRenderer {
public:
    SliceRenderer(ShaderLibrary& shaders, FontAtlas& font);
    void render(const SliceViewport& viewport, const SliceLayers& layers, const SliceAnnotations& annotations,
                Framebuffer& target);

private:
    // A volume the view shows: its texture unit, shader feature, matrix uniform and slice grid.
    struct Source {
        const VolumeTexture* volume = nullptr;
        int unit = 0;
        std::string feature, matrix;
        ResliceGrid grid;
    };
    // The shader features of the view; reslices each source first when every volume allows it
    // and the slices hold fewer texels than the view has pixels.
    std::vector<std::string> prepareSources(const SliceViewport& viewport, const SliceLayers& layers,
                                            std::vector<Source>& sources, bool& resliced);
    // Draws `volume`'s slice into m_slices[slot] (render/slice_reslice.h).
    void reslice(const VolumeTexture* volume, const ResliceGrid& grid, size_t slot);
    void drawLayers(const SliceViewport& viewport, const SliceLayers& layers, const std::vector<Source>& sources,
                    const std::vector<std::string>& features, bool resliced);
    void drawAnnotations(const SliceViewport& viewport, const SliceAnnotations& annotations);
    void drawLegend(const std::vector<LegendEntry>& legend, float left, float bottom, float fontSize);

    ShaderLibrary& m_shaders;
    Canvas2D m_canvas;
    VertexArrayName m_emptyVao;
    ColormapTexture m_colormaps;
    std::vector<Framebuffer> m_slices; // one per volume of the view being drawn
};

} // namespace segxai::render
