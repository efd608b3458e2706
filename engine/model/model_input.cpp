#include "engine/model/model_input.h"

#include "engine/core/error.h"
#include "engine/core/grid.h"
#include "engine/core/resample.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace segxai {

Geometry modelGridFor(const Geometry& studyGrid, const ModelCard& card) {
    Geometry grid = card.reorientToRas ? rasGrid(studyGrid) : studyGrid;
    if (card.spacingMm) {
        const auto& s = *card.spacingMm;
        grid = gridWithSpacing(grid, glm::dvec3(s[0], s[1], s[2]));
    }
    return grid;
}

void normalize(std::vector<float>& voxels, const Normalization& n) {
    switch (n.kind) {
    case Normalization::Kind::None:
        return;
    case Normalization::Kind::ZScore: {
        double sum = 0.0, squares = 0.0;
        size_t count = 0;
        for (float v : voxels) {
            if (n.nonzeroOnly && v == 0.0f) continue;
            sum += v;
            ++count;
        }
        if (count == 0) return;
        const double mean = sum / double(count);
        for (float v : voxels) {
            if (n.nonzeroOnly && v == 0.0f) continue;
            squares += (v - mean) * (v - mean);
        }
        double deviation = std::sqrt(squares / double(count));
        if (deviation == 0.0) deviation = 1.0;
        for (float& v : voxels) {
            if (n.nonzeroOnly && v == 0.0f) continue;
            v = float((double(v) - mean) / deviation);
        }
        return;
    }
    case Normalization::Kind::Range: {
        const double scale = (n.bMax - n.bMin) / (n.aMax - n.aMin);
        const double lo = std::min(n.bMin, n.bMax), hi = std::max(n.bMin, n.bMax);
        for (float& v : voxels) {
            double x = (double(v) - n.aMin) * scale + n.bMin;
            if (n.clip) x = std::clamp(x, lo, hi);
            v = float(x);
        }
        return;
    }
    }
}

ModelInput prepareModelInput(const Study& study, const ModelCard& card, int64_t expectedChannels) {
    const size_t have = study.channels.size();
    if (expectedChannels >= 0 && size_t(expectedChannels) != have) {
        std::string names;
        for (size_t c = 0; c < card.inputChannels.size(); ++c) {
            names += (c ? ", " : " (") + card.inputChannels[c] + (c + 1 == card.inputChannels.size() ? ")" : "");
        }
        throw Error(fmt::format("model expects {} input channel{}{}, study has {}", expectedChannels,
                                expectedChannels == 1 ? "" : "s", names, have));
    }
    ModelInput input;
    input.grid = modelGridFor(study.geometry, card);
    for (size_t c = 0; c < have; ++c) {
        Volume channel = study.channels[c].geometry.sameGrid(input.grid)
                             ? study.channels[c]
                             : resampleLinear(study.channels[c], input.grid);
        normalize(channel.voxels, card.normalizationFor(c));
        input.channels.push_back(std::move(channel));
    }
    return input;
}

} // namespace segxai
