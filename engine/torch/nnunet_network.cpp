#include "engine/torch/nnunet_network.h"

#include "engine/core/error.h"

#include <ATen/core/Tensor.h>
#include <fmt/format.h>
#include <map>
#include <set>

namespace segxai {
namespace {

using torch::jit::Module;

std::string list3(const std::array<int64_t, 3>& v) {
    return fmt::format("[{}, {}, {}]", v[0], v[1], v[2]);
}

// Makes the modules; each gets a class of its own (its attributes are its own), named so that
// the short type name is PyTorch's ("Conv3d", "InstanceNorm3d", ...).
class Builder {
public:
    explicit Builder(const NnunetNetwork& n) : m_net(n) {}

    Module make(const std::string& type) {
        return Module(c10::QualifiedName(fmt::format("__torch__.segxai_nnunet.m{}.{}", m_count++, type)), m_unit,
                      /*shouldMangle=*/true);
    }

    Module conv(int64_t in, int64_t out, const std::array<int64_t, 3>& kernel, const std::array<int64_t, 3>& stride,
                bool bias) {
        Module m = make("Conv3d");
        m.register_parameter("weight", torch::zeros({out, in, kernel[0], kernel[1], kernel[2]}), false);
        if (bias) m.register_parameter("bias", torch::zeros({out}), false);
        const std::array<int64_t, 3> padding{(kernel[0] - 1) / 2, (kernel[1] - 1) / 2, (kernel[2] - 1) / 2};
        m.define(fmt::format("def forward(self, x):\n"
                             "    return torch.conv3d(x, self.weight, {}, {}, {}, [1, 1, 1], 1)\n",
                             bias ? "self.bias" : "None", list3(stride), list3(padding)));
        return m;
    }

    Module norm(int64_t channels) {
        Module m = make("InstanceNorm3d");
        if (m_net.normAffine) {
            m.register_parameter("weight", torch::ones({channels}), false);
            m.register_parameter("bias", torch::zeros({channels}), false);
        }
        const char* affine = m_net.normAffine ? "self.weight, self.bias" : "None, None";
        m.define(fmt::format("def forward(self, x):\n"
                             "    return torch.instance_norm(x, {}, None, None, True, 0.1, {:.17g}, False)\n",
                             affine, m_net.normEps));
        return m;
    }

    Module nonlin() {
        Module m = make(m_net.negativeSlope == 0.0 ? "ReLU" : "LeakyReLU");
        m.define(
            m_net.negativeSlope == 0.0
                ? std::string("def forward(self, x):\n    return torch.relu(x)\n")
                : fmt::format("def forward(self, x):\n    return torch.leaky_relu(x, {:.17g})\n", m_net.negativeSlope));
        return m;
    }

    // ConvDropoutNormReLU: conv -> norm -> nonlin, with all_modules naming the same objects.
    Module convBlock(int64_t in, int64_t out, const std::array<int64_t, 3>& kernel,
                     const std::array<int64_t, 3>& stride, bool bias, bool withNonlin) {
        Module m = make("ConvDropoutNormReLU");
        std::vector<Module> parts{conv(in, out, kernel, stride, bias), norm(out)};
        m.register_module("conv", parts[0]);
        m.register_module("norm", parts[1]);
        if (withNonlin) {
            parts.push_back(nonlin());
            m.register_module("nonlin", parts[2]);
        }
        m.register_module("all_modules", container("Sequential", parts));
        m.define(
            withNonlin
                ? "def forward(self, x):\n    return self.nonlin.forward(self.norm.forward(self.conv.forward(x)))\n"
                : "def forward(self, x):\n    return self.norm.forward(self.conv.forward(x))\n");
        return m;
    }

    // A module holding children "0", "1", ...; a Sequential also chains them in forward().
    Module container(const std::string& type, const std::vector<Module>& children) {
        Module m = make(type);
        for (size_t i = 0; i < children.size(); ++i)
            m.register_module(std::to_string(i), children[i]);
        if (type == "Sequential") {
            std::string body = "def forward(self, x):\n";
            for (size_t i = 0; i < children.size(); ++i)
                body += fmt::format("    x = getattr(self, \"{}\").forward(x)\n", i);
            m.define(body + "    return x\n");
        }
        return m;
    }

