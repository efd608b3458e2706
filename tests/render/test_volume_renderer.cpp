// The volume renderer on a synthetic sphere, read back.
#include "render/font_atlas.h"
#include "render/image_capture.h"
#include "render/shader_library.h"
#include "render/volume_renderer.h"
#include "tests/support/gl_context.h"

#include <catch2/catch.hpp>
#include <glm/gtc/matrix_inverse.hpp>
#include <glm/gtc/matrix_transform.hpp>
#include <vector>

using namespace segxai::render;

namespace {

// A 48^3 grid, 1 mm, centred on the world origin: a bright sphere of radius 12 mm (value 200)
// in a dark volume (value 10).
struct Sphere {
    glm::ivec3 dims{48, 48, 48};
    std::vector<float> voxels;
    std::vector<uint16_t> labels;
    Sphere() {
        for (int k = 0; k < 48; ++k)
            for (int j = 0; j < 48; ++j)
                for (int i = 0; i < 48; ++i) {
                    const glm::dvec3 w(i - 23.5, j - 23.5, k - 23.5);
                    const bool inside = glm::length(w) < 12.0;
                    voxels.push_back(inside ? 200.0f : 10.0f);
                    labels.push_back(inside ? 1 : 0);
                }
    }
    glm::dmat4 worldToVoxel() const { return glm::inverse(glm::translate(glm::dmat4(1.0), glm::dvec3(-23.5))); }
};

struct Rig {
    segxai::test::GlContext context;
    ShaderLibrary shaders;
    FontAtlas font{FontAtlas::defaultFontPaths()};
    VolumeRenderer renderer{shaders, font};
    Framebuffer target;
    VolumeTexture image;
    TransferTexture transfer;
};

glm::vec3 pixel(const RgbaImage& image, int x, int y) {
    const uint8_t* p = image.at(x, y);
    return glm::vec3(p[0], p[1], p[2]);
}

// The sphere through the MR brain transfer function, seen head-on from 200 mm; its labels
// (one class, green) uploaded but not yet shown.
struct SphereScene {
    Rig rig;
    const Sphere sphere;
    VolumeTexture labels;
    LabelColorTable colors;
    OrbitCamera camera;
    VolumeLayers layers;
    VolumeAnnotations none;
    SphereScene() {
        rig.image.uploadScalars(sphere.dims, sphere.voxels.data(), sphere.worldToVoxel(), 1);
        rig.transfer.update(TransferFunction::preset(TransferFunction::Preset::MrBrain));
        labels.uploadLabels(sphere.dims, sphere.labels.data(), sphere.worldToVoxel(), 1, true);
        colors.upload({{0, 0, 0, 0}, {0, 200, 0, 255}});
        camera.distance = 200.0;
        layers.image = &rig.image;
        layers.transfer = &rig.transfer;
        layers.low = 0.0f;
        layers.high = 200.0f;
        none.axes = false;
    }
    RgbaImage render() {
        rig.renderer.render(camera, 160, 120, layers, none, rig.target);
        return readFramebuffer(rig.target);
    }
};

} // namespace

TEST_CASE("maximum intensity projection shows the sphere in the middle and nothing at the corners",
          "[render][volume]") {
    Rig rig;
    REQUIRE(rig.context.available());
    const Sphere sphere;
    rig.image.uploadScalars(sphere.dims, sphere.voxels.data(), sphere.worldToVoxel(), 1);
    rig.transfer.update(TransferFunction::preset(TransferFunction::Preset::MrBrain));
    OrbitCamera camera;
    camera.distance = 200.0;
    VolumeLayers layers;
    layers.image = &rig.image;
    layers.transfer = &rig.transfer;
    layers.low = 0.0f;
    layers.high = 200.0f;
    layers.mip = true;
    VolumeAnnotations none;
    none.axes = false;
    rig.renderer.render(camera, 160, 120, layers, none, rig.target);
    const RgbaImage image = readFramebuffer(rig.target);
    CHECK(pixel(image, 80, 60).x > 240.0f); // the sphere's maximum, 200 of 200
    CHECK(pixel(image, 2, 2).x < 30.0f);    // outside the volume: background
    // The sphere's silhouette: radius 12 mm at 200 mm with a 30 degree field of view.
    const double pixelsPerMm = 120.0 / (2.0 * 200.0 * std::tan(glm::radians(15.0)));
    const int edge = int(std::round(12.0 * pixelsPerMm));
    CHECK(pixel(image, 80 + edge - 2, 60).x > 240.0f);
    CHECK(pixel(image, 80 + edge + 3, 60).x < 60.0f);
}

