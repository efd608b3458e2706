// Starts the real segxai under Xvfb on a study, lets it draw, saves screenshots through the
// app, and checks what the three views show.
#include "engine/io/image_io.h"
#include "render/image_capture.h"
#include "tests/support/golden.h"
#include "tests/support/run_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>

using namespace segxai;
using segxai::test::loadPng;

namespace {

bool bluish(const uint8_t* p) {
    return p[2] > 180 && p[2] > p[0] + 80;
}

// Bounding box of pixels that show the volume's edge: the ground truth covering the whole
// volume is outlined in green (label 1) by default.
struct Box {
    int x0 = 1 << 30, y0 = 1 << 30, x1 = -1, y1 = -1;
};
Box volumeBox(const render::RgbaImage& image) {
    // The volume's outline: its left and right edges are the columns with a long vertical run
    // of green, its top and bottom edges the rows with a long horizontal run. Text drawn over
    // an edge shortens a run but leaves one long enough; the overlay legend's small green
    // swatch has none.
    const auto green = [&](int x, int y) {
        const uint8_t* p = image.at(x, y);
        return p[1] > 60 && p[1] > p[0] + 40 && p[1] > p[2] + 40;
    };
    constexpr int kEdge = 30;
    Box b;
    for (int y = 0; y < image.height; ++y)
        for (int x = 0, run = 0; x < image.width; ++x) {
            run = green(x, y) ? run + 1 : 0;
            if (run >= kEdge) {
                b.y0 = std::min(b.y0, y);
                b.y1 = std::max(b.y1, y);
            }
        }
    for (int x = 0; x < image.width; ++x)
        for (int y = 0, run = 0; y < image.height; ++y) {
            run = green(x, y) ? run + 1 : 0;
            if (run >= kEdge) {
                b.x0 = std::min(b.x0, x);
                b.x1 = std::max(b.x1, x);
            }
        }
    return b;
}

bool hasCrosshair(const render::RgbaImage& image) {
    int rows = 0, columns = 0;
    for (int y = 0; y < image.height; ++y) {
        int n = 0;
        for (int x = 0; x < image.width; ++x)
            n += bluish(image.at(x, y));
        rows += n > image.width * 0.6;
    }
    for (int x = 0; x < image.width; ++x) {
        int n = 0;
        for (int y = 0; y < image.height; ++y)
            n += bluish(image.at(x, y));
        columns += n > image.height * 0.6;
    }
    return rows >= 1 && rows <= 2 && columns >= 1 && columns <= 2;
}

double nonBlackShare(const render::RgbaImage& image) {
    size_t n = 0;
    for (int y = 0; y < image.height; ++y)
        for (int x = 0; x < image.width; ++x)
            n += image.at(x, y)[0] + image.at(x, y)[1] > 30;
    return double(n) / double(image.width * image.height);
}

} // namespace

TEST_CASE("the app shows an anisotropic study in three views with the right aspect", "[gui]") {
    test::TempDir dir;
    Geometry g;
    g.dims = {60, 40, 20};
    g.spacing = {1.0, 2.0, 3.0}; // 60 x 80 x 60 mm
    writeVolume(test::makeVolume(g, [](auto i, auto j, auto k) { return float(i + j + k); }), dir.file("aniso.nii.gz"));
    LabelVolume labels(g, "mask");
    std::fill(labels.labels.begin(), labels.labels.end(), uint16_t(1)); // outlined at the volume's edge
    writeLabelVolume(labels, dir.file("mask.nii.gz"));

    const std::string shot = dir.file("shot.png");
    const auto run = test::runProcess({SEGXAI_BINARY, dir.file("aniso.nii.gz"), "--gt", dir.file("mask.nii.gz"),
                                       "--screenshot", shot, "--screenshot-views", "--quit", "--size", "1200x700"});
    INFO(run.output);
    REQUIRE(run.exitCode == 0);

    const render::RgbaImage window = loadPng(shot);
    CHECK(window.width == 1200);
    CHECK(window.height == 700);
    CHECK(nonBlackShare(window) > 0.2);

    // Physical width / height of each view's slice: axial x/y, coronal x/z, sagittal y/z.
    const std::vector<std::pair<std::string, double>> views = {
        {"axial", 60.0 / 80.0}, {"coronal", 60.0 / 60.0}, {"sagittal", 80.0 / 60.0}};
    for (const auto& [name, aspect] : views) {
        INFO(name);
        const render::RgbaImage view = loadPng(dir.file("shot_" + name + ".png"));
        REQUIRE(view.width > 100);
        const Box box = volumeBox(view);
        REQUIRE(box.x1 > box.x0);
        const double measured = double(box.x1 - box.x0 + 1) / double(box.y1 - box.y0 + 1);
        CHECK(measured == Approx(aspect).epsilon(0.03));
        CHECK(hasCrosshair(view));
    }
}

TEST_CASE("the app shows the Colin27 brain and exits cleanly", "[gui][real]") {
    test::TempDir dir;
    const std::string shot = dir.file("colin.png");
    const auto run = test::runProcess({SEGXAI_BINARY, "/usr/share/mricron/templates/ch2.nii.gz", "--screenshot", shot,
                                       "--screenshot-views", "--quit"});
    INFO(run.output);
    REQUIRE(run.exitCode == 0);
    for (const std::string name : {"axial", "coronal", "sagittal"}) {
        INFO(name);
        const render::RgbaImage view = loadPng(dir.file("colin_" + name + ".png"));
        CHECK(nonBlackShare(view) > 0.15);
        CHECK(hasCrosshair(view));
    }
}

TEST_CASE("with no files the app opens the lesion demo and shows the model's segmentation", "[gui][demo]") {
    test::TempDir dir;
    const std::string shot = dir.file("demo.png");
    const auto run =
        test::runProcess({SEGXAI_BINARY, "--panel", "model", "--screenshot", shot, "--screenshot-views", "--quit"},
                         {"XDG_CACHE_HOME=" + dir.path().string()});
    INFO(run.output);
    REQUIRE(run.exitCode == 0);
    CHECK_THAT(run.output, Catch::Contains("synthetic") && Catch::Contains("segmented in"));
    // The demo study was written into the cache, and the model's lesions (filled, red) and
    // the ground truth (outlined, green) both show on the axial view through the centre.
    CHECK(std::filesystem::exists(dir.file("segxai/demo/lesions/flair.nii.gz")));
    const render::RgbaImage axial = loadPng(dir.file("demo_axial.png"));
    int red = 0, green = 0;
    for (int y = 0; y < axial.height; ++y)
        for (int x = 0; x < axial.width; ++x) {
            const uint8_t* p = axial.at(x, y);
            red += p[0] > p[1] + 60 && p[0] > p[2] + 60;
            green += p[1] > p[0] + 60 && p[1] > p[2] + 60;
        }
    CHECK(red > 30);
    CHECK(green > 10);
}

TEST_CASE("a broken study file gives a message and a failing exit status - no crash", "[gui]") {
    test::TempDir dir;
    std::ofstream(dir.file("broken.nii.gz")) << "not gzip";
    const auto run = test::runProcess({SEGXAI_BINARY, dir.file("broken.nii.gz"), "--quit"});
    CHECK(run.exitCode == 1);
    CHECK_THAT(run.output, Catch::Contains("broken.nii.gz"));
}
