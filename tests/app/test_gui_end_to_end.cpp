// The whole explorer, end to end: the real segxai under Xvfb, driven by a script of viewer
// commands (app/gui/script.h). A study and a model arrive through the drop code path, two
// methods are compared, a lesion is picked and explained, a screenshot, a figure, maps, the
// segmentation and a session are exported; the session is reopened and gives the same picture.
#include "engine/analysis/connected_components.h"
#include "engine/io/image_io.h"
#include "render/image_capture.h"
#include "tests/support/golden.h"
#include "tests/support/run_process.h"
#include "tests/support/temp_dir.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

using namespace segxai;
namespace fs = std::filesystem;

namespace {

void writeScript(const std::string& path, const std::vector<std::string>& lines) {
    std::ofstream out(path);
    for (const auto& line : lines)
        out << line << "\n";
}

std::string quoted(const std::string& path) {
    return "\"" + path + "\"";
}

// A voxel in the middle of the largest structure the model segments (18-connected).
Index3 largestStructureVoxel(const LabelVolume& labels) {
    const Components components = connectedComponents(labels.geometry, labelMask(labels, 1), 18);
    REQUIRE(components.count() > 0);
    const int32_t largest =
        int32_t(std::max_element(components.sizes.begin() + 1, components.sizes.end()) - components.sizes.begin());
    std::vector<Index3> voxels;
    const Geometry& g = labels.geometry;
    for (int64_t k = 0; k < g.dims[2]; ++k)
        for (int64_t j = 0; j < g.dims[1]; ++j)
            for (int64_t i = 0; i < g.dims[0]; ++i)
                if (components.labels[g.linearIndex(i, j, k)] == largest) voxels.push_back({i, j, k});
    REQUIRE(!voxels.empty());
    return voxels[voxels.size() / 2];
}

// Pixels in the picture coloured like the inferno map's upper half (orange to yellow).
int infernoHot(const render::RgbaImage& image, int x0, int x1) {
    int n = 0;
    for (int y = 0; y < image.height; ++y)
        for (int x = x0; x < x1; ++x) {
            const uint8_t* p = image.at(x, y);
            n += p[0] > 200 && p[1] > 80 && p[2] < 90;
        }
    return n;
}

// The picked structure's outline: magenta (255, 64, 255), kPickColour.
int magenta(const render::RgbaImage& image, int x0, int x1) {
    int n = 0;
    for (int y = 0; y < image.height; ++y)
        for (int x = x0; x < x1; ++x) {
            const uint8_t* p = image.at(x, y);
            n += p[0] > 230 && p[1] < 100 && p[2] > 230;
        }
    return n;
}

nlohmann::json readJson(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return nlohmann::json::parse(text.str());
}

} // namespace

