#include "engine/model/nnunet_plans.h"

#include "engine/core/error.h"
#include "engine/io/json_text.h"
#include "engine/model/nnunet_json.h"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace segxai {
namespace {

using nlohmann::json;
using Fields = NnunetJson;

// The configuration's own keys over those of the one it inherits from, recursively
// (PlansManager._internal_resolve_configuration_inheritance).
json resolvedConfiguration(const json& configurations, const std::string& name, const Fields& f, int depth = 0) {
    const std::string field = "configurations." + name;
    if (!configurations.is_object() || !configurations.contains(name)) {
        std::string known;
        if (configurations.is_object())
            for (const auto& [key, value] : configurations.items())
                known += (known.empty() ? "" : ", ") + key;
        f.fail("configurations", fmt::format("has no configuration '{}' (it has: {})", name, known));
    }
    json own = configurations.at(name);
    if (!own.is_object()) f.fail(field, "must be an object");
    if (const json* parent = f.find(own, "inherits_from")) {
        if (depth > 16) f.fail(field + ".inherits_from", "forms a cycle");
        json merged = resolvedConfiguration(configurations, f.string(*parent, field + ".inherits_from"), f, depth + 1);
        for (const auto& [key, value] : own.items())
            merged[key] = value;
        return merged;
    }
    return own;
}

std::string lastDotted(const std::string& name) {
    const auto dot = name.rfind('.');
    return dot == std::string::npos ? name : name.substr(dot + 1);
}

// The architecture's keyword arguments; the older plans' keys converted as
// ConfigurationManager.__init__ converts them (nnU-Net <= 2.2, TotalSegmentator's v2 weights).
struct Architecture {
    std::string className;
    json kwargs;
    std::string field; // where it came from, for messages
    bool oldFormat = false;
};

Architecture architectureOf(const json& c, const std::string& field, const Fields& f) {
    Architecture a;
    if (const json* arch = f.find(c, "architecture")) {
        a.field = field + ".architecture";
        a.className = f.string(f.need(*arch, "network_class_name", a.field + ".network_class_name"),
                               a.field + ".network_class_name");
        a.kwargs = f.need(*arch, "arch_kwargs", a.field + ".arch_kwargs");
        if (!a.kwargs.is_object()) f.fail(a.field + ".arch_kwargs", "must be an object");
        return a;
    }
    if (!f.find(c, "UNet_class_name")) {
        f.fail(field, "has neither 'architecture' (nnU-Net >= 2.3) nor 'UNet_class_name' (older plans)");
    }
    a.oldFormat = true;
    a.field = field;
    a.className = f.string(c["UNet_class_name"], field + ".UNet_class_name");
    const auto encoder = f.wholes(f.need(c, "n_conv_per_stage_encoder", field + ".n_conv_per_stage_encoder"), 0,
                                  field + ".n_conv_per_stage_encoder");
    const int64_t base = f.whole(f.need(c, "UNet_base_num_features", field + ".UNet_base_num_features"),
                                 field + ".UNet_base_num_features");
    const int64_t most =
        f.whole(f.need(c, "unet_max_num_features", field + ".unet_max_num_features"), field + ".unet_max_num_features");
    std::vector<int64_t> features;
    for (size_t s = 0; s < encoder.size(); ++s)
        features.push_back(std::min<int64_t>(base << s, most));
    a.kwargs = {
        {"n_stages", encoder.size()},
        {"features_per_stage", features},
        {"kernel_sizes", f.need(c, "conv_kernel_sizes", field + ".conv_kernel_sizes")},
        {"strides", f.need(c, "pool_op_kernel_sizes", field + ".pool_op_kernel_sizes")},
        {a.className == "PlainConvUNet" ? "n_conv_per_stage" : "n_blocks_per_stage", encoder},
        {"n_conv_per_stage_decoder", f.need(c, "n_conv_per_stage_decoder", field + ".n_conv_per_stage_decoder")},
        {"conv_bias", true},
        {"norm_op", "torch.nn.modules.instancenorm.InstanceNorm3d"},
        {"norm_op_kwargs", {{"eps", 1e-5}, {"affine", true}}},
        {"nonlin", "torch.nn.LeakyReLU"}};
    return a;
}

void readOperators(NnunetNetwork& n, const json& k, const std::string& field, const Fields& f) {
    if (const json* conv = f.find(k, "conv_op"); conv && lastDotted(f.string(*conv, field + ".conv_op")) != "Conv3d")
        f.fail(field + ".conv_op", "is not Conv3d: SegXAI runs 3D configurations");
    if (const json* norm = f.find(k, "norm_op")) {
        if (lastDotted(f.string(*norm, field + ".norm_op")) != "InstanceNorm3d")
            f.fail(field + ".norm_op", "is not InstanceNorm3d, the only normalisation nnU-Net's planners use");
    } else {
        f.fail(field + ".norm_op", "is missing or null (a network without normalisation is not nnU-Net's)");
    }
    if (const json* kw = f.find(k, "norm_op_kwargs")) {
        if (const json* eps = f.find(*kw, "eps")) n.normEps = f.number(*eps, field + ".norm_op_kwargs.eps");
        if (const json* affine = f.find(*kw, "affine")) n.normAffine = affine->is_boolean() && affine->get<bool>();
    }
    const json* nonlin = f.find(k, "nonlin");
    const std::string nonlinName = nonlin ? lastDotted(f.string(*nonlin, field + ".nonlin")) : "LeakyReLU";
    if (nonlinName == "ReLU") {
        n.negativeSlope = 0.0;
    } else if (nonlinName == "LeakyReLU") {
        n.negativeSlope = 0.01; // PyTorch's default; plans give only 'inplace'
        if (const json* kw = f.find(k, "nonlin_kwargs"))
            if (const json* slope = f.find(*kw, "negative_slope"))
                n.negativeSlope = f.number(*slope, field + ".nonlin_kwargs.negative_slope");
    } else {
        f.fail(field + ".nonlin", fmt::format("is {}; SegXAI builds LeakyReLU and ReLU networks", nonlinName));
    }
    if (const json* bias = f.find(k, "conv_bias")) n.convBias = bias->is_boolean() && bias->get<bool>();
    if (const json* first = f.find(k, "nonlin_first"); first && first->is_boolean() && first->get<bool>())
        f.fail(field + ".nonlin_first", "is true (conv, nonlin, norm): SegXAI builds conv, norm, nonlin blocks");
}

NnunetNetwork networkOf(const Architecture& a, const Fields& f) {
    NnunetNetwork n;
    const std::string name = lastDotted(a.className);
    const std::string classField = a.oldFormat ? a.field + ".UNet_class_name" : a.field + ".network_class_name";
    if (name == "PlainConvUNet") {
        n.kind = NnunetNetwork::Kind::PlainConvUNet;
    } else if (name == "ResidualEncoderUNet") {
        n.kind = NnunetNetwork::Kind::ResidualEncoderUNet;
    } else {
        f.fail(classField, fmt::format("names '{}', an architecture SegXAI cannot build from plans (it builds "
                                       "PlainConvUNet and ResidualEncoderUNet); export the network with "
                                       "torch.jit.trace and open the TorchScript file instead",
                                       a.className));
    }
    const json& k = a.kwargs;
    const std::string field = a.oldFormat ? a.field : a.field + ".arch_kwargs";
    const size_t stages = size_t(f.whole(f.need(k, "n_stages", field + ".n_stages"), field + ".n_stages"));
    if (stages < 1 || stages > 16) f.fail(field + ".n_stages", "must be between 1 and 16");
    n.features =
        f.wholes(f.need(k, "features_per_stage", field + ".features_per_stage"), stages, field + ".features_per_stage");
    n.kernels = f.perStage(f.need(k, "kernel_sizes", field + ".kernel_sizes"), stages, field + ".kernel_sizes");
    n.strides = f.perStage(f.need(k, "strides", field + ".strides"), stages, field + ".strides");
    const char* perStageKey = n.kind == NnunetNetwork::Kind::PlainConvUNet ? "n_conv_per_stage" : "n_blocks_per_stage";
    for (int64_t v : f.wholes(f.need(k, perStageKey, field + "." + perStageKey), stages, field + "." + perStageKey))
        n.perStage.push_back(int(v));
    for (int64_t v : f.wholes(f.need(k, "n_conv_per_stage_decoder", field + ".n_conv_per_stage_decoder"), stages - 1,
                              field + ".n_conv_per_stage_decoder"))
        n.perDecoderStage.push_back(int(v));
    if (const json* stem = f.find(k, "stem_channels")) n.stemChannels = f.whole(*stem, field + ".stem_channels");
    if (const json* block = f.find(k, "block");
        block && lastDotted(f.string(*block, field + ".block")) != "BasicBlockD")
        f.fail(field + ".block", "is not BasicBlockD, the residual block nnU-Net's planners use");
    for (const char* key : {"pool", "pool_type"})
        if (const json* pool = f.find(k, key); pool && f.string(*pool, field + "." + key) != "conv")
            f.fail(field + "." + key, "is not 'conv' (strided convolutions), which nnU-Net's planners use");
    for (size_t s = 0; s < stages; ++s) {
        for (int a = 0; a < 3; ++a) {
            if (n.features[s] < 1 || n.kernels[s][a] < 1 || n.strides[s][a] < 1 || n.kernels[s][a] % 2 == 0)
                f.fail(field, fmt::format("stage {}: features, odd kernel sizes and strides must be positive", s));
        }
    }
    readOperators(n, k, field, f);
    return n;
}

NnunetNormalization::Scheme schemeNamed(const std::string& name, const std::string& field, const Fields& f) {
    using S = NnunetNormalization::Scheme;
    static const std::map<std::string, S> kSchemes = {{"CTNormalization", S::CT},
                                                      {"ZScoreNormalization", S::ZScore},
                                                      {"RescaleTo01Normalization", S::RescaleTo01},
                                                      {"RGBTo01Normalization", S::RgbTo01},
                                                      {"NoNormalization", S::None}};
    const auto it = kSchemes.find(name);
    if (it == kSchemes.end()) {
        f.fail(field, fmt::format("names '{}'; SegXAI knows nnU-Net's CTNormalization, ZScoreNormalization, "
                                  "RescaleTo01Normalization, RGBTo01Normalization and NoNormalization",
                                  name));
    }
    return it->second;
}

std::vector<NnunetNormalization> normalizationOf(const json& plans, const json& c, const std::string& field,
                                                 size_t channels, const Fields& f) {
    const json& schemes = f.need(c, "normalization_schemes", field + ".normalization_schemes");
    if (!schemes.is_array() || schemes.size() != channels) {
        f.fail(field + ".normalization_schemes",
               fmt::format("must list one scheme per input channel ({} in dataset.json)", channels));
    }
    const json* masks = f.find(c, "use_mask_for_norm");
    const json* properties = f.find(plans, "foreground_intensity_properties_per_channel");
    std::string propertiesKey = "foreground_intensity_properties_per_channel";
    if (!properties) {
        properties = f.find(plans, "foreground_intensity_properties_by_modality");
        propertiesKey = "foreground_intensity_properties_by_modality";
    }
    std::vector<NnunetNormalization> out;
    for (size_t ch = 0; ch < channels; ++ch) {
        NnunetNormalization n;
        n.name = f.string(schemes[ch], fmt::format("{}.normalization_schemes[{}]", field, ch));
        n.scheme = schemeNamed(n.name, fmt::format("{}.normalization_schemes[{}]", field, ch), f);
        if (masks && masks->is_array() && ch < masks->size()) n.useMask = (*masks)[ch].is_boolean() && (*masks)[ch];
        if (n.scheme == NnunetNormalization::Scheme::CT) {
            const std::string at = fmt::format("{}.{}", propertiesKey, ch);
            const json* p = properties ? f.find(*properties, std::to_string(ch)) : nullptr;
            if (!p) f.fail(at, "is missing: CTNormalization needs the foreground intensity properties");
            n.mean = f.number(f.need(*p, "mean", at + ".mean"), at + ".mean");
            n.sd = f.number(f.need(*p, "std", at + ".std"), at + ".std");
            n.lower = f.number(f.need(*p, "percentile_00_5", at + ".percentile_00_5"), at + ".percentile_00_5");
            n.upper = f.number(f.need(*p, "percentile_99_5", at + ".percentile_99_5"), at + ".percentile_99_5");
        }
        out.push_back(n);
    }
    return out;
}

NnunetResampling resamplingOf(const json& c, const std::string& key, int order, const Fields& f) {
    NnunetResampling r;
    r.order = order;
    const json* kwargs = f.find(c, key);
    if (!kwargs) return r;
    if (const json* o = f.find(*kwargs, "order")) r.order = int(f.whole(*o, key + ".order"));
    if (const json* z = f.find(*kwargs, "order_z")) r.orderZ = int(f.whole(*z, key + ".order_z"));
    if (const json* force = f.find(*kwargs, "force_separate_z"); force && force->is_boolean())
        r.forceSeparateZ = force->get<bool>();
    for (int order : {r.order, r.orderZ})
        if (order != 0 && order != 1 && order != 3) f.fail(key, "orders other than 0, 1 and 3 are not supported");
    return r;
}

// dataset.json's labels as LabelManager reads them.
// dataset.json's label names in the file's order: regions are listed in dict order, which
// nlohmann::json (sorted keys) loses. The text has already parsed as JSON.
std::vector<std::string> labelNamesInFileOrder(const std::string& datasetJson) {
    std::vector<std::string> names;
    const auto ordered = nlohmann::ordered_json::parse(datasetJson, nullptr, false);
    if (ordered.is_object() && ordered.contains("labels") && ordered["labels"].is_object())
        for (const auto& [name, value] : ordered["labels"].items())
            names.push_back(name);
    return names;
}

NnunetLabels labelsOf(const json& dataset, const std::vector<std::string>& fileOrder, const Fields& f) {
    NnunetLabels l;
    const json& labels = f.need(dataset, "labels", "labels");
    if (!labels.is_object()) f.fail("labels", "must be an object of name: value");
    if (!labels.contains("background")) f.fail("labels", "has no 'background' (label 0)");
    if (!labels["background"].is_number() || f.whole(labels["background"], "labels.background") != 0)
        f.fail("labels.background", "must be 0");
    std::vector<std::pair<std::string, std::vector<int>>> entries;
    for (const std::string& name : fileOrder) {
        if (name == "ignore") continue; // excluded everywhere at inference
        const json& value = labels[name];
        std::vector<int> values;
        if (value.is_array()) {
            for (const auto& v : value)
                values.push_back(int(f.whole(v, "labels." + name)));
            if (values.empty()) f.fail("labels." + name, "is an empty list");
            l.regions = l.regions || values.size() > 1;
        } else {
            values.push_back(int(f.whole(value, "labels." + name)));
        }
        entries.emplace_back(name, values);
    }
    if (!l.regions) {
        std::map<int, std::string> byValue;
        for (const auto& [name, values] : entries)
            for (int v : values)
                byValue.emplace(v, name);
        int expected = 0;
        for (const auto& [value, name] : byValue) {
            if (value != expected++)
                f.fail("labels", "must number the labels 0, 1, 2, ... without gaps (nnU-Net writes the output "
                                 "channel as the label)");
            l.names.push_back(name);
        }
        l.heads = int64_t(l.names.size());
        return l;
    }
    for (const auto& [name, values] : entries) {
        if (std::all_of(values.begin(), values.end(), [](int v) { return v == 0; })) continue; // background
        l.regionLabels.push_back(values);
    }
    const json& order = f.need(dataset, "regions_class_order", "regions_class_order");
    for (int64_t v : f.wholes(order, l.regionLabels.size(), "regions_class_order"))
        l.regionOrder.push_back(int(v));
    // SegXAI shows the label written for region r as class regionOrder[r]: a permutation of 1..R.
    std::vector<int> sorted = l.regionOrder;
    std::sort(sorted.begin(), sorted.end());
    for (size_t r = 0; r < sorted.size(); ++r)
        if (sorted[r] != int(r) + 1)
            f.fail("regions_class_order", "must number the regions 1..R, each once (as nnU-Net's examples do)");
    l.names.assign(l.regionLabels.size() + 1, "background");
    size_t region = 0;
    for (const auto& [name, values] : entries) {
        if (std::all_of(values.begin(), values.end(), [](int v) { return v == 0; })) continue;
        l.names[size_t(l.regionOrder[region++])] = name;
    }
    l.heads = int64_t(l.regionLabels.size());
    return l;
}

// channel_names (or the older 'modality'): {"0": "CT", "1": "T2"} in channel order.
std::vector<std::string> channelsOf(const json& dataset, const Fields& f) {
    const char* key = dataset.contains("channel_names") ? "channel_names" : "modality";
    const json& names = f.need(dataset, key, "channel_names");
    if (!names.is_object() || names.empty()) f.fail(key, "must be an object such as {\"0\": \"CT\"}");
    std::vector<std::string> out(names.size());
    for (const auto& [index, name] : names.items()) {
        size_t used = 0;
        size_t c = 0;
        try {
            c = size_t(std::stoul(index, &used));
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != index.size() || c >= out.size() || !out[c].empty())
            f.fail(key, "must number the channels \"0\", \"1\", ... once each");
        out[c] = f.string(name, std::string(key) + "." + index);
    }
    return out;
}

} // namespace

