#pragma once
// Reading the nnU-Net reference files of tests/data/nnunet (README.md there): raw float32 arrays
// with a JSON sidecar, and the 4D float32 probability NIfTI files.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace segxai::test {

const std::string& nnunetData(); // tests/data/nnunet

struct RawArray {
    std::vector<int64_t> shape;
    std::vector<float> values;
    nlohmann::json sidecar;
};

// <stem>.f32 with <stem>.json (its "shape"); fails the test when missing.
RawArray readRawArray(const std::string& stem);

// A float32 NIfTI file of any dimension count (.nii.gz): its sizes (x, y, z, channel...) and
// voxels in file order (x fastest).
RawArray readFloatNifti(const std::string& path);

nlohmann::json readJson(const std::string& path);

// The trained-model folder of a reference dataset ("Dataset901_PlainCTAniso").
std::string nnunetModelFolder(const std::string& dataset);

} // namespace segxai::test