TEST_CASE("end to end: drop, compare two methods, pick and explain a lesion, export, reopen the session",
          "[gui][e2e]") {
    test::TempDir dir;
    // Paths with spaces and a non-ASCII letter, as users' folders have.
    const fs::path data = dir.path() / "study folder é";
    const fs::path out = dir.path() / "exports";
    fs::create_directories(out);
    auto demo = test::runProcess({SEGXAI_BINARY, "demo-data", data.string(), "--task", "lesions"});
    INFO(demo.output);
    REQUIRE(demo.exitCode == 0);
    const std::string t1 = (data / "lesions/t1.nii.gz").string(), flair = (data / "lesions/flair.nii.gz").string(),
                      gt = (data / "lesions/gt.nii.gz").string(),
                      model = std::string(SEGXAI_ASSET_DIR) + "/models/lesions";
    // The structure to pick: from the command line's segmentation (the same engine).
    const std::string reference = (out / "reference.nii.gz").string();
    auto segment = test::runProcess(
        {SEGXAI_BINARY, "segment", "--study", t1, "--study", flair, "--model", model, "--out", reference});
    INFO(segment.output);
    REQUIRE(segment.exitCode == 0);
    const LabelVolume referenceLabels = readLabelVolume(reference);
    const Index3 lesion = largestStructureVoxel(referenceLabels);
    const std::string at =
        std::to_string(lesion[0]) + "," + std::to_string(lesion[1]) + "," + std::to_string(lesion[2]);

    const std::string script = (dir.path() / "explore.txt").string();
    const auto file = [&](const char* name) { return (out / name).string(); };
    writeScript(script, {
                            "# the study's channels (flair first: matched to the card's order t1, flair), its",
                            "# ground truth (by its name) and the model, dropped together",
                            "drop " + quoted(flair) + " " + quoted(t1) + " " + quoted(gt) + " " + quoted(model),
                            "# a picked structure becomes the target: Explain runs on it, the target untouched",
                            "pick " + at,
                            "compare seg-grad-cam seg-hires-grad-cam",
                            "explain",
                            "screenshot " + quoted(file("window.png")),
                            "figure " + quoted(file("figure.png")) + " 1200x600",
                            "layout compare 3d",
                            "figure " + quoted(file("figure_3d.png")) + " 1200x600",
                            "layout compare axial",
                            "view A axial " + quoted(file("a_axial.png")),
                            "export-map A " + quoted(file("map_a.nii.gz")),
                            "export-map B " + quoted(file("map_b.nii.gz")),
                            "export-segmentation " + quoted(file("segmentation.nii.gz")),
                            "save-session " + quoted(file("session.segxai")),
                            "quit",
                        });
    auto run = test::runProcess({SEGXAI_BINARY, "--script", script, "--size", "1600x900"});
    INFO(run.output);
    REQUIRE(run.exitCode == 0);
    CHECK_THAT(run.output, !Catch::Contains("error"));
    CHECK_THAT(run.output, Catch::Contains("panel B: Seg-HiRes-Grad-CAM: lesion"));

    // The window, as shown: full size, two panels side by side, each with its map near the lesion.
    const render::RgbaImage window = test::loadPng(file("window.png"));
    CHECK(window.width == 1600);
    CHECK(window.height == 900);
    // The figure: the panel grid at the size asked for; both halves show their map and the
    // picked lesion's magenta outline.
    const render::RgbaImage figure = test::loadPng(file("figure.png"));
    REQUIRE(figure.width == 1200);
    REQUIRE(figure.height == 600);
    CHECK(infernoHot(figure, 0, 600) > 20);
    CHECK(infernoHot(figure, 600, 1200) > 20);
    CHECK(magenta(figure, 0, 600) > 10);
    CHECK(magenta(figure, 600, 1200) > 10);
    // The same comparison side by side in 3D: both halves show their map.
    const render::RgbaImage figure3d = test::loadPng(file("figure_3d.png"));
    REQUIRE(figure3d.width == 1200);
    CHECK(infernoHot(figure3d, 0, 600) > 20);
    CHECK(infernoHot(figure3d, 600, 1200) > 20);
    CHECK(figure3d.pixels != figure.pixels);
    const render::RgbaImage axial = test::loadPng(file("a_axial.png"));
    CHECK(axial.width > 100);
    CHECK(infernoHot(axial, 0, axial.width) > 20);

    // Maps and segmentation: NIfTI in the study's geometry. The maps are the two methods'
    // (different), and attribute most to the picked lesion's neighbourhood.
    const Volume study = readVolume(t1);
    const Volume mapA = readVolume(file("map_a.nii.gz")), mapB = readVolume(file("map_b.nii.gz"));
    CHECK(mapA.geometry.sameGrid(study.geometry));
    CHECK(mapB.geometry.sameGrid(study.geometry));
    CHECK(mapA.voxels != mapB.voxels);
    const Geometry& g = study.geometry;
    const glm::dvec3 centre = g.voxelToWorld(glm::dvec3(lesion[0], lesion[1], lesion[2]));
    // Seg-HiRes-Grad-CAM keeps the gradient's locality: its peak is at the picked lesion, and
    // the 25 mm around it (about 1 % of the volume) hold over ten times their share of the
    // attribution. (Seg-Grad-CAM averages gradients over the layer, so it lights every
    // lesion whose features it weighs: class-wide, as its definition makes it.)
    double near = 0.0, total = 0.0, peak = 0.0;
    size_t nearVoxels = 0;
    glm::dvec3 peakAt(0.0);
    for (int64_t k = 0; k < g.dims[2]; ++k)
        for (int64_t j = 0; j < g.dims[1]; ++j)
            for (int64_t i = 0; i < g.dims[0]; ++i) {
                const double v = std::abs(mapB.voxels[g.linearIndex(i, j, k)]);
                const glm::dvec3 w = g.voxelToWorld(glm::dvec3(i, j, k));
                total += v;
                if (glm::length(w - centre) < 25.0) {
                    near += v;
                    ++nearVoxels;
                }
                if (v > peak) {
                    peak = v;
                    peakAt = w;
                }
            }
    REQUIRE(total > 0.0);
    CHECK(glm::length(peakAt - centre) < 15.0);
    CHECK(near / total > 10.0 * double(nearVoxels) / double(mapB.voxels.size()));
    const LabelVolume segmentation = readLabelVolume(file("segmentation.nii.gz"));
    CHECK(segmentation.geometry.sameGrid(study.geometry));
    CHECK(segmentation.labels == referenceLabels.labels);

    // The session names the inputs (absolute), both panels, the instance target and the pick.
    const nlohmann::json session = readJson(file("session.segxai"));
    CHECK(session["segxai_session"] == 1);
    CHECK(session["study"]["channels"] ==
          nlohmann::json::array({fs::absolute(t1).string(), fs::absolute(flair).string()}));
    CHECK(session["study"]["ground_truth"] == fs::absolute(gt).string());
    REQUIRE(session["panels"].size() == 2);
    CHECK(session["panels"][0]["methods"] == nlohmann::json::array({"seg-grad-cam"}));
    CHECK(session["panels"][1]["methods"] == nlohmann::json::array({"seg-hires-grad-cam"}));
    CHECK(session["target"].get<std::string>().rfind("instance:", 0) == 0);
    CHECK(session.contains("selected_voxel"));
    CHECK(session["view"]["layout"] == "compare");

    // Reopened (as a dropped file, in a fresh app), the session gives the same figure.
    const std::string reopen = (dir.path() / "reopen.txt").string();
    writeScript(reopen, {"drop " + quoted(file("session.segxai")),
                         "figure " + quoted(file("figure_again.png")) + " 1200x600", "quit"});
    auto again = test::runProcess({SEGXAI_BINARY, "--script", reopen, "--size", "1600x900"});
    INFO(again.output);
    REQUIRE(again.exitCode == 0);
    CHECK(test::compareImages(test::loadPng(file("figure_again.png")), figure, "reopened_session") == "");

    // Nothing was written beside the inputs, and no temporary file was left behind.
    for (const auto& entry : fs::recursive_directory_iterator(dir.path())) {
        CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
    }
    CHECK(std::distance(fs::directory_iterator(data / "lesions"), fs::directory_iterator{}) == 3);
}

