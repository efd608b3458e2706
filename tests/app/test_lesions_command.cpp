// `segxai lesions` on the lesion demo: every file, consistent with each other and the study.
#include "engine/io/image_io.h"
#include "render/image_capture.h"
#include "tests/support/golden.h"
#include "tests/support/run_process.h"
#include "tests/support/temp_dir.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

using namespace segxai;
namespace fs = std::filesystem;

namespace {

// Rows of a CSV file as fields (no quoting in SegXAI's CSVs).
std::vector<std::vector<std::string>> readCsv(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::vector<std::string>> rows;
    for (std::string line; std::getline(in, line);) {
        std::vector<std::string> fields;
        std::stringstream s(line);
        for (std::string field; std::getline(s, field, ',');)
            fields.push_back(field);
        if (!line.empty() && line.back() == ',') fields.push_back("");
        rows.push_back(fields);
    }
    return rows;
}

} // namespace

TEST_CASE("segxai lesions writes instances, rings, peaks, context and a summary of the demo's lesions",
          "[cli][lesions]") {
    test::TempDir dir;
    const std::string data = dir.file("demo");
    REQUIRE(test::runProcess({SEGXAI_BINARY, "demo-data", data, "--task", "lesions"}).exitCode == 0);
    const std::string study = data + "/lesions/";
    const std::string out = dir.file("out");
    const auto run =
        test::runProcess({SEGXAI_BINARY, "lesions", "--study", study + "t1.nii.gz", "--study", study + "flair.nii.gz",
                          "--gt", study + "gt.nii.gz", "--model", SEGXAI_ASSET_DIR "/models/lesions", "--out", out,
                          "--methods", "smoothgrad,seg-grad-cam++", "--samples", "2", "--context-max-mm", "2"});
    INFO(run.output);
    REQUIRE(run.exitCode == 0);
    CHECK_THAT(run.output, Catch::Contains("sensitivity") && Catch::Contains("positive saliency inside lesions"));

    const auto instances = readCsv(out + "/instances.csv");
    REQUIRE(instances.size() >= 2);
    CHECK(instances[0][0] == "id");
    CHECK(instances[0][1] == "group");
    const size_t lesions = instances.size() - 1;
    std::set<std::string> groups;
    size_t truePositives = 0;
    for (size_t r = 1; r < instances.size(); ++r) {
        CHECK(instances[r][0] == std::to_string(r)); // ids 1..N in order
        groups.insert(instances[r][1]);
        truePositives += instances[r][1] == "TP";
        CHECK(std::stod(instances[r][3]) == Approx(std::stod(instances[r][2]))); // 1 mm voxels: mm3 = voxels
    }
    for (const auto& g : groups)
        CHECK((g == "TP" || g == "FP" || g == "FN"));
    REQUIRE(truePositives >= 1);

    // Peaks: per lesion, SmoothGrad per channel (t1, flair) and Seg-Grad-CAM++.
    const auto peaks = readCsv(out + "/peaks.csv");
    CHECK(peaks.size() == 1 + lesions * 3);
    // Rings: 5 regions per map.
    const auto rings = readCsv(out + "/rings.csv");
    CHECK(rings.size() == 1 + lesions * 3 * 5);
    CHECK(rings[1][4] == "inside");
    CHECK(rings[2][4] == "0-1 mm");
    // Context: 0, 1, 2 mm for every true positive.
    const auto context = readCsv(out + "/context.csv");
    CHECK(context.size() == 1 + truePositives * 3);
    CHECK(context[1][2] == "0");

    const nlohmann::json summary = nlohmann::json::parse(std::ifstream(out + "/summary.json"));
    CHECK(summary["lesions"]["count"] == lesions);
    CHECK(summary["detection"]["sensitivity"].get<double>() >= 0.0);
    CHECK(summary["findings"].size() == 4);
    for (const auto& f : summary["findings"])
        CHECK(!f["evidence"].get<std::string>().empty());
    CHECK(summary["maps"]["methods"] == nlohmann::json::array({"smoothgrad", "seg-grad-cam++"}));
    CHECK(summary["peak_saliency"].size() == 3 * 2); // (t1, flair, CAM++) x (maximum, maximum magnitude)

    // The lesion map and the maps: in the study's geometry; lesion ids where the CSV says.
    const LabelVolume ids = readLabelVolume(out + "/lesions.nii.gz");
    const Volume t1 = readVolume(study + "t1.nii.gz");
    CHECK(ids.geometry.sameGrid(t1.geometry));
    for (size_t r = 1; r < instances.size(); ++r) {
        const int64_t i = std::stoll(instances[r][9]), j = std::stoll(instances[r][10]),
                      k = std::stoll(instances[r][11]);
        CHECK(ids.at(i, j, k) == r);
    }
    const Volume map = readVolume(out + "/maps/lesion_1_smoothgrad_flair.nii.gz");
    CHECK(map.geometry.sameGrid(t1.geometry));
    CHECK(fs::exists(out + "/maps/lesion_1_seg-grad-cam++.nii.gz"));
    CHECK(std::distance(fs::directory_iterator(out + "/maps"), fs::directory_iterator{}) ==
          std::ptrdiff_t(lesions * 3));
}