TEST_CASE("composite rendering, label shells, a fused map and clipping", "[render][volume]") {
    SphereScene scene;
    REQUIRE(scene.rig.context.available());
    auto& [rig, sphere, labels, colors, camera, layers, none] = scene;
    rig.renderer.render(camera, 160, 120, layers, none, rig.target);
    const glm::vec3 plain = pixel(readFramebuffer(rig.target), 80, 60);
    CHECK(plain.x > 100.0f); // the bright sphere, through the transfer function

    layers.labels = &labels;
    layers.labelColors = &colors;
    layers.labelOpacity = 1.0f;
    rig.renderer.render(camera, 160, 120, layers, none, rig.target);
    const glm::vec3 shell = pixel(readFramebuffer(rig.target), 80, 60);
    CHECK(shell.y > shell.x + 60.0f); // a green shell, lit head-on

    // A map that is 0.5 in the sphere, fused in orange (hot at 0.5) with the labels off.
    VolumeTexture map;
    std::vector<float> values(sphere.voxels.size());
    for (size_t n = 0; n < values.size(); ++n)
        values[n] = sphere.labels[n] ? 0.5f : 0.0f;
    map.uploadScalars(sphere.dims, values.data(), sphere.worldToVoxel(), 1);
    layers.labels = nullptr;
    layers.map.values = &map;
    layers.map.colormap = Colormap::Hot;
    layers.map.high = 1.0f;
    layers.map.threshold = 0.1f;
    layers.map.opacity = 1.0f;
    rig.renderer.render(camera, 160, 120, layers, none, rig.target);
    const glm::vec3 fused = pixel(readFramebuffer(rig.target), 80, 60);

    CHECK(fused.x > fused.z + 60.0f);
    CHECK(fused.x > fused.y + 30.0f);
    CHECK(pixel(readFramebuffer(rig.target), 2, 2).x < 30.0f); // zero map: nothing added

    // A certainty of 0 everywhere fades the map away: the sphere as without it.
    VolumeTexture unsure;
    const std::vector<float> zeros(sphere.voxels.size(), 0.0f);
    unsure.uploadScalars(sphere.dims, zeros.data(), sphere.worldToVoxel(), 1);
    layers.map.certainty = &unsure;
    rig.renderer.render(camera, 160, 120, layers, none, rig.target);
    const glm::vec3 faded = pixel(readFramebuffer(rig.target), 80, 60);
    CHECK(glm::length(faded - plain) < 3.0f);
    layers.map.certainty = nullptr;

    // Clipping above the crosshair on every axis leaves the octant below the centre: the
    // camera looks from the front (anterior, -y), so the view's upper half is cut away.
    layers.map.values = nullptr;
    layers.mip = true;
    layers.clipPoint = glm::dvec3(0.0);
    layers.clipAxes = glm::ivec3(0, 0, 1);
    rig.renderer.render(camera, 160, 120, layers, none, rig.target);
    const RgbaImage clipped = readFramebuffer(rig.target);
    CHECK(pixel(clipped, 80, 70).x > 240.0f); // below the centre: kept
    CHECK(pixel(clipped, 80, 45).x < 60.0f);  // above: cut away
}

TEST_CASE("a picked structure's highlight on a grid of its own bounding box draws as on the whole grid",
          "[render][volume]") {
    SphereScene scene;
    REQUIRE(scene.rig.context.available());
    const Sphere& sphere = scene.sphere;
    // Picked: the sphere's half at i >= 24, as a mask on the whole grid and on its box alone
    // (i 24-35, j and k 12-35), placed by its own world-to-voxel matrix.
    const glm::ivec3 first(24, 12, 12), size(12, 24, 24);
    std::vector<uint16_t> whole(sphere.labels.size(), 0), box;
    for (int k = 0; k < 48; ++k)
        for (int j = 0; j < 48; ++j)
            for (int i = 0; i < 48; ++i) {
                const size_t n = size_t((k * 48 + j) * 48 + i);
                whole[n] = sphere.labels[n] && i >= 24;
            }
    for (int k = first.z; k < first.z + size.z; ++k)
        for (int j = first.y; j < first.y + size.y; ++j)
            for (int i = first.x; i < first.x + size.x; ++i)
                box.push_back(whole[size_t((k * 48 + j) * 48 + i)]);
    VolumeTexture wholeSelection, boxSelection;
    wholeSelection.uploadLabels(sphere.dims, whole.data(), sphere.worldToVoxel(), 1);
    boxSelection.uploadLabels(size, box.data(),
                              glm::translate(glm::dmat4(1.0), -glm::dvec3(first)) * sphere.worldToVoxel(), 1);
    scene.layers.labels = &scene.labels;
    scene.layers.labelColors = &scene.colors;
    scene.layers.labelOpacity = 1.0f;
    scene.layers.selection = &wholeSelection;
    const RgbaImage onWhole = scene.render();
    scene.layers.selection = &boxSelection;
    const RgbaImage onBox = scene.render();

    int picked = 0, green = 0, different = 0;
    for (int y = 0; y < 120; ++y)
        for (int x = 0; x < 160; ++x) {
            const glm::vec3 a = pixel(onWhole, x, y), b = pixel(onBox, x, y);
            different += glm::length(a - b) > 1.0f;
            picked += a.x > 120.0f && a.z > 120.0f && a.y < 0.5f * a.x; // magenta, the default
            green += a.y > a.x + 60.0f;
        }
    CHECK(different == 0);
    CHECK(picked > 200); // the picked half (a disc of radius 13 pixels), highlighted
    CHECK(green > 200);  // the other half, in its class's colour
}
