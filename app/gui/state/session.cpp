#include "app/gui/state/session.h"

#include "app/gui/state/document.h"
#include "app/gui/state/uncertainty_settings_json.h"
#include "engine/analysis/lesion_options_json.h"
#include "engine/core/error.h"
#include "engine/explain/explain_parameters_json.h"
#include "engine/io/atomic_file.h"
#include "engine/io/json_fields.h"
#include "engine/io/json_text.h"
#include "engine/model/nnunet_options_json.h"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using nlohmann::json;

namespace segxai::app {
namespace {

json vec2(const glm::dvec2& v) {
    return {v.x, v.y};
}
json vec3(const glm::dvec3& v) {
    return {v.x, v.y, v.z};
}
json index3(const Index3& v) {
    return {v[0], v[1], v[2]};
}

// Reads `key` into `out` when present with the right shape; leaves `out` alone otherwise.
template <typename T> void take(const json& j, const char* key, T& out) {
    auto it = j.find(key);
    if (it == j.end()) return;
    try {
        if constexpr (std::is_same_v<T, bool>) {
            if (it->is_boolean()) out = it->get<bool>();
        } else if constexpr (std::is_arithmetic_v<T>) {
            if (it->is_number() && std::isfinite(it->get<double>())) out = it->get<T>();
        } else {
            out = it->get<T>();
        }
    } catch (const std::exception&) {
    }
}

void takeVec(const json& j, const char* key, glm::dvec3& out) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_array() || it->size() != 3) return;
    for (int a = 0; a < 3; ++a) {
        if (!(*it)[size_t(a)].is_number()) return;
    }
    out = {(*it)[0].get<double>(), (*it)[1].get<double>(), (*it)[2].get<double>()};
}

void takeVec(const json& j, const char* key, glm::dvec2& out) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_array() || it->size() != 2 || !(*it)[0].is_number() || !(*it)[1].is_number()) return;
    out = {(*it)[0].get<double>(), (*it)[1].get<double>()};
}

std::optional<Index3> readIndex(const json& j) {
    if (!j.is_array() || j.size() != 3) return std::nullopt;
    Index3 v;
    for (size_t a = 0; a < 3; ++a) {
        if (!j[a].is_number_integer()) return std::nullopt;
        v[a] = j[a].get<int64_t>();
    }
    return v;
}

// The plain fields of the view state and of a map display, each written and read by one
// entry here.
template <typename Owner> struct Fields {
    std::vector<std::pair<const char*, bool Owner::*>> flags;
    std::vector<std::pair<const char*, int Owner::*>> integers;
    std::vector<std::pair<const char*, float Owner::*>> numbers;

    void write(const Owner& owner, json& out) const {
        for (const auto& [key, member] : flags)
            out[key] = owner.*member;
        for (const auto& [key, member] : integers)
            out[key] = owner.*member;
        for (const auto& [key, member] : numbers)
            out[key] = owner.*member;
    }
    void read(const json& in, Owner& owner) const {
        for (const auto& [key, member] : flags)
            take(in, key, owner.*member);
        for (const auto& [key, member] : integers)
            take(in, key, owner.*member);
        for (const auto& [key, member] : numbers)
            take(in, key, owner.*member);
    }
};

