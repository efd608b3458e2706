// nnU-Net results folders loaded natively against nnU-Net's own predictor (tests/data/nnunet):
// the rebuilt networks' logits and the whole prediction (labels, probabilities) per variant.
#include "engine/core/half.h"
#include "engine/core/job_runner.h"
#include "engine/explain/explanation.h"
#include "engine/io/image_io.h"
#include "engine/io/study_loader.h"
#include "engine/model/inference.h"
#include "engine/model/model.h"
#include "engine/torch/gradient_pass.h"
#include "engine/torch/layer_capture.h"
#include "engine/torch/model_impl.h"
#include "engine/torch/nnunet_predict.h"
#include "tests/support/nnunet_refs.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <torch/csrc/autograd/autograd.h>

using namespace segxai;

namespace {

std::string refs(const std::string& dataset) {
    return test::nnunetData() + "/refs/" + dataset + "/";
}

struct Variant {
    std::string dataset, name;
    std::vector<std::string> folds;
    bool mirroring;
    size_t channels;
};

const std::vector<Variant> kVariants = {
    {"Dataset901_PlainCTAniso", "f0_nomirror", {"0"}, false, 1},
    {"Dataset901_PlainCTAniso", "f1_nomirror", {"1"}, false, 1},
    {"Dataset901_PlainCTAniso", "ens_nomirror", {"0", "1"}, false, 1},
    {"Dataset901_PlainCTAniso", "ens_mirror", {"0", "1"}, true, 1},
    {"Dataset902_ResEncMR2ch", "f0_nomirror", {"0"}, false, 2},
    {"Dataset902_ResEncMR2ch", "f0_mirror", {"0"}, true, 2},
    {"Dataset903_RegionsMR", "f0_default", {"0"}, true, 1},
    {"Dataset904_OldPlansCT", "f0_nomirror", {"0"}, false, 1},
    {"Dataset904_OldPlansCT", "f0_mirror", {"0"}, true, 1},
};

std::shared_ptr<const Model> loadVariant(const Variant& v) {
    NnunetOptions options;
    options.folds = v.folds;
    options.mirroring = v.mirroring;
    return Model::load(test::nnunetModelFolder(v.dataset), options);
}

} // namespace

TEST_CASE("nnU-Net's sliding-window steps and Gaussian are its own", "[nnunet]") {
    CHECK(nnunetWindowSteps(110, 64, 0.5) == std::vector<int64_t>{0, 23, 46});
    CHECK(nnunetWindowSteps(32, 32, 0.5) == std::vector<int64_t>{0});
    const std::vector<uint16_t> g = nnunetGaussian({16, 32, 32});
    CHECK(halfToFloat(g[size_t((8 * 32 + 16) * 32 + 16)]) == 10.0f);
    CHECK(halfToFloat(g[0]) > 0.0f); // corners underflow and take the smallest non-zero weight
}

TEST_CASE("rebuilt nnU-Net networks give nnU-Net's sliding-window logits", "[nnunet]") {
    for (const std::string dataset :
         {"Dataset901_PlainCTAniso", "Dataset902_ResEncMR2ch", "Dataset903_RegionsMR", "Dataset904_OldPlansCT"}) {
        INFO(dataset);
        const std::string variant = dataset == "Dataset903_RegionsMR" ? "f0_default" : "f0_nomirror";
        NnunetOptions options;
        options.folds = {"0"};
        options.mirroring = false;
        const auto model = Model::load(test::nnunetModelFolder(dataset), options);
        const test::RawArray data = test::readRawArray(refs(dataset) + "pre_" + variant + "_data");
        const test::RawArray expected = test::readRawArray(refs(dataset) + "pre_" + variant + "_logits");
        torch::Tensor input = torch::from_blob(const_cast<float*>(data.values.data()), data.shape).unsqueeze(0).clone();
        const NnunetEnsemble& e = *model->impl().nnunet;
        auto forward = [&](size_t fold, const torch::Tensor& w) {
            return const_cast<torch::jit::Module&>(e.folds[fold]).forward({w}).toTensor();
        };
        torch::InferenceMode guard;
        const std::vector<uint16_t> logits = nnunetPredictLogits(e, input, forward, nullptr);
        REQUIRE(logits.size() == expected.values.size());
        double worst = 0.0;
        size_t exact = 0;
        for (size_t n = 0; n < logits.size(); ++n) {
            const double d = std::abs(double(halfToFloat(logits[n])) - double(expected.values[n]));
            worst = std::max(worst, d);
            exact += d == 0.0;
        }
        std::printf("nnU-Net logits, %s: %zu of %zu equal, largest difference %.3g\n", dataset.c_str(), exact,
                    logits.size(), worst);
        CHECK(worst < 0.05);
    }
}

