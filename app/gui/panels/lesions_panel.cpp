#include "app/gui/panels/lesions_panel.h"

#include "app/gui/panels/widgets.h"
#include "engine/analysis/report_numbers.h"
#include "engine/core/log.h"
#include "engine/io/atomic_file.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <imgui.h>
#include <imgui_stdlib.h>
#include <sstream>

namespace segxai::app {
namespace {

// A rank test's p-value as the tab prints it ("-" when the test could not be made).
std::string pValueText(const std::optional<RankTest>& t) {
    return t ? fmt::format("{:.3g}", t->pValue) : std::string("-");
}

std::vector<std::string> methodsOf(const LesionAnalysis& a) {
    std::vector<std::string> m;
    if (a.options.explain.smoothGradMean) m.push_back("smoothgrad");
    if (a.options.explain.smoothGradMax) m.push_back("smoothgrad-max");
    if (a.options.explain.camPlusPlus) m.push_back("seg-grad-cam++");
    return m;
}

const char* methodLabel(const std::string& id) {
    return id == "smoothgrad" ? "SmoothGrad" : id == "smoothgrad-max" ? "SmoothGrad (max)" : "Seg-Grad-CAM++";
}

const LesionMapSummary* summaryOf(const LesionAnalysis& a, int id, const std::string& method,
                                  const std::string& channel) {
    for (const auto& s : a.summaries) {
        if (s.lesionId == id && s.method == method && s.channel == channel) return &s;
    }
    return nullptr;
}

ImVec4 groupColour(LesionGroup g) {
    switch (g) {
    case LesionGroup::TruePositive:
        return ImVec4(0.35f, 0.8f, 0.45f, 1.0f);
    case LesionGroup::FalsePositive:
        return ImVec4(0.95f, 0.65f, 0.25f, 1.0f);
    case LesionGroup::FalseNegative:
        return ImVec4(0.6f, 0.55f, 0.95f, 1.0f);
    case LesionGroup::Unmatched:
        break;
    }
    return ImVec4(0.8f, 0.8f, 0.8f, 1.0f);
}

std::vector<double> parseList(const std::string& text) {
    std::vector<double> out;
    std::stringstream s(text);
    for (std::string item; std::getline(s, item, ',');) {
        try {
            const double v = std::stod(item);
            if (v > 0.0) out.push_back(v);
        } catch (const std::exception&) {
        }
    }
    return out;
}

} // namespace

void LesionsPanel::draw(Document& document, FileDialog& files) {
    Workspace& workspace = document.workspace;
    m_plots.beginFrame();
    if (!workspace.study() || !workspace.model()) {
        ImGui::TextWrapped(
            "Open a study and a lesion segmentation model: the analysis finds the model's lesions (with a ground "
            "truth: true positives, false positives, missed lesions), explains each, measures saliency inside "
            "and around it, and the context it needs.");
        return;
    }
    if (!workspace.segmentation()) {
        ImGui::TextWrapped("Segment the study first (Model tab).");
        return;
    }
    drawSettings(document);
    const auto& analysis = document.lesions.analysis();
    if (analysis) {
        if (document.lesions.generation() != m_seenGeneration) {
            m_seenGeneration = document.lesions.generation();
            m_method = 0;
            m_channel = 0;
            // The channel that carries the most attribution first (FLAIR, for lesions).
            double best = -1.0;
            for (size_t c = 0; c < analysis->channels.size(); ++c) {
                double sum = 0.0;
                for (const auto& s : analysis->summaries) {
                    if (s.method == "smoothgrad" && s.channel == analysis->channels[c]) sum += s.channelShare;
                }
                if (sum > best) {
                    best = sum;
                    m_channel = int(c);
                }
            }
        }
        drawSummary(*analysis);
        drawTable(document, *analysis);
        drawLesion(document, *analysis, files);
        drawGroups(*analysis, files);
        ImGui::Separator();
        ImGui::BeginDisabled(document.lesions.saving());
        if (ImGui::Button("Save the analysis as files...", ImVec2(-FLT_MIN, 0))) {
            files.open(
                "Save the lesion analysis (a folder)", "folder", FileDialog::Mode::Open,
                [&document](const std::vector<std::string>& paths) { document.lesions.save(paths.front()); }, {}, {},
                true);
        }
        ImGui::EndDisabled();
        if (ImGui::IsItemHovered()) {
            ImGui::SetTooltip(
                "instances.csv, rings.csv, peaks.csv, context.csv, summary.json, lesions.nii.gz and each lesion's\n"
                "maps, as segxai lesions writes them");
        }
    }
    drawSynthetic(document);
    if (!m_message.empty()) ImGui::TextColored(ImVec4(1, 0.55f, 0.45f, 1), "%s", m_message.c_str());
    m_plots.drawEnlarged();
}

void LesionsPanel::drawSettings(Document& document) {
    Workspace& workspace = document.workspace;
    if (!m_optionsSet) {
        m_optionsSet = true;
        m_options.explain.camPlusPlus = true;
        m_options.contextMaxMm = 10.0;
    }
    if (!ImGui::CollapsingHeader("Settings", document.lesions.analysis() ? 0 : ImGuiTreeNodeFlags_DefaultOpen)) {
        if (ImGui::Button(document.lesions.analysing() ? "Analysing..." : "Analyse lesions", ImVec2(-FLT_MIN, 0)) &&
            !document.lesions.analysing()) {
            document.lesions.analyse(m_options);
        }
        return;
    }
    LesionOptions& l = m_options.lesions;
    float threshold = float(l.threshold);
    if (ImGui::SliderFloat("threshold", &threshold, 0.05f, 0.95f, "p > %.2f")) l.threshold = threshold;
    int connectivity = l.connectivity == 6 ? 0 : l.connectivity == 18 ? 1 : 2;
    if (comboList("connectivity", connectivity, {"6 (faces)", "18 (faces, edges)", "26 (faces, edges, corners)"}))
        l.connectivity = connectivity == 0 ? 6 : connectivity == 1 ? 18 : 26;
    int minimum = int(l.minimumSize);
    if (ImGui::InputInt("min voxels", &minimum)) l.minimumSize = std::max(1, minimum);
    const auto& classes = workspace.segmentation()->classNames;
    l.classIndex = std::clamp(l.classIndex, 1, std::max(1, int(classes.size()) - 1));
    if (classes.size() > 2 && ImGui::BeginCombo("class", classes[size_t(l.classIndex)].c_str())) {
        for (int c = 1; c < int(classes.size()); ++c) {
            if (ImGui::Selectable(classes[size_t(c)].c_str(), c == l.classIndex)) l.classIndex = c;
        }
        ImGui::EndCombo();
    }
    LesionExplainOptions& e = m_options.explain;
    ImGui::Checkbox("SmoothGrad", &e.smoothGradMean);
    ImGui::SameLine();
    ImGui::Checkbox("max", &e.smoothGradMax);
    if (ImGui::IsItemHovered()) {
        ImGui::SetTooltip(
            "Max-magnitude variant: per input voxel, the gradient of largest magnitude over the lesion's\n"
            "chunks (a backward pass per chunk: %d chunks per lesion)",
            e.maxChunks);
    }
    ImGui::SameLine();
    ImGui::Checkbox("Grad-CAM++", &e.camPlusPlus);
    inputCount("samples", e.samples, 1, 100000);
    inputNumber("noise (of the range)", e.noiseFraction, 0.0, 10.0, 0.01, "%.3f");
    inputNumber("context up to (mm)", m_options.contextMaxMm, 0.0, 100.0, 1.0, "%.1f");
    m_options.context = m_options.contextMaxMm > 0.0;
    ImGui::BeginDisabled(document.lesions.analysing());
    if (ImGui::Button(document.lesions.analysing() ? "Analysing..." : "Analyse lesions", ImVec2(-FLT_MIN, 0))) {
        document.lesions.analyse(m_options);
    }
    ImGui::EndDisabled();
}

void LesionsPanel::drawSummary(const LesionAnalysis& a) {
    std::map<LesionGroup, int> counts;
    for (const Lesion& l : a.lesions.lesions)
        ++counts[l.group];
    ImGui::Separator();
    if (a.lesions.hasTruth) {
        ImGui::Text("%zu lesions: %d TP, %d FP, %d FN", a.lesions.lesions.size(), counts[LesionGroup::TruePositive],
                    counts[LesionGroup::FalsePositive], counts[LesionGroup::FalseNegative]);
        ImGui::TextDisabled("sensitivity %.2f, precision %.2f, F1 %.2f", a.lesions.sensitivity, a.lesions.precision,
                            a.lesions.f1);
        ImGui::TextDisabled("voxel Dice %.3f", a.lesions.voxelDice);
    } else {
        ImGui::Text("%zu lesions (no ground truth: no TP / FP / FN)", a.lesions.lesions.size());
    }
    for (const Finding& f : a.findings) {
        const ImVec4 colour = !f.holds   ? ImVec4(0.7f, 0.7f, 0.7f, 1)
                              : *f.holds ? ImVec4(0.4f, 0.85f, 0.5f, 1)
                                         : ImVec4(1.0f, 0.55f, 0.45f, 1);
        ImGui::PushStyleColor(ImGuiCol_Text, colour);
        ImGui::TextWrapped("%s %s", !f.holds ? "?" : *f.holds ? "yes:" : "no:", f.name.c_str());
        ImGui::PopStyleColor();
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", f.evidence.c_str());
    }
}

void LesionsPanel::drawTable(Document& document, const LesionAnalysis& a) {
    const auto methods = methodsOf(a);
    const std::string method = methods.empty() ? "" : methods[size_t(std::clamp(m_method, 0, int(methods.size()) - 1))];
    const std::string channel = method == "seg-grad-cam++" || a.channels.empty()
                                    ? ""
                                    : a.channels[size_t(std::clamp(m_channel, 0, int(a.channels.size()) - 1))];
    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingStretchProp |
                                  ImGuiTableFlags_BordersInnerV;
    const float height = std::min(ImGui::GetTextLineHeightWithSpacing() * (float(a.lesions.lesions.size()) + 1.5f),
                                  ImGui::GetTextLineHeightWithSpacing() * 9.0f);
    // With the Uncertainty tab's ensemble: each lesion's mutual information and the share of members finding it.
    const auto uncertainty = document.lesions.uncertainty();
    if (!ImGui::BeginTable("lesions", uncertainty ? 8 : 6, flags, ImVec2(0, height))) return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("#");
    ImGui::TableSetupColumn("group");
    ImGui::TableSetupColumn("mm3");
    ImGui::TableSetupColumn("p");
    ImGui::TableSetupColumn("peak");
    ImGui::TableSetupColumn("ctx");
    if (uncertainty) {
        ImGui::TableSetupColumn("MI");
        ImGui::TableSetupColumn("found");
    }
    ImGui::TableHeadersRow();
    for (const Lesion& l : a.lesions.lesions) {
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        const std::string label = fmt::format("{}##lesion{}", l.id, l.id);
        if (ImGui::Selectable(label.c_str(), document.lesions.shown() == l.id, ImGuiSelectableFlags_SpanAllColumns)) {
            document.lesions.show(l.id, std::clamp(m_method, 0, std::max(0, int(methods.size()) - 1)),
                                  method == "seg-grad-cam++" ? 0 : m_channel);
        }
        ImGui::TableNextColumn();
        ImGui::TextColored(groupColour(l.group), "%s", lesionGroupName(l.group));
        ImGui::TableNextColumn();
        ImGui::Text("%.0f", l.volumeMm3);
        ImGui::TableNextColumn();
        ImGui::Text("%.2f", l.meanProbability);
        ImGui::TableNextColumn();
        if (const LesionMapSummary* s = summaryOf(a, l.id, method, channel)) {
            ImGui::Text("%.3g", m_statistic == 0 ? s->peak.maximum : s->peak.maximumMagnitude);
        } else {
            ImGui::TextDisabled("-");
        }
        ImGui::TableNextColumn();
        auto context = a.context.find(l.id);
        if (context == a.context.end()) {
            ImGui::TextDisabled("-");
        } else if (context->second.sufficientMm) {
            ImGui::Text("%g", *context->second.sufficientMm);
        } else {
            ImGui::TextDisabled(">%g", a.options.contextMaxMm);
        }
        if (uncertainty) {
            const InstanceUncertainty& u = uncertainty->perLesion[size_t(l.id - 1)];
            ImGui::TableNextColumn();
            ImGui::Text("%.3f", u.meanMutualInformation);
            ImGui::TableNextColumn();
            ImGui::Text("%.0f%%", 100.0 * u.memberShare);
        }
    }
    ImGui::EndTable();
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyle().Colors[ImGuiCol_TextDisabled]);
    ImGui::TextWrapped("peak: %s of %s%s; ctx: mm of context the model needs%s",
                       m_statistic == 0 ? "maximum" : "largest |value|", method.empty() ? "-" : methodLabel(method),
                       channel.empty() ? "" : (" (" + channel + ")").c_str(),
                       uncertainty ? fmt::format("; MI: mean mutual information of the {} members (nats); found: "
                                                 "share of members that find the lesion",
                                                 uncertainty->members.size())
                                         .c_str()
                                   : "");
    ImGui::PopStyleColor();
    if (uncertainty && a.lesions.hasTruth) drawUncertaintyGroups(*uncertainty);
}

