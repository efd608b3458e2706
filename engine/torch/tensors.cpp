#include "engine/torch/tensors.h"

#include "engine/core/resample.h"

#include <algorithm>

namespace segxai {

torch::Tensor volumesToTensor(const std::vector<Volume>& channels, bool reverseAxes) {
    std::vector<torch::Tensor> parts;
    for (const Volume& v : channels) {
        const auto& d = v.geometry.dims;
        torch::Tensor kji = torch::from_blob(const_cast<float*>(v.voxels.data()), {d[2], d[1], d[0]}, torch::kFloat32);
        parts.push_back(reverseAxes ? kji.clone() : kji.permute({2, 1, 0}).contiguous());
    }
    return torch::stack(parts).unsqueeze(0);
}

Volume tensorToVolume(const torch::Tensor& tensor, const Geometry& grid, bool reverseAxes, const std::string& name) {
    torch::Tensor t = tensor.detach().to(torch::kCPU, torch::kFloat32);
    while (t.dim() > 3)
        t = t.squeeze(0);
    // Back to ITK's buffer order: k slowest, i fastest.
    torch::Tensor kji = (reverseAxes ? t : t.permute({2, 1, 0})).contiguous();
    Volume v(grid, name);
    TORCH_CHECK(kji.numel() == int64_t(v.voxels.size()), "tensor size does not match the grid");
    std::copy_n(kji.data_ptr<float>(), v.voxels.size(), v.voxels.begin());
    return v;
}

Volume tensorChannelToVolume(const torch::Tensor& tensor, int64_t channel, const Geometry& grid, bool reverseAxes,
                             const std::string& name) {
    torch::Tensor t = tensor.dim() == 5 ? tensor[0] : tensor;
    return tensorToVolume(t[channel], grid, reverseAxes, name);
}

torch::Tensor maskOnModelGrid(const std::vector<uint8_t>& mask, const Geometry& studyGrid, const Geometry& modelGrid,
                              bool reverseAxes) {
    Volume weights(modelGrid, "target");
    weights.voxels = scatterLinear(mask, studyGrid, modelGrid);
    return volumesToTensor({weights}, reverseAxes)[0][0].clone();
}

torch::Tensor padSpatial(const torch::Tensor& tensor, int64_t divisor, Padding& padding,
                         std::array<int64_t, 3> minimum) {
    const int64_t n = tensor.dim();
    std::vector<int64_t> pads; // torch order: last dimension first
    for (int a = 2; a >= 0; --a) {
        const int64_t size = tensor.size(n - 3 + a);
        padding.size[size_t(a)] = size;
        int64_t target = std::max(size, minimum[size_t(a)]);
        target = (target + divisor - 1) / divisor * divisor;
        const int64_t total = target - size;
        padding.before[size_t(a)] = total / 2;
        pads.push_back(total / 2);
        pads.push_back(total - total / 2);
    }
    if (std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; })) return tensor;
    return torch::constant_pad_nd(tensor, pads, 0.0);
}

torch::Tensor cropSpatial(const torch::Tensor& tensor, const Padding& padding) {
    const int64_t n = tensor.dim();
    torch::Tensor t = tensor;
    for (int a = 0; a < 3; ++a) {
        t = t.narrow(n - 3 + a, padding.before[size_t(a)], padding.size[size_t(a)]);
    }
    return t;
}

} // namespace segxai