TEST_CASE("a script command that fails stops the app with its message and a failing status", "[gui][e2e]") {
    test::TempDir dir;
    const std::string script = dir.file("bad.txt");
    writeScript(script,
                {"drop /usr/share/mricron/templates/ch2.nii.gz", "export-map A " + dir.file("map.nii.gz"), "quit"});
    auto run = test::runProcess({SEGXAI_BINARY, "--script", script});
    CHECK(run.exitCode != 0);
    CHECK_THAT(run.output, Catch::Contains("panel A has no explanation to export"));
    CHECK(!fs::exists(dir.file("map.nii.gz")));

    writeScript(script, {"explode now"});
    run = test::runProcess({SEGXAI_BINARY, "--script", script});
    CHECK(run.exitCode != 0);
    CHECK_THAT(run.output, Catch::Contains("bad.txt:1: unknown command 'explode'"));
}

TEST_CASE("segxai render draws a comparison figure headless through the viewer's code", "[gui][e2e]") {
    test::TempDir dir;
    const std::string study = "/usr/share/mricron/templates/ch2.nii.gz";
    const std::string shot = dir.file("render.png");
    auto run = test::runProcess({SEGXAI_BINARY, "render", "--study", study, "--layout", "sagittal", "--size", "640x480",
                                 "--slice", "90,108,90", "--out", shot});
    INFO(run.output);
    REQUIRE(run.exitCode == 0);
    const render::RgbaImage image = test::loadPng(shot);
    CHECK(image.width == 640);
    CHECK(image.height == 480);
    size_t bright = 0;
    for (size_t p = 0; p < image.pixels.size(); p += 4)
        bright += image.pixels[p] > 60;
    CHECK(bright > image.pixels.size() / 4 / 5);

    // Bad arguments fail before any window opens, with one line and no file.
    run = test::runProcess(
        {SEGXAI_BINARY, "render", "--study", study, "--method", "seg-grad-cam", "--out", dir.file("x.png")});
    CHECK(run.exitCode != 0);
    CHECK_THAT(run.output, Catch::Contains("explaining needs a model"));
    run = test::runProcess({SEGXAI_BINARY, "render", "--study", study, "--size", "0x10", "--out", dir.file("x.png")});
    CHECK(run.exitCode != 0);
    CHECK_THAT(run.output, Catch::Contains("--size expects WxH"));
    CHECK(!fs::exists(dir.file("x.png")));
    // The output never replaces an input.
    run = test::runProcess({SEGXAI_BINARY, "render", "--study", study, "--out", study});
    CHECK(run.exitCode != 0);
}