TEST_CASE("segxai lesions --uncertainty gives each lesion the ensemble's figures and compares the groups",
          "[cli][lesions][uncertainty]") {
    test::TempDir dir;
    const std::string data = dir.file("demo");
    REQUIRE(test::runProcess({SEGXAI_BINARY, "demo-data", data, "--task", "lesions"}).exitCode == 0);
    const std::string study = data + "/lesions/", out = dir.file("out"), model = SEGXAI_ASSET_DIR "/models/lesions";
    // The demo model and the demo model again: identical members, so no mutual information, and
    // every member finds every predicted lesion with the same volume.
    const auto run =
        test::runProcess({SEGXAI_BINARY, "lesions", "--study", study + "t1.nii.gz", "--study", study + "flair.nii.gz",
                          "--gt", study + "gt.nii.gz", "--model", model, "--uncertainty-model", model, "--out", out,
                          "--methods", "none", "--context-max-mm", "0", "--no-maps"});
    INFO(run.output);
    REQUIRE(run.exitCode == 0);
    CHECK_THAT(run.output, Catch::Contains("uncertainty of 2 members"));
    const auto rows = readCsv(out + "/instances.csv");
    REQUIRE(rows.size() >= 2);
    const std::vector<std::string> tail(rows[0].end() - 4, rows[0].end());
    CHECK(tail == std::vector<std::string>{"mean_entropy", "mean_mutual_information", "member_share", "volume_cv"});
    for (size_t r = 1; r < rows.size(); ++r) {
        REQUIRE(rows[r].size() == rows[0].size());
        const size_t n = rows[r].size();
        CHECK(std::stod(rows[r][n - 3]) == Approx(0.0).margin(1e-6)); // mutual information
        const double entropy = std::stod(rows[r][n - 4]);
        CHECK((entropy >= 0.0 && entropy <= std::log(2.0) + 1e-6));
        if (rows[r][1] == "FN") continue; // a missed lesion: neither member finds it
        CHECK(rows[r][n - 2] == "1");     // member share
        CHECK(std::stod(rows[r][n - 1]) == Approx(0.0).margin(1e-9));
    }
    std::ifstream in(out + "/summary.json");
    const auto summary = nlohmann::json::parse(in);
    REQUIRE(summary.contains("uncertainty"));
    CHECK(summary["uncertainty"]["members"].size() == 2);
    CHECK(summary["uncertainty"]["groups"].size() == 4);
    CHECK(summary["uncertainty"]["groups"][0]["statistic"] == "mean mutual information");
}

TEST_CASE("segxai lesions refuses bad options with one line", "[cli][lesions]") {
    const auto run =
        test::runProcess({SEGXAI_BINARY, "lesions", "--study", "/usr/share/mricron/templates/ch2.nii.gz", "--model",
                          SEGXAI_ASSET_DIR "/models/lesions", "--out", "/tmp/x", "--methods", "magic"});
    CHECK(run.exitCode != 0);
    CHECK_THAT(run.output, Catch::Contains("--methods"));
}