void LesionsPanel::drawUncertaintyGroups(const LesionUncertainty& u) {
    // The groups' medians and rank tests, as for the peaks.
    for (const GroupComparison& c : u.comparisons) {
        if (c.statistic != "mean mutual information" && c.statistic != "mean entropy") continue;
        std::string medians;
        for (const auto& [group, values] : c.values)
            medians += fmt::format("{}{} {:.3f}", medians.empty() ? "" : ", ", group, median(values));
        ImGui::TextWrapped("%s: median %s; Mann-Whitney p TP-FP %s, TP-FN %s", c.statistic.c_str(), medians.c_str(),
                           pValueText(c.tpVersusFp).c_str(), pValueText(c.tpVersusFn).c_str());
    }
    ImGui::PopStyleColor();
}

void LesionsPanel::drawLesion(Document& document, const LesionAnalysis& a, FileDialog& files) {
    Workspace& workspace = document.workspace;
    const auto methods = methodsOf(a);
    if (methods.empty()) return;
    ImGui::Separator();
    // What panel A shows of the lesion (a session reopens it too).
    const auto& panels = document.comparison.panels();
    if (!panels.empty() && panels[0].result && panels[0].result->source.kind == MapSource::Kind::Lesion) {
        const MapDisplay& shown = workspace.viewer().displays[0];
        m_method = shown.index;
        if (shown.index < int(methods.size()) && methods[size_t(shown.index)] != "seg-grad-cam++")
            m_channel = shown.map;
    }
    m_method = std::clamp(m_method, 0, int(methods.size()) - 1);
    const int before = m_method, channelBefore = m_channel;
    if (ImGui::BeginCombo("map", methodLabel(methods[size_t(m_method)]))) {
        for (int m = 0; m < int(methods.size()); ++m) {
            if (ImGui::Selectable(methodLabel(methods[size_t(m)]), m == m_method)) m_method = m;
        }
        ImGui::EndCombo();
    }
    const bool cam = methods[size_t(m_method)] == "seg-grad-cam++";
    if (!cam) {
        for (int c = 0; c < int(a.channels.size()); ++c) {
            if (c) ImGui::SameLine();
            ImGui::RadioButton(a.channels[size_t(c)].c_str(), &m_channel, c);
        }
    }
    if ((before != m_method || channelBefore != m_channel) && document.lesions.shown()) {
        workspace.viewer().displays[0].index = m_method;
        workspace.viewer().displays[0].map = cam ? 0 : m_channel;
    }
    const int id = document.lesions.shown();
    if (id < 1) {
        ImGui::TextDisabled("click a lesion in the table to see it, its maps and its curves");
        return;
    }
    const Lesion& lesion = a.lesions.lesion(id);
    ImGui::TextColored(groupColour(lesion.group), "lesion %d: %s, %.0f mm3, mean p %.2f%s", id,
                       lesionGroupName(lesion.group), lesion.volumeMm3, lesion.meanProbability,
                       lesion.distanceMm && lesion.group != LesionGroup::TruePositive
                           ? fmt::format(", {:.1f} mm from the nearest {}", *lesion.distanceMm,
                                         lesion.group == LesionGroup::FalseNegative ? "prediction" : "true lesion")
                                 .c_str()
                           : "");
    const std::string channel = cam ? "" : a.channels[size_t(std::clamp(m_channel, 0, int(a.channels.size()) - 1))];
    const float width = ImGui::GetContentRegionAvail().x;
    if (const LesionMapSummary* s = summaryOf(a, id, methods[size_t(m_method)], channel)) {
        const plots::Rect r = plots::rings("##rings", s->rings, ImVec2(width, ImGui::GetFontSize() * 9.0f));
        ImGui::TextDisabled("positive inside %.0f %%, negative in 0-2 mm %.0f %%", 100.0 * s->rings.sharePositiveInside,
                            100.0 * s->rings.shareNegativeRim);
        ImGui::TextDisabled("this channel's share of the attribution %.0f %%", 100.0 * s->channelShare);
        std::string csv = "region,from_mm,to_mm,voxels,mean,share_positive,share_negative,histogram_limit";
        for (size_t b = 0; b < s->rings.regions.front().histogram.size(); ++b)
            csv += fmt::format(",bin_{}", b + 1);
        csv += "\n";
        for (const RingRegion& region : s->rings.regions) {
            csv += fmt::format("{},{:g},{:g},{},{:.6g},{:.6g},{:.6g},{:.6g}", region.name, region.fromMm, region.toMm,
                               region.voxels, region.mean, region.sharePositive, region.shareNegative, s->rings.limit);
            for (int64_t count : region.histogram)
                csv += fmt::format(",{}", count);
            csv += "\n";
        }
        m_plots.buttons("rings", r, fmt::format("lesion_{}_rings", id), csv, files, m_message, [s, id](ImVec2 size) {
            ImGui::TextDisabled("lesion %d: the map's values inside the lesion and in rings around it (rows); "
                                "histogram of values (columns: negative, blue, to positive, red); shares beside",
                                id);
            plots::rings("##ringsLarge", s->rings, ImGui::GetContentRegionAvail());
            (void)size;
        });
    }
    auto context = a.context.find(id);
    if (context != a.context.end()) {
        const plots::Rect r = plots::contextCurve("##context", context->second, a.options.lesions.threshold,
                                                  ImVec2(width, ImGui::GetFontSize() * 8.0f));
        std::string csv = "distance_mm,detected,mean_probability\n";
        for (const ContextPoint& p : context->second.points) {
            csv += fmt::format("{:g},{},{:.6g}\n", p.mm, p.detected ? 1 : 0, p.meanProbability);
        }
        const double threshold = a.options.lesions.threshold;
        m_plots.buttons("context", r, fmt::format("lesion_{}_context", id), csv, files, m_message,
                        [curve = &context->second, threshold, id](ImVec2) {
                            ImGui::TextDisabled("lesion %d - x: context kept around the lesion (mm); y: mean "
                                                "probability in the lesion; dashed: the detection threshold",
                                                id);
                            plots::contextCurve("##contextLarge", *curve, threshold, ImGui::GetContentRegionAvail());
                        });
    }
}

