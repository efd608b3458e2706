// Slice views rendered offscreen and read back: anatomy lands where the orientation
// convention says, oblique grids are resliced in world space, labels and annotations appear.
#include "render/colormap.h"
#include "render/font_atlas.h"
#include "render/gl.h"
#include "render/image_capture.h"
#include "render/shader_library.h"
#include "render/slice_renderer.h"
#include "render/slice_view.h"
#include "render/texture_memory.h"
#include "tests/support/gl_context.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <glm/gtc/matrix_inverse.hpp>
#include <glm/gtc/matrix_transform.hpp>
#include <thread>
#include <vector>

using namespace segxai::render;

namespace {

// A 40 x 50 x 30 grid, 1 x 1.5 x 2 mm, identity direction (i -> L, j -> P, k -> S), dark
// (value 10) with a bright cube (value 200) at high i (left), low j (anterior), high k
// (superior).
struct MarkerVolume {
    glm::ivec3 dims{40, 50, 30};
    glm::dvec3 spacing{1.0, 1.5, 2.0};
    glm::dmat3 direction{1.0};
    glm::dvec3 origin{-20.0, -30.0, -25.0};
    std::vector<float> voxels;

    MarkerVolume() {
        voxels.assign(size_t(dims.x * dims.y * dims.z), 10.0f);
        for (int k = 20; k < 28; ++k)
            for (int j = 2; j < 10; ++j)
                for (int i = 30; i < 38; ++i)
                    voxels[size_t(i + dims.x * (j + dims.y * k))] = 200.0f;
    }
    glm::dmat4 voxelToWorld() const {
        glm::dmat4 m(1.0);
        for (int a = 0; a < 3; ++a)
            m[a] = glm::dvec4(direction[a] * spacing[a], 0.0);
        m[3] = glm::dvec4(origin, 1.0);
        return m;
    }
    glm::dvec3 world(glm::dvec3 index) const { return glm::dvec3(voxelToWorld() * glm::dvec4(index, 1.0)); }
    std::array<glm::dvec3, 8> corners() const {
        std::array<glm::dvec3, 8> c;
        for (int n = 0; n < 8; ++n) {
            c[size_t(n)] =
                world({(n & 1) ? dims.x - 0.5 : -0.5, (n & 2) ? dims.y - 0.5 : -0.5, (n & 4) ? dims.z - 0.5 : -0.5});
        }
        return c;
    }
};

struct Rig {
    segxai::test::GlContext context;
    ShaderLibrary shaders;
    FontAtlas font{FontAtlas::defaultFontPaths()};
    SliceRenderer renderer{shaders, font};
    Framebuffer target;
    VolumeTexture texture;
};

float brightness(const RgbaImage& image, int x, int y) {
    return float(image.at(x, y)[0]);
}

// Centre of the bright (> 150) pixels, in pixels.
glm::dvec2 brightCentre(const RgbaImage& image) {
    glm::dvec2 sum(0.0);
    int count = 0;
    for (int y = 0; y < image.height; ++y)
        for (int x = 0; x < image.width; ++x)
            if (brightness(image, x, y) > 150) {
                sum += glm::dvec2(x + 0.5, y + 0.5);
                ++count;
            }
    REQUIRE(count > 0);
    return sum / double(count);
}

RgbaImage renderMarker(Rig& rig, const MarkerVolume& volume, SliceAxis axis, Convention convention,
                       SliceViewport* used = nullptr) {
    rig.texture.uploadScalars(volume.dims, volume.voxels.data(), glm::inverse(volume.voxelToWorld()), 1);
    rig.texture.setLinear(false);
    const auto corners = volume.corners();
    SliceViewport viewport = fitViewport(sliceFrame(axis, convention), corners.data(), 200, 160);
    // Put the slice through the marker's centre.
    const glm::dvec3 marker = volume.world({33.5, 5.5, 23.5});
    viewport.center += viewport.frame.normal * glm::dot(marker - viewport.center, viewport.frame.normal);
    SliceLayers layers;
    layers.image = &rig.texture;
    layers.windowLow = 0.0f;
    layers.windowHigh = 255.0f;
    SliceAnnotations none;
    none.crosshair = false;
    none.orientationLetters = false;
    rig.renderer.render(viewport, layers, none, rig.target);
    if (used) *used = viewport;
    return readFramebuffer(rig.target);
}

} // namespace