    // StackedConvBlocks: `count` blocks, the first with `stride`.
    Module stackedConvs(int count, int64_t in, int64_t out, const std::array<int64_t, 3>& kernel,
                        const std::array<int64_t, 3>& stride) {
        std::vector<Module> blocks;
        for (int i = 0; i < count; ++i)
            blocks.push_back(convBlock(i == 0 ? in : out, out, kernel, i == 0 ? stride : ones(), m_net.convBias, true));
        Module m = make("StackedConvBlocks");
        m.register_module("convs", container("Sequential", blocks));
        m.define("def forward(self, x):\n    return self.convs.forward(x)\n");
        return m;
    }

    // BasicBlockD (ResNet-D): skip = avg-pool when strided, then a 1x1 projection when widths differ.
    Module basicBlock(int64_t in, int64_t out, const std::array<int64_t, 3>& kernel,
                      const std::array<int64_t, 3>& stride) {
        Module m = make("BasicBlockD");
        m.register_module("conv1", convBlock(in, out, kernel, stride, m_net.convBias, true));
        m.register_module("conv2", convBlock(out, out, kernel, ones(), m_net.convBias, false));
        m.register_module("nonlin2", nonlin());
        std::vector<Module> skip;
        if (stride != ones()) {
            Module pool = make("AvgPool3d");
            pool.define(fmt::format("def forward(self, x):\n"
                                    "    return torch.avg_pool3d(x, {}, {}, [0, 0, 0], False, True, None)\n",
                                    list3(stride), list3(stride)));
            skip.push_back(pool);
        }
        if (in != out) skip.push_back(convBlock(in, out, ones(), ones(), false, false));
        if (!skip.empty()) m.register_module("skip", container("Sequential", skip));
        m.define(std::string("def forward(self, x):\n") +
                 (skip.empty() ? "    residual = x\n" : "    residual = self.skip.forward(x)\n") +
                 "    out = self.conv2.forward(self.conv1.forward(x))\n"
                 "    return self.nonlin2.forward(out + residual)\n");
        return m;
    }

    Module encoder() {
        const bool residual = m_net.kind == NnunetNetwork::Kind::ResidualEncoderUNet;
        Module m = make(residual ? "ResidualEncoder" : "PlainConvEncoder");
        int64_t in = m_net.inputChannels;
        std::string body = "def forward(self, x):\n";
        if (residual) {
            const int64_t stem = m_net.stemChannels.value_or(m_net.features[0]);
            m.register_module("stem", stackedConvs(1, in, stem, m_net.kernels[0], ones()));
            body += "    x = self.stem.forward(x)\n";
            in = stem;
        }
        std::vector<Module> stages;
        std::string skips;
        for (size_t s = 0; s < m_net.stages(); ++s) {
            const int64_t out = m_net.features[s];
            if (residual) {
                std::vector<Module> blocks;
                for (int b = 0; b < m_net.perStage[s]; ++b)
                    blocks.push_back(
                        basicBlock(b == 0 ? in : out, out, m_net.kernels[s], b == 0 ? m_net.strides[s] : ones()));
                Module stage = make("StackedResidualBlocks");
                stage.register_module("blocks", container("Sequential", blocks));
                stage.define("def forward(self, x):\n    return self.blocks.forward(x)\n");
                stages.push_back(stage);
            } else {
                stages.push_back(container(
                    "Sequential", {stackedConvs(m_net.perStage[s], in, out, m_net.kernels[s], m_net.strides[s])}));
            }
            body += fmt::format("    x = getattr(self.stages, \"{}\").forward(x)\n    s{} = x\n", s, s);
            skips += fmt::format("{}s{}", s ? ", " : "", s);
            in = out;
        }
        m.register_module("stages", container("Sequential", stages));
        m.define(body + "    return [" + skips + "]\n");
        return m;
    }

