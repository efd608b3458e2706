// Golden images: synthetic volumes (a gradient, a sphere) rendered by the slice and volume
// renderers and compared with PNGs in tests/data/golden (tolerance: tests/support/golden.h;
// none of these tests loosens it). Each test also checks what the picture must show, so a
// golden image written from a wrong rendering cannot pass on its own.
#include "render/colormap.h"
#include "render/font_atlas.h"
#include "render/image_capture.h"
#include "render/shader_library.h"
#include "render/slice_renderer.h"
#include "render/transfer_function.h"
#include "render/volume_renderer.h"
#include "tests/support/gl_context.h"
#include "tests/support/golden.h"

#include <catch2/catch.hpp>
#include <functional>
#include <glm/gtc/matrix_transform.hpp>
#include <vector>

using namespace segxai::render;
using segxai::test::compareWithGolden;

namespace {

// A grid centred on the world origin: dims, spacing (mm), optional rotation.
struct Grid {
    glm::ivec3 dims;
    glm::dvec3 spacing{1.0};
    glm::dmat4 rotation{1.0};
    glm::dmat4 voxelToWorld() const {
        const glm::dvec3 centre = (glm::dvec3(dims) - 1.0) * 0.5;
        return rotation * glm::scale(glm::dmat4(1.0), spacing) * glm::translate(glm::dmat4(1.0), -centre);
    }
    glm::dmat4 worldToVoxel() const { return glm::inverse(voxelToWorld()); }
    glm::dvec3 world(int i, int j, int k) const { return glm::dvec3(voxelToWorld() * glm::dvec4(i, j, k, 1.0)); }
    template <typename T> std::vector<T> fill(const std::function<T(const glm::dvec3&)>& f) const {
        std::vector<T> out;
        out.reserve(size_t(dims.x) * size_t(dims.y) * size_t(dims.z));
        for (int k = 0; k < dims.z; ++k)
            for (int j = 0; j < dims.y; ++j)
                for (int i = 0; i < dims.x; ++i)
                    out.push_back(f(world(i, j, k)));
        return out;
    }
    std::array<glm::dvec3, 8> corners() const {
        std::array<glm::dvec3, 8> c;
        for (int n = 0; n < 8; ++n) {
            const glm::dvec3 index((n & 1) ? dims.x - 0.5 : -0.5, (n & 2) ? dims.y - 0.5 : -0.5,
                                   (n & 4) ? dims.z - 0.5 : -0.5);
            c[size_t(n)] = glm::dvec3(voxelToWorld() * glm::dvec4(index, 1.0));
        }
        return c;
    }
};

// A bright sphere of radius 18 mm (200) in a dark volume (20), its label 1, and a map
// that peaks at 1 in its centre and falls to 0 at its surface.
struct SphereScene {
    Grid grid{{64, 64, 40}, {1.0, 1.0, 1.5}};
    Grid mapGrid{{32, 32, 30}, {2.0, 2.0, 2.0}}; // a model's coarser grid
    VolumeTexture image, labels, map;
    explicit SphereScene(const glm::dmat4& rotation = glm::dmat4(1.0)) {
        grid.rotation = mapGrid.rotation = rotation;
        const glm::dmat4 inverse = glm::inverse(rotation);
        auto r = [&](const glm::dvec3& w) { return glm::length(glm::dvec3(inverse * glm::dvec4(w, 1.0))); };
        const auto voxels = grid.fill<float>([&](const glm::dvec3& w) { return r(w) < 18.0 ? 200.0f : 20.0f; });
        const auto labelVoxels =
            grid.fill<uint16_t>([&](const glm::dvec3& w) { return uint16_t(r(w) < 18.0 ? 1 : 0); });
        const auto mapVoxels =
            mapGrid.fill<float>([&](const glm::dvec3& w) { return float(std::max(0.0, 1.0 - r(w) / 18.0)); });
        image.uploadScalars(grid.dims, voxels.data(), grid.worldToVoxel(), 1);
        labels.uploadLabels(grid.dims, labelVoxels.data(), grid.worldToVoxel(), 1, true);
        map.uploadScalars(mapGrid.dims, mapVoxels.data(), mapGrid.worldToVoxel(), 1);
    }
};

struct Rig {
    segxai::test::GlContext context;
    ShaderLibrary shaders;
    FontAtlas font{FontAtlas::defaultFontPaths()};
    SliceRenderer slices{shaders, font};
    VolumeRenderer volumes{shaders, font};
    Framebuffer target;
    LabelColorTable palette;
    Rig() {
        if (context.available()) palette.upload(labelPalette(8)); // label 1 red, 2 green
    }
};

glm::ivec3 rgb(const RgbaImage& image, int x, int y) {
    const uint8_t* p = image.at(x, y);
    return {p[0], p[1], p[2]};
}

glm::ivec3 expected(Colormap map, float t) {
    return glm::ivec3(glm::round(colormapColor(map, t) * 255.0f));
}

bool near(const glm::ivec3& a, const glm::ivec3& b, int tolerance) {
    return std::abs(a.x - b.x) <= tolerance && std::abs(a.y - b.y) <= tolerance && std::abs(a.z - b.z) <= tolerance;
}

SliceViewport viewportThrough(const Grid& grid, SliceAxis axis, Convention convention, int width, int height) {
    const auto corners = grid.corners();
    return fitViewport(sliceFrame(axis, convention), corners.data(), width, height);
}

} // namespace

