// 1x1x1 convolutions rewritten to a matrix product (engine/torch/convolutions.h): the
// same values and input gradients as LibTorch's convolution, scripted and traced.
#include "engine/torch/convolutions.h"

#include <catch2/catch.hpp>
#include <sstream>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/torch.h>

using namespace segxai;

namespace {

const std::string kModels = SEGXAI_TEST_DATA "/models/";

double relativeError(const torch::Tensor& a, const torch::Tensor& b) {
    REQUIRE(a.sizes() == b.sizes());
    return (a - b).abs().max().item<double>() / std::max(1.0, b.abs().max().item<double>());
}

std::string forwardGraph(const torch::jit::Module& module) {
    std::ostringstream text;
    for (const torch::jit::Module& sub : module.modules())
        for (const torch::jit::Method& method : sub.get_methods())
            text << *torch::jit::toGraphFunction(method.function()).graph();
    return text.str();
}

} // namespace

TEST_CASE("scripted 1x1x1 convolutions run as a product with LibTorch's values and gradients", "[model][pointwise]") {
    torch::manual_seed(7);
    const torch::Tensor w1 = torch::randn({6, 3, 1, 1, 1}), b1 = torch::randn({6});
    const torch::Tensor w3 = torch::randn({4, 6, 3, 3, 3}), w2 = torch::randn({5, 4, 1, 1, 1});
    const torch::Tensor strided = torch::randn({2, 5, 1, 1, 1});
    torch::jit::Module net("PointwiseNet");
    net.register_parameter("w1", w1, false);
    net.register_parameter("b1", b1, false);
    net.register_parameter("w3", w3, false);
    net.register_parameter("w2", w2, false);
    net.register_parameter("strided", strided, false);
    net.define("def forward(self, x):\n"
               "    y = torch.conv3d(x, self.w1, self.b1, [1, 1, 1], [0, 0, 0], [1, 1, 1], 1)\n"
               "    z = torch.conv3d(y, self.w3, None, [1, 1, 1], [1, 1, 1], [1, 1, 1], 1)\n"
               "    o = torch.conv3d(z, self.w2, None, [1, 1, 1], [0, 0, 0], [1, 1, 1], 1)\n"
               "    return torch.conv3d(o, self.strided, None, [2, 2, 2], [0, 0, 0], [1, 1, 1], 1)\n");
    auto reference = [&](const torch::Tensor& x) {
        const torch::Tensor y = torch::conv3d(x, w1, b1);
        const torch::Tensor z = torch::conv3d(y, w3, {}, 1, 1);
        return torch::conv3d(torch::conv3d(z, w2), strided, {}, 2);
    };

    CHECK(useOwnConvolutions(net) == 4);
    const std::string graph = forwardGraph(net);
    CHECK(graph.find("aten::conv3d") == std::string::npos);
    CHECK(graph.find("segxai::conv3d") != std::string::npos);

    const torch::Tensor input = torch::randn({2, 3, 10, 9, 8});
    {
        torch::InferenceMode noAutograd;
        CHECK(relativeError(net.forward({input}).toTensor(), reference(input)) < 1e-5);
    }
    const torch::Tensor x = input.clone().requires_grad_(true), xr = input.clone().requires_grad_(true);
    const torch::Tensor weights = torch::randn({2, 2, 5, 5, 4});
    (net.forward({x}).toTensor() * weights).sum().backward();
    (reference(xr) * weights).sum().backward();
    CHECK(relativeError(x.grad(), xr.grad()) < 1e-5);
}

TEST_CASE("traced 1x1x1 convolutions run as a product with LibTorch's values", "[model][pointwise]") {
    // local_fcn.pt: torch.jit.trace of conv 3x3x3, relu, conv 3x3x3, relu, conv 1x1x1.
    torch::jit::Module untouched = torch::jit::load(kModels + "local_fcn.pt");
    torch::jit::Module rewritten = torch::jit::load(kModels + "local_fcn.pt");
    CHECK(useOwnConvolutions(rewritten) == 3);
    const std::string graph = forwardGraph(rewritten);
    CHECK(graph.find("aten::_convolution") == std::string::npos);
    CHECK(graph.find("segxai::convolution") != std::string::npos);
    torch::manual_seed(3);
    const torch::Tensor input = torch::randn({1, 1, 12, 11, 10});
    torch::InferenceMode noAutograd;
    CHECK(relativeError(rewritten.forward({input}).toTensor(), untouched.forward({input}).toTensor()) < 1e-5);
}