void LesionsPanel::drawGroups(const LesionAnalysis& a, FileDialog& files) {
    const auto methods = methodsOf(a);
    if (methods.empty() || !a.lesions.hasTruth) return;
    ImGui::Separator();
    const std::string method = methods[size_t(std::clamp(m_method, 0, int(methods.size()) - 1))];
    const std::string channel =
        method == "seg-grad-cam++" ? "" : a.channels[size_t(std::clamp(m_channel, 0, int(a.channels.size()) - 1))];
    comboList("peak", m_statistic, {"maximum", "largest |value|"});
    const GroupComparison* comparison = nullptr;
    for (const auto& c : a.comparisons) {
        if (c.method == method && c.channel == channel &&
            c.statistic == (m_statistic == 0 ? "maximum" : "maximum magnitude"))
            comparison = &c;
    }
    if (!comparison) return;
    const std::string label =
        fmt::format("peak {} per group", methodLabel(method)) + (channel.empty() ? "" : " (" + channel + ")");
    const plots::Rect r = plots::boxPlot("##groups", comparison->values, label.c_str(),
                                         ImVec2(ImGui::GetContentRegionAvail().x, ImGui::GetFontSize() * 9.0f));
    ImGui::TextDisabled("Mann-Whitney p: TP-FP %s, TP-FN %s, FP-FN %s", pValueText(comparison->tpVersusFp).c_str(),
                        pValueText(comparison->tpVersusFn).c_str(), pValueText(comparison->fpVersusFn).c_str());
    ImGui::TextDisabled("Kruskal-Wallis p: %s", pValueText(comparison->kruskalWallis).c_str());
    std::string csv = "group,count,q1,median,q3,whisker_low,whisker_high,values\n";
    for (const auto& [group, values] : comparison->values) {
        const plots::Quartiles q = plots::quartiles(values);
        csv += fmt::format("{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},", group, values.size(), q.q1, q.median, q.q3,
                           q.low, q.high);
        for (size_t n = 0; n < values.size(); ++n)
            csv += fmt::format("{}{:.6g}", n ? ";" : "", values[n]);
        csv += "\n";
    }
    m_plots.buttons("groups", r, "peaks_by_group", csv, files, m_message, [comparison, label](ImVec2) {
        ImGui::TextDisabled("x: lesion group (TP, FP, FN); y: each lesion's peak; boxes: quartiles, whiskers 1.5 IQR");
        plots::boxPlot("##groupsLarge", comparison->values, label.c_str(), ImGui::GetContentRegionAvail());
    });
}

