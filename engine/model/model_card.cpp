#include "engine/model/model_card.h"

#include "engine/core/error.h"
#include "engine/io/json_text.h"

#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace segxai {
namespace {

using nlohmann::json;

class CardReader {
public:
    CardReader(const json& root, std::string origin) : m_root(root), m_origin(std::move(origin)) {}

    [[noreturn]] void fail(const std::string& field, const std::string& what) const {
        throw Error(fmt::format("{}: '{}' {}", m_origin, field, what));
    }

    const json* find(const json& object, const std::string& key) const {
        auto it = object.find(key);
        return it == object.end() || it->is_null() ? nullptr : &*it;
    }

    std::string string(const json& object, const std::string& key, const std::string& fallback = {}) const {
        const json* v = find(object, key);
        if (!v) return fallback;
        if (!v->is_string()) fail(key, "must be a string");
        return v->get<std::string>();
    }

    bool boolean(const json& object, const std::string& key, bool fallback) const {
        const json* v = find(object, key);
        if (!v) return fallback;
        if (!v->is_boolean()) fail(key, "must be true or false");
        return v->get<bool>();
    }

    double number(const json& v, const std::string& field) const {
        if (!v.is_number()) fail(field, "must be a number");
        const double d = v.get<double>();
        if (!std::isfinite(d)) fail(field, "must be finite");
        return d;
    }

    // A number, or a list of 3 numbers.
    std::array<double, 3> triple(const json& v, const std::string& field) const {
        if (v.is_number()) {
            const double d = number(v, field);
            return {d, d, d};
        }
        if (!v.is_array() || v.size() != 3) fail(field, "must be a number or a list of 3 numbers");
        return {number(v[0], field), number(v[1], field), number(v[2], field)};
    }

    Normalization normalization(const json& v, const std::string& field) const {
        Normalization n;
        if (v.is_string()) {
            return normalization(json{{"kind", v}}, field);
        }
        if (!v.is_object()) fail(field, "must be an object such as {\"kind\": \"zscore\"}");
        const std::string kind = string(v, "kind", "none");
        if (kind == "none") {
            n.kind = Normalization::Kind::None;
        } else if (kind == "zscore") {
            n.kind = Normalization::Kind::ZScore;
            n.nonzeroOnly = boolean(v, "nonzero", false);
        } else if (kind == "range") {
            n.kind = Normalization::Kind::Range;
            for (const char* key : {"a_min", "a_max", "b_min", "b_max"}) {
                if (!find(v, key)) fail(field + "." + key, "is required for kind \"range\"");
            }
            n.aMin = number(v["a_min"], field + ".a_min");
            n.aMax = number(v["a_max"], field + ".a_max");
            n.bMin = number(v["b_min"], field + ".b_min");
            n.bMax = number(v["b_max"], field + ".b_max");
            if (n.aMax == n.aMin) fail(field, "needs a_max different from a_min");
            n.clip = boolean(v, "clip", false);
        } else {
            fail(field + ".kind", "must be \"none\", \"zscore\" or \"range\", not \"" + kind + "\"");
        }
        return n;
    }

