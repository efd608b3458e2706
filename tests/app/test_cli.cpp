#include "engine/io/image_io.h"
#include "tests/support/run_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

using namespace segxai;

TEST_CASE("segxai info prints geometry - pixel type and range as JSON", "[cli]") {
    test::TempDir dir;
    const Geometry g = test::obliqueGeometry({5, 6, 7});
    writeVolume(test::makeVolume(g, [](auto i, auto j, auto k) { return float(i - j * k); }), dir.file("v.nrrd"));
    const auto run = test::runProcess({SEGXAI_BINARY, "info", dir.file("v.nrrd")});
    REQUIRE(run.exitCode == 0);
    const auto info = nlohmann::json::parse(run.output);
    CHECK(info["dims"] == nlohmann::json({5, 6, 7}));
    CHECK(info["spacing"][2].get<double>() == Approx(3.0));
    CHECK(info["origin"][0].get<double>() == Approx(-12.5));
    // Row-major direction: row r holds the x, y or z component of the three axes.
    CHECK(info["direction"][1][2].get<double>() == Approx(g.direction[2][1]));
    CHECK(info["pixel_type"] == "float32");
    CHECK(info["min"].get<double>() == Approx(-30.0));
    CHECK(info["max"].get<double>() == Approx(4.0));
    CHECK(info["format"] == "NRRD");
}

TEST_CASE("command-line errors are one line on stderr with a failing status", "[cli]") {
    const auto missing = test::runProcess({SEGXAI_BINARY, "info", "/no/such/file.nii.gz"});
    CHECK(missing.exitCode == 1);
    CHECK(missing.output == "segxai: error: /no/such/file.nii.gz: file not found\n");
    const auto help = test::runProcess({SEGXAI_BINARY, "--help"});
    CHECK(help.exitCode == 0);
    CHECK_THAT(help.output, Catch::Contains("info"));
    const auto bad = test::runProcess({SEGXAI_BINARY, "info"});
    CHECK(bad.exitCode != 0);
}

namespace {

// The tiny U-Net's own input (16 x 20 x 12, two channels) as two NIfTI files.
std::vector<std::string> tinyStudy(const test::TempDir& dir) {
    Geometry g;
    g.dims = {16, 20, 12};
    g.spacing = {1.5, 1.5, 2.0};
    std::vector<std::string> files;
    for (int c = 0; c < 2; ++c) {
        const std::string path = dir.file(c == 0 ? "t1.nii.gz" : "flair.nii.gz");
        writeVolume(test::makeVolume(g, [c](auto i, auto j,
                                            auto k) { return float(std::sin(0.3 * i + 0.2 * (c + 1) * j + 0.1 * k)); }),
                    path);
        files.push_back(path);
    }
    return files;
}

const std::string kTiny = SEGXAI_TEST_DATA "/models/tiny_unet_traced.pt";

} // namespace

TEST_CASE("segxai segment and layers work on a TorchScript model", "[cli]") {
    test::TempDir dir;
    const auto study = tinyStudy(dir);
    const auto run = test::runProcess({SEGXAI_BINARY, "segment", "--study", study[0], "--study", study[1], "--model",
                                       kTiny, "--out", dir.file("labels.nii.gz"), "--probs", dir.file("p.nii.gz")});
    INFO(run.output);
    REQUIRE(run.exitCode == 0);
    const LabelVolume labels = readLabelVolume(dir.file("labels.nii.gz"));
    CHECK(labels.geometry.sameGrid(readVolume(study[0]).geometry));
    CHECK(std::filesystem::exists(dir.file("p_edema.nii.gz")));
    // An output named like an input is refused, and the input is untouched.
    const auto clash = test::runProcess(
        {SEGXAI_BINARY, "segment", "--study", study[0], "--study", study[1], "--model", kTiny, "--out", study[0]});
    CHECK(clash.exitCode == 1);
    CHECK_THAT(clash.output, Catch::Contains("refusing to overwrite an input"));
    CHECK(readVolume(study[0]).voxels.size() == 16 * 20 * 12);

    const auto layers = test::runProcess({SEGXAI_BINARY, "layers", "--model", kTiny, "--shape", "2,16,20,12"});
    REQUIRE(layers.exitCode == 0);
    CHECK_THAT(layers.output, Catch::Contains("model.1.submodule.1") && Catch::Contains("[1, 24, 4, 5, 3]"));
}