TEST_CASE("golden: a grey ramp with orientation letters, crosshair and title", "[render][golden]") {
    Rig rig;
    REQUIRE(rig.context.available());
    REQUIRE(rig.font.valid());
    // Value rises with i, which points to the patient's left (LPS +x).
    const Grid grid{{64, 48, 40}};
    const auto ramp = grid.fill<float>([](const glm::dvec3& w) { return float((w.x + 31.5) * 4.0); });
    VolumeTexture image;
    image.uploadScalars(grid.dims, ramp.data(), grid.worldToVoxel(), 1);
    const SliceViewport viewport = viewportThrough(grid, SliceAxis::Axial, Convention::Radiological, 320, 240);
    SliceLayers layers;
    layers.image = &image;
    layers.windowLow = 0.0f;
    layers.windowHigh = 252.0f;
    SliceAnnotations annotations;
    annotations.crosshairWorld = glm::dvec3(0.0);
    annotations.topLeftText = "Axial  20 / 40";
    rig.slices.render(viewport, layers, annotations, rig.target);
    const RgbaImage picture = readFramebuffer(rig.target);

    // Radiological: the patient's left (bright end) on the screen's right; grey is linear.
    const int row = 150;
    const glm::dvec2 left = viewport.worldToPixel(grid.world(8, 24, 20)),
                     right = viewport.worldToPixel(grid.world(56, 24, 20));
    CHECK(left.x < right.x);
    CHECK(std::abs(rgb(picture, int(left.x), row).x - 8 * 4 * 255 / 252) <= 2);
    CHECK(std::abs(rgb(picture, int(right.x), row).x - 56 * 4 * 255 / 252) <= 2);
    CHECK(compareWithGolden(picture, "slice_ramp_axial") == "");
}

TEST_CASE("golden: an unsigned map on a coarser grid, label outline and colour bar", "[render][golden]") {
    Rig rig;
    REQUIRE(rig.context.available());
    const SphereScene scene;
    const SliceViewport viewport = viewportThrough(scene.grid, SliceAxis::Coronal, Convention::Radiological, 320, 240);
    SliceLayers layers;
    layers.image = &scene.image;
    layers.windowLow = 0.0f;
    layers.windowHigh = 255.0f;
    layers.overlay.values = &scene.map;
    layers.overlay.colormap = Colormap::Inferno;
    layers.overlay.low = 0.0f;
    layers.overlay.high = 1.0f;
    layers.overlay.threshold = 0.1f;
    layers.overlay.opacity = 1.0f;
    layers.labels[0] = {&scene.labels, &rig.palette, 1.0f, true};
    SliceAnnotations annotations;
    annotations.crosshair = false;
    annotations.colourBar = {true, Colormap::Inferno, false, 0.0f, 1.0f, "map", 0.0f, ""};
    annotations.topRightText = "A: Seg-Grad-CAM";
    rig.slices.render(viewport, layers, annotations, rig.target);
    const RgbaImage picture = readFramebuffer(rig.target);

    // At the centre the map is the mean of its 8 nearest 2 mm voxels, 1 - sqrt(3) / 18; the
    // sphere's edge is outlined red.
    const glm::dvec2 centre = viewport.worldToPixel(glm::dvec3(0.0));
    CHECK(near(rgb(picture, int(centre.x), int(centre.y)),
               expected(Colormap::Inferno, float(1.0 - std::sqrt(3.0) / 18.0)), 4));
    const glm::dvec2 edge = viewport.worldToPixel(glm::dvec3(-17.5, 0.0, 0.0));
    int red = 0;
    for (int dx = -3; dx <= 3; ++dx)
        red += rgb(picture, int(edge.x) + dx, int(centre.y)) == glm::ivec3(255, 0, 0);
    CHECK(red >= 1);
    // The colour bar runs from the map's low colour at the bottom to its high colour at the top.
    int barTop = -1, barBottom = -1;
    const int barX = picture.width - 20;
    for (int y = 0; y < picture.height; ++y) {
        if (near(rgb(picture, barX, y), expected(Colormap::Inferno, 1.0f), 40) && barTop < 0) barTop = y;
        if (near(rgb(picture, barX, y), expected(Colormap::Inferno, 0.0f), 20)) barBottom = y;
    }
    CHECK(barTop >= 0);
    CHECK(barBottom > barTop);
    CHECK(compareWithGolden(picture, "slice_sphere_map") == "");
}

