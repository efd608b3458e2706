#pragma once
#include "engine/core/geometry.h"

#include <string>
#include <utility>
#include <vector>

namespace segxai::app {

class Document;

// What the data probe reads under the mouse (else at the crosshair): every channel, the
// ground truth, the model's class and probability, and the map each comparison panel shows
// (A, B, ..., and A - B when the difference view is on).
struct ProbeReading {
    Index3 voxel{0, 0, 0};
    glm::dvec3 world{0.0};
    bool underMouse = false;
    std::vector<std::pair<std::string, std::string>> values; // name, value as shown
};

// nullopt-like: an empty reading (no values) when no study is open.
ProbeReading probe(const Document& document);

} // namespace segxai::app
