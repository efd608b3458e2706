// `segxai uncertainty` and `segxai compare-models` on the lesion demo: an ensemble of two members
// with flips, every file written and consistent with the study; bad options refused before any
// work. Then the same in the viewer: the demo's 3 folds show their uncertainty out of the box.
#include "engine/io/csv.h"
#include "engine/io/image_io.h"
#include "render/image_capture.h"
#include "tests/support/golden.h"
#include "tests/support/run_process.h"
#include "tests/support/temp_dir.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

using namespace segxai;
namespace fs = std::filesystem;

TEST_CASE("segxai uncertainty writes an ensemble's maps, structures and summary", "[cli][uncertainty]") {
    test::TempDir dir;
    const std::string data = dir.file("demo");
    REQUIRE(test::runProcess({SEGXAI_BINARY, "demo-data", data, "--task", "lesions"}).exitCode == 0);
    const std::string study = data + "/lesions/", out = dir.file("out"), model = SEGXAI_ASSET_DIR "/models/lesions";
    const auto run = test::runProcess({SEGXAI_BINARY, "uncertainty", "--study", study + "t1.nii.gz", "--study",
                                       study + "flair.nii.gz", "--gt", study + "gt.nii.gz", "--model", model, "--model",
                                       model, "--tta", "flips", "--flip-axes", "x", "--out", out});
    INFO(run.output);
    REQUIRE(run.exitCode == 0);
    CHECK_THAT(run.output, Catch::Contains("2 members x 2 passes = 4 predictions"));

    const Volume t1 = readVolume(study + "t1.nii.gz");
    for (const char* name : {"entropy", "expected_entropy", "mutual_information", "disagreement", "std_lesion"}) {
        const Volume map = readVolume(out + "/" + name + ".nii.gz");
        CHECK(map.geometry.dims == t1.geometry.dims);
        CHECK(map.geometry.spacing == t1.geometry.spacing);
        // Two classes: entropies <= ln 2, shares and deviations <= 1.
        const auto [low, high] = std::minmax_element(map.voxels.begin(), map.voxels.end());
        CHECK(*low >= 0.0f);
        CHECK(*high <= 1.0f);
    }
    const LabelVolume labels = readLabelVolume(out + "/labels.nii.gz");
    CHECK(labels.geometry.dims == t1.geometry.dims);

    std::ifstream csv(out + "/instances.csv");
    std::string header;
    std::getline(csv, header);
    CHECK(header == "id,class,voxels,volume_mm3,mean_probability,voxel_i,voxel_j,voxel_k,truth,mean_entropy,"
                    "mean_mutual_information,member_share,volume_cv,volume_mm3_member_1,volume_mm3_member_2,"
                    "volume_mm3_member_3,volume_mm3_member_4");
    size_t rows = 0, truePositives = 0;
    for (std::string line; std::getline(csv, line);) {
        const auto fields = splitCsvLine(line, "instances.csv");
        REQUIRE(fields.size() == 17);
        CHECK(fields[1] == "lesion");
        // The voxel given is inside the structure: the ensemble labels it lesion.
        CHECK(labels.at(std::stoll(fields[5]), std::stoll(fields[6]), std::stoll(fields[7])) == 1);
        CHECK((fields[8] == "tp" || fields[8] == "fp"));
        truePositives += fields[8] == "tp";
        const double share = std::stod(fields[11]);
        CHECK((share > 0.0 && share <= 1.0)); // the ensemble's structures: some member found each
        ++rows;
    }
    CHECK(rows >= 3);
    CHECK(truePositives >= 3);

    nlohmann::json summary;
    std::ifstream(out + "/summary.json") >> summary;
    CHECK(summary["members"].size() == 4);
    CHECK(summary["members"][1] == "lesions mirrored x");
    CHECK(summary["structures"] == rows);
    CHECK(summary["tp_vs_fp"]["mean_entropy"]["tp"]["structures"] == truePositives);
}

