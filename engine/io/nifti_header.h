#pragma once
#include "engine/core/geometry.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace segxai {

// The parts of a NIfTI-1/2 header SegXAI checks itself, read from .nii or .nii.gz.
struct NiftiHeaderInfo {
    uint64_t voxelOffset = 0;
    int qformCode = 0;
    int sformCode = 0;
    std::array<std::array<double, 4>, 3> sform{}; // srow_x, srow_y, srow_z (RAS, mm)
    std::array<int64_t, 8> dim{};                 // dim[0]: the number of dimensions, then the sizes
    int bitsPerVoxel = 0;                         // as stored, before any scl_slope / scl_inter
};

// Empty when the file is not a NIfTI file SegXAI recognises.
std::optional<NiftiHeaderInfo> readNiftiHeaderInfo(const std::string& path);

// Throws segxai::Error naming the file when the header's dimension count is not 1 to 7 or a
// size is zero or negative (ITK would read such a size as 1 and go on).
void checkNiftiSizes(const std::string& path, const NiftiHeaderInfo& header);

// The grid the sform describes (converted to LPS), or empty when it has shear or is
// degenerate and so cannot be a Geometry.
std::optional<Geometry> sformGeometry(const NiftiHeaderInfo& header, const Index3& dims);

// ITK's NIfTI reader pads a truncated file with zeros and only prints a warning, so a
// half-copied scan would load as a scan with missing slices. This checks that a .nii or
// .nii.gz file holds the header's voxel offset plus the voxel data its sizes and bits per voxel
// need (as stored: a scaled int16 CT holds 2 bytes per voxel, though ITK delivers float32), and
// that its compressed data is undamaged, and throws segxai::Error naming the file otherwise.
// Other formats' readers detect short files.
void checkNiftiComplete(const std::string& path);

} // namespace segxai
