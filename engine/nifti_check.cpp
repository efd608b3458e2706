#include "engine/nifti_check.h"

#include "engine/error.h"

#include <array>
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

template <typename T> T swapped(T value) {
    T out;
    auto* src = reinterpret_cast<unsigned char*>(&value);
    auto* dst = reinterpret_cast<unsigned char*>(&out);
    for (size_t n = 0; n < sizeof(T); ++n) dst[n] = src[sizeof(T) - 1 - n];
    return out;
}

// Voxel data offset from the first 540 header bytes (NIfTI-1 or NIfTI-2, either byte order);
// 0 when the header is not recognisable (the reader has already accepted it, so be lenient).
uint64_t voxelOffset(const unsigned char* header, size_t size) {
    if (size < 348) return 0;
    int32_t sizeofHeader;
    std::memcpy(&sizeofHeader, header, 4);
    const bool swap = sizeofHeader != 348 && sizeofHeader != 540;
    if (swap) sizeofHeader = swapped(sizeofHeader);
    if (sizeofHeader == 348) {
        float offset;
        std::memcpy(&offset, header + 108, 4);
        if (swap) offset = swapped(offset);
        return offset >= 348.0f ? uint64_t(offset) : 348;
    }
    if (sizeofHeader == 540 && size >= 540) {
        int64_t offset;
        std::memcpy(&offset, header + 168, 8);
        if (swap) offset = swapped(offset);
        return offset >= 540 ? uint64_t(offset) : 540;
    }
    return 0;
}

[[noreturn]] void truncated(const std::string& path, uint64_t have, uint64_t need) {
    throw Error(fmt::format("{}: file is truncated: it holds {} bytes of image data where the "
                            "header needs {} (an incomplete copy or download?)",
                            path, have, need));
}

} // namespace

void checkNiftiComplete(const std::string& path, uint64_t imageBytes) {
    if (endsWith(path, ".nii")) {
        std::array<unsigned char, 540> header{};
        std::ifstream in(path, std::ios::binary);
        in.read(reinterpret_cast<char*>(header.data()), header.size());
        const uint64_t offset = voxelOffset(header.data(), size_t(in.gcount()));
        const uint64_t size = std::filesystem::file_size(path);
        if (offset && size < offset + imageBytes) truncated(path, size - std::min(size, offset), imageBytes);
        return;
    }
    if (!endsWith(path, ".nii.gz")) return;
    gzFile file = gzopen(path.c_str(), "rb");
    if (!file) throw Error(path + ": cannot open");
    std::array<unsigned char, 1 << 16> buffer{};
    uint64_t total = 0;
    uint64_t offset = 0;
    bool first = true;
    int n;
    // Decompressing to the end is the only way to know the length of a gzip stream (its
    // trailer stores it modulo 4 GB, and a truncated file has no trailer).
    while ((n = gzread(file, buffer.data(), unsigned(buffer.size()))) > 0) {
        if (first) {
            offset = voxelOffset(buffer.data(), size_t(n));
            first = false;
        }
        total += uint64_t(n);
    }
    int error = Z_OK;
    const char* message = gzerror(file, &error);
    const std::string reason = message ? message : "";
    gzclose(file);
    if (n < 0 || (error != Z_OK && error != Z_STREAM_END)) {
        throw Error(fmt::format("{}: damaged compressed data ({})", path, reason));
    }
    if (offset && total < offset + imageBytes) truncated(path, total - std::min(total, offset), imageBytes);
}

} // namespace segxai