TEST_CASE("segxai uncertainty explains a picked lesion with every member", "[cli][uncertainty]") {
    test::TempDir dir;
    const std::string data = dir.file("demo");
    REQUIRE(test::runProcess({SEGXAI_BINARY, "demo-data", data, "--task", "lesions"}).exitCode == 0);
    const std::string study = data + "/lesions/", out = dir.file("out"), model = SEGXAI_ASSET_DIR "/models/lesions";
    // The first structure's voxel, from a run without explanation.
    const std::string first = dir.file("first");
    REQUIRE(test::runProcess({SEGXAI_BINARY, "uncertainty", "--study", study + "t1.nii.gz", "--study",
                              study + "flair.nii.gz", "--model", model, "--out", first})
                .exitCode == 0);
    std::ifstream csv(first + "/instances.csv");
    std::string line;
    std::getline(csv, line);
    std::getline(csv, line);
    const auto fields = splitCsvLine(line, "instances.csv");
    const std::string voxel = fields[5] + "," + fields[6] + "," + fields[7];
    const auto run = test::runProcess({SEGXAI_BINARY, "uncertainty", "--study", study + "t1.nii.gz", "--study",
                                       study + "flair.nii.gz", "--model", model, "--model", model, "--method",
                                       "saliency", "--target", "instance:" + voxel, "--out", out});
    INFO(run.output);
    REQUIRE(run.exitCode == 0);
    // Two identical members: the same map twice.
    CHECK_THAT(run.output, Catch::Contains("mean rank correlation 1.000, top-5% overlap 1.000"));
    nlohmann::json summary;
    std::ifstream(out + "/summary.json") >> summary;
    const auto& stability = summary["explanation_stability"];
    CHECK(stability["target"].get<std::string>().find(voxel.substr(0, voxel.find(','))) != std::string::npos);
    CHECK(stability["pairs"].size() == 1);
    const Volume a = readVolume(out + "/explanation_member_1.nii.gz"),
                 b = readVolume(out + "/explanation_member_2.nii.gz");
    CHECK(a.voxels == b.voxels);
    const Volume deviation = readVolume(out + "/explanation_std.nii.gz");
    CHECK(*std::max_element(deviation.voxels.begin(), deviation.voxels.end()) == 0.0f);
    // --method without --target is refused before any work.
    const auto half = test::runProcess({SEGXAI_BINARY, "uncertainty", "--study", study + "t1.nii.gz", "--model", model,
                                        "--method", "saliency", "--out", dir.file("half")});
    CHECK(half.exitCode == 1);
    CHECK_THAT(half.output, Catch::Contains("--method and --target go together"));
    CHECK_FALSE(fs::exists(dir.file("half")));
}

TEST_CASE("segxai uncertainty refuses bad options before any work", "[cli][uncertainty]") {
    test::TempDir dir;
    const std::string out = dir.file("out"), model = SEGXAI_ASSET_DIR "/models/lesions";
    const std::string study = dir.file("t1.nii.gz");
    Geometry g;
    g.dims = {8, 8, 8};
    writeVolume(Volume(g, "t1"), study);
    auto run = test::runProcess(
        {SEGXAI_BINARY, "uncertainty", "--study", study, "--model", model, "--tta", "rotate", "--out", out});
    CHECK(run.exitCode == 1);
    CHECK_THAT(run.output, Catch::Contains("--tta: ") && Catch::Contains("flips, intensity and spatial joined by '+'"));
    CHECK_FALSE(fs::exists(out));
    run = test::runProcess({SEGXAI_BINARY, "uncertainty", "--study", study, "--model", model, "--tta", "spatial",
                            "--max-rotation", "45", "--out", out});
    CHECK(run.exitCode == 1);
    CHECK_THAT(run.output, Catch::Contains("rotation 45 degrees is outside [0, 30]"));
    CHECK_FALSE(fs::exists(out));
    run = test::runProcess({SEGXAI_BINARY, "uncertainty", "--study", study, "--model", model, "--model",
                            SEGXAI_TEST_DATA "/models/linear.pt", "--out", out});
    CHECK(run.exitCode == 1);
    CHECK_THAT(run.output, Catch::Contains("input channels"));
    CHECK_FALSE(fs::exists(out));
}

