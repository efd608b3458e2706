#include "app/gui/state/probe.h"

#include "app/gui/state/document.h"
#include "engine/core/resample.h"

#include <fmt/format.h>

namespace segxai::app {
namespace {

std::string number(float v) {
    return fmt::format("{:.4g}", v);
}

} // namespace

ProbeReading probe(const Document& document) {
    ProbeReading r;
    const Workspace& workspace = document.workspace;
    if (!workspace.study()) return r;
    const Study& study = *workspace.study()->study;
    const ViewerState& state = workspace.viewer();
    r.underMouse = state.hover && state.hover->insideVolume;
    r.voxel = r.underMouse ? state.hover->voxel : state.crosshair;
    r.world =
        r.underMouse ? state.hover->world : study.geometry.voxelToWorld(glm::dvec3(r.voxel[0], r.voxel[1], r.voxel[2]));
    const Index3& v = r.voxel;
    for (const Volume& channel : study.channels)
        r.values.emplace_back(channel.name, number(channel.at(v[0], v[1], v[2])));
    if (study.groundTruth) r.values.emplace_back("truth", std::to_string(study.groundTruth->at(v[0], v[1], v[2])));
    if (const auto& s = workspace.segmentation(); s && s->labels.geometry.sameGrid(study.geometry)) {
        const uint16_t label = s->labels.at(v[0], v[1], v[2]);
        r.values.emplace_back(
            "model", fmt::format("{} (p {:.3f})", s->classNames[label], s->probabilities.at(label, v[0], v[1], v[2])));
    }
    // Maps on their own grids (CAMs at the model's), read where the views draw them.
    for (int panel = 0; panel < int(document.comparison.panels().size()); ++panel) {
        const auto shown = document.comparison.shownMap(panel);
        if (!shown) continue;
        const auto value = sampleLinear(shown->map.values, r.world);
        r.values.emplace_back(std::string(1, char('A' + panel)), value ? number(*value) : "-");
    }
    if (const auto& difference = document.comparison.difference(); difference && state.showDifference) {
        const auto value = sampleLinear(difference->values, r.world);
        r.values.emplace_back("A - B", value ? number(*value) : "-");
    }
    return r;
}

} // namespace segxai::app
