#include "engine/model/monai_bundle.h"

#include "engine/core/error.h"
#include "engine/io/json_text.h"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

namespace fs = std::filesystem;
using nlohmann::json;

namespace segxai {
namespace {

json readJson(const fs::path& path) {
    return readJsonFile(path.string(), "file");
}

// channel_def {"0": "background", "1": "spleen"} in index order.
std::vector<std::string> channelNames(const json& entry, size_t count) {
    std::vector<std::string> names(count);
    if (auto it = entry.find("channel_def"); it != entry.end() && it->is_object()) {
        for (auto& [key, value] : it->items()) {
            try {
                const size_t index = std::stoul(key);
                if (index < count && value.is_string()) names[index] = value.get<std::string>();
            } catch (const std::exception&) {
            }
        }
    }
    for (size_t n = 0; n < count; ++n) {
        if (names[n].empty()) names[n] = "channel " + std::to_string(n);
    }
    return names;
}

const json* firstEntry(const json& formats, const char* key) {
    auto it = formats.find(key);
    if (it == formats.end() || !it->is_object() || it->empty()) return nullptr;
    return &it->begin().value();
}

// A config value, following "@name" references to top-level entries; null if it cannot be
// resolved without evaluating Python ("$..." expressions).
json resolve(const json& value, const json& root, int depth = 0) {
    if (depth < 8 && value.is_string()) {
        const std::string s = value.get<std::string>();
        if (s.rfind("@", 0) == 0) {
            auto it = root.find(s.substr(1));
            return it == root.end() ? json() : resolve(*it, root, depth + 1);
        }
        if (s.rfind("$", 0) == 0) return json();
    }
    return value;
}

std::optional<std::array<double, 3>> triple(const json& v) {
    if (v.is_number()) return std::array<double, 3>{v.get<double>(), v.get<double>(), v.get<double>()};
    if (v.is_array() && v.size() == 3 && v[0].is_number() && v[1].is_number() && v[2].is_number()) {
        return std::array<double, 3>{v[0].get<double>(), v[1].get<double>(), v[2].get<double>()};
    }
    return std::nullopt;
}

void readInferenceConfig(const json& root, const std::string& origin, ModelCard& card,
                         std::vector<std::string>& notes) {
    std::function<void(const json&)> visit = [&](const json& node) {
        if (node.is_array()) {
            for (const auto& item : node)
                visit(item);
            return;
        }
        if (!node.is_object()) return;
        if (auto t = node.find("_target_"); t != node.end() && t->is_string()) {
            std::string target = t->get<std::string>();
            target = target.substr(target.rfind('.') == std::string::npos ? 0 : target.rfind('.') + 1);
            auto get = [&](const char* key) {
                auto it = node.find(key);
                return it == node.end() ? json() : resolve(*it, root);
            };
            if (target == "Orientationd" || target == "Orientation") {
                const json codes = get("axcodes");
                if (codes == "RAS") {
                    card.reorientToRas = true;
                    notes.push_back(origin + ": Orientationd RAS");
                } else if (!codes.is_null()) {
                    notes.push_back(origin + ": Orientationd " + codes.dump() + " not reproduced (only RAS is)");
                }
            } else if (target == "Spacingd" || target == "Spacing") {
                if (auto s = triple(get("pixdim"))) {
                    card.spacingMm = s;
                    notes.push_back(fmt::format("{}: Spacingd {} x {} x {} mm", origin, (*s)[0], (*s)[1], (*s)[2]));
                }
            } else if (target == "ScaleIntensityRanged" || target == "ScaleIntensityRange") {
                Normalization n;
                n.kind = Normalization::Kind::Range;
                const json a0 = get("a_min"), a1 = get("a_max"), b0 = get("b_min"), b1 = get("b_max");
                if (a0.is_number() && a1.is_number() && a0 != a1) {
                    n.aMin = a0.get<double>();
                    n.aMax = a1.get<double>();
                    n.bMin = b0.is_number() ? b0.get<double>() : 0.0;
                    n.bMax = b1.is_number() ? b1.get<double>() : 1.0;
                    n.clip = get("clip").is_boolean() && get("clip").get<bool>();
                    card.normalization = {n};
                    notes.push_back(origin + ": ScaleIntensityRanged");
                }
            } else if (target == "NormalizeIntensityd" || target == "NormalizeIntensity") {
                Normalization n;
                n.kind = Normalization::Kind::ZScore;
                n.nonzeroOnly = get("nonzero").is_boolean() && get("nonzero").get<bool>();
                card.normalization = {n};
                notes.push_back(origin + ": NormalizeIntensityd");
            } else if (target == "SlidingWindowInferer") {
                if (auto roi = triple(get("roi_size"))) {
                    SlidingWindow w;
                    for (size_t a = 0; a < 3; ++a)
                        w.patch[a] = int64_t((*roi)[a]);
                    if (get("overlap").is_number()) w.overlap = get("overlap").get<double>();
                    w.gaussian = get("mode") == "gaussian";
                    if (get("sigma_scale").is_number()) w.sigmaScale = get("sigma_scale").get<double>();
                    card.slidingWindow = w;
                    notes.push_back(fmt::format("{}: SlidingWindowInferer {} x {} x {}", origin, w.patch[0], w.patch[1],
                                                w.patch[2]));
                }
            }
        }
        for (const auto& [key, value] : node.items()) {
            if (value.is_structured()) visit(value);
        }
    };
    visit(root);
}

} // namespace

MonaiBundle readMonaiBundle(const std::string& folder) {
    MonaiBundle bundle;
    const fs::path root(folder);
    for (const char* candidate : {"models/model.ts", "models/model.pt"}) {
        if (fs::exists(root / candidate)) {
            bundle.modelFile = (root / candidate).string();
            break;
        }
    }
    if (bundle.modelFile.empty()) {
        throw Error(folder + ": not a model: a MONAI bundle folder needs models/model.ts "
                             "(TorchScript) and configs/metadata.json");
    }
    if (fs::exists(root / "model.json")) {
        bundle.card = readModelCard((root / "model.json").string());
        bundle.notes.push_back((root / "model.json").string() + ": model card");
        return bundle;
    }
    const fs::path metadataPath = root / "configs" / "metadata.json";
    if (!fs::exists(metadataPath)) throw Error(folder + ": configs/metadata.json is missing");
    const json metadata = readJson(metadataPath);
    if (!metadata.is_object()) throw Error(metadataPath.string() + ": must be a JSON object");
    ModelCard& card = bundle.card;
    card.source = metadataPath.string();
    if (auto it = metadata.find("name"); it != metadata.end() && it->is_string()) card.name = *it;
    if (auto it = metadata.find("description"); it != metadata.end() && it->is_string()) card.description = *it;
    if (card.name.empty()) card.name = root.filename().string();
    const auto formats = metadata.find("network_data_format");
    if (formats != metadata.end() && formats->is_object()) {
        if (const json* input = firstEntry(*formats, "inputs")) {
            if (auto n = input->find("num_channels"); n != input->end() && n->is_number_unsigned()) {
                card.inputChannels = channelNames(*input, n->get<size_t>());
            }
        }
        if (const json* output = firstEntry(*formats, "outputs")) {
            if (auto n = output->find("num_channels"); n != output->end() && n->is_number_unsigned()) {
                const auto names = channelNames(*output, n->get<size_t>());
                for (size_t c = 0; c < names.size(); ++c)
                    card.classes.push_back({names[c], defaultClassColor(c)});
            }
        }
    }
    bundle.notes.push_back(metadataPath.string() + ": channels and classes");
    const fs::path inference = root / "configs" / "inference.json";
    if (fs::exists(inference)) readInferenceConfig(readJson(inference), inference.string(), card, bundle.notes);
    return bundle;
}

} // namespace segxai