TEST_CASE("segxai compare-models finds where two models disagree and compares their explanations",
          "[cli][uncertainty]") {
    test::TempDir dir;
    const std::string data = dir.file("demo");
    REQUIRE(test::runProcess({SEGXAI_BINARY, "demo-data", data, "--task", "lesions"}).exitCode == 0);
    const std::string study = data + "/lesions/", out = dir.file("out"), model = SEGXAI_ASSET_DIR "/models/lesions";
    const auto run = test::runProcess({SEGXAI_BINARY, "compare-models", "--study", study + "t1.nii.gz", "--study",
                                       study + "flair.nii.gz", "--model", model, "--model", model, "--method",
                                       "seg-grad-cam", "--target", "class:lesion", "--out", out});
    INFO(run.output);
    REQUIRE(run.exitCode == 0);
    CHECK_THAT(run.output, Catch::Contains("1.0000 of voxels labelled alike") && Catch::Contains("Dice 1.000"));
    std::ifstream csv(out + "/structures.csv");
    std::string header, row;
    std::getline(csv, header);
    std::getline(csv, row);
    CHECK(header == "model,class,dice,reference_voxels,model_voxels,common_voxels,reference_mm3,model_mm3,"
                    "volume_difference_percent");
    const auto fields = splitCsvLine(row, "structures.csv");
    REQUIRE(fields.size() == 9);
    CHECK(fields[1] == "lesion");
    CHECK(fields[2] == "1");
    CHECK(fields[3] == fields[4]);
    CHECK(fields[8] == "0");
    const Volume a = readVolume(out + "/explanation_model_1.nii.gz"),
                 b = readVolume(out + "/explanation_model_2.nii.gz");
    CHECK(a.voxels == b.voxels);
    const Volume difference = readVolume(out + "/explanation_difference.nii.gz");
    CHECK(*std::max_element(difference.voxels.begin(), difference.voxels.end()) == 0.0f);
    CHECK(readLabelVolume(out + "/labels_1.nii.gz").labels == readLabelVolume(out + "/labels_2.nii.gz").labels);

    const auto one = test::runProcess(
        {SEGXAI_BINARY, "compare-models", "--study", study + "t1.nii.gz", "--model", model, "--out", dir.file("one")});
    CHECK(one.exitCode == 1);
    CHECK_THAT(one.output, Catch::Contains("at least two models"));
    CHECK_FALSE(fs::exists(dir.file("one")));
}

namespace {

// Pixels of an uncertainty map drawn over the grey image: viridis' blue-green to green, never
// grey (r = g = b) nor the ground truth's outline (pure green).
int viridisPixels(const render::RgbaImage& image, int x0, int y0, int x1, int y1) {
    int count = 0;
    for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) {
            const uint8_t* p = image.at(x, y);
            count += p[1] > p[0] + 30 && p[2] > 40 && p[2] < p[1];
        }
    return count;
}

} // namespace

TEST_CASE(
    "the lesion demo shows its 3 folds' uncertainty out of the box, a picked lesion's stability and a version compared",
    "[gui][uncertainty]") {
    test::TempDir dir;
    const std::string script = dir.file("uncertainty.txt");
    std::ofstream(script) << "screenshot \"" << dir.file("start.png") << "\"\n"
                          << "pick 95,113,101\n"
                          << "uncertainty stability\n"
                          << "show-uncertainty explanation-std\n"
                          << "fade on\n"
                          << "compare-models \"" << SEGXAI_ASSET_DIR "/models/lesions\"\n"
                          << "show-disagreement 1\n"
                          << "screenshot \"" << dir.file("compared.png") << "\"\n"
                          << "quit\n";
    const auto run =
        test::runProcess({SEGXAI_BINARY, "--demo", "--panel", "uncertainty", "--size", "1400x900", "--script", script},
                         {"XDG_CACHE_HOME=" + dir.file("cache")});
    INFO(run.output);
    REQUIRE(run.exitCode == 0);
    // Out of the box: the folds are the ensemble, and its mutual information is in panel A.
    CHECK_THAT(run.output, Catch::Contains("lesion demo: the uncertainty of its 3 folds") &&
                               Catch::Contains("uncertainty: 3 predictions"));
    const render::RgbaImage start = test::loadPng(dir.file("start.png"));
    REQUIRE(start.width == 1400);
    // The slice views (right of the side panel): the map's colours around the lesions.
    CHECK(viridisPixels(start, 450, 40, 1400, 880) > 100);
    // The picked lesion explained by every fold, and the demo model's earlier version compared.
    CHECK_THAT(run.output, Catch::Contains("by each member: mean rank correlation") &&
                               Catch::Contains("2 models compared") && Catch::Contains("least agreement: lesion"));
    CHECK(test::loadPng(dir.file("compared.png")).width == 1400);
}
