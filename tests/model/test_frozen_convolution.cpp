// Convolutions of frozen weights run for the input's gradient (engine/torch/frozen_convolution.h):
// LibTorch's values and input gradients, computed in double precision as the reference, for
// every kind of convolution a segmentation network has, and through a rewritten model.
#include "engine/torch/convolutions.h"
#include "engine/torch/frozen_convolution.h"

#include <catch2/catch.hpp>
#include <sstream>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/torch.h>

using namespace segxai;

namespace {

double relativeError(const torch::Tensor& a, const torch::Tensor& b) {
    REQUIRE(a.sizes() == b.sizes());
    return (a.to(torch::kDouble) - b).abs().max().item<double>() / b.abs().max().item<double>();
}

struct Case {
    const char* name;
    int64_t in, out, kernel;
    ConvolutionArguments arguments;
};

// LibTorch's convolution in double precision: the reference value and input gradient.
std::pair<torch::Tensor, torch::Tensor> reference(const torch::Tensor& input, const torch::Tensor& weight,
                                                  const torch::Tensor& bias, const ConvolutionArguments& a,
                                                  const torch::Tensor& outputWeights) {
    const torch::Tensor x = input.to(torch::kDouble).requires_grad_(true);
    const torch::Tensor y = at::convolution(x, weight.to(torch::kDouble), bias.to(torch::kDouble), a.stride, a.padding,
                                            a.dilation, a.transposed, a.outputPadding, a.groups);
    (y * outputWeights.to(torch::kDouble)).sum().backward();
    return {y.detach(), x.grad()};
}

} // namespace

TEST_CASE("frozen convolutions give LibTorch's values and input gradients", "[model][convolution]") {
    const std::vector<Case> cases{
        {"stride 1, 3x3x3", 2, 2, 3, {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, 1, false}},
        {"stride 1, dilated, unpadded", 3, 4, 3, {{1, 1, 1}, {0, 1, 2}, {2, 1, 2}, {0, 0, 0}, 1, false}},
        {"stride 1, grouped", 4, 6, 3, {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, 2, false}},
        {"stride 2", 1, 5, 3, {{2, 2, 2}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, 1, false}},
        {"padding beyond the kernel's reach", 3, 2, 1, {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, 1, false}},
        {"transposed, stride 2", 6, 2, 3, {{2, 2, 2}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, 1, true}},
        {"transposed, grouped 2x2x2", 4, 2, 2, {{2, 2, 2}, {0, 0, 0}, {1, 1, 1}, {0, 0, 0}, 2, true}},
    };
    torch::manual_seed(11);
    for (const Case& c : cases) {
        for (int64_t batch : {1, 3}) {
            INFO(c.name << ", batch " << batch);
            const ConvolutionArguments& a = c.arguments;
            const torch::Tensor weight = a.transposed
                                             ? torch::randn({c.in, c.out / a.groups, c.kernel, c.kernel, c.kernel})
                                             : torch::randn({c.out, c.in / a.groups, c.kernel, c.kernel, c.kernel});
            const torch::Tensor bias = torch::randn({c.out});
            const torch::Tensor input = torch::randn({batch, c.in, 9, 8, 7});
            REQUIRE(convolvesFrozen(input, weight, bias, a));
            const torch::Tensor x = input.clone().requires_grad_(true);
            const torch::Tensor y = convolveFrozen(x, weight, bias, a);
            const torch::Tensor outputWeights = torch::randn(y.sizes());
            (y * outputWeights).sum().backward();
            const auto [value, gradient] = reference(input, weight, bias, a, outputWeights);
            CHECK(relativeError(y.detach(), value) < 1e-5);
            REQUIRE(x.grad().defined());
            CHECK(relativeError(x.grad(), gradient) < 1e-5);
            torch::InferenceMode noAutograd;
            CHECK(relativeError(convolveFrozen(input, weight, bias, a), value) < 1e-5);
        }
    }
}