const Fields<ViewerState>& viewFields() {
    using S = ViewerState;
    static const Fields<S> fields{{{"linear_interpolation", &S::linearInterpolation},
                                   {"show_crosshair", &S::showCrosshair},
                                   {"show_ground_truth", &S::showGroundTruth},
                                   {"label_outline", &S::labelOutline},
                                   {"show_segmentation", &S::showSegmentation},
                                   {"segmentation_outline", &S::segmentationOutline},
                                   {"show_probability", &S::showProbability},
                                   {"show_difference", &S::showDifference},
                                   {"rank_difference", &S::rankDifference},
                                   {"mip", &S::mip},
                                   {"label_shells", &S::labelShells}},
                                  {{"maximised", &S::maximised},
                                   {"compare_view", &S::compareView},
                                   {"active_panel", &S::activePanel},
                                   {"display_channel", &S::displayChannel},
                                   {"probability_class", &S::probabilityClass},
                                   {"probability_colormap", &S::probabilityColormap},
                                   {"box_depth", &S::boxDepth}},
                                  {{"label_opacity", &S::labelOpacity},
                                   {"segmentation_opacity", &S::segmentationOpacity},
                                   {"probability_opacity", &S::probabilityOpacity},
                                   {"probability_threshold", &S::probabilityThreshold},
                                   {"shell_opacity", &S::shellOpacity},
                                   {"map_opacity_3d", &S::mapOpacity3d}}};
    return fields;
}

const Fields<MapDisplay>& displayFields() {
    using D = MapDisplay;
    static const Fields<D> fields{{{"show", &D::show}, {"separate_negative", &D::separateNegative}},
                                  {{"index", &D::index},
                                   {"map", &D::map},
                                   {"unsigned_colormap", &D::unsignedColormap},
                                   {"signed_colormap", &D::signedColormap}},
                                  {{"opacity", &D::opacity},
                                   {"threshold", &D::threshold},
                                   {"gain", &D::gain},
                                   {"negative_gain", &D::negativeGain}}};
    return fields;
}

const char* sourceName(MapSource::Kind kind) {
    switch (kind) {
    case MapSource::Kind::Lesion:
        return "lesion";
    case MapSource::Kind::AggregationCell:
        return "aggregation";
    case MapSource::Kind::Uncertainty:
        return "uncertainty";
    default:
        return "explanation";
    }
}

MapSource::Kind sourceKind(const json& j, const std::string& where) {
    const std::string name = jsonField<std::string>(j, "shows", "explanation", where);
    if (name == "explanation") return MapSource::Kind::Explanation;
    if (name == "lesion") return MapSource::Kind::Lesion;
    if (name == "aggregation") return MapSource::Kind::AggregationCell;
    if (name == "uncertainty") return MapSource::Kind::Uncertainty;
    throw Error(where + ": 'shows' must be explanation, lesion, aggregation or uncertainty, not '" + name + "'");
}

json syntheticToJson(const SyntheticLesion& l) {
    return {
        {"centre_mm", vec3(l.centre)}, {"radii_mm", vec3(l.radiiMm)}, {"contrast", l.contrast}, {"edge_mm", l.edgeMm}};
}

SyntheticLesion syntheticFromJson(const json& j, const std::string& where) {
    refuseUnknownKeys(j, {"centre_mm", "radii_mm", "contrast", "edge_mm"}, where);
    SyntheticLesion l;
    auto vector = [&](const char* key) {
        auto it = j.find(key);
        if (it == j.end() || !it->is_array() || it->size() != 3 || !(*it)[0].is_number() || !(*it)[1].is_number() ||
            !(*it)[2].is_number()) {
            throw Error(fmt::format("{}: '{}' must be three numbers", where, key));
        }
        return glm::dvec3((*it)[0].get<double>(), (*it)[1].get<double>(), (*it)[2].get<double>());
    };
    l.centre = vector("centre_mm");
    l.radiiMm = vector("radii_mm");
    const json contrast = j.value("contrast", json::array());
    if (!contrast.is_array() || contrast.empty()) throw Error(where + ": 'contrast' must list a number per channel");
    for (const auto& c : contrast) {
        if (!c.is_number()) throw Error(where + ": 'contrast' must list a number per channel");
        l.contrast.push_back(c.get<double>());
    }
    l.edgeMm = jsonField<double>(j, "edge_mm", l.edgeMm, where);
    return l;
}

json aggregationToJson(const Session::AggregationEntry& a) {
    return {{"method", methodId(a.method)},
            {"parameters", parametersToJson(a.parameters)},
            {"row", a.row},
            {"segment", a.segment},
            {"part", attributionPartName(a.part)}};
}

