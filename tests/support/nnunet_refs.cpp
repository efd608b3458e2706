#include "tests/support/nnunet_refs.h"

#include "engine/io/nifti_header.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <zlib.h>

namespace segxai::test {

const std::string& nnunetData() {
    static const std::string folder = SEGXAI_TEST_DATA_DIR "/nnunet";
    return folder;
}

nlohmann::json readJson(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    return nlohmann::json::parse(in);
}

RawArray readRawArray(const std::string& stem) {
    RawArray a;
    a.sidecar = readJson(stem + ".json");
    a.shape = a.sidecar.at("shape").get<std::vector<int64_t>>();
    int64_t count = 1;
    for (int64_t s : a.shape)
        count *= s;
    a.values.resize(size_t(count));
    std::ifstream in(stem + ".f32", std::ios::binary);
    in.read(reinterpret_cast<char*>(a.values.data()), std::streamsize(count * 4));
    if (!in) throw std::runtime_error("cannot read " + stem + ".f32");
    return a;
}

RawArray readFloatNifti(const std::string& path) {
    const auto header = readNiftiHeaderInfo(path);
    if (!header) throw std::runtime_error(path + " is not NIfTI");
    RawArray a;
    int64_t count = 1;
    for (int64_t d = 1; d <= header->dim[0]; ++d) {
        a.shape.push_back(header->dim[size_t(d)]);
        count *= header->dim[size_t(d)];
    }
    gzFile file = gzopen(path.c_str(), "rb");
    if (!file) throw std::runtime_error("cannot open " + path);
    std::vector<char> skip(header->voxelOffset);
    gzread(file, skip.data(), unsigned(skip.size()));
    a.values.resize(size_t(count));
    const int read = gzread(file, a.values.data(), unsigned(count * 4));
    gzclose(file);
    if (read != int(count * 4)) throw std::runtime_error("short read of " + path);
    return a;
}

std::string nnunetModelFolder(const std::string& dataset) {
    const std::filesystem::path results = std::filesystem::path(nnunetData()) / "results" / dataset;
    for (const auto& entry : std::filesystem::directory_iterator(results))
        if (entry.is_directory()) return entry.path().string();
    throw std::runtime_error("no model folder in " + results.string());
}

} // namespace segxai::test
