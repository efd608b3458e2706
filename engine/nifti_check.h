#pragma once
#include <cstdint>
#include <string>

namespace segxai {

// ITK's NIfTI reader pads a truncated file with zeros and only prints a warning, so a
// half-copied scan would load as a scan with missing slices. This checks that a .nii or
// .nii.gz file holds the header's voxel offset plus `imageBytes` of voxel data, and throws
// segxai::Error naming the file otherwise. Other formats' readers detect short files.
void checkNiftiComplete(const std::string& path, uint64_t imageBytes);

} // namespace segxai
