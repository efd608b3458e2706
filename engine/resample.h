#pragma once
#include "engine/volume.h"

namespace segxai {

// Resamples onto `target` through world coordinates; voxels outside the source are
// `outside`. Linear for images, nearest neighbour for labels.
Volume resampleLinear(const Volume& source, const Geometry& target, float outside = 0.0f);
LabelVolume resampleNearest(const LabelVolume& source, const Geometry& target);

} // namespace segxai
