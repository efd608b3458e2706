#pragma once
#include "engine/core/volume.h"

#include <string>

namespace segxai::test {

// Writes `volume` (rounded to int16) as a DICOM series of one file per k-slice into
// `folder`, with per-slice position and orientation tags so readers rebuild the geometry.
void writeDicomSeries(const Volume& volume, const std::string& folder, const std::string& seriesUid,
                      const std::string& description, const std::string& filePrefix = "slice");

} // namespace segxai::test