TEST_CASE("anatomy lands where the radiological and neurological conventions put it", "[render]") {
    Rig rig;
    REQUIRE(rig.context.available());
    const MarkerVolume volume;
    // The marker is at the patient's left, anterior, superior.
    SECTION("axial, radiological: patient left on screen right, anterior up") {
        const glm::dvec2 c = brightCentre(renderMarker(rig, volume, SliceAxis::Axial, Convention::Radiological));
        CHECK(c.x > 100);
        CHECK(c.y < 80);
    }
    SECTION("axial, neurological: patient left on screen left") {
        const glm::dvec2 c = brightCentre(renderMarker(rig, volume, SliceAxis::Axial, Convention::Neurological));
        CHECK(c.x < 100);
        CHECK(c.y < 80);
    }
    SECTION("coronal, radiological: left on the right, superior up") {
        const glm::dvec2 c = brightCentre(renderMarker(rig, volume, SliceAxis::Coronal, Convention::Radiological));
        CHECK(c.x > 100);
        CHECK(c.y < 80);
    }
    SECTION("sagittal: anterior on the left, superior up") {
        const glm::dvec2 c = brightCentre(renderMarker(rig, volume, SliceAxis::Sagittal, Convention::Radiological));
        CHECK(c.x < 100);
        CHECK(c.y < 80);
    }
}

TEST_CASE("the marker appears exactly where worldToPixel puts it - at the right size", "[render]") {
    Rig rig;
    REQUIRE(rig.context.available());
    MarkerVolume volume;
    // An oblique, anisotropic grid: the view reslices in world orientation.
    volume.direction =
        glm::dmat3(glm::rotate(glm::dmat4(1.0), glm::radians(20.0), glm::normalize(glm::dvec3(1, 2, 3))));
    for (SliceAxis axis : {SliceAxis::Axial, SliceAxis::Coronal, SliceAxis::Sagittal}) {
        INFO(sliceAxisName(axis));
        SliceViewport viewport;
        const RgbaImage image = renderMarker(rig, volume, axis, Convention::Radiological, &viewport);
        const glm::dvec2 expected = viewport.worldToPixel(volume.world({33.5, 5.5, 23.5}));
        const glm::dvec2 found = brightCentre(image);
        // Within a pixel and a half: nearest-neighbour sampling of an oblique cube.
        CHECK(glm::length(found - expected) < 1.5);
        CHECK(brightness(image, int(expected.x), int(expected.y)) > 150);
    }
}

TEST_CASE("window and level map values to grey linearly", "[render]") {
    Rig rig;
    REQUIRE(rig.context.available());
    const MarkerVolume volume;
    rig.texture.uploadScalars(volume.dims, volume.voxels.data(), glm::inverse(volume.voxelToWorld()), 1);
    const auto corners = volume.corners();
    const SliceViewport viewport =
        fitViewport(sliceFrame(SliceAxis::Axial, Convention::Radiological), corners.data(), 100, 100);
    SliceLayers layers;
    layers.image = &rig.texture;
    layers.windowLow = 0.0f;
    layers.windowHigh = 20.0f; // background value 10 -> mid grey
    SliceAnnotations none;
    none.crosshair = false;
    none.orientationLetters = false;
    rig.renderer.render(viewport, layers, none, rig.target);
    const RgbaImage image = readFramebuffer(rig.target);
    CHECK(std::abs(brightness(image, 50, 50) - 127.5f) <= 1.5f);
    // Outside the volume: black background.
    CHECK(brightness(image, 1, 1) == 0);
}

