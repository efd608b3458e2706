#include "engine/io/gzip_file.h"

#include "engine/core/cpu_cores.h"
#include "engine/core/error.h"
#include "engine/core/parallel.h"

#include <array>
#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <vector>
#include <zlib.h>

namespace segxai {
namespace {

// Each block is deflated on its own (no shared dictionary): a little less compression, and
// the blocks can be compressed at once. As in pigz, every block but the last ends with a sync
// flush (byte-aligned, not final), so the blocks joined are one deflate stream.
constexpr size_t kBlockBytes = size_t(1) << 20;
constexpr int kLevel = 1; // zlib's fastest: a large label map in a fifth of level 6's time

std::vector<unsigned char> deflateBlock(const unsigned char* data, size_t size, bool last) {
    z_stream stream{};
    if (deflateInit2(&stream, kLevel, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw Error("gzip: cannot start zlib");
    std::vector<unsigned char> out(deflateBound(&stream, uLong(size)) + 16);
    stream.next_in = const_cast<unsigned char*>(data);
    stream.avail_in = uInt(size);
    stream.next_out = out.data();
    stream.avail_out = uInt(out.size());
    const int status = deflate(&stream, last ? Z_FINISH : Z_SYNC_FLUSH);
    const size_t written = out.size() - stream.avail_out;
    deflateEnd(&stream);
    if (status != (last ? Z_STREAM_END : Z_OK) || stream.avail_in != 0) throw Error("gzip: zlib failed on a block");
    out.resize(written);
    return out;
}

} // namespace

void gzipFile(const std::string& from, const std::string& to) {
    std::ifstream in(from, std::ios::binary);
    if (!in) throw Error(fmt::format("{}: cannot read", from));
    std::ofstream out(to, std::ios::binary);
    if (!out) throw Error(fmt::format("{}: cannot write", to));
    // gzip header: magic, deflate, no flags, no time, fastest, unknown OS.
    const std::array<unsigned char, 10> header{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255};
    out.write(reinterpret_cast<const char*>(header.data()), std::streamsize(header.size()));
    const int64_t blocksAtOnce = std::max(1, usableCores()) * 2;
    std::vector<unsigned char> data(kBlockBytes * size_t(blocksAtOnce));
    std::vector<std::vector<unsigned char>> compressed(static_cast<size_t>(blocksAtOnce));
    uLong crc = crc32(0L, Z_NULL, 0);
    uint64_t total = 0;
    while (true) {
        in.read(reinterpret_cast<char*>(data.data()), std::streamsize(data.size()));
        const size_t got = size_t(in.gcount());
        if (in.bad()) throw Error(fmt::format("{}: cannot read", from));
        const bool last = in.eof() || in.peek() == std::char_traits<char>::eof();
        const int64_t blocks = std::max<int64_t>(1, int64_t((got + kBlockBytes - 1) / kBlockBytes));
        parallelFor(blocks, [&](int64_t b0, int64_t b1) {
            for (int64_t b = b0; b < b1; ++b) {
                const size_t begin = size_t(b) * kBlockBytes, size = std::min(kBlockBytes, got - begin);
                compressed[size_t(b)] = deflateBlock(data.data() + begin, size, last && b == blocks - 1);
            }
        });
        for (int64_t b = 0; b < blocks; ++b)
            out.write(reinterpret_cast<const char*>(compressed[size_t(b)].data()),
                      std::streamsize(compressed[size_t(b)].size()));
        crc = crc32_z(crc, data.data(), got);
        total += got;
        if (last) break;
    }
    // Trailer: CRC-32 and the size modulo 2^32, little-endian.
    std::array<unsigned char, 8> trailer{};
    for (int i = 0; i < 4; ++i) {
        trailer[size_t(i)] = static_cast<unsigned char>((crc >> (8 * i)) & 0xff);
        trailer[size_t(4 + i)] = static_cast<unsigned char>((total >> (8 * i)) & 0xff);
    }
    out.write(reinterpret_cast<const char*>(trailer.data()), std::streamsize(trailer.size()));
    out.close();
    if (!out) throw Error(fmt::format("{}: cannot write (disk full or no permission?)", to));
}

} // namespace segxai