    ModelCard read() const {
        if (!m_root.is_object()) throw Error(m_origin + ": a model card must be a JSON object");
        ModelCard card;
        card.source = m_origin;
        card.name = string(m_root, "name");
        card.description = string(m_root, "description");
        if (const json* v = find(m_root, "input_channels")) {
            if (!v->is_array()) fail("input_channels", "must be a list of channel names");
            for (const auto& c : *v) {
                if (!c.is_string()) fail("input_channels", "must be a list of channel names");
                card.inputChannels.push_back(c.get<std::string>());
            }
        }
        if (const json* v = find(m_root, "members")) {
            if (!v->is_array()) fail("members", "must be a list of model paths");
            for (const auto& m : *v) {
                if (!m.is_string() || m.get<std::string>().empty()) fail("members", "must be a list of model paths");
                card.members.push_back(m.get<std::string>());
            }
        }
        if (const json* v = find(m_root, "classes")) {
            if (!v->is_array()) fail("classes", "must be a list of {\"name\", \"color\"} objects or names");
            for (size_t n = 0; n < v->size(); ++n) {
                const json& c = (*v)[n];
                ClassInfo info;
                info.color = defaultClassColor(n);
                if (c.is_string()) {
                    info.name = c.get<std::string>();
                } else if (c.is_object()) {
                    info.name = string(c, "name", "class " + std::to_string(n));
                    if (const json* color = find(c, "color")) {
                        if (!color->is_array() || color->size() != 3)
                            fail("classes.color", "must be [r, g, b] with values 0-255");
                        for (size_t k = 0; k < 3; ++k) {
                            const double x = number((*color)[k], "classes.color");
                            if (x < 0 || x > 255) fail("classes.color", "must be [r, g, b] with values 0-255");
                            info.color[k] = uint8_t(x);
                        }
                    }
                } else {
                    fail("classes", "must be a list of {\"name\", \"color\"} objects or names");
                }
                card.classes.push_back(std::move(info));
            }
        }
        if (const json* v = find(m_root, "spacing_mm")) {
            const auto s = triple(*v, "spacing_mm");
            for (double x : s) {
                if (!(x > 0.0) || x > 100.0) fail("spacing_mm", "must be between 0 and 100 mm");
            }
            card.spacingMm = s;
        }
        if (const json* v = find(m_root, "orientation")) {
            if (!v->is_string() || (*v != "RAS" && *v != "none")) fail("orientation", "must be \"RAS\" or \"none\"");
            card.reorientToRas = *v == "RAS";
        }
        if (const json* v = find(m_root, "axis_order")) {
            if (!v->is_string() || (*v != "ijk" && *v != "kji")) fail("axis_order", "must be \"ijk\" or \"kji\"");
            card.reverseAxes = *v == "kji";
        }
        if (const json* v = find(m_root, "normalization")) {
            if (v->is_array()) {
                for (size_t n = 0; n < v->size(); ++n)
                    card.normalization.push_back(normalization((*v)[n], "normalization"));
                if (!card.inputChannels.empty() && card.normalization.size() != 1 &&
                    card.normalization.size() != card.inputChannels.size()) {
                    fail("normalization", fmt::format("has {} entries for {} input channels", card.normalization.size(),
                                                      card.inputChannels.size()));
                }
            } else {
                card.normalization.push_back(normalization(*v, "normalization"));
            }
        }
        if (const json* v = find(m_root, "sliding_window")) {
            if (!v->is_object()) fail("sliding_window", "must be an object with \"patch\"");
            SlidingWindow w;
            const json* patch = find(*v, "patch");
            if (!patch) fail("sliding_window.patch", "is required");
            const auto p = triple(*patch, "sliding_window.patch");
            for (int a = 0; a < 3; ++a) {
                if (p[size_t(a)] < 1 || p[size_t(a)] > 4096 || p[size_t(a)] != std::floor(p[size_t(a)])) {
                    fail("sliding_window.patch", "must be whole numbers from 1 to 4096");
                }
                w.patch[size_t(a)] = int64_t(p[size_t(a)]);
            }
            if (const json* o = find(*v, "overlap")) {
                w.overlap = number(*o, "sliding_window.overlap");
                if (w.overlap < 0.0 || w.overlap >= 1.0)
                    fail("sliding_window.overlap", "must be at least 0 and below 1");
            }
            const std::string blend = string(*v, "blend", "gaussian");
            if (blend != "gaussian" && blend != "constant")
                fail("sliding_window.blend", "must be \"gaussian\" or \"constant\"");
            w.gaussian = blend == "gaussian";
            if (const json* s = find(*v, "sigma_scale")) {
                w.sigmaScale = number(*s, "sliding_window.sigma_scale");
                if (w.sigmaScale <= 0.0) fail("sliding_window.sigma_scale", "must be positive");
            }
            card.slidingWindow = w;
        }
        if (const json* v = find(m_root, "divisible_by")) {
            const double d = number(*v, "divisible_by");
            if (d < 1 || d > 1024 || d != std::floor(d)) fail("divisible_by", "must be a whole number from 1 to 1024");
            card.divisibleBy = int64_t(d);
        }
        card.camLayer = string(m_root, "cam_layer");
        const std::string output = string(m_root, "output", "logits");
        if (output != "logits" && output != "probabilities") fail("output", "must be \"logits\" or \"probabilities\"");
        card.outputsProbabilities = output == "probabilities";
        card.syntheticData = boolean(m_root, "synthetic_data", false);
        return card;
    }

private:
    const json& m_root;
    std::string m_origin;
};

} // namespace