TEST_CASE("nnU-Net folders predict as nnU-Net's predictor does", "[nnunet]") {
    for (const Variant& v : kVariants) {
        INFO(v.dataset << " " << v.name);
        const auto model = loadVariant(v);
        StudyRequest request;
        for (size_t c = 0; c < v.channels; ++c)
            request.channelPaths.push_back(refs(v.dataset) + fmt::format("case_{:04d}.nii.gz", c));
        request.keepChannelOrder = true;
        const Study study = loadStudy(request);
        const Segmentation s = segmentStudy(*model, study);
        const LabelVolume expected = readLabelVolume(refs(v.dataset) + "pred_" + v.name + "_labels.nii.gz");
        REQUIRE(expected.labels.size() == s.labels.labels.size());
        size_t same = 0;
        for (size_t n = 0; n < expected.labels.size(); ++n)
            same += expected.labels[n] == s.labels.labels[n];
        const test::RawArray p = test::readFloatNifti(refs(v.dataset) + "pred_" + v.name + "_probabilities.nii.gz");
        const NnunetPlan& plan = *model->nnunetPlan();
        double worst = 0.0;
        const size_t voxels = s.labels.labels.size();
        for (size_t k = 0; k < size_t(p.shape[3]); ++k) {
            const size_t to = plan.labels.regions ? size_t(plan.labels.regionOrder[k]) : k;
            for (size_t n = 0; n < voxels; ++n)
                worst = std::max(worst, double(std::abs(p.values[k * voxels + n] - s.probabilities.at(to, n))));
        }
        std::printf("nnU-Net prediction, %s %s: labels %zu of %zu equal (%.4f %%), largest probability difference "
                    "%.3g, %.2f s\n",
                    v.dataset.c_str(), v.name.c_str(), same, voxels, 100.0 * double(same) / double(voxels), worst,
                    s.seconds);
        CHECK(double(same) >= 0.999 * double(voxels));
        CHECK(worst < 1e-3);
        CHECK(s.classNames == plan.labels.names);
    }
}

namespace {

double relativeDifference(const torch::Tensor& got, const test::RawArray& expected) {
    const torch::Tensor ref = torch::from_blob(const_cast<float*>(expected.values.data()), expected.shape);
    return (got.reshape(ref.sizes()) - ref).abs().max().item<double>() /
           std::max(1e-30, ref.abs().max().item<double>());
}

} // namespace

TEST_CASE("gradients and layer activations of rebuilt networks are PyTorch's", "[nnunet]") {
    for (const std::string dataset : {"Dataset901_PlainCTAniso", "Dataset902_ResEncMR2ch"}) {
        INFO(dataset);
        const std::string dir = refs(dataset) + "gradcam_fold0/";
        NnunetOptions options;
        options.folds = {"0"};
        options.mirroring = false;
        const auto model = Model::load(test::nnunetModelFolder(dataset), options);
        const nlohmann::json how = test::readJson(dir + "gradcam.json");
        const int64_t cls = how["class"].get<int64_t>();
        const test::RawArray input = test::readRawArray(dir + "input");
        const torch::Tensor x = torch::from_blob(const_cast<float*>(input.values.data()), input.shape).clone();
        for (const std::string layer : {"encoder.stages.2", "decoder.stages.0"}) {
            INFO(layer);
            const WindowForward f = forwardWithGrad(*model, x, layer);
            const torch::Tensor mask = (f.output.argmax(1, true) == cls).detach();
            const torch::Tensor score = f.output.select(1, cls).masked_select(mask.squeeze(1)).sum();
            const auto grads = torch::autograd::grad({score}, {f.activation, f.leaf});
            const std::string name = layer == "encoder.stages.2" ? "encoder_stages_2" : "decoder_stages_0";
            const double dAct = relativeDifference(f.activation.detach(), test::readRawArray(dir + "act_" + name));
            const double dGrad = relativeDifference(grads[0], test::readRawArray(dir + "grad_" + name));
            const double dInput = relativeDifference(grads[1], test::readRawArray(dir + "grad_input"));
            std::printf("nnU-Net %s %s: S %.6g (PyTorch %.6g), relative differences: activation %.2g, its gradient "
                        "%.2g, input gradient %.2g\n",
                        dataset.c_str(), layer.c_str(), score.item<double>(), how["S"].get<double>(), dAct, dGrad,
                        dInput);
            CHECK(dAct < 1e-4);
            CHECK(dGrad < 1e-4);
            CHECK(dInput < 1e-4);
        }
    }
}

