// Layer capture against Python forward hooks (tests/data/models/tiny_unet_expected.pt).
#include "engine/core/error.h"
#include "engine/model/model.h"
#include "engine/torch/layer_capture.h"
#include "engine/torch/model_impl.h"

#include <catch2/catch.hpp>
#include <torch/csrc/autograd/autograd.h>

using namespace segxai;

namespace {

const std::string kModels = SEGXAI_TEST_DATA "/models/";

double maxError(const torch::Tensor& a, const torch::Tensor& b) {
    REQUIRE(a.sizes() == b.sizes());
    return (a - b).abs().max().item<double>() / std::max(1.0, b.abs().max().item<double>());
}

} // namespace

TEST_CASE("captured layers and their gradients equal Python's hooks", "[capture]") {
    torch::jit::Module expected = torch::jit::load(kModels + "tiny_unet_expected.pt");
    const torch::Tensor input = expected.attr("input").toTensor();
    const std::vector<std::string> paths = {"model.0",
                                            "model.0.conv",
                                            "model.1",
                                            "model.1.submodule.0",
                                            "model.1.submodule.1",
                                            "model.1.submodule.1.submodule",
                                            "model.1.submodule.2.adn.A",
                                            "model.2"};
    for (const std::string file : {"tiny_unet_traced.pt", "tiny_unet_scripted.pt"}) {
        const auto model = Model::load(kModels + file);
        for (const auto& path : paths) {
            INFO(file << " " << path);
            std::string key = path;
            std::replace(key.begin(), key.end(), '.', '_');
            const auto capture = layerCapture(*model, path);
            // Twice: the second run is where LibTorch's profiling executor would go wrong.
            for (int run = 0; run < 2; ++run) {
                const torch::Tensor x = input.clone().requires_grad_(true);
                const CapturedForward f = capture->forward(x);
                CHECK(maxError(f.output, expected.attr("output").toTensor()) < 1e-5);
                CHECK(maxError(f.activation, expected.attr("act_" + key).toTensor()) < 1e-5);
                // The forward cut at the layer gives the same activation, exactly.
                CHECK(torch::equal(capture->activation(input), f.activation.detach()));
                const torch::Tensor score = f.output
                                                .index({0, 1, torch::indexing::Slice(2, 6),
                                                        torch::indexing::Slice(3, 9), torch::indexing::Slice(1, 5)})
                                                .sum();
                const auto grads = torch::autograd::grad({score}, {f.activation, x});
                CHECK(maxError(grads[0], expected.attr("gact_" + key).toTensor()) < 1e-5);
                CHECK(maxError(grads[1], expected.attr("gin_" + key).toTensor()) < 1e-5);
            }
        }
    }
}

TEST_CASE("a captured layer equals running that submodule directly", "[capture]") {
    const auto model = Model::load(kModels + "tiny_unet_traced.pt");
    torch::jit::Module expected = torch::jit::load(kModels + "tiny_unet_expected.pt");
    const torch::Tensor input = expected.attr("input").toTensor();
    torch::NoGradGuard noGrad;
    const CapturedForward f = layerCapture(*model, "model.0")->forward(input);
    torch::jit::Module first = model->impl().module.attr("model").toModule().attr("0").toModule();
    const torch::Tensor direct = first.forward({input}).toTensor();
    CHECK(maxError(f.activation, direct) == 0.0);
    // The model's parameters never become differentiable.
    for (const auto& p : model->impl().module.parameters())
        CHECK_FALSE(p.requires_grad());
}

TEST_CASE("unknown or unusable layers are refused with what to use instead", "[capture]") {
    const auto model = Model::load(kModels + "tiny_unet_traced.pt");
    CHECK_THROWS_WITH(layerCapture(*model, "model.1.submodul.1"),
                      Catch::Contains("no layer 'model.1.submodul.1'") && Catch::Contains("model.1.submodule.1"));
    CHECK_THROWS_WITH(layerCapture(*model, ""), Catch::Contains("no layer given"));
    CHECK_THROWS_WITH(layerCapture(*model, "model.0#x"), Catch::Contains("call number"));
    CHECK_THROWS_WITH(layerCapture(*model, "model.0#3"), Catch::Contains("no call #3"));
}

TEST_CASE("the layer catalogue lists every submodule with its output shape", "[capture]") {
    const auto model = Model::load(kModels + "tiny_unet_scripted.pt");
    const auto layers = model->layers({2, 16, 20, 12});
    REQUIRE(layers.size() == 26);
    auto find = [&](const std::string& path) {
        for (const auto& l : layers) {
            if (l.path == path) return l;
        }
        FAIL("missing " << path);
        return LayerInfo{};
    };
    CHECK(find("model.1.submodule.1").shape == std::vector<int64_t>{1, 24, 4, 5, 3});
    CHECK(find("model.1.submodule.1").type == "SkipConnection");
    CHECK(find("model.2.conv").shape == std::vector<int64_t>{1, 3, 16, 20, 12});
    CHECK(find("model.0.adn.N").type == "BatchNorm3d");
    for (const auto& l : layers)
        CHECK(l.capturable);
}
