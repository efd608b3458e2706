#include "engine/io/nifti_header.h"

#include "engine/core/error.h"

#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <zlib.h>

namespace segxai {
namespace {

bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

template <typename T> T readAt(const unsigned char* bytes, size_t offset, bool swap) {
    T value;
    std::memcpy(&value, bytes + offset, sizeof(T));
    if (swap) {
        auto* p = reinterpret_cast<unsigned char*>(&value);
        for (size_t n = 0; n < sizeof(T) / 2; ++n)
            std::swap(p[n], p[sizeof(T) - 1 - n]);
    }
    return value;
}

// Field offsets of the NIfTI-1 (348-byte) and NIfTI-2 (540-byte) headers.
std::optional<NiftiHeaderInfo> parseHeader(const unsigned char* header, size_t size) {
    if (size < 348) return std::nullopt;
    int32_t sizeofHeader = readAt<int32_t>(header, 0, false);
    const bool swap = sizeofHeader != 348 && sizeofHeader != 540;
    if (swap) sizeofHeader = readAt<int32_t>(header, 0, true);
    NiftiHeaderInfo info;
    if (sizeofHeader == 348) {
        // vox_offset is a float: a damaged header may hold anything, and converting a value
        // beyond uint64's range is undefined; 1e12 bytes is past the end of any real file.
        const float offset = readAt<float>(header, 108, swap);
        info.voxelOffset = !(offset >= 348.0f) ? 348 : offset > 1e12f ? uint64_t(1e12) : uint64_t(offset);
        info.qformCode = readAt<int16_t>(header, 252, swap);
        info.sformCode = readAt<int16_t>(header, 254, swap);
        for (size_t r = 0; r < 3; ++r)
            for (size_t c = 0; c < 4; ++c)
                info.sform[r][c] = readAt<float>(header, 280 + 16 * r + 4 * c, swap);
        for (size_t d = 0; d < 8; ++d)
            info.dim[d] = readAt<int16_t>(header, 40 + 2 * d, swap);
        info.bitsPerVoxel = readAt<int16_t>(header, 72, swap);
        return info;
    }
    if (sizeofHeader == 540 && size >= 540) {
        const int64_t offset = readAt<int64_t>(header, 168, swap);
        info.voxelOffset = offset >= 540 ? uint64_t(offset) : 540;
        info.qformCode = readAt<int32_t>(header, 344, swap);
        info.sformCode = readAt<int32_t>(header, 348, swap);
        for (size_t r = 0; r < 3; ++r)
            for (size_t c = 0; c < 4; ++c)
                info.sform[r][c] = readAt<double>(header, 400 + 32 * r + 8 * c, swap);
        for (size_t d = 0; d < 8; ++d)
            info.dim[d] = readAt<int64_t>(header, 16 + 8 * d, swap);
        info.bitsPerVoxel = readAt<int16_t>(header, 14, swap);
        return info;
    }
    return std::nullopt;
}

// The bytes of voxel data the header's sizes and bits per voxel need (0 for a header too
// damaged to say: checkNiftiSizes and ITK refuse those).
uint64_t storedImageBytes(const NiftiHeaderInfo& h) {
    if (h.dim[0] < 1 || h.dim[0] > 7 || h.bitsPerVoxel <= 0) return 0;
    uint64_t voxels = 1;
    for (int64_t d = 1; d <= h.dim[0]; ++d) {
        if (h.dim[size_t(d)] < 1) return 0;
        voxels *= uint64_t(h.dim[size_t(d)]);
    }
    return (voxels * uint64_t(h.bitsPerVoxel) + 7) / 8;
}

[[noreturn]] void truncated(const std::string& path, uint64_t have, uint64_t need) {
    throw Error(fmt::format("{}: file is truncated: it holds {} bytes of image data where the "
                            "header needs {} (an incomplete copy or download?)",
                            path, have, need));
}

} // namespace

std::optional<NiftiHeaderInfo> readNiftiHeaderInfo(const std::string& path) {
    std::array<unsigned char, 540> header{};
    int n = 0;
    if (endsWith(path, ".nii.gz")) {
        gzFile file = gzopen(path.c_str(), "rb");
        if (!file) return std::nullopt;
        n = gzread(file, header.data(), unsigned(header.size()));
        gzclose(file);
    } else if (endsWith(path, ".nii")) {
        std::ifstream in(path, std::ios::binary);
        in.read(reinterpret_cast<char*>(header.data()), header.size());
        n = int(in.gcount());
    }
    return n > 0 ? parseHeader(header.data(), size_t(n)) : std::nullopt;
}

void checkNiftiSizes(const std::string& path, const NiftiHeaderInfo& h) {
    if (h.dim[0] < 1 || h.dim[0] > 7) {
        throw Error(fmt::format("{}: the header gives {} dimensions (a NIfTI image has 1 to 7): a damaged header", path,
                                h.dim[0]));
    }
    std::string sizes;
    bool bad = false;
    for (int64_t d = 1; d <= h.dim[0]; ++d) {
        sizes += (d > 1 ? " x " : "") + std::to_string(h.dim[size_t(d)]);
        bad = bad || h.dim[size_t(d)] < 1;
    }
    if (bad)
        throw Error(
            fmt::format("{}: the header gives a size of {} voxels; every size must be at least 1", path, sizes));
}

std::optional<Geometry> sformGeometry(const NiftiHeaderInfo& h, const Index3& dims) {
    Geometry g;
    g.dims = dims;
    for (int a = 0; a < 3; ++a) {
        // RAS to LPS: negate the x and y rows.
        const glm::dvec3 column(-h.sform[0][size_t(a)], -h.sform[1][size_t(a)], h.sform[2][size_t(a)]);
        const double length = glm::length(column);
        if (!(length > 0.0)) return std::nullopt;
        g.spacing[a] = length;
        g.direction[a] = column / length;
    }
    g.origin = {-h.sform[0][3], -h.sform[1][3], h.sform[2][3]};
    // Shear cannot be a direction matrix.
    const glm::dmat3 gram = glm::transpose(g.direction) * g.direction;
    for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c)
            if (std::abs(gram[c][r] - (r == c ? 1.0 : 0.0)) > 1e-3) return std::nullopt;
    return g;
}