TEST_CASE("segxai segment matches the study's files to the model's inputs by name", "[cli][channels]") {
    test::TempDir dir;
    const auto study = tinyStudy(dir); // t1, flair: the card's order
    auto segment = [&](std::vector<std::string> files, const std::string& out, bool keepOrder) {
        std::vector<std::string> args{SEGXAI_BINARY, "segment"};
        for (const auto& f : files)
            args.insert(args.end(), {"--study", f});
        args.insert(args.end(),
                    {"--model", kTiny, "--out", dir.file(out + ".nii.gz"), "--probs", dir.file(out + "_p.nii.gz")});
        if (keepOrder) args.push_back("--no-channel-matching");
        return test::runProcess(args);
    };
    const auto given = segment({study[0], study[1]}, "given", false);
    REQUIRE(given.exitCode == 0);
    CHECK_THAT(given.output, Catch::Contains("channels: t1 <- t1.nii.gz, flair <- flair.nii.gz"));
    // [flair, t1] on the command line: reordered, said so, and the same probabilities.
    const auto swapped = segment({study[1], study[0]}, "swapped", false);
    INFO(swapped.output);
    REQUIRE(swapped.exitCode == 0);
    CHECK_THAT(swapped.output,
               Catch::Contains("channels: t1 <- t1.nii.gz, flair <- flair.nii.gz (matched to the model's inputs"));
    CHECK(readVolume(dir.file("swapped_p_lesion.nii.gz")).voxels ==
          readVolume(dir.file("given_p_lesion.nii.gz")).voxels);
    // --no-channel-matching feeds them as given: flair into the t1 input.
    const auto kept = segment({study[1], study[0]}, "kept", true);
    REQUIRE(kept.exitCode == 0);
    CHECK(readVolume(dir.file("kept_p_lesion.nii.gz")).voxels != readVolume(dir.file("given_p_lesion.nii.gz")).voxels);
    // Names that fit both inputs are refused before anything is written.
    std::filesystem::copy_file(study[0], dir.file("t1_flair_a.nii.gz"));
    std::filesystem::copy_file(study[1], dir.file("t1_flair_b.nii.gz"));
    const auto ambiguous = segment({dir.file("t1_flair_a.nii.gz"), dir.file("t1_flair_b.nii.gz")}, "ambiguous", false);
    CHECK(ambiguous.exitCode == 1);
    CHECK_THAT(ambiguous.output, Catch::Contains("cannot tell which study file is which model input") &&
                                     Catch::Contains("--no-channel-matching"));
    CHECK_FALSE(std::filesystem::exists(dir.file("ambiguous.nii.gz")));
}

TEST_CASE("segxai explain writes maps in the study's geometry and a report", "[cli]") {
    test::TempDir dir;
    const auto study = tinyStudy(dir);
    const auto run = test::runProcess({SEGXAI_BINARY, "explain", "--study", study[0], "--study", study[1], "--model",
                                       kTiny, "--method", "saliency", "--target", "box:2,3,1,5,8,4@lesion", "--out",
                                       dir.file("sal.nii.gz"), "--report", dir.file("report.json")});
    INFO(run.output);
    REQUIRE(run.exitCode == 0);
    // Input-space maps of a two-channel study: one file per channel.
    const Volume t1 = readVolume(dir.file("sal_t1.nii.gz"));
    CHECK(t1.geometry.sameGrid(readVolume(study[0]).geometry));
    CHECK(std::filesystem::exists(dir.file("sal_flair.nii.gz")));
    std::ifstream in(dir.file("report.json"));
    const auto report = nlohmann::json::parse(in);
    CHECK(report["method"] == "saliency");
    CHECK(report["target"]["voxels"] == 4 * 6 * 4);
    CHECK(report["target"]["class"] == "lesion");
    CHECK(report["score"].get<double>() != 0.0);
    for (const char* key : {"load", "method", "total"})
        CHECK(report["timing_s"][key].get<double>() >= 0.0);

    const auto all = test::runProcess({SEGXAI_BINARY, "explain", "--study", study[0], "--study", study[1], "--model",
                                       kTiny, "--method", "all-gradient", "--target", "class:lesion", "--layer",
                                       "model.1.submodule.1", "--out", dir.file("all")});
    INFO(all.output);
    REQUIRE(all.exitCode == 0);
    for (const char* file :
         {"seg-grad-cam.nii.gz", "seg-grad-cam_layer.nii.gz", "seg-hires-grad-cam.nii.gz", "seg-grad-cam++.nii.gz",
          "saliency_t1.nii.gz", "saliency-abs_flair.nii.gz", "input-x-gradient_t1.nii.gz"}) {
        CHECK(std::filesystem::exists(dir.file(std::string("all/") + file)));
    }
    const auto bad =
        test::runProcess({SEGXAI_BINARY, "explain", "--study", study[0], "--study", study[1], "--model", kTiny,
                          "--method", "gradcam", "--target", "class:lesion", "--out", dir.file("x.nii.gz")});
    CHECK(bad.exitCode == 1);
    CHECK_THAT(bad.output, Catch::Contains("unknown method 'gradcam'"));
}