TEST_CASE("the Lesions tab analyses the demo, shows a lesion, saves its plots and the analysis", "[gui][lesions]") {
    test::TempDir dir;
    const std::string script = dir.file("lesions.txt");
    std::ofstream(script) << "crosshair 120,95,110\n"
                          << "synthetic-lesion 4 -0.3,0.8\n"
                          << "analyse-lesions 2 2\n"
                          << "show-lesion 1\n"
                          << "save-lesion-plot rings \"" << dir.file("rings.png") << "\"\n"
                          << "save-lesion-plot context \"" << dir.file("context.png") << "\"\n"
                          << "save-lesion-plot groups \"" << dir.file("groups.png") << "\"\n"
                          << "save-lesions \"" << dir.path().string() << "\"\n"
                          << "screenshot \"" << dir.file("window.png") << "\"\n"
                          << "quit\n";
    const auto run = test::runProcess({SEGXAI_BINARY, "--demo", "--panel", "lesions", "--script", script},
                                      {"XDG_CACHE_HOME=" + dir.file("cache")});
    INFO(run.output);
    REQUIRE(run.exitCode == 0);
    CHECK_THAT(run.output, Catch::Contains("lesions analysed") && Catch::Contains("panel A: SmoothGrad: lesion 1"));
    // The synthetic lesion was painted in and the study segmented again before the analysis.
    CHECK_THAT(run.output, Catch::Contains("synthetic lesion painted in"));
    const auto first = run.output.find("segmented in"), painted = run.output.find("synthetic lesion painted in");
    CHECK(run.output.find("segmented in", painted) != std::string::npos);
    CHECK(first < painted);
    // The rings plot: the lesion's positive (red) and the rim's negative (blue) shares.
    const render::RgbaImage rings = test::loadPng(dir.file("rings.png"));
    REQUIRE(rings.width > 100);
    REQUIRE(rings.height > 50);
    int red = 0, blue = 0;
    for (int y = 0; y < rings.height; ++y)
        for (int x = 0; x < rings.width; ++x) {
            const uint8_t* p = rings.at(x, y);
            red += p[0] > 180 && p[1] < 90 && p[2] < 90;
            blue += p[2] > 180 && p[0] < 90;
        }
    CHECK(red > 50);
    CHECK(blue > 5);
    CHECK(test::loadPng(dir.file("context.png")).height > 50);
    CHECK(test::loadPng(dir.file("groups.png")).height > 50);
    CHECK(fs::exists(dir.file("summary.json")));
    CHECK(fs::exists(dir.file("maps/lesion_1_smoothgrad_flair.nii.gz")));
    CHECK(test::loadPng(dir.file("window.png")).width == 1600);
}

TEST_CASE("the Aggregation tab aggregates every class, shows a cell and runs a small benchmark", "[gui][aggregation]") {
    test::TempDir dir;
    REQUIRE(test::runProcess({SEGXAI_BINARY, "demo-data", dir.file("demo"), "--task", "anatomy"}).exitCode == 0);
    const std::string script = dir.file("aggregation.txt");
    std::ofstream(script) << "aggregate saliency\n"
                          << "show-aggregation frontal frontal\n"
                          << "save-plot matrix \"" << dir.file("matrix.png") << "\"\n"
                          << "benchmark saliency,input-x-gradient faithfulness-correlation,complexity\n"
                          << "save-plot bars \"" << dir.file("bars.png") << "\"\n"
                          << "quit\n";
    const auto run =
        test::runProcess({SEGXAI_BINARY, dir.file("demo/anatomy/t1.nii.gz"), SEGXAI_ASSET_DIR "/models/anatomy",
                          "--panel", "aggregation", "--script", script});
    INFO(run.output);
    REQUIRE(run.exitCode == 0);
    CHECK_THAT(run.output, Catch::Contains("8 classes aggregated over 9 segments") &&
                               Catch::Contains("its Saliency map in segment frontal") &&
                               Catch::Contains("most faithful"));
    // The heatmap: inferno cells, the brightest (yellow) on the diagonal rows.
    const render::RgbaImage matrix = test::loadPng(dir.file("matrix.png"));
    REQUIRE(matrix.width > 100);
    int yellow = 0;
    for (int y = 0; y < matrix.height; ++y)
        for (int x = 0; x < matrix.width; ++x) {
            const uint8_t* p = matrix.at(x, y);
            yellow += p[0] > 220 && p[1] > 200 && p[2] < 170;
        }
    CHECK(yellow > 100);
    CHECK(test::loadPng(dir.file("bars.png")).height > 50);
}