    Module decoder(const Module& encoder) {
        Module m = make("UNetDecoder");
        m.register_module("encoder", encoder); // as UNetDecoder keeps it: an alias
        const size_t n = m_net.stages();
        std::vector<Module> transpconvs, stages, segLayers;
        std::string body = "def forward(self, skips: List[Tensor]):\n";
        body += fmt::format("    x = skips[{}]\n", n - 1);
        for (size_t s = 0; s + 1 < n; ++s) {
            const int64_t below = m_net.features[n - 1 - s], skip = m_net.features[n - 2 - s];
            const auto& stride = m_net.strides[n - 1 - s];
            Module t = make("ConvTranspose3d");
            t.register_parameter("weight", torch::zeros({below, skip, stride[0], stride[1], stride[2]}), false);
            if (m_net.convBias) t.register_parameter("bias", torch::zeros({skip}), false);
            t.define(fmt::format("def forward(self, x):\n"
                                 "    return torch.conv_transpose3d(x, self.weight, {}, {}, [0, 0, 0], [0, 0, 0], 1, "
                                 "[1, 1, 1])\n",
                                 m_net.convBias ? "self.bias" : "None", list3(stride)));
            transpconvs.push_back(t);
            stages.push_back(stackedConvs(m_net.perDecoderStage[s], 2 * skip, skip, m_net.kernels[n - 2 - s], ones()));
            segLayers.push_back(conv(skip, m_net.outputChannels, ones(), ones(), true));
            body += fmt::format("    x = getattr(self.transpconvs, \"{}\").forward(x)\n"
                                "    x = torch.cat([x, skips[{}]], 1)\n"
                                "    x = getattr(self.stages, \"{}\").forward(x)\n",
                                s, n - 2 - s, s);
        }
        m.register_module("stages", container("ModuleList", stages));
        m.register_module("transpconvs", container("ModuleList", transpconvs));
        m.register_module("seg_layers", container("ModuleList", segLayers));
        // Deep supervision off: only the full-resolution segmentation layer runs.
        m.define(body + fmt::format("    return getattr(self.seg_layers, \"{}\").forward(x)\n", n - 2));
        return m;
    }

private:
    static std::array<int64_t, 3> ones() { return {1, 1, 1}; }

    const NnunetNetwork& m_net;
    std::shared_ptr<torch::jit::CompilationUnit> m_unit = std::make_shared<torch::jit::CompilationUnit>();
    int m_count = 0;
};

std::string shapeText(const at::Tensor& t) {
    return fmt::format("[{}]", fmt::join(t.sizes(), ", "));
}

} // namespace

torch::jit::Module buildNnunetNetwork(const NnunetNetwork& network) {
    if (network.stages() < 2) throw Error("an nnU-Net network needs at least 2 stages");
    Builder b(network);
    Module net = b.make(network.kindName());
    const Module encoder = b.encoder();
    net.register_module("encoder", encoder);
    net.register_module("decoder", b.decoder(encoder));
    net.define("def forward(self, x):\n    return self.decoder.forward(self.encoder.forward(x))\n");
    net.eval();
    return net;
}

void loadNnunetWeights(torch::jit::Module& network, const NamedTensors& weights, const std::string& origin) {
    std::map<std::string, const at::Tensor*> byName;
    for (const auto& [name, tensor] : weights)
        byName[name] = &tensor;
    std::set<std::string> used;
    torch::NoGradGuard noGrad;
    for (const auto& parameter : network.named_parameters(/*recurse=*/true)) {
        const auto it = byName.find(parameter.name);
        if (it == byName.end())
            throw Error(fmt::format("{}: network_weights has no '{}' (plans.json describes another network than "
                                    "the one this checkpoint holds)",
                                    origin, parameter.name));
        const at::Tensor& saved = *it->second;
        if (saved.sizes() != parameter.value.sizes())
            throw Error(fmt::format("{}: network_weights '{}' is {}, plans.json's network needs {}", origin,
                                    parameter.name, shapeText(saved), shapeText(parameter.value)));
        parameter.value.copy_(saved.to(torch::kFloat32));
        used.insert(parameter.name);
    }
    for (const auto& [name, tensor] : weights) {
        if (!used.count(name))
            throw Error(fmt::format("{}: network_weights has '{}', which plans.json's network does not have "
                                    "(plans.json describes another network than the one this checkpoint holds)",
                                    origin, name));
    }
}

} // namespace segxai
