#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace segxai {

// Intensity normalisation of one input channel before inference.
struct Normalization {
    enum class Kind { None, ZScore, Range };
    Kind kind = Kind::None;
    bool nonzeroOnly = false; // z-score: statistics over non-zero voxels, zeros stay zero
    // range: [aMin, aMax] -> [bMin, bMax], optionally clipped to [bMin, bMax]
    double aMin = 0.0, aMax = 1.0, bMin = 0.0, bMax = 1.0;
    bool clip = false;
};

struct SlidingWindow {
    std::array<int64_t, 3> patch{96, 96, 96}; // in model voxels, (i, j, k) order
    double overlap = 0.25;                    // fraction of the patch shared by neighbours
    bool gaussian = true;                     // Gaussian importance blending (else constant)
    double sigmaScale = 0.125;                // Gaussian sigma as a fraction of the patch
};

struct ClassInfo {
    std::string name;
    std::array<uint8_t, 3> color{255, 0, 0};
};

// What a model expects and produces (docs/models.md#model-card). Read from model.json beside the
// TorchScript file, or from a MONAI bundle, or defaulted for a bare TorchScript file.
struct ModelCard {
    std::string name;
    std::string description;
    std::vector<std::string> inputChannels;         // names, in tensor channel order; empty: unknown
    std::vector<ClassInfo> classes;                 // empty: named by index after the first forward
    std::optional<std::array<double, 3>> spacingMm; // resample to this spacing; absent: study grid
    bool reorientToRas = false;                     // reorient to RAS before inference, back after
    bool reverseAxes = false;                       // tensor spatial order (k, j, i) instead of (i, j, k)
    std::vector<Normalization> normalization;       // one per channel, or one for all
    std::optional<SlidingWindow> slidingWindow;
    int64_t divisibleBy = 1;           // pad spatial size to a multiple (network stride)
    std::string camLayer;              // default layer for CAM methods
    bool outputsProbabilities = false; // else logits
    bool syntheticData = false;        // trained on synthetic data (shown in the UI)
    // The other members of an ensemble this model belongs to (paths as written, relative ones from
    // the card's folder): uncertainty runs every one of them besides this model.
    std::vector<std::string> members;
    std::string source; // where the card came from (file path or "defaults")

    // The normalisation for channel c (the single entry applies to all channels).
    Normalization normalizationFor(size_t channel) const;
    std::string className(size_t index) const;
};

// Parses a model card. Throws segxai::Error naming `origin` and the field on wrong types,
// missing required fields or values out of range.
ModelCard parseModelCard(const std::string& jsonText, const std::string& origin);
ModelCard readModelCard(const std::string& path);
std::string modelCardToJson(const ModelCard& card);

// Default colour for class `index` when a card gives none.
std::array<uint8_t, 3> defaultClassColor(size_t index);

} // namespace segxai