Session::AggregationEntry aggregationFromJson(const json& j, const std::string& where) {
    refuseUnknownKeys(j, {"method", "parameters", "row", "segment", "part"}, where);
    Session::AggregationEntry a;
    try {
        a.method = parseMethod(jsonField<std::string>(j, "method", "saliency", where));
    } catch (const Error& e) {
        throw Error(where + ": " + e.what());
    }
    a.parameters = parametersFromJson(j.value("parameters", json::object()), where + ".parameters");
    a.row = jsonField<int>(j, "row", -1, where);
    a.segment = jsonField<int>(j, "segment", -1, where);
    const std::string part = jsonField<std::string>(j, "part", "abs", where);
    for (int p = 0; p < kAttributionParts; ++p) {
        if (part == attributionPartName(AttributionPart(p))) a.part = AttributionPart(p);
    }
    if (part != attributionPartName(a.part)) throw Error(where + ": 'part' must be abs, positive or negative");
    return a;
}

// The Explain tab's target kinds by name; sessions before names held their index here.
const std::vector<std::pair<TargetSpec::Kind, const char*>>& targetKinds() {
    using K = TargetSpec::Kind;
    static const std::vector<std::pair<K, const char*>> kinds{
        {K::ClassRegion, "class"}, {K::Instance, "instance"}, {K::GroundTruthInstance, "gt-instance"},
        {K::Box, "box"},           {K::Voxel, "voxel"},       {K::Channel, "channel"}};
    return kinds;
}

const char* targetKindName(TargetSpec::Kind kind) {
    for (const auto& [k, name] : targetKinds()) {
        if (k == kind) return name;
    }
    return "class";
}

TargetSpec::Kind targetKindOf(const json& j, TargetSpec::Kind fallback) {
    if (j.is_number_integer()) {
        const int64_t index = j.get<int64_t>();
        return index >= 0 && index < int64_t(targetKinds().size()) ? targetKinds()[size_t(index)].first : fallback;
    }
    for (const auto& [k, name] : targetKinds()) {
        if (j.is_string() && j.get<std::string>() == name) return k;
    }
    return fallback;
}

std::string resolved(const std::string& path, const std::string& folder) {
    if (path.empty() || folder.empty() || fs::path(path).is_absolute()) return path;
    return (fs::path(folder) / path).lexically_normal().string();
}

std::string absolute(const std::string& path) {
    std::error_code ec;
    const fs::path a = fs::absolute(path, ec);
    return ec ? path : a.lexically_normal().string();
}

} // namespace

json viewStateToJson(const ViewerState& s) {
    json cameras = json::array();
    for (const auto& c : s.cameras)
        cameras.push_back({{"zoom", c.zoom}, {"pan", vec2(c.pan)}});
    json windows = json::array();
    for (const auto& w : s.windows)
        windows.push_back({w.min, w.max});
    json displays = json::array();
    for (const auto& d : s.displays) {
        json display = json::object();
        displayFields().write(d, display);
        displays.push_back(display);
    }
    json transfer = json::array();
    for (const auto& p : s.transfer.points)
        transfer.push_back({p.value, p.opacity, p.color.r, p.color.g, p.color.b});
    std::vector<bool> visible = s.classVisible;
    json view = {
        {"crosshair", index3(s.crosshair)},
        {"convention", s.convention == render::Convention::Radiological ? "radiological" : "neurological"},
        {"cameras", cameras},
        {"layout", s.layout == Layout::Tri ? "tri" : "compare"},
        {"windows", windows},
        {"class_visible", visible},
        {"displays", displays},
        {"target",
         {{"kind", targetKindName(s.target.kind)},
          {"class", s.target.classIndex},
          {"use_threshold", s.target.useThreshold},
          {"threshold", s.target.threshold}}},
        {"camera",
         {{"target", vec3(s.camera.target)},
          {"distance", s.camera.distance},
          {"azimuth", s.camera.azimuth},
          {"elevation", s.camera.elevation},
          {"pan", vec2(s.camera.pan)},
          {"field_of_view", s.camera.fieldOfView}}},
        {"transfer", transfer},
        {"clip", {s.clip[0], s.clip[1], s.clip[2]}},
    };
    viewFields().write(s, view);
    if (s.box) view["box"] = {index3(s.box->first), index3(s.box->second)};
    return view;
}