TEST_CASE("golden: a signed map with separate negative and positive ranges", "[render][golden]") {
    Rig rig;
    REQUIRE(rig.context.available());
    const Grid grid{{64, 48, 40}};
    // Signed values along world x: -3.15 .. +3.15 (left positive).
    const auto values = grid.fill<float>([](const glm::dvec3& w) { return float(w.x / 10.0); });
    const auto grey = grid.fill<float>([](const glm::dvec3&) { return 100.0f; });
    VolumeTexture image, map;
    image.uploadScalars(grid.dims, grey.data(), grid.worldToVoxel(), 1);
    map.uploadScalars(grid.dims, values.data(), grid.worldToVoxel(), 1);
    const SliceViewport viewport = viewportThrough(grid, SliceAxis::Axial, Convention::Radiological, 320, 240);
    SliceLayers layers;
    layers.image = &image;
    layers.windowHigh = 255.0f;
    layers.overlay.values = &map;
    layers.overlay.signedMap = true;
    layers.overlay.colormap = Colormap::BlueWhiteRed;
    layers.overlay.negativeExtent = 1.5f; // the negative side saturates at -1.5 ...
    layers.overlay.positiveExtent = 3.0f; // ... the positive one at +3
    layers.overlay.threshold = 0.05f;
    layers.overlay.opacity = 1.0f;
    SliceAnnotations annotations;
    annotations.crosshair = false;
    annotations.colourBar = {true, Colormap::BlueWhiteRed, true, -1.5f, 3.0f, "", 0.0f, ""};
    rig.slices.render(viewport, layers, annotations, rig.target);
    const RgbaImage picture = readFramebuffer(rig.target);

    auto at = [&](double x) {
        const glm::dvec2 p = viewport.worldToPixel(glm::dvec3(x, 0.0, 0.0));
        return rgb(picture, int(p.x), int(p.y));
    };
    CHECK(near(at(-20.5), expected(Colormap::BlueWhiteRed, 0.0f), 6));         // -2.05: saturated blue
    CHECK(near(at(-15.0), expected(Colormap::BlueWhiteRed, 0.0f), 6));         // -1.5: the end of its range
    CHECK(near(at(15.0), expected(Colormap::BlueWhiteRed, 0.5f + 0.25f), 12)); // +1.5: halfway up the red side
    CHECK(near(at(30.0), expected(Colormap::BlueWhiteRed, 1.0f), 6));          // +3: saturated red
    CHECK(rgb(picture, int(viewport.worldToPixel(glm::dvec3(0.2, 0.0, 0.0)).x), 120) ==
          glm::ivec3(100 * 255 / 255)); // below threshold
    CHECK(compareWithGolden(picture, "slice_signed_map") == "");
}