TEST_CASE("a session saved from each tab reopens to the same figure", "[gui][e2e][session]") {
    test::TempDir dir;
    const fs::path data = dir.path() / "data";
    auto demo = test::runProcess({SEGXAI_BINARY, "demo-data", data.string()});
    INFO(demo.output);
    REQUIRE(demo.exitCode == 0);
    const std::string t1 = (data / "lesions/t1.nii.gz").string(), flair = (data / "lesions/flair.nii.gz").string(),
                      gt = (data / "lesions/gt.nii.gz").string(),
                      lesionModel = std::string(SEGXAI_ASSET_DIR) + "/models/lesions",
                      anatomyT1 = (data / "anatomy/t1.nii.gz").string(),
                      anatomyModel = std::string(SEGXAI_ASSET_DIR) + "/models/anatomy";
    const std::string reference = dir.file("reference.nii.gz");
    auto segment = test::runProcess(
        {SEGXAI_BINARY, "segment", "--study", t1, "--study", flair, "--model", lesionModel, "--out", reference});
    REQUIRE(segment.exitCode == 0);
    const Index3 lesion = largestStructureVoxel(readLabelVolume(reference));
    const std::string at =
        std::to_string(lesion[0]) + "," + std::to_string(lesion[1]) + "," + std::to_string(lesion[2]);

    struct Tab {
        const char* name;
        std::vector<std::string> steps; // after the drop
        const char* shows;              // what panel A shows in the saved session
    };
    // FLAIR is dropped before T1: the channels are matched to the model's inputs by name.
    const std::string lesionDrop =
        "drop " + quoted(flair) + " " + quoted(t1) + " " + quoted(gt) + " " + quoted(lesionModel);
    const std::vector<Tab> tabs = {
        {"explain", {lesionDrop, "compare seg-grad-cam saliency", "explain class:lesion"}, "explanation"},
        {"instances", {lesionDrop, "compare seg-hires-grad-cam", "pick " + at, "explain-instance"}, "explanation"},
        {"lesions", {lesionDrop, "analyse-lesions 3 0", "show-lesion 3", "crosshair " + at}, "lesion"},
        {"aggregation",
         {"drop " + quoted(anatomyT1) + " " + quoted(anatomyModel), "aggregate saliency",
          "show-aggregation occipital frontal"},
         "aggregation"},
    };
    for (const Tab& tab : tabs) {
        INFO(tab.name);
        {
            const std::string session = dir.file(std::string(tab.name) + ".segxai");
            const std::string figure = dir.file(std::string(tab.name) + ".png"),
                              again = dir.file(std::string(tab.name) + "_again.png");
            std::vector<std::string> lines = tab.steps;
            lines.push_back("figure " + quoted(figure) + " 900x600");
            lines.push_back("save-session " + quoted(session));
            if (std::string(tab.name) != "aggregation")
                lines.push_back("export-segmentation " + quoted(dir.file("segmentation.nii.gz")));
            lines.push_back("quit");
            writeScript(dir.file("save.txt"), lines);
            auto run = test::runProcess({SEGXAI_BINARY, "--script", dir.file("save.txt"), "--size", "1400x900"});
            INFO(run.output);
            REQUIRE(run.exitCode == 0);
            const nlohmann::json saved = readJson(session);
            CHECK(saved["panels"][0]["shows"] == tab.shows);
            if (std::string(tab.name) != "aggregation") {
                // The channels in the model's order, whatever the drop's: the right lesions.
                CHECK(saved["study"]["channels"] ==
                      nlohmann::json::array({fs::absolute(t1).string(), fs::absolute(flair).string()}));
                CHECK(readLabelVolume(dir.file("segmentation.nii.gz")).labels == readLabelVolume(reference).labels);
            }
            writeScript(dir.file("reopen.txt"),
                        {"drop " + quoted(session), "figure " + quoted(again) + " 900x600", "quit"});
            auto reopened = test::runProcess({SEGXAI_BINARY, "--script", dir.file("reopen.txt"), "--size", "1400x900"});
            INFO(reopened.output);
            REQUIRE(reopened.exitCode == 0);
            CHECK_THAT(reopened.output, !Catch::Contains("error"));
            CHECK(test::compareImages(test::loadPng(again), test::loadPng(figure),
                                      std::string("session_") + tab.name) == "");
        }
    }
}
