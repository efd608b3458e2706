#pragma once
#include "render/image_capture.h"

#include <string>

namespace segxai::test {

// A PNG file as an image (empty when it cannot be read or decoded).
render::RgbaImage loadPng(const std::string& path);

// How far a rendering may drift from its golden image. The defaults accept what differs
// between runs of the same Mesa llvmpipe on CPUs with other vector units (rounding in
// filtering and blending): a few pixels off by more than 8 levels, a tiny mean difference.
struct GoldenTolerance {
    int levels = 8;                // a pixel counts as different past this channel difference
    double differentShare = 0.002; // share of pixels allowed to differ
    double meanDifference = 0.5;   // mean absolute channel difference, levels
};

// Compares `image` with tests/data/golden/<name>.png. On a mismatch it writes
// <name>.actual.png and <name>.diff.png into the test's working folder (golden-failures/)
// and returns a message; "" when it matches. SEGXAI_UPDATE_GOLDEN=1 writes the golden
// instead (only when it is missing or differs), for a deliberate change of the pictures.
std::string compareWithGolden(const render::RgbaImage& image, const std::string& name,
                              const GoldenTolerance& tolerance = {});

// The same comparison of two pictures; on a mismatch writes golden-failures/<name>.diff.png
// and returns a message naming `name`.
std::string compareImages(const render::RgbaImage& actual, const render::RgbaImage& expected, const std::string& name,
                          const GoldenTolerance& tolerance = {});

} // namespace segxai::test