NnunetPlan parseNnunetPlan(const std::string& datasetJson, const std::string& plansJson,
                           const std::string& configuration, const std::string& origin) {
    const Fields d(origin + "/dataset.json"), f(origin + "/plans.json");
    const json dataset = parseJsonText(datasetJson, d.file());
    const json plans = parseJsonText(plansJson, f.file());
    if (!dataset.is_object()) d.fail("", "must be a JSON object");
    if (!plans.is_object()) f.fail("", "must be a JSON object");
    NnunetPlan p;
    p.folder = origin;
    p.configuration = configuration;
    p.channelNames = channelsOf(dataset, d);
    p.labels = labelsOf(dataset, labelNamesInFileOrder(datasetJson), d);
    if (const json* name = f.find(plans, "dataset_name")) p.datasetName = f.string(*name, "dataset_name");
    if (const json* name = f.find(plans, "plans_name")) p.plansName = f.string(*name, "plans_name");
    p.reader = "SimpleITKIO";
    if (const json* reader = f.find(plans, "image_reader_writer")) p.reader = f.string(*reader, "image_reader_writer");
    static const std::set<std::string> kReaders = {"SimpleITKIO", "NibabelIO", "NibabelIOWithReorient"};
    if (!kReaders.count(p.reader))
        f.fail("image_reader_writer", fmt::format("names '{}'; SegXAI reads images as SimpleITKIO, NibabelIO and "
                                                  "NibabelIOWithReorient do",
                                                  p.reader));
    p.reorientToRas = p.reader == "NibabelIOWithReorient";
    for (const char* key : {"transpose_forward", "transpose_backward"}) {
        const auto t = f.triple(f.need(plans, key, key), key);
        std::array<int, 3> axes{int(t[0]), int(t[1]), int(t[2])};
        std::array<int, 3> sorted = axes;
        std::sort(sorted.begin(), sorted.end());
        if (sorted != std::array<int, 3>{0, 1, 2}) f.fail(key, "must be a permutation of [0, 1, 2]");
        (std::string(key) == "transpose_forward" ? p.transposeForward : p.transposeBackward) = axes;
    }
    for (int a = 0; a < 3; ++a)
        if (p.transposeBackward[size_t(p.transposeForward[size_t(a)])] != a)
            f.fail("transpose_backward", "is not the inverse of transpose_forward");
    const json configurations = f.need(plans, "configurations", "configurations");
    const json c = resolvedConfiguration(configurations, configuration, f);
    const std::string field = "configurations." + configuration;
    if (f.find(c, "previous_stage"))
        f.fail(field + ".previous_stage", "is set: a cascade stage needs the low-resolution stage's prediction as "
                                          "input; open 3d_fullres or 3d_lowres instead");
    const json& patch = f.need(c, "patch_size", field + ".patch_size");
    if (patch.is_array() && patch.size() == 2)
        f.fail(field + ".patch_size", "has 2 entries: a 2D configuration; SegXAI runs 3D configurations");
    p.patch = f.triple(patch, field + ".patch_size");
    const json& spacing = f.need(c, "spacing", field + ".spacing");
    if (!spacing.is_array() || spacing.size() != 3) f.fail(field + ".spacing", "must be a list of 3 numbers");
    for (int a = 0; a < 3; ++a) {
        p.spacing[size_t(a)] = f.number(spacing[size_t(a)], field + ".spacing");
        if (p.spacing[size_t(a)] <= 0.0 || p.patch[size_t(a)] < 1) f.fail(field, "spacing and patch must be positive");
    }
    p.normalization = normalizationOf(plans, c, field, p.channelNames.size(), f);
    p.dataResampling = resamplingOf(c, "resampling_fn_data_kwargs", 3, f);
    p.probabilityResampling = resamplingOf(c, "resampling_fn_probabilities_kwargs", 1, f);
    const Architecture architecture = architectureOf(c, field, f);
    if (architecture.oldFormat) p.notes.push_back("plans.json is in nnU-Net's older format (UNet_class_name, ...)");
    p.network = networkOf(architecture, f);
    p.network.inputChannels = int64_t(p.channelNames.size());
    p.network.outputChannels = p.labels.heads;
    const auto stride = p.network.totalStride();
    for (int a = 0; a < 3; ++a)
        if (p.patch[size_t(a)] % stride[size_t(a)] != 0)
            f.fail(field + ".patch_size", "is not a multiple of the network's total stride");
    return p;
}

std::array<int64_t, 3> NnunetNetwork::totalStride() const {
    std::array<int64_t, 3> total{1, 1, 1};
    for (const auto& s : strides)
        for (int a = 0; a < 3; ++a)
            total[size_t(a)] *= s[size_t(a)];
    return total;
}

const char* NnunetNetwork::kindName() const {
    return kind == Kind::PlainConvUNet ? "PlainConvUNet" : "ResidualEncoderUNet";
}

} // namespace segxai
