#pragma once
// The scale benchmark's model: a 105-class 3D U-Net shaped like TotalSegmentator's nnU-Net
// (PlainConvUNet, 6 stages, 128^3 patches, 1.5 mm, CT normalisation) with seeded random weights,
// written as a TorchScript model and its card. Narrower than nnU-Net's 32-320 features so that
// a 2-core machine runs it in minutes; its labels mean nothing, its cost is the point.
#include <cstdint>
#include <string>
#include <vector>

namespace segxai {

struct ScaleModelShape {
    std::vector<int64_t> features{4, 8, 16, 32, 64, 64}; // per stage (nnU-Net: 32, 64, 128, 256, 320, 320)
    int64_t patch = 128;
    double spacingMm = 1.5;
};

// Writes `folder`/model.pt and `folder`/model.json (classes named by `classNames`). Returns the
// model file's path.
std::string writeScaleModel(const std::string& folder, const std::vector<std::string>& classNames, uint64_t seed,
                            const ScaleModelShape& shape = {});

} // namespace segxai