TEST_CASE("a texture uploads only a generation it does not hold", "[render]") {
    Rig rig;
    REQUIRE(rig.context.available());
    const MarkerVolume volume;
    const std::vector<float> other(volume.voxels.size(), 20.0f); // all white in the window below
    const auto corners = volume.corners();
    const SliceViewport viewport =
        fitViewport(sliceFrame(SliceAxis::Axial, Convention::Radiological), corners.data(), 100, 100);
    SliceLayers layers;
    layers.image = &rig.texture;
    layers.windowLow = 0.0f;
    layers.windowHigh = 20.0f;
    SliceAnnotations none;
    none.crosshair = false;
    none.orientationLetters = false;
    auto centre = [&] {
        rig.renderer.render(viewport, layers, none, rig.target);
        return brightness(readFramebuffer(rig.target), 50, 50);
    };
    CHECK(rig.texture.uploadScalars(volume.dims, volume.voxels.data(), glm::inverse(volume.voxelToWorld()), 7));
    CHECK(rig.texture.generation() == 7);
    CHECK(std::abs(centre() - 127.5f) <= 1.5f);
    // The same generation again: nothing uploads, the GPU keeps the data it has.
    CHECK_FALSE(rig.texture.uploadScalars(volume.dims, other.data(), glm::inverse(volume.voxelToWorld()), 7));
    CHECK(std::abs(centre() - 127.5f) <= 1.5f);
    // A new generation replaces it; after clear() any generation uploads.
    CHECK(rig.texture.uploadScalars(volume.dims, other.data(), glm::inverse(volume.voxelToWorld()), 8));
    CHECK(centre() >= 254.0f);
    rig.texture.clear();
    CHECK(rig.texture.uploadScalars(volume.dims, volume.voxels.data(), glm::inverse(volume.voxelToWorld()), 8));
    CHECK(std::abs(centre() - 127.5f) <= 1.5f);
}

// A texture's level 0 as the GPU holds it.
template <typename T>
std::vector<T> textureContents(GLuint texture, size_t voxels, GLenum format, GLenum type, int components = 1) {
    std::vector<T> out(voxels * size_t(components));
    glBindTexture(GL_TEXTURE_3D, texture);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glGetTexImage(GL_TEXTURE_3D, 0, format, type, out.data());
    return out;
}

TEST_CASE("a staged texture goes up a slice per call within its time and is drawn only once complete", "[render]") {
    Rig rig;
    REQUIRE(rig.context.available());
    const MarkerVolume volume;
    const size_t voxels = volume.voxels.size();
    const glm::dmat4 worldToVoxel = glm::inverse(volume.voxelToWorld());
    // Without time to spend, each call sends one slice (once the texture's memory is ready,
    // which under a software renderer is faulted in on another thread first); the last one
    // completes the texture.
    const auto sendAll = [&](VolumeTexture& texture) {
        int calls = 0;
        while (texture.staging()) {
            CHECK_FALSE(texture.valid());
            const int before = texture.slicesSent();
            const bool completed = texture.uploadSome(0.0);
            CHECK(completed == !texture.staging());
            if (texture.slicesSent() == before) { // the memory is not ready yet
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                continue;
            }
            ++calls;
            CHECK(texture.slicesSent() == before + 1);
        }
        CHECK(texture.valid());
        CHECK_FALSE(texture.uploadSome(1.0)); // nothing left
        return calls;
    };
    VolumeTexture scalars;
    REQUIRE(scalars.stageScalars(volume.dims, volume.voxels.data(), worldToVoxel, 3));
    CHECK_FALSE(scalars.stageScalars(volume.dims, volume.voxels.data(), worldToVoxel, 3)); // already staging it
    CHECK(sendAll(scalars) == volume.dims.z);
    CHECK(textureContents<float>(scalars.texture(), voxels, GL_RED, GL_FLOAT) == volume.voxels);

    std::vector<uint16_t> labels(voxels);
    std::vector<glm::u8vec4> normals(voxels);
    for (size_t n = 0; n < voxels; ++n) {
        labels[n] = uint16_t(n % 65521);
        normals[n] = glm::u8vec4(n % 251, n % 241, n % 239, n % 233);
    }
    VolumeTexture staged, whole;
    REQUIRE(staged.stageLabels(volume.dims, labels.data(), worldToVoxel, 1, normals.data()));
    CHECK(staged.holdsLabels());
    CHECK(sendAll(staged) == volume.dims.z);
    whole.uploadLabels(volume.dims, labels.data(), worldToVoxel, 1, normals.data());
    CHECK(textureContents<uint16_t>(staged.texture(), voxels, GL_RED, GL_UNSIGNED_SHORT) == labels);
    CHECK(textureContents<uint8_t>(staged.shellNormalTexture(), voxels, GL_RGBA, GL_UNSIGNED_BYTE, 4) ==
          textureContents<uint8_t>(whole.shellNormalTexture(), voxels, GL_RGBA, GL_UNSIGNED_BYTE, 4));
    CHECK(staged.worldToTexture() == whole.worldToTexture());
    // With time to spend, one call sends every slice.
    VolumeTexture quick;
    quick.stageLabels(volume.dims, labels.data(), worldToVoxel, 1);
    while (!quick.uploadSome(60.0))
        CHECK(quick.slicesSent() == 0);
    CHECK(quick.valid());
    CHECK(quick.shellNormalTexture() == 0);
}

