#pragma once
// nnU-Net's intensity normalisation and output nonlinearity, voxel by voxel, in float32 as numpy and
// LibTorch compute them (default_normalization_schemes.py, LabelManager).
#include "engine/model/nnunet_plans.h"

#include <cstdint>
#include <string>
#include <vector>

namespace segxai {

// numpy's float32 sum: pairwise within blocks of 8192 values, the blocks added in order (what
// ndarray.sum(), .mean() and .std() of a float32 array compute; checked against numpy 1.24).
float numpyFloat32Sum(const float* values, int64_t count);

// Normalises one cropped channel in place. `mask` is the filled non-zero mask of the crop
// (ZScore with use_mask_for_norm: statistics inside it, voxels outside left as they are).
// Throws segxai::Error naming `origin` when RGBTo01Normalization meets a value outside 0..255.
void normalizeNnunetChannel(std::vector<float>& values, const std::vector<uint8_t>& mask,
                            const NnunetNormalization& normalization, const std::string& origin);

// One voxel's class logits (float16 values; region models: class 0 unused) turned into
// probabilities in place, and the label nnU-Net writes there: the first class with the largest
// logit, or for regions the last region in regions_class_order whose sigmoid exceeds 0.5
// (class 0 then holds 1 - the largest region probability).
uint16_t nnunetVoxel(std::vector<float>& values, const NnunetLabels& labels);

} // namespace segxai