void applyViewState(const json& v, ViewerState& s) {
    if (!v.is_object()) return;
    viewFields().read(v, s);
    s.maximised = std::clamp(s.maximised, -1, kVolumeView);
    s.compareView = std::clamp(s.compareView, 0, kVolumeView);
    s.activePanel = std::clamp(s.activePanel, 0, kMaxPanels - 1);
    s.probabilityColormap = std::clamp(s.probabilityColormap, 0, render::kColormapCount - 1);
    if (auto c = readIndex(v.value("crosshair", json()))) s.crosshair = *c;
    if (v.value("convention", "") == "neurological") s.convention = render::Convention::Neurological;
    if (v.value("convention", "") == "radiological") s.convention = render::Convention::Radiological;
    if (auto it = v.find("cameras"); it != v.end() && it->is_array()) {
        for (size_t n = 0; n < std::min(it->size(), s.cameras.size()); ++n) {
            take((*it)[n], "zoom", s.cameras[n].zoom);
            takeVec((*it)[n], "pan", s.cameras[n].pan);
            s.cameras[n].zoom = std::clamp(s.cameras[n].zoom, 0.05, 100.0);
        }
    }
    s.layout = v.value("layout", "") == "compare" ? Layout::Compare : Layout::Tri;
    if (auto it = v.find("windows"); it != v.end() && it->is_array()) {
        for (size_t n = 0; n < std::min(it->size(), s.windows.size()); ++n) {
            const json& w = (*it)[n];
            if (w.is_array() && w.size() == 2 && w[0].is_number() && w[1].is_number()) {
                s.windows[n] = {w[0].get<float>(), w[1].get<float>()};
            }
        }
    }
    if (auto it = v.find("class_visible"); it != v.end() && it->is_array()) {
        s.classVisible.clear();
        for (const auto& b : *it)
            s.classVisible.push_back(b.is_boolean() && b.get<bool>());
    }
    if (auto it = v.find("displays"); it != v.end() && it->is_array()) {
        for (size_t n = 0; n < std::min(it->size(), s.displays.size()); ++n) {
            MapDisplay& m = s.displays[n];
            displayFields().read((*it)[n], m);
            m.unsignedColormap = std::clamp(m.unsignedColormap, 0, render::kColormapCount - 1);
            m.signedColormap = std::clamp(m.signedColormap, 0, render::kColormapCount - 1);
            m.gain = std::clamp(m.gain, 0.01f, 100.0f);
            m.negativeGain = std::clamp(m.negativeGain, 0.01f, 100.0f);
        }
    }
    if (auto it = v.find("target"); it != v.end() && it->is_object()) {
        s.target.kind = targetKindOf(it->value("kind", json()), s.target.kind);
        take(*it, "class", s.target.classIndex);
        take(*it, "use_threshold", s.target.useThreshold);
        take(*it, "threshold", s.target.threshold);
    }
    if (auto it = v.find("box"); it != v.end() && it->is_array() && it->size() == 2) {
        const auto a = readIndex((*it)[0]), b = readIndex((*it)[1]);
        if (a && b) s.box = std::make_pair(*a, *b);
    }
    if (auto it = v.find("camera"); it != v.end() && it->is_object()) {
        takeVec(*it, "target", s.camera.target);
        take(*it, "distance", s.camera.distance);
        take(*it, "azimuth", s.camera.azimuth);
        take(*it, "elevation", s.camera.elevation);
        takeVec(*it, "pan", s.camera.pan);
        take(*it, "field_of_view", s.camera.fieldOfView);
        s.camera.distance = std::clamp(s.camera.distance, 1.0, 1e5);
        s.camera.fieldOfView = std::clamp(s.camera.fieldOfView, 5.0, 120.0);
        s.cameraPlaced = true;
    }
    if (auto it = v.find("transfer"); it != v.end() && it->is_array() && !it->empty()) {
        render::TransferFunction f;
        for (const auto& p : *it) {
            if (!p.is_array() || p.size() != 5) continue;
            bool numbers = true;
            for (const auto& x : p)
                numbers = numbers && x.is_number();
            if (!numbers) continue;
            f.points.push_back(
                {std::clamp(p[0].get<float>(), 0.0f, 1.0f), std::clamp(p[1].get<float>(), 0.0f, 1.0f),
                 glm::clamp(glm::vec3(p[2].get<float>(), p[3].get<float>(), p[4].get<float>()), 0.0f, 1.0f)});
        }
        if (!f.points.empty()) {
            f.sortPoints();
            s.transfer = f;
        }
    }
    if (auto it = v.find("clip"); it != v.end() && it->is_array() && it->size() == 3) {
        for (size_t a = 0; a < 3; ++a)
            s.clip[a] = (*it)[a].is_boolean() && (*it)[a].get<bool>();
    }
}