std::array<uint8_t, 3> defaultClassColor(size_t index) {
    static const std::array<uint8_t, 3> colors[] = {
        {0, 0, 0},      {255, 64, 32},  {64, 200, 64},   {64, 128, 255},  {255, 220, 0},   {0, 220, 220},
        {220, 64, 220}, {255, 150, 60}, {150, 100, 255}, {120, 220, 140}, {220, 120, 120}, {100, 160, 200},
    };
    if (index < std::size(colors)) return colors[index];
    const uint8_t h = uint8_t(index * 67);
    return {uint8_t(80 + h % 170), uint8_t(80 + (h * 3) % 170), uint8_t(80 + (h * 7) % 170)};
}

Normalization ModelCard::normalizationFor(size_t channel) const {
    if (normalization.empty()) return {};
    if (normalization.size() == 1) return normalization.front();
    return channel < normalization.size() ? normalization[channel] : Normalization{};
}

std::string ModelCard::className(size_t index) const {
    if (index < classes.size() && !classes[index].name.empty()) return classes[index].name;
    return "class " + std::to_string(index);
}

ModelCard parseModelCard(const std::string& jsonText, const std::string& origin) {
    return CardReader(parseJsonText(jsonText, origin), origin).read();
}

ModelCard readModelCard(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot open the model card");
    std::stringstream text;
    text << in.rdbuf();
    return parseModelCard(text.str(), path);
}

std::string modelCardToJson(const ModelCard& card) {
    nlohmann::json j;
    j["name"] = card.name;
    j["description"] = card.description;
    j["input_channels"] = card.inputChannels;
    if (!card.members.empty()) j["members"] = card.members;
    nlohmann::json classes = nlohmann::json::array();
    for (const auto& c : card.classes)
        classes.push_back({{"name", c.name}, {"color", c.color}});
    j["classes"] = classes;
    if (card.spacingMm) j["spacing_mm"] = *card.spacingMm;
    j["orientation"] = card.reorientToRas ? "RAS" : "none";
    j["axis_order"] = card.reverseAxes ? "kji" : "ijk";
    nlohmann::json norms = nlohmann::json::array();
    for (const auto& n : card.normalization) {
        switch (n.kind) {
        case Normalization::Kind::None:
            norms.push_back({{"kind", "none"}});
            break;
        case Normalization::Kind::ZScore:
            norms.push_back({{"kind", "zscore"}, {"nonzero", n.nonzeroOnly}});
            break;
        case Normalization::Kind::Range:
            norms.push_back({{"kind", "range"},
                             {"a_min", n.aMin},
                             {"a_max", n.aMax},
                             {"b_min", n.bMin},
                             {"b_max", n.bMax},
                             {"clip", n.clip}});
            break;
        }
    }
    j["normalization"] = norms;
    if (card.slidingWindow) {
        const auto& w = *card.slidingWindow;
        j["sliding_window"] = {{"patch", w.patch},
                               {"overlap", w.overlap},
                               {"blend", w.gaussian ? "gaussian" : "constant"},
                               {"sigma_scale", w.sigmaScale}};
    }
    j["divisible_by"] = card.divisibleBy;
    j["cam_layer"] = card.camLayer;
    j["output"] = card.outputsProbabilities ? "probabilities" : "logits";
    j["synthetic_data"] = card.syntheticData;
    return readableJson(j);
}

} // namespace segxai