TEST_CASE("golden: an oblique sphere with filled labels, sampled in 3D", "[render][golden]") {
    Rig rig;
    REQUIRE(rig.context.available());
    const SphereScene scene(
        glm::rotate(glm::dmat4(1.0), glm::radians(25.0), glm::normalize(glm::dvec3(1.0, 2.0, 3.0))));
    const SliceViewport viewport = viewportThrough(scene.grid, SliceAxis::Sagittal, Convention::Neurological, 320, 240);
    SliceLayers layers;
    layers.image = &scene.image;
    layers.windowHigh = 255.0f;
    layers.labels[0] = {&scene.labels, &rig.palette, 0.5f, false};
    SliceAnnotations annotations;
    annotations.crosshairWorld = glm::dvec3(0.0);
    annotations.topLeftText = "Sagittal";
    rig.slices.render(viewport, layers, annotations, rig.target);
    const RgbaImage picture = readFramebuffer(rig.target);
    // Half-red over the bright sphere: (200 + 255) / 2, 200 / 2, 200 / 2.
    const glm::dvec2 centre = viewport.worldToPixel(glm::dvec3(3.0, 3.0, 3.0));
    CHECK(near(rgb(picture, int(centre.x), int(centre.y)), glm::ivec3(228, 100, 100), 3));
    CHECK(compareWithGolden(picture, "slice_oblique_sphere") == "");
}

TEST_CASE("a slice through its own grid and one sampled in 3D show the same picture", "[render]") {
    // A rotation of a hundredth of a degree makes the volume oblique: the view then samples
    // it in 3D per pixel instead of through its slice (render/slice_reslice.h).
    Rig rig;
    REQUIRE(rig.context.available());
    auto render = [&](const SphereScene& scene) {
        const SliceViewport viewport =
            viewportThrough(scene.grid, SliceAxis::Axial, Convention::Radiological, 300, 260);
        REQUIRE(resliceGrid(viewport, scene.grid.worldToVoxel(), scene.grid.dims).kind ==
                (scene.grid.rotation == glm::dmat4(1.0) ? ResliceGrid::Kind::Resliced : ResliceGrid::Kind::Direct));
        SliceLayers layers;
        layers.image = &scene.image;
        layers.windowHigh = 255.0f;
        layers.overlay.values = &scene.map;
        layers.overlay.colormap = Colormap::Hot;
        layers.overlay.high = 1.0f;
        layers.overlay.threshold = 0.05f;
        layers.overlay.opacity = 0.6f;
        layers.labels[0] = {&scene.labels, &rig.palette, 0.4f, false};
        layers.labels[1] = {&scene.labels, &rig.palette, 1.0f, true};
        SliceAnnotations none;
        none.crosshair = false;
        none.orientationLetters = false;
        rig.slices.render(viewport, layers, none, rig.target);
        return readFramebuffer(rig.target);
    };
    const RgbaImage resliced = render(SphereScene());
    const RgbaImage direct =
        render(SphereScene(glm::rotate(glm::dmat4(1.0), glm::radians(0.01), glm::dvec3(0.0, 0.0, 1.0))));
    size_t different = 0;
    for (size_t p = 0; p < resliced.pixels.size(); p += 4) {
        for (size_t c = 0; c < 3; ++c) {
            if (std::abs(int(resliced.pixels[p + c]) - int(direct.pixels[p + c])) > 3) {
                ++different;
                break;
            }
        }
    }
    // Only pixels whose centre falls within a hair of a voxel boundary may pick the other voxel.
    CHECK(different < resliced.pixels.size() / 4 / 500);
}