TEST_CASE("a large staged texture under a software renderer waits for its memory to be faulted in, then arrives "
          "whole",
          "[render]") {
    Rig rig;
    REQUIRE(rig.context.available());
    const glm::ivec3 dims(256, 256, 160); // 40 MiB of float: above what is faulted in within a frame
    std::vector<float> voxels(size_t(dims.x) * size_t(dims.y) * size_t(dims.z));
    for (size_t n = 0; n < voxels.size(); ++n)
        voxels[n] = float(n % 10007);
    VolumeTexture texture;
    REQUIRE(texture.stageScalars(dims, voxels.data(), glm::dmat4(1.0), 1));
    int waited = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!texture.uploadSome(1.0) && std::chrono::steady_clock::now() < deadline) {
        if (texture.slicesSent() == 0) ++waited;
        CHECK_FALSE(texture.valid());
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    REQUIRE(texture.valid());
    // The first call comes microseconds after staging; faulting in 100 MB takes far longer.
    if (softwareRenderer()) CHECK(waited > 0);
    CHECK(textureContents<float>(texture.texture(), voxels.size(), GL_RED, GL_FLOAT) == voxels);
}

TEST_CASE("labels are drawn in their palette colour - filled or as outlines", "[render]") {
    Rig rig;
    REQUIRE(rig.context.available());
    const MarkerVolume volume;
    std::vector<uint16_t> labels(volume.voxels.size(), 0);
    for (size_t n = 0; n < labels.size(); ++n)
        labels[n] = volume.voxels[n] > 100 ? 2 : 0;
    VolumeTexture labelTexture;
    labelTexture.uploadLabels(volume.dims, labels.data(), glm::inverse(volume.voxelToWorld()), 1);
    LabelColorTable colors;
    colors.upload(labelPalette(256)); // label 2 is green
    rig.texture.uploadScalars(volume.dims, volume.voxels.data(), glm::inverse(volume.voxelToWorld()), 1);
    const auto corners = volume.corners();
    SliceViewport viewport =
        fitViewport(sliceFrame(SliceAxis::Axial, Convention::Radiological), corners.data(), 200, 160);
    const glm::dvec3 marker = volume.world({33.5, 5.5, 23.5});
    viewport.center += viewport.frame.normal * glm::dot(marker - viewport.center, viewport.frame.normal);
    SliceLayers layers;
    layers.image = &rig.texture;
    layers.windowLow = 0.0f;
    layers.windowHigh = 255.0f;
    layers.labels[0] = {&labelTexture, &colors, 1.0f, false};
    SliceAnnotations none;
    none.crosshair = false;
    none.orientationLetters = false;
    rig.renderer.render(viewport, layers, none, rig.target);
    const glm::dvec2 p = viewport.worldToPixel(marker);
    RgbaImage image = readFramebuffer(rig.target);
    const uint8_t* inside = image.at(int(p.x), int(p.y));
    CHECK(int(inside[0]) == 0);
    CHECK(int(inside[1]) == 255);
    CHECK(int(inside[2]) == 0);

    layers.labels[0].outline = true;
    rig.renderer.render(viewport, layers, none, rig.target);
    image = readFramebuffer(rig.target);
    // Inside the cube the image shows through; its edge is green.
    CHECK(int(image.at(int(p.x), int(p.y))[0]) == 200);
    int greenEdge = 0;
    for (int x = int(p.x); x < image.width; ++x) {
        const uint8_t* px = image.at(x, int(p.y));
        if (px[1] > 200 && px[0] < 100) ++greenEdge;
    }
    CHECK(greenEdge >= 1);
    CHECK(greenEdge <= 3);
}

