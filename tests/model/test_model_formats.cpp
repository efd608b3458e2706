// Formats users bring that SegXAI cannot run, each refused with the file and what to do, and
// models that run with a caveat, said in the log and the report.
#include "engine/core/error.h"
#include "engine/model/inference.h"
#include "engine/model/model.h"
#include "tests/support/nnunet_refs.h"
#include "tests/support/temp_dir.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <torch/script.h>

using namespace segxai;
namespace fs = std::filesystem;

namespace {

const std::string kData = SEGXAI_TEST_DATA;

Study studyOf(Volume channel) {
    Study s;
    s.geometry = channel.geometry;
    s.channels.push_back(std::move(channel));
    return s;
}

Volume ramp(Index3 dims) {
    Geometry g;
    g.dims = dims;
    return test::makeVolume(g, [](int64_t i, int64_t j, int64_t k) { return float(i - j + k % 3); });
}

// A copy of an nnU-Net reference folder that a test may damage.
fs::path copiedNnunetFolder(const test::TempDir& dir, const std::string& dataset) {
    const fs::path from = test::nnunetModelFolder(dataset);
    const fs::path to = dir.path() / dataset / from.filename();
    fs::create_directories(to.parent_path());
    fs::copy(from, to, fs::copy_options::recursive);
    return to;
}

} // namespace

TEST_CASE("a MONAI bundle with only its weights says how to export model.ts", "[model][formats]") {
    test::TempDir dir;
    fs::create_directories(dir.path() / "models");
    fs::create_directories(dir.path() / "configs");
    std::ofstream(dir.path() / "configs" / "metadata.json") << "{\"name\": \"spleen\"}";
    fs::copy_file(kData + "/checkpoints/plain_state_dict.pth", dir.path() / "models" / "model.pt");
    CHECK_THROWS_WITH(Model::load(dir.path().string()), Catch::Contains("models/model.pt") &&
                                                            Catch::Contains("state dict") &&
                                                            Catch::Contains("monai.bundle ckpt_export"));
}

TEST_CASE("TensorRT modules and torch.export programs say why they cannot load", "[model][formats]") {
    test::TempDir dir;
    std::ofstream(dir.file("model.pt2")) << "PK not really a zip";
    CHECK_THROWS_WITH(Model::load(dir.file("model.pt2")), Catch::Contains("torch.export") && Catch::Contains("1.13"));
    std::ofstream(dir.file("model_trt.ts")) << "a serialized TensorRT engine";
    CHECK_THROWS_WITH(Model::load(dir.file("model_trt.ts")), Catch::Contains("model_trt.ts") &&
                                                                 Catch::Contains("TensorRT") &&
                                                                 Catch::Contains("models/model.ts"));
    fs::copy_file(kData + "/checkpoints/plain_state_dict.pth", dir.path() / "weights.pth");
    CHECK_THROWS_WITH(Model::load(dir.file("weights.pth")), Catch::Contains("torch.save file"));
}

TEST_CASE("nnU-Net folders that cannot load name the file and the field", "[model][formats][nnunet]") {
    test::TempDir dir;
    const fs::path folder = copiedNnunetFolder(dir, "Dataset904_OldPlansCT");
    NnunetOptions missing;
    missing.folds = {"3"};
    CHECK_THROWS_WITH(Model::load(folder.string(), missing),
                      Catch::Contains("fold_3") && Catch::Contains("checkpoint_final.pth"));

    const fs::path checkpoint = folder / "fold_0" / "checkpoint_final.pth";
    fs::resize_file(checkpoint, fs::file_size(checkpoint) / 2);
    CHECK_THROWS_WITH(Model::load(folder.string()), Catch::Contains(checkpoint.string()));

    const fs::path plans = copiedNnunetFolder(dir, "Dataset901_PlainCTAniso") / "plans.json";
    std::ifstream in(plans);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    const std::string from = "dynamic_network_architectures.architectures.unet.PlainConvUNet";
    REQUIRE(text.find(from) != std::string::npos);
    text.replace(text.find(from), from.size(), "my_package.SwinUNETR");
    std::ofstream(plans) << text;
    CHECK_THROWS_WITH(Model::load(plans.parent_path().string()), Catch::Contains("plans.json") &&
                                                                     Catch::Contains("network_class_name") &&
                                                                     Catch::Contains("SwinUNETR"));
}

TEST_CASE("a card whose classes do not match the outputs is named by index, with a note", "[model][formats]") {
    test::TempDir dir;
    const fs::path model = dir.path() / "axis_probe.pt";
    fs::copy_file(kData + "/models/axis_probe.pt", model);
    std::ofstream(dir.file("axis_probe.json"))
        << R"({"name": "probe", "classes": [{"name": "background"}, {"name": "liver"}, {"name": "spleen"},
              {"name": "kidney"}]})";
    const auto loaded = Model::load(model.string());
    const Segmentation s = segmentStudy(*loaded, studyOf(ramp({5, 6, 7})));
    CHECK(s.classNames == std::vector<std::string>{"background", "liver"});
    REQUIRE(s.notes.size() == 1);
    CHECK_THAT(s.notes[0], Catch::Contains("names 4 classes") && Catch::Contains("2 'spleen'") &&
                               Catch::Contains("outputs 2 channels") && Catch::Contains("from index 2 on"));
}

TEST_CASE("a model that returns a tuple is used through its first output, said once", "[model][formats]") {
    test::TempDir dir;
    torch::jit::Module net("__torch__.DeepSupervision");
    net.define("def forward(self, x):\n"
               "    y = torch.cat([x, -x], 1)\n"
               "    return (y, y[:, :, ::2, ::2, ::2])\n");
    net.save(dir.file("deep.pt"));
    const auto model = Model::load(dir.file("deep.pt"));
    const Study study = studyOf(ramp({4, 4, 4}));
    const Segmentation first = segmentStudy(*model, study);
    const Segmentation second = segmentStudy(*model, study);
    REQUIRE(first.notes.size() == 1);
    CHECK_THAT(first.notes[0], Catch::Contains("tuple") && Catch::Contains("first output"));
    CHECK(second.notes == first.notes);
    CHECK(first.probabilities.size() == 2);
}