void checkNiftiComplete(const std::string& path) {
    if (endsWith(path, ".nii")) {
        const auto info = readNiftiHeaderInfo(path);
        const uint64_t size = std::filesystem::file_size(path);
        const uint64_t imageBytes = info ? storedImageBytes(*info) : 0;
        if (info && size < info->voxelOffset + imageBytes) {
            truncated(path, size - std::min(size, info->voxelOffset), imageBytes);
        }
        return;
    }
    if (!endsWith(path, ".nii.gz")) return;
    gzFile file = gzopen(path.c_str(), "rb");
    if (!file) throw Error(path + ": cannot open");
    std::array<unsigned char, 1 << 16> buffer{};
    uint64_t total = 0;
    std::optional<NiftiHeaderInfo> info;
    bool first = true;
    int n;
    // Decompressing to the end is the only way to know the length of a gzip stream (its
    // trailer stores it modulo 4 GB, and a truncated file has no trailer).
    while ((n = gzread(file, buffer.data(), unsigned(buffer.size()))) > 0) {
        if (first) info = parseHeader(buffer.data(), size_t(n));
        first = false;
        total += uint64_t(n);
    }
    int error = Z_OK;
    const char* message = gzerror(file, &error);
    const std::string reason = message ? message : "";
    gzclose(file);
    if (n < 0 || (error != Z_OK && error != Z_STREAM_END)) {
        throw Error(fmt::format("{}: damaged compressed data ({})", path, reason));
    }
    const uint64_t imageBytes = info ? storedImageBytes(*info) : 0;
    if (info && total < info->voxelOffset + imageBytes) {
        truncated(path, total - std::min(total, info->voxelOffset), imageBytes);
    }
}

} // namespace segxai
