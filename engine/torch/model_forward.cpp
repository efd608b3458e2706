#include "engine/torch/model_forward.h"

#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/core/log.h"
#include "engine/model/device.h"
#include "engine/torch/model_impl.h"
#include "engine/torch/nnunet_predict.h"
#include "engine/torch/sliding_window.h"
#include "engine/torch/tensors.h"
#include "engine/torch/torch_errors.h"

#include <cmath>
#include <fmt/format.h>
#include <sstream>

namespace segxai {
namespace {

std::string shapeText(const torch::Tensor& t) {
    std::ostringstream s;
    s << t.sizes();
    return s.str();
}

} // namespace

std::string tupleOutputNote(const Model& model, const std::string& kind) {
    return fmt::format("{}: the model returns a {} (deep supervision?); SegXAI uses its first output", model.path(),
                       kind);
}

torch::Tensor moduleForward(const Model& model, const torch::Tensor& batch) {
    useComputeThreads(); // this thread may be new to LibTorch (an engine worker, a prefetcher)
    const Model::Impl& m = model.impl();
    torch::IValue result;
    try {
        const std::unique_lock lock = lockForForward(m);
        if (m.nnunet) {
            result = nnunetMemberMean(*m.nnunet, batch.to(m.device));
        } else {
            result = const_cast<torch::jit::Module&>(m.module).forward({batch.to(m.device)});
        }
    } catch (const std::exception& e) {
        // c10::Error, and torch::jit::JITException for exceptions raised in scripted code.
        throw Error(
            fmt::format("the model's forward failed on input {}: {}", shapeText(batch), torchErrorMessage(e.what())));
    }
    if ((result.isTuple() || result.isList()) && !m.tupleOutput.exchange(true))
        logWarning("{}", tupleOutputNote(model, result.tagKind()));
    if (result.isTuple() && !result.toTuple()->elements().empty()) result = result.toTuple()->elements()[0];
    if (result.isList() && result.toList().size() > 0) result = result.toList().get(0);
    if (!result.isTensor()) {
        throw Error(fmt::format("the model returned {} where a tensor [batch, classes, spatial...] "
                                "is needed",
                                result.tagKind()));
    }
    return result.toTensor();
}

namespace {

// The module's forward of a batch, refused unless it is [batch, K, the batch's spatial size].
torch::Tensor checkedForward(const Model& model, const torch::Tensor& batch) {
    const torch::Tensor out = moduleForward(model, batch);
    if (out.dim() != 5 || out.size(0) != batch.size(0) || out.size(2) != batch.size(2) ||
        out.size(3) != batch.size(3) || out.size(4) != batch.size(4)) {
        throw Error(fmt::format("the model's output {} is not [batch, classes, {}, {}, {}] for "
                                "input {}; SegXAI needs a per-voxel segmentation output",
                                shapeText(out), batch.size(2), batch.size(3), batch.size(4), shapeText(batch)));
    }
    return out;
}

void checkFiniteOutput(const torch::Tensor& out) {
    torch::NoGradGuard noGrad;
    // max and min propagate NaN and see infinities without a mask of the output's size.
    if (!std::isfinite(out.max().item<float>()) || !std::isfinite(out.min().item<float>())) {
        throw Error("the model's output holds NaN or infinite values (check the input "
                    "normalisation in the model card)");
    }
}

} // namespace

void forwardModelSlabs(const Model& model, torch::Tensor input, JobContext* job, const WindowSums& sums,
                       const SlabSink& sink) {
    const ModelCard& card = model.card();
    if (!card.slidingWindow) throw Error("slab by slab output needs a sliding-window model");
    Padding padding;
    const torch::Tensor padded = padSpatial(input, std::max<int64_t>(1, card.divisibleBy), padding);
    input = torch::Tensor();
    auto checked = [&](const torch::Tensor& batch) { return checkedForward(model, batch); };
    slidingWindowSlabs(padded, *card.slidingWindow, checked, job, 1, sums, [&](const OutputSlab& slab) {
        const int a = slab.axis;
        const int64_t rows = slab.values.size(2 + a), before = padding.before[size_t(a)];
        const int64_t from = std::max(slab.first, before);
        const int64_t to = std::min(slab.first + rows, before + padding.size[size_t(a)]);
        if (from >= to) return;
        torch::Tensor values = slab.values.narrow(2 + a, from - slab.first, to - from);
        for (int b = 0; b < 3; ++b)
            if (b != a) values = values.narrow(2 + b, padding.before[size_t(b)], padding.size[size_t(b)]);
        checkFiniteOutput(values);
        sink({values, a, from - before});
    });
}

torch::Tensor forwardModel(const Model& model, const torch::Tensor& input, JobContext* job, bool checkFinite,
                           const WindowSums& sums) {
    const ModelCard& card = model.card();
    Padding padding;
    const torch::Tensor padded = padSpatial(input, std::max<int64_t>(1, card.divisibleBy), padding);
    auto checked = [&](const torch::Tensor& batch) { return checkedForward(model, batch); };
    torch::Tensor out;
    if (card.slidingWindow) {
        out = slidingWindowForward(padded, *card.slidingWindow, checked, job, 1, sums);
    } else {
        if (job) job->progress(0.0f, "forward");
        out = checked(padded).to(torch::kCPU);
    }
    out = cropSpatial(out, padding);
    if (checkFinite) checkFiniteOutput(out);
    return out;
}

} // namespace segxai