TEST_CASE("only frozen float convolutions on the CPU are run as frozen", "[model][convolution]") {
    const ConvolutionArguments a{{1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, 1, false};
    const torch::Tensor input = torch::randn({1, 2, 6, 6, 6}), weight = torch::randn({3, 2, 3, 3, 3});
    CHECK(convolvesFrozen(input, weight, c10::nullopt, a));
    CHECK_FALSE(convolvesFrozen(input, weight.clone().requires_grad_(true), c10::nullopt, a));
    CHECK_FALSE(convolvesFrozen(input, weight, torch::randn({3}).requires_grad_(true), a));
    CHECK_FALSE(convolvesFrozen(input.to(torch::kDouble), weight.to(torch::kDouble), c10::nullopt, a));
    CHECK_FALSE(convolvesFrozen(input[0], weight[0], c10::nullopt, a)); // not 3D
    ConvolutionArguments wideOutputPadding{{2, 2, 2}, {1, 1, 1}, {3, 3, 3}, {2, 2, 2}, 1, true};
    CHECK_FALSE(convolvesFrozen(input, torch::randn({2, 3, 3, 3, 3}), c10::nullopt, wideOutputPadding));
}

TEST_CASE("a scripted network's convolutions and transposed convolutions run as SegXAI's with LibTorch's gradients",
          "[model][convolution]") {
    torch::manual_seed(5);
    const torch::Tensor down = torch::randn({8, 2, 3, 3, 3}), same = torch::randn({8, 8, 3, 3, 3});
    const torch::Tensor up = torch::randn({8, 3, 3, 3, 3}), upBias = torch::randn({3});
    torch::jit::Module net("UpDownNet");
    net.register_parameter("down", down, false);
    net.register_parameter("same", same, false);
    net.register_parameter("up", up, false);
    net.register_parameter("up_bias", upBias, false);
    net.define("def forward(self, x):\n"
               "    y = torch.relu(torch.conv3d(x, self.down, None, [2, 2, 2], [1, 1, 1], [1, 1, 1], 1))\n"
               "    z = torch.relu(torch.conv3d(y, self.same, None, [1, 1, 1], [1, 1, 1], [1, 1, 1], 1))\n"
               "    return torch.conv_transpose3d(z, self.up, self.up_bias, [2, 2, 2], [1, 1, 1], [1, 1, 1], 1, "
               "[1, 1, 1])\n");
    auto referenceNet = [&](const torch::Tensor& x) {
        const auto d = [](const torch::Tensor& t) { return t.to(torch::kDouble); };
        const torch::Tensor y = torch::relu(torch::conv3d(x, d(down), {}, 2, 1));
        const torch::Tensor z = torch::relu(torch::conv3d(y, d(same), {}, 1, 1));
        return torch::conv_transpose3d(z, d(up), d(upBias), 2, 1, 1);
    };
    CHECK(useOwnConvolutions(net) == 3);
    std::ostringstream graph;
    graph << *torch::jit::toGraphFunction(net.get_method("forward").function()).graph();
    CHECK(graph.str().find("segxai::conv_transpose3d") != std::string::npos);
    CHECK(graph.str().find("aten::conv") == std::string::npos);

    const torch::Tensor input = torch::randn({2, 2, 10, 8, 6});
    const torch::Tensor x = input.clone().requires_grad_(true);
    const torch::Tensor xr = input.to(torch::kDouble).requires_grad_(true);
    const torch::Tensor y = net.forward({x}).toTensor(), yr = referenceNet(xr);
    const torch::Tensor weights = torch::randn(y.sizes());
    (y * weights).sum().backward();
    (yr * weights.to(torch::kDouble)).sum().backward();
    CHECK(relativeError(y.detach(), yr.detach()) < 1e-5);
    CHECK(relativeError(x.grad(), xr.grad()) < 1e-5);
}