void LesionsPanel::drawSynthetic(Document& document) {
    Workspace& workspace = document.workspace;
    if (!ImGui::CollapsingHeader("Synthetic lesion")) return;
    const auto& loaded = workspace.study();
    const Study& study = *loaded->study;
    if (m_synthetic.contrast.size() != study.channels.size()) {
        // Defaults that look like a white-matter lesion: brighter on FLAIR, darker on T1.
        m_synthetic.contrast.assign(study.channels.size(), 0.5);
        for (size_t c = 0; c < study.channels.size(); ++c) {
            std::string name = study.channels[c].name;
            std::transform(name.begin(), name.end(), name.begin(),
                           [](unsigned char ch) { return char(std::tolower(ch)); });
            if (name.find("t1") != std::string::npos) m_synthetic.contrast[c] = -0.3;
        }
    }
    const Index3 at = workspace.viewer().crosshair;
    ImGui::TextDisabled("at the crosshair, voxel %lld, %lld, %lld", (long long)at[0], (long long)at[1],
                        (long long)at[2]);
    float radii[3] = {float(m_synthetic.radiiMm.x), float(m_synthetic.radiiMm.y), float(m_synthetic.radiiMm.z)};
    if (ImGui::SliderFloat3("radii mm", radii, 0.5f, 15.0f, "%.1f"))
        m_synthetic.radiiMm = glm::dvec3(radii[0], radii[1], radii[2]);
    for (size_t c = 0; c < study.channels.size(); ++c) {
        float contrast = float(m_synthetic.contrast[c]);
        if (ImGui::SliderFloat(study.channels[c].name.c_str(), &contrast, -0.9f, 2.0f, "%+.2f"))
            m_synthetic.contrast[c] = contrast;
    }
    float edge = float(m_synthetic.edgeMm);
    if (ImGui::SliderFloat("edge", &edge, 0.0f, 5.0f, "%.1f mm")) m_synthetic.edgeMm = edge;
    m_synthetic.centre = study.geometry.voxelToWorld(glm::dvec3(double(at[0]), double(at[1]), double(at[2])));
    const bool busy = document.lesions.painting() || workspace.segmenting();
    ImGui::BeginDisabled(busy);
    if (ImGui::Button("Paint and segment")) document.lesions.paint(m_synthetic);
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::BeginDisabled(!document.lesions.painted());
    if (ImGui::Button("Remove")) document.lesions.removePainted();
    ImGui::EndDisabled();
    if (document.lesions.painted()) {
        ImGui::TextColored(ImVec4(1.0f, 0.8f, 0.3f, 1.0f), "a synthetic lesion is painted in (not in the files)");
    }
    ImGui::InputText("radii (mm)", &m_sweepRadii);
    ImGui::InputText("contrast x", &m_sweepContrasts);
    const std::vector<double> radiiList = parseList(m_sweepRadii), scales = parseList(m_sweepContrasts);
    ImGui::BeginDisabled(document.lesions.sweeping() || radiiList.empty() || scales.empty());
    if (ImGui::Button(fmt::format("Sweep {} sizes x {} contrasts", radiiList.size(), scales.size()).c_str(),
                      ImVec2(-FLT_MIN, 0))) {
        document.lesions.sweep(m_synthetic, radiiList, scales, m_options.lesions.classIndex,
                               m_options.lesions.threshold);
    }
    ImGui::EndDisabled();
    const auto& sweep = document.lesions.sweepResult();
    if (!sweep || sweep->empty()) return;
    std::vector<double> sizes, contrasts;
    for (const auto& c : *sweep) {
        if (std::find(sizes.begin(), sizes.end(), c.radiusMm) == sizes.end()) sizes.push_back(c.radiusMm);
        if (std::find(contrasts.begin(), contrasts.end(), c.contrastScale) == contrasts.end())
            contrasts.push_back(c.contrastScale);
    }
    if (!ImGui::BeginTable("sweep", int(contrasts.size()) + 1,
                           ImGuiTableFlags_Borders | ImGuiTableFlags_SizingStretchSame))
        return;
    ImGui::TableSetupColumn("r \\ x");
    for (double c : contrasts)
        ImGui::TableSetupColumn(fmt::format("x{:g}", c).c_str());
    ImGui::TableHeadersRow();
    for (double r : sizes) {
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::Text("%g mm", r);
        for (double c : contrasts) {
            ImGui::TableNextColumn();
            for (const auto& cell : *sweep) {
                if (cell.radiusMm != r || cell.contrastScale != c) continue;
                ImGui::TextColored(cell.detected ? ImVec4(0.4f, 0.85f, 0.5f, 1) : ImVec4(1.0f, 0.5f, 0.4f, 1),
                                   "%s %.2f", cell.detected ? "+" : "-", cell.meanProbability);
            }
        }
    }
    ImGui::EndTable();
    ImGui::TextDisabled("+ detected / - missed, and the mean probability over the lesion's core");
}

} // namespace segxai::app