TEST_CASE("a module registered under several names is explained by any of them", "[nnunet][layers]") {
    NnunetOptions options;
    options.folds = {"0"};
    options.mirroring = false;
    const auto model = Model::load(test::nnunetModelFolder("Dataset901_PlainCTAniso"), options);
    const auto& patch = model->nnunetPlan()->patch;
    const std::vector<LayerInfo> layers = model->layers({1, patch[0], patch[1], patch[2]});
    auto find = [&](const std::string& path) {
        const auto it = std::find_if(layers.begin(), layers.end(), [&](const LayerInfo& l) { return l.path == path; });
        REQUIRE(it != layers.end());
        return *it;
    };
    const LayerInfo canonical = find("encoder.stages.2");
    const LayerInfo alias = find("decoder.encoder.stages.2");
    CHECK(canonical.capturable);
    CHECK(alias.capturable);
    CHECK(alias.shape == canonical.shape);
    CHECK(alias.note == "alias of encoder.stages.2 (forward() calls it by that name)");
    CHECK(find("encoder.stages.0.0.convs.0.all_modules.0").shape == find("encoder.stages.0.0.convs.0.conv").shape);
    const torch::Tensor x = torch::randn({1, 1, patch[0], patch[1], patch[2]});
    torch::NoGradGuard noGrad;
    for (const auto& [name, same] : std::vector<std::pair<std::string, std::string>>{
             {"decoder.encoder.stages.2", "encoder.stages.2"},
             {"encoder.stages.0.0.convs.0.all_modules.0", "encoder.stages.0.0.convs.0.conv"},
             {"decoder.encoder.stages.1.0.convs.1.all_modules.2", "encoder.stages.1.0.convs.1.nonlin"}}) {
        INFO(name);
        const auto a = layerCapture(*model, name)->forward(x).activation;
        const auto b = layerCapture(*model, same)->forward(x).activation;
        CHECK(torch::equal(a, b));
    }
}

TEST_CASE("a traced PlainConvUNet's encoder is explained by either of its names", "[nnunet][layers]") {
    // torch.jit.trace keeps encoder and decoder.encoder as copies sharing their weights and
    // calls the second.
    const auto model = Model::load(std::string(SEGXAI_TEST_DATA) + "/models/traced_plainconvunet.pt");
    const std::vector<LayerInfo> layers = model->layers({1, 16, 16, 16});
    const auto it =
        std::find_if(layers.begin(), layers.end(), [](const LayerInfo& l) { return l.path == "encoder.stages.1"; });
    REQUIRE(it != layers.end());
    CHECK(it->capturable);
    CHECK(it->shape == std::vector<int64_t>{1, 8, 8, 8, 8});
    CHECK(it->note == "alias of decoder.encoder.stages.1 (forward() calls it by that name)");
    const torch::Tensor x = torch::randn({1, 1, 16, 16, 16});
    torch::NoGradGuard noGrad;
    for (const std::string name : {"encoder.stages.1", "encoder.stages.0.0.convs.1.conv"}) {
        INFO(name);
        const std::string called = name == "encoder.stages.1" ? "decoder.encoder.stages.1"
                                                              : "decoder.encoder.stages.0.0.convs.1.all_modules.0";
        CHECK(torch::equal(layerCapture(*model, name)->forward(x).activation,
                           layerCapture(*model, called)->forward(x).activation));
    }
}

TEST_CASE("an ensemble's CAM is the mean of its members' CAMs", "[nnunet][explain]") {
    const std::string dataset = "Dataset901_PlainCTAniso";
    StudyRequest request;
    request.channelPaths = {refs(dataset) + "case_0000.nii.gz"};
    const Study study = loadStudy(request);
    auto load = [&](std::vector<std::string> folds) {
        NnunetOptions options;
        options.folds = std::move(folds);
        options.mirroring = false;
        return Model::load(test::nnunetModelFolder(dataset), options);
    };
    const auto ensemble = load({"0", "1"});
    const Segmentation s = segmentStudy(*ensemble, study);
    Target target;
    target.classIndex = 1;
    target.className = s.classNames[1];
    target.mask.resize(s.labels.labels.size());
    for (size_t n = 0; n < target.mask.size(); ++n)
        target.voxelCount += target.mask[n] = s.labels.labels[n] == 1;
    REQUIRE(target.voxelCount > 0);
    ExplainParameters parameters;
    parameters.layer = "encoder.stages.2";
    auto cam = [&](const Model& model) {
        const auto e = explain(model, study, target, {Method::SegGradCam}, parameters);
        return std::make_pair(e[0].maps[0].values.voxels, e[0].score);
    };
    const auto [both, bothScore] = cam(*ensemble);
    const auto [first, firstScore] = cam(*load({"0"}));
    const auto [second, secondScore] = cam(*load({"1"}));
    double worst = 0.0, scale = 0.0;
    for (size_t n = 0; n < both.size(); ++n) {
        worst = std::max(worst, double(std::abs(both[n] - 0.5f * (first[n] + second[n]))));
        scale = std::max(scale, double(std::abs(both[n])));
    }
    std::printf("nnU-Net ensemble Seg-Grad-CAM: largest difference from the folds' mean %.3g (values up to %.3g); "
                "S %.6g, folds %.6g and %.6g\n",
                worst, scale, bothScore, firstScore, secondScore);
    CHECK(scale > 0.0);
    CHECK(worst <= 1e-4 * scale);
    CHECK(std::abs(bothScore - 0.5 * (firstScore + secondScore)) <= 1e-4 * std::abs(bothScore));
}