json sessionToJson(const Document& document) {
    const Workspace& workspace = document.workspace;
    const StudyRequest& request = workspace.studyRequest();
    json channels = json::array();
    for (const auto& path : request.channelPaths)
        channels.push_back(absolute(path));
    json panels = json::array();
    std::string target;
    for (const Panel& p : document.comparison.panels()) {
        panels.push_back({{"methods", methodsToJson(p.methods)},
                          {"parameters", parametersToJson(p.parameters)},
                          {"model", p.modelPath.empty() ? "" : absolute(p.modelPath)},
                          {"explained", p.result != nullptr && p.result->source.kind != MapSource::Kind::Stability},
                          {"shows", sourceName(p.result ? p.result->source.kind : MapSource::Kind::Explanation)}});
        if (p.result && p.result->source.kind == MapSource::Kind::Explanation) target = p.result->source.target.text;
    }
    const ViewerState& state = workspace.viewer();
    json session = {{"segxai_session", 1},
                    {"study",
                     {{"channels", channels},
                      {"ground_truth", request.groundTruthPath ? absolute(*request.groundTruthPath) : ""},
                      {"dicom_series", request.dicomSeries},
                      {"keep_channel_order", request.keepChannelOrder},
                      {"reference_channel", request.referenceChannel}}},
                    {"model", workspace.model() ? absolute(workspace.model()->model->path()) : ""},
                    {"panels", panels},
                    {"target", target},
                    {"view", viewStateToJson(state)}};
    if (workspace.model()) {
        if (const NnunetSelection* nnunet = workspace.model()->model->nnunetSelection())
            session["nnunet"] = nnunetToJson(nnunet->options);
    }
    if (const auto painted = document.lesions.painted()) session["synthetic_lesion"] = syntheticToJson(*painted);
    if (const auto lesions = document.lesions.analysis()) {
        session["lesions"] = {{"options", lesionOptionsToJson(lesions->options)}, {"shown", document.lesions.shown()}};
    }
    if (const auto a = document.aggregation.aggregation()) {
        Session::AggregationEntry entry{a->method, a->parameters};
        if (const MapSource* cell = document.aggregation.shownCell()) {
            entry.row = cell->row;
            entry.segment = cell->segment;
            entry.part = cell->part;
        }
        session["aggregation"] = aggregationToJson(entry);
    }
    if (const auto u = document.uncertainty.result()) {
        json entry = uncertaintySettingsToJson(u->settings);
        for (json& m : entry["extra_models"])
            m = absolute(m.get<std::string>());
        entry["panel"] = entry["map"] = -1;
        for (size_t n = 0; n < document.comparison.panels().size(); ++n) {
            if (document.comparison.panels()[n].result != u->maps) continue;
            entry["panel"] = n;
            entry["map"] = state.displays[n].index;
        }
        session["uncertainty"] = entry;
    }
    if (state.selectedInstance != 0 && workspace.instances()) {
        for (const Instance& i : workspace.instances()->instances) {
            if (i.id == state.selectedInstance) session["selected_voxel"] = index3(i.representative);
        }
    }
    return session;
}

