#include "engine/torch/nnunet_members.h"

#include "engine/core/job_runner.h"
#include "engine/torch/model_impl.h"
#include "engine/torch/nnunet_predict.h"

#include <fmt/format.h>

namespace segxai {
namespace {

// One model per fold: that fold's network alone, without mirroring (mirrors are applied here).
const std::vector<std::shared_ptr<const Model>>& foldModels(const Model& model) {
    const Model::Impl& m = model.impl();
    std::lock_guard lock(m.membersMutex);
    if (!m.members.empty()) return m.members;
    for (size_t f = 0; f < m.nnunet->folds.size(); ++f) {
        auto impl = std::make_unique<Model::Impl>();
        auto single = std::make_shared<NnunetEnsemble>();
        single->plan = m.nnunet->plan;
        single->plan.folds = {m.nnunet->plan.folds[f]};
        single->folds = {m.nnunet->folds[f]};
        single->mirrorAxes = m.nnunet->mirrorAxes;
        single->mirroring = false;
        single->tileStep = m.nnunet->tileStep;
        impl->module = m.nnunet->folds[f];
        impl->device = m.device;
        impl->card = m.card;
        impl->path = m.path;
        impl->inputChannels = m.inputChannels;
        impl->nnunet = std::move(single);
        m.members.push_back(Model::fromImpl(std::move(impl)));
    }
    return m.members;
}

torch::Tensor flipped(const torch::Tensor& t, const std::vector<int64_t>& dims, int64_t firstSpatial) {
    if (dims.empty() || !t.defined()) return t;
    std::vector<int64_t> at;
    for (int64_t d : dims)
        at.push_back(d - 2 + firstSpatial);
    return torch::flip(t, at);
}

} // namespace

bool hasNnunetMembers(const Model& model) {
    const auto& e = model.impl().nnunet;
    return e && e->folds.size() * (e->mirrorCombinations().size() + 1) > 1;
}

PassResult nnunetMemberAveragedPass(const Model& model, const torch::Tensor& inputs, const ScoreTarget& target,
                                    const PassOptions& options, JobContext* job) {
    const NnunetEnsemble& e = *model.impl().nnunet;
    std::vector<std::vector<int64_t>> mirrors{{}};
    for (const auto& dims : e.mirrorCombinations())
        mirrors.push_back(dims);
    const auto& folds = foldModels(model);
    const double members = double(folds.size() * mirrors.size());
    PassResult mean;
    size_t done = 0;
    for (size_t f = 0; f < folds.size(); ++f)
        for (const auto& dims : mirrors) {
            std::optional<JobContext> sub;
            if (job) {
                job->throwIfStopped();
                sub = job->sub(float(done) / float(members), float(done + 1) / float(members));
            }
            // Member (f, dims) scores flip(net_f(flip(x))): its pass runs on the flipped input with
            // flipped weights, and its maps are flipped back.
            const ScoreTarget memberTarget{flipped(target.weights, dims, 0), target.classIndex};
            PassResult r =
                gradientPass(*folds[f], flipped(inputs, dims, 2), memberTarget, options, sub ? &*sub : nullptr);
            if (done++ == 0) {
                mean = r;
                if (r.inputGradient.defined()) mean.inputGradient = torch::zeros_like(r.inputGradient);
                for (auto& cam : mean.cams)
                    cam = cam.defined() ? torch::zeros_like(cam) : cam;
                for (auto& cam : mean.layerCams)
                    cam = cam.defined() ? torch::zeros_like(cam) : cam;
                std::fill(mean.scores.begin(), mean.scores.end(), 0.0);
            }
            if (r.inputGradient.defined()) mean.inputGradient += flipped(r.inputGradient, dims, 2) / members;
            for (size_t n = 0; n < r.scores.size(); ++n)
                mean.scores[n] += r.scores[n] / members;
            for (size_t c = 0; c < r.cams.size() && c < mean.cams.size(); ++c)
                if (r.cams[c].defined()) mean.cams[c] += flipped(r.cams[c], dims, 0) / members;
            for (size_t c = 0; c < r.layerCams.size() && c < mean.layerCams.size(); ++c)
                if (r.layerCams[c].defined() && r.layerCams[c].sizes() == mean.layerCams[c].sizes())
                    mean.layerCams[c] += flipped(r.layerCams[c], dims, 0) / members;
        }
    return mean;
}

} // namespace segxai