TEST_CASE("golden: the 3D view with a fused map, a label shell and the axes", "[render][golden][volume]") {
    Rig rig;
    REQUIRE(rig.context.available());
    const SphereScene scene;
    TransferTexture transfer;
    transfer.update(TransferFunction::preset(TransferFunction::Preset::MrBrain));
    // The label shell covers only the sphere's lower half, so the map glows above it.
    std::vector<uint16_t> half = scene.grid.fill<uint16_t>(
        [](const glm::dvec3& w) { return uint16_t(glm::length(w) < 18.0 && w.z < 0.0 ? 2 : 0); });
    VolumeTexture labels;
    labels.uploadLabels(scene.grid.dims, half.data(), scene.grid.worldToVoxel(), 1, true);
    OrbitCamera camera;
    camera.distance = 150.0;
    camera.azimuth = 30.0;
    camera.elevation = 20.0;
    VolumeLayers layers;
    layers.image = &scene.image;
    layers.transfer = &transfer;
    layers.high = 255.0f;
    layers.map.values = &scene.map;
    layers.map.colormap = Colormap::Hot;
    layers.map.high = layers.map.positiveExtent = 1.0f;
    layers.map.threshold = 0.1f;
    layers.map.opacity = 0.8f;
    layers.labels = &labels;
    layers.labelColors = &rig.palette;
    layers.labelOpacity = 0.9f;
    VolumeAnnotations annotations;
    annotations.topLeftText = "3D";
    annotations.colourBar = {true, Colormap::Hot, false, 0.0f, 1.0f, "", 0.0f, ""};
    rig.volumes.render(camera, 320, 240, layers, annotations, rig.target);
    const RgbaImage picture = readFramebuffer(rig.target);
    // The map glows through the tissue (hot: red to yellow) in the middle; the green shell
    // shows around the sphere's lower half only.
    const glm::ivec3 middle = rgb(picture, 160, 120);
    CHECK(middle.x > 200);
    CHECK(middle.x > middle.z + 100);
    int greenBelow = 0, greenAbove = 0;
    for (int y = 0; y < picture.height; ++y)
        for (int x = 0; x < picture.width; ++x) {
            const glm::ivec3 c = rgb(picture, x, y);
            if (c.y > 100 && c.y > c.x + 50 && c.y > c.z + 50) (y > 120 ? greenBelow : greenAbove) += 1;
        }
    CHECK(greenBelow > 100);
    CHECK(greenAbove < greenBelow / 10);
    CHECK(compareWithGolden(picture, "volume_sphere") == "");
}

TEST_CASE("an overlay fades with its certainty map, which has a grid of its own", "[render]") {
    Rig rig;
    REQUIRE(rig.context.available());
    const Grid grid{{64, 48, 40}};
    const Grid certaintyGrid{{32, 24, 20}, glm::dvec3(2.0)};
    const auto grey = grid.fill<float>([](const glm::dvec3&) { return 100.0f; });
    const auto ones = grid.fill<float>([](const glm::dvec3&) { return 1.0f; });
    // Certain on the left of world x = 0, half certain up to x = 12, unsure beyond.
    const auto certainty = certaintyGrid.fill<float>([](const glm::dvec3& w) {
        return w.x < 0.0 ? 1.0f : w.x < 12.0 ? 0.5f : 0.0f;
    });
    VolumeTexture image, map, certain;
    image.uploadScalars(grid.dims, grey.data(), grid.worldToVoxel(), 1);
    map.uploadScalars(grid.dims, ones.data(), grid.worldToVoxel(), 1);
    certain.uploadScalars(certaintyGrid.dims, certainty.data(), certaintyGrid.worldToVoxel(), 1);
    const SliceViewport viewport = viewportThrough(grid, SliceAxis::Axial, Convention::Neurological, 320, 240);
    SliceLayers layers;
    layers.image = &image;
    layers.windowHigh = 255.0f;
    layers.overlay.values = &map;
    layers.overlay.colormap = Colormap::Hot;
    layers.overlay.opacity = 1.0f;
    layers.overlay.certainty = &certain;
    SliceAnnotations annotations;
    annotations.crosshair = false;
    rig.slices.render(viewport, layers, annotations, rig.target);
    const RgbaImage picture = readFramebuffer(rig.target);
    auto at = [&](double x) {
        const glm::dvec2 p = viewport.worldToPixel(glm::dvec3(x, 0.0, 0.0));
        return rgb(picture, int(p.x), int(p.y));
    };
    const glm::ivec3 full = expected(Colormap::Hot, 1.0f), image100(100);
    CHECK(near(at(-15.0), full, 3));                // certain: the colour map's own colour
    CHECK(near(at(6.0), (full + image100) / 2, 4)); // half certain: half of it over the image
    CHECK(near(at(20.0), image100, 2));             // unsure: the image alone
    layers.overlay.certainty = nullptr;             // without it, the map is drawn everywhere
    rig.slices.render(viewport, layers, annotations, rig.target);
    CHECK(near(rgb(readFramebuffer(rig.target), int(viewport.worldToPixel(glm::dvec3(20.0, 0.0, 0.0)).x),
                   int(viewport.worldToPixel(glm::dvec3(20.0, 0.0, 0.0)).y)),
               full, 3));
}
