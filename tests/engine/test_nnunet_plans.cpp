// nnU-Net v2 folders read without Python: plans.json in both formats, dataset.json's labels and
// regions, folders, folds and the messages for what SegXAI refuses.
#include "engine/core/error.h"
#include "engine/model/nnunet_plans.h"
#include "tests/support/nnunet_refs.h"
#include "tests/support/temp_dir.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

using namespace segxai;
namespace fs = std::filesystem;

namespace {

std::string text(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string errorOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace

TEST_CASE("plans.json in the architecture format gives the network nnU-Net builds", "[nnunet]") {
    const NnunetPlan p = readNnunetFolder(test::nnunetModelFolder("Dataset901_PlainCTAniso"), {});
    CHECK(p.configuration == "3d_fullres");
    CHECK(p.trainer == "nnUNetTrainer");
    CHECK(p.plansName == "nnUNetPlans");
    CHECK(p.datasetName == "Dataset901_PlainCTAniso");
    CHECK(p.channelNames == std::vector<std::string>{"CT"});
    CHECK(p.labels.names == std::vector<std::string>{"background", "organ", "lesion"});
    CHECK_FALSE(p.labels.regions);
    CHECK(p.labels.heads == 3);
    CHECK(p.reader == "NibabelIO");
    CHECK_FALSE(p.reorientToRas);
    CHECK(p.patch == std::array<int64_t, 3>{16, 32, 32});
    CHECK(p.spacing == std::array<double, 3>{2.5, 1.0, 1.0});
    REQUIRE(p.normalization.size() == 1);
    CHECK(p.normalization[0].scheme == NnunetNormalization::Scheme::CT);
    CHECK(p.dataResampling.order == 3);
    CHECK(p.probabilityResampling.order == 1);
    const NnunetNetwork& n = p.network;
    CHECK(n.kind == NnunetNetwork::Kind::PlainConvUNet);
    CHECK(n.features == std::vector<int64_t>{4, 8, 16, 16});
    CHECK(n.kernels[0] == std::array<int64_t, 3>{1, 3, 3});
    CHECK(n.strides[1] == std::array<int64_t, 3>{1, 2, 2});
    CHECK(n.totalStride() == std::array<int64_t, 3>{4, 8, 8});
    CHECK(n.negativeSlope == 0.01);
    CHECK(n.inputChannels == 1);
    CHECK(n.outputChannels == 3);
    REQUIRE(p.folds.size() == 2);
    CHECK(p.folds[0].name == "0");
    CHECK(p.folds[1].name == "1");
    CHECK(fs::path(p.folds[1].checkpoint).filename() == "checkpoint_final.pth");
}

TEST_CASE("residual encoders, transposes, masks and regions are read", "[nnunet]") {
    const NnunetPlan r = readNnunetFolder(test::nnunetModelFolder("Dataset902_ResEncMR2ch"), {});
    CHECK(r.network.kind == NnunetNetwork::Kind::ResidualEncoderUNet);
    CHECK(r.network.perStage == std::vector<int>{1, 2, 2, 2});
    CHECK(r.network.perDecoderStage == std::vector<int>{1, 1, 1});
    CHECK(r.transposeForward == std::array<int, 3>{2, 0, 1});
    CHECK(r.transposeBackward == std::array<int, 3>{1, 2, 0});
    CHECK(r.channelNames == std::vector<std::string>{"T1", "T2"});
    CHECK(r.normalization[0].scheme == NnunetNormalization::Scheme::ZScore);
    CHECK(r.normalization[0].useMask);
    const NnunetPlan regions = readNnunetFolder(test::nnunetModelFolder("Dataset903_RegionsMR"), {});
    CHECK(regions.labels.regions);
    CHECK(regions.labels.heads == 3);
    CHECK(regions.labels.regionOrder == std::vector<int>{1, 2, 3});
    CHECK(regions.labels.names ==
          std::vector<std::string>{"background", "whole_tumor", "tumor_core", "enhancing_tumor"});
    CHECK(regions.labels.regionLabels[1] == std::vector<int>{2, 3});
    CHECK(regions.network.outputChannels == 3);
}

TEST_CASE("the older plans format is converted as nnU-Net converts it", "[nnunet]") {
    const NnunetPlan p = readNnunetFolder(test::nnunetModelFolder("Dataset904_OldPlansCT"), {});
    CHECK(p.network.kind == NnunetNetwork::Kind::PlainConvUNet);
    CHECK(p.network.features == std::vector<int64_t>{4, 8, 16}); // min(4 * 2^s, 16)
    CHECK(p.network.perStage == std::vector<int>{2, 2, 2});
    CHECK(p.network.strides[2] == std::array<int64_t, 3>{2, 2, 2});
    CHECK(p.network.convBias);
    CHECK(p.reorientToRas);
    CHECK_FALSE(p.notes.empty());
}

TEST_CASE("folders are found from datasets, folds and checkpoints", "[nnunet]") {
    const std::string folder = test::nnunetModelFolder("Dataset901_PlainCTAniso");
    const std::string dataset = fs::path(folder).parent_path().string();
    CHECK(isNnunetPath(folder));
    CHECK(isNnunetPath(dataset));
    CHECK(isNnunetPath(folder + "/fold_1"));
    CHECK(isNnunetPath(folder + "/fold_1/checkpoint_final.pth"));
    CHECK_FALSE(isNnunetPath(fs::path(dataset).parent_path().string() + "/../refs"));
    CHECK(locateNnunetFolder(dataset, {}).folder == folder);
    const NnunetLocation fold = locateNnunetFolder(folder + "/fold_1/checkpoint_final.pth", {});
    CHECK(fold.folder == folder);
    CHECK(fold.options.folds == std::vector<std::string>{"1"});
    NnunetOptions only;
    only.folds = {"1"};
    const NnunetPlan p = readNnunetFolder(folder, only);
    REQUIRE(p.folds.size() == 1);
    CHECK(p.folds[0].name == "1");
    only.folds = {"3"};
    CHECK_THAT(errorOf([&] { readNnunetFolder(folder, only); }),
               Catch::Contains("fold_3/checkpoint_final.pth: fold 3 does not exist"));
    NnunetOptions best;
    best.checkpointName = "checkpoint_best.pth";
    CHECK_THAT(errorOf([&] { readNnunetFolder(folder, best); }), Catch::Contains("no fold_<k>/checkpoint_best.pth"));
}

TEST_CASE("a dataset folder with several configurations takes 3d_fullres or asks", "[nnunet]") {
    test::TempDir dir;
    const std::string source = test::nnunetModelFolder("Dataset901_PlainCTAniso");
    for (const char* name : {"nnUNetTrainer__nnUNetPlans__3d_fullres", "nnUNetTrainer__nnUNetPlans__3d_lowres"}) {
        fs::create_directories(dir.path() / name / "fold_0");
        for (const char* file : {"plans.json", "dataset.json", "fold_0/checkpoint_final.pth"})
            fs::copy_file(fs::path(source) / file, dir.path() / name / file);
    }
    const NnunetLocation full = locateNnunetFolder(dir.path().string(), {});
    CHECK(fs::path(full.folder).filename() == "nnUNetTrainer__nnUNetPlans__3d_fullres");
    CHECK_FALSE(full.notes.empty());
    fs::remove_all(dir.path() / "nnUNetTrainer__nnUNetPlans__3d_fullres");
    fs::create_directories(dir.path() / "nnUNetTrainer__nnUNetPlans__2d" / "fold_0");
    for (const char* file : {"plans.json", "dataset.json"})
        fs::copy_file(fs::path(source) / file, dir.path() / "nnUNetTrainer__nnUNetPlans__2d" / file);
    CHECK_THAT(errorOf([&] { locateNnunetFolder(dir.path().string(), {}); }),
               Catch::Contains("choose one with --configuration"));
    NnunetOptions lowres;
    lowres.configuration = "3d_lowres";
    CHECK(fs::path(locateNnunetFolder(dir.path().string(), lowres).folder).filename() ==
          "nnUNetTrainer__nnUNetPlans__3d_lowres");
}

TEST_CASE("TotalSegmentator's weights folder opens as it is installed, and a results folder names its datasets",
          "[nnunet]") {
    // TotalSegmentator installs plain nnU-Net v2 folders below ~/.totalsegmentator/nnunet/results:
    // older-format plans (nnU-Net <= 2.2, as Dataset904), a *NoMirroring trainer, fold_0 only.
    test::TempDir dir;
    const std::string source = test::nnunetModelFolder("Dataset904_OldPlansCT");
    const fs::path results = dir.path() / ".totalsegmentator" / "nnunet" / "results";
    auto install = [&](const std::string& dataset) {
        const fs::path folder = results / dataset / "nnUNetTrainerNoMirroring__nnUNetPlans__3d_fullres";
        fs::create_directories(folder / "fold_0");
        for (const char* file : {"plans.json", "dataset.json", "fold_0/checkpoint_final.pth"})
            fs::copy_file(fs::path(source) / file, folder / file);
        return folder.string();
    };
    const std::string organs = install("Dataset291_TotalSegmentator_part1_organs_1559subj");
    for (const fs::path& path : {results, results.parent_path() / "results" /
                                              "Dataset291_TotalSegmentator_part1_"
                                              "organs_1559subj"}) {
        CHECK(isNnunetPath(path.string()));
        const NnunetLocation at = locateNnunetFolder(path.string(), {});
        CHECK(at.folder == organs);
        const NnunetPlan plan = readNnunetFolder(at.folder, at.options);
        CHECK(plan.trainer == "nnUNetTrainerNoMirroring");
        REQUIRE(plan.folds.size() == 1);
        CHECK(plan.folds[0].name == "0");
    }
    install("Dataset292_TotalSegmentator_part2_vertebrae_1532subj");
    CHECK_THAT(errorOf([&] { locateNnunetFolder(results.string(), {}); }),
               Catch::Contains("an nnU-Net results folder with 2 datasets (Dataset291_TotalSegmentator_part1_organs_"
                               "1559subj, Dataset292_TotalSegmentator_part2_vertebrae_1532subj); open one of them"));
}

TEST_CASE("what nnU-Net folders SegXAI cannot use is refused with the file and the field", "[nnunet]") {
    const std::string folder = test::nnunetModelFolder("Dataset901_PlainCTAniso");
    const std::string dataset = text(folder + "/dataset.json");
    const std::string plans = text(folder + "/plans.json");
    auto plansWith = [&](const std::string& from, const std::string& to) {
        std::string p = plans;
        const auto at = p.find(from);
        REQUIRE(at != std::string::npos);
        return p.replace(at, from.size(), to);
    };
    auto error = [&](const std::string& d, const std::string& p) {
        return errorOf([&] { parseNnunetPlan(d, p, "3d_fullres", "F"); });
    };
    CHECK_THAT(error(dataset, plansWith("unet.PlainConvUNet", "primus.Primus")),
               Catch::Contains("F/plans.json: 'configurations.3d_fullres.architecture.network_class_name' names "
                               "'dynamic_network_architectures.architectures.primus.Primus'"));
    CHECK_THAT(error(dataset, plansWith("\"CTNormalization\"", "\"MyNormalization\"")),
               Catch::Contains("'configurations.3d_fullres.normalization_schemes[0]' names 'MyNormalization'"));
    CHECK_THAT(error(dataset, plansWith("\"NibabelIO\"", "\"Tiff3DIO\"")),
               Catch::Contains("'image_reader_writer' names 'Tiff3DIO'"));
    CHECK_THAT(errorOf([&] { parseNnunetPlan(dataset, plans, "2d", "F"); }),
               Catch::Contains("F/plans.json: 'configurations' has no configuration '2d' (it has: 3d_fullres)"));
    std::string regions = dataset;
    regions.replace(regions.find("\"lesion\": 2"), 11, "\"lesion\": [1, 2]");
    CHECK_THAT(error(regions, plans), Catch::Contains("F/dataset.json: 'regions_class_order' is missing"));
    std::string gap = dataset;
    gap.replace(gap.find("\"lesion\": 2"), 11, "\"lesion\": 3");
    CHECK_THAT(error(gap, plans), Catch::Contains("F/dataset.json: 'labels' must number the labels 0, 1, 2"));
    CHECK_THAT(error(dataset, "{\"configurations\": "), Catch::Contains("F/plans.json: not valid JSON"));
}