Session sessionFromJson(const json& j, const std::string& origin, const std::string& folder) {
    if (!j.is_object() || !j.contains("segxai_session"))
        throw Error(origin + ": not a SegXAI session (no \"segxai_session\")");
    if (!j["segxai_session"].is_number_integer() || j["segxai_session"].get<int>() != 1) {
        throw Error(origin + ": session version " + j["segxai_session"].dump() + " is not one this SegXAI reads (1)");
    }
    Session s;
    const json study = j.value("study", json::object());
    if (!study.is_object()) throw Error(origin + ": 'study' must be an object");
    const json channels = study.value("channels", json::array());
    if (!channels.is_array() || channels.empty())
        throw Error(origin + ": 'study.channels' must list the study's files");
    for (const auto& c : channels) {
        if (!c.is_string() || c.get<std::string>().empty())
            throw Error(origin + ": 'study.channels' must be file paths");
        s.study.channelPaths.push_back(resolved(c.get<std::string>(), folder));
    }
    if (auto gt = study.value("ground_truth", json("")); gt.is_string() && !gt.get<std::string>().empty()) {
        s.study.groundTruthPath = resolved(gt.get<std::string>(), folder);
    }
    if (auto series = study.value("dicom_series", json::array()); series.is_array()) {
        for (const auto& x : series)
            s.study.dicomSeries.push_back(x.is_string() ? x.get<std::string>() : "");
    }
    s.study.keepChannelOrder = jsonField<bool>(study, "keep_channel_order", false, origin + ": study");
    s.study.referenceChannel = jsonField<size_t>(study, "reference_channel", 0, origin + ": study");
    if (s.study.referenceChannel >= s.study.channelPaths.size())
        throw Error(origin + ": 'study.reference_channel' is not one of its channels");
    if (auto it = j.find("synthetic_lesion"); it != j.end() && !it->is_null()) {
        s.synthetic = syntheticFromJson(*it, origin + ": synthetic_lesion");
        if (s.synthetic->contrast.size() != s.study.channelPaths.size()) {
            throw Error(origin + ": synthetic_lesion: 'contrast' must give one number per study channel");
        }
    }
    const json model = j.value("model", json(""));
    if (!model.is_string()) throw Error(origin + ": 'model' must be a path");
    s.model = resolved(model.get<std::string>(), folder);
    if (auto it = j.find("nnunet"); it != j.end() && !it->is_null())
        s.nnunet = nnunetFromJson(*it, origin + ": nnunet");
    const json panels = j.value("panels", json::array());
    if (!panels.is_array() || panels.size() > size_t(kMaxPanels))
        throw Error(origin + ": 'panels' must be a list of 1 to 4 panels");
    for (size_t n = 0; n < panels.size(); ++n) {
        const json& p = panels[n];
        const std::string where = fmt::format("{}: panels[{}]", origin, n);
        if (!p.is_object()) throw Error(where + " must be an object");
        Session::PanelEntry entry;
        entry.methods = methodsFromJson(p.value("methods", json::array({"seg-grad-cam"})), where);
        if (entry.methods.empty()) throw Error(where + ": 'methods' is empty");
        entry.parameters = parametersFromJson(p.value("parameters", json::object()), where);
        const json panelModel = p.value("model", json(""));
        if (!panelModel.is_string()) throw Error(where + ": 'model' must be a path");
        entry.modelPath = resolved(panelModel.get<std::string>(), folder);
        entry.explained = p.value("explained", false) == true;
        entry.shows = sourceKind(p, where);
        if (n > 0 && (entry.shows == MapSource::Kind::Lesion || entry.shows == MapSource::Kind::AggregationCell))
            throw Error(where + ": only panel A shows lesions and aggregation cells");
        s.panels.push_back(std::move(entry));
    }
    const json target = j.value("target", json(""));
    if (!target.is_string()) throw Error(origin + ": 'target' must be a target spec");
    s.targetSpec = target.get<std::string>();
    if (!s.targetSpec.empty()) parseTargetSpec(s.targetSpec); // validate now, with its message
    if (auto it = j.find("lesions"); it != j.end() && !it->is_null()) {
        const std::string where = origin + ": lesions";
        if (!it->is_object()) throw Error(where + " must be an object");
        refuseUnknownKeys(*it, {"options", "shown"}, where);
        s.lesions =
            Session::LesionEntry{lesionOptionsFromJson(it->value("options", json::object()), where + ".options"),
                                 jsonField<int>(*it, "shown", 0, where)};
    }
    if (auto it = j.find("aggregation"); it != j.end() && !it->is_null()) {
        s.aggregation = aggregationFromJson(*it, origin + ": aggregation");
    }
    if (auto it = j.find("uncertainty"); it != j.end() && !it->is_null()) {
        const std::string where = origin + ": uncertainty";
        Session::UncertaintyEntry entry{uncertaintySettingsFromJson(*it, where),
                                        jsonField<int>(*it, "panel", -1, where), jsonField<int>(*it, "map", -1, where)};
        for (std::string& m : entry.settings.extraModels)
            m = resolved(m, folder);
        s.uncertainty = entry;
    }
    for (size_t n = 0; n < s.panels.size(); ++n) {
        const auto& p = s.panels[n];
        if (p.explained && p.shows == MapSource::Kind::Uncertainty &&
            !(s.uncertainty && s.uncertainty->panel == int(n) && s.uncertainty->map >= 0)) {
            throw Error(fmt::format("{}: panel {} shows an uncertainty map, but 'uncertainty' names none", origin,
                                    char('A' + n)));
        }
    }
    for (const auto& p : s.panels) {
        if (!p.explained) continue;
        if (p.shows == MapSource::Kind::Lesion && !(s.lesions && s.lesions->shown > 0)) {
            throw Error(origin + ": panel A shows a lesion, but 'lesions' names none");
        }
        if (p.shows == MapSource::Kind::AggregationCell && !(s.aggregation && s.aggregation->row >= 0)) {
            throw Error(origin + ": panel A shows an aggregation cell, but 'aggregation' names none");
        }
    }
    if (j.contains("selected_voxel")) s.selectedVoxel = readIndex(j["selected_voxel"]);
    s.view = j.value("view", json::object());
    return s;
}

Session readSession(const std::string& path) {
    return sessionFromJson(readJsonFile(path, "session"), path, fs::path(path).parent_path().string());
}

void saveSession(const Document& document, const std::string& path) {
    std::vector<std::string> inputs = document.workspace.studyRequest().channelPaths;
    if (document.workspace.model()) inputs.push_back(document.workspace.model()->model->path());
    writeFileAtomically(path, readableJson(sessionToJson(document)), inputs);
}

bool isSessionPath(const std::string& path) {
    if (path.size() > 7 && path.compare(path.size() - 7, 7, ".segxai") == 0) return true;
    if (fs::path(path).extension() != ".json") return false;
    std::ifstream in(path);
    char head[512] = {};
    in.read(head, sizeof head - 1);
    return std::string(head).find("\"segxai_session\"") != std::string::npos;
}

} // namespace segxai::app