TEST_CASE("orientation letters - crosshair and text are drawn into the framebuffer", "[render]") {
    Rig rig;
    REQUIRE(rig.context.available());
    REQUIRE(rig.font.valid());
    const MarkerVolume volume;
    const auto corners = volume.corners();
    const SliceViewport viewport =
        fitViewport(sliceFrame(SliceAxis::Axial, Convention::Radiological), corners.data(), 240, 200);
    SliceLayers empty; // no image: black
    SliceAnnotations annotations;
    annotations.crosshairWorld = viewport.center;
    annotations.crosshairColor = {0.0f, 0.0f, 1.0f, 1.0f};
    annotations.orientationLetters = true;
    rig.renderer.render(viewport, empty, annotations, rig.target);
    const RgbaImage image = readFramebuffer(rig.target);
    // Crosshair: a full blue row and column through the centre.
    const glm::dvec2 c = viewport.worldToPixel(viewport.center);
    int blueRow = 0, blueColumn = 0;
    for (int x = 0; x < image.width; ++x)
        blueRow += image.at(x, int(c.y))[2] > 200;
    for (int y = 0; y < image.height; ++y)
        blueColumn += image.at(int(c.x), y)[2] > 200;
    CHECK(blueRow > image.width * 0.8);
    CHECK(blueColumn > image.height * 0.8);
    // Letters: light pixels near each edge's middle, none in the empty quadrants.
    auto lightNear = [&](int x0, int y0, int x1, int y1) {
        int n = 0;
        for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x)
                n += image.at(x, y)[0] > 180 && image.at(x, y)[1] > 180;
        return n;
    };
    CHECK(lightNear(100, 0, 140, 30) > 5);    // "A" at the top
    CHECK(lightNear(100, 170, 140, 200) > 5); // "P" at the bottom
    CHECK(lightNear(0, 80, 30, 120) > 5);     // "R" on the left
    CHECK(lightNear(210, 80, 240, 120) > 5);  // "L" on the right
    CHECK(lightNear(150, 130, 200, 160) == 0);
}

TEST_CASE("a shader compile error is reported with file and line - not thrown", "[render]") {
    segxai::test::GlContext context;
    REQUIRE(context.available());
    const auto folder = std::filesystem::temp_directory_path() / "segxai-shader-test";
    std::filesystem::create_directories(folder);
    std::ofstream(folder / "broken.frag") << "#version 330 core\nout vec4 c;\nvoid main() {\n  c = vec4(1.0) +;\n}\n";
    std::ofstream(folder / "fullscreen.vert") << "#version 330 core\nvoid main() { gl_Position = vec4(0.0); }\n";
    ShaderLibrary shaders(folder);
    CHECK(shaders.program("fullscreen.vert", "broken.frag") == nullptr);
    const auto log = shaders.takeLog();
    REQUIRE(log.size() == 1);
    CHECK_THAT(log[0], Catch::Contains("broken.frag:4:"));
    std::filesystem::remove_all(folder);
}
