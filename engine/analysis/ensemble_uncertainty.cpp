#include "engine/analysis/ensemble_uncertainty.h"

#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/model/inference.h"
#include "engine/model/mc_dropout.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <optional>
#include <sstream>

namespace segxai {
namespace {

std::string memberName(const std::string& path) {
    const std::filesystem::path p(path);
    const std::string name = p.filename().string();
    return name.empty() ? p.parent_path().filename().string() : name;
}

std::string flipName(const FlipAxes& flip) {
    std::string axes;
    for (int a = 0; a < 3; ++a) {
        if (flip[size_t(a)]) axes += "xyz"[a];
    }
    return axes.empty() ? "" : " mirrored " + axes;
}

// One augmentation of a member's input: mirrored along `flip` (mapped back by the accumulator),
// or its intensities jittered.
struct Augmentation {
    FlipAxes flip{false, false, false};
    const IntensityJitter* jitter = nullptr;
    const SpatialJitter* motion = nullptr;
    std::string name() const {
        if (jitter) return " intensity " + jitter->name();
        return motion ? " moved " + motion->name() : flipName(flip);
    }
};

std::vector<Augmentation> augmentationsOf(const UncertaintyOptions& options) {
    std::vector<Augmentation> out;
    for (const FlipAxes& flip : options.flips)
        out.push_back({flip, nullptr});
    for (const IntensityJitter& jitter : options.intensity)
        out.push_back({{false, false, false}, &jitter, nullptr});
    for (const SpatialJitter& motion : options.spatial)
        out.push_back({{false, false, false}, nullptr, &motion});
    return out;
}

// One prediction of the study under one augmentation, on the study's grid and mirrored back.
Segmentation segmentPass(const PreparedStudy& prepared, const Model& model, const Study& study, const Augmentation& a,
                         JobContext* job) {
    if (a.jitter) return segmentStudy(model, jitteredStudy(study, *a.jitter), job);
    if (a.motion) return movedBack(segmentStudy(model, movedStudy(study, *a.motion), job), *a.motion);
    return prepared.predict(a.flip, job);
}

std::vector<size_t> stdClassesOf(const std::vector<std::string>& asked, const std::vector<std::string>& classNames) {
    std::vector<size_t> out;
    if (asked.empty()) {
        for (size_t c = 1; c < classNames.size() && classNames.size() <= 8; ++c)
            out.push_back(c);
        return out;
    }
    for (const std::string& name : asked) {
        const auto at = std::find(classNames.begin(), classNames.end(), name);
        if (at != classNames.end()) {
            out.push_back(size_t(at - classNames.begin()));
            continue;
        }
        const bool digits = !name.empty() && std::all_of(name.begin(), name.end(), ::isdigit);
        if (!digits || std::stoull(name) >= classNames.size()) {
            throw Error(fmt::format("class '{}' asked for its standard deviation: the model's classes are {}", name,
                                    fmt::join(classNames, ", ")));
        }
        out.push_back(size_t(std::stoull(name)));
    }
    return out;
}

// The members a card lists, relative ones from the card's folder. Throws segxai::Error for one
// that is not there.
std::vector<std::string> cardMembers(const ModelCard& card) {
    std::vector<std::string> out;
    for (const std::string& member : card.members) {
        std::filesystem::path p(member);
        if (p.is_relative()) p = std::filesystem::path(card.source).parent_path() / p;
        std::error_code ec;
        if (!std::filesystem::exists(p, ec)) {
            throw Error(fmt::format("{}: 'members' names {}, which does not exist", card.source, p.string()));
        }
        out.push_back(p.lexically_normal().string());
    }
    return out;
}

} // namespace

std::vector<EnsembleMember> loadEnsemble(const std::vector<std::string>& paths, const NnunetOptions& nnunet,
                                         bool ownMirroring) {
    if (paths.empty()) throw Error("an ensemble needs at least one model");
    std::vector<EnsembleMember> members;
    // The paths given, then the members their cards list (theirs are not followed).
    std::vector<std::string> queue = paths;
    for (size_t n = 0; n < queue.size(); ++n) {
        const std::string path = queue[n];
        auto model = Model::load(path, nnunet);
        if (n < paths.size()) {
            for (const std::string& member : cardMembers(model->card()))
                queue.push_back(member);
        }
        const NnunetPlan* plan = model->nnunetPlan();
        const bool mirroringKept = !nnunet.mirroring || ownMirroring;
        if (!plan || (plan->folds.size() == 1 && mirroringKept)) {
            members.push_back({model, plan ? fmt::format("{} fold {}", memberName(path), plan->folds.front().name)
                                           : memberName(path)});
            continue;
        }
        for (const NnunetFold& fold : plan->folds) {
            NnunetOptions one = nnunet;
            one.folds = {fold.name};
            one.mirroring = nnunet.mirroring && ownMirroring;
            members.push_back({Model::load(path, one), fmt::format("{} fold {}", memberName(path), fold.name)});
        }
    }
    const ModelCard& first = members.front().model->card();
    for (const EnsembleMember& m : members) {
        const ModelCard& card = m.model->card();
        if (!first.classes.empty() && !card.classes.empty() && card.classes.size() != first.classes.size()) {
            throw Error(fmt::format("{} has {} classes and {} has {}: an ensemble's members predict the same classes",
                                    m.name, card.classes.size(), members.front().name, first.classes.size()));
        }
        const int64_t channels = m.model->expectedInputChannels(),
                      firstChannels = members.front().model->expectedInputChannels();
        if (channels > 0 && firstChannels > 0 && channels != firstChannels) {
            throw Error(fmt::format("{} takes {} input channels and {} takes {}: an ensemble's members take the same "
                                    "inputs",
                                    m.name, channels, members.front().name, firstChannels));
        }
    }
    return members;
}

bool TestTimeAugmentation::has(const std::string& part) const {
    std::stringstream parts(kind);
    for (std::string p; std::getline(parts, p, '+');) {
        if (p == part) return true;
    }
    return false;
}

void TestTimeAugmentation::applyTo(UncertaintyOptions& options) const {
    if (kind != "none") {
        std::stringstream parts(kind);
        std::vector<std::string> seen;
        for (std::string p; std::getline(parts, p, '+');) {
            const bool known = p == "flips" || p == "intensity" || p == "spatial";
            if (!known || std::find(seen.begin(), seen.end(), p) != seen.end()) {
                throw Error("test-time augmentation '" + kind +
                            "': use none, or flips, intensity and spatial joined by '+' (each once)");
            }
            seen.push_back(p);
        }
        if (seen.empty() || kind.back() == '+')
            throw Error("test-time augmentation '" + kind +
                        "': use none, or flips, intensity and spatial joined by '+'");
    }
    options.flips = flips() ? flipsOf(flipAxes) : std::vector<FlipAxes>{{false, false, false}};
    options.intensity = intensity() ? intensityJitters(intensityPasses, intensityStrength, intensitySeed)
                                    : std::vector<IntensityJitter>{};
    options.spatial = spatial() ? spatialJitters(spatialPasses, maxRotationDegrees, maxShiftVoxels, spatialSeed)
                                : std::vector<SpatialJitter>{};
}

std::vector<FlipAxes> flipsOf(const std::string& axes) {
    FlipAxes allowed{false, false, false};
    for (char c : axes) {
        const auto at = std::string("xyz").find(char(std::tolower(static_cast<unsigned char>(c))));
        if (at == std::string::npos)
            throw Error(fmt::format("flip axes '{}': use a combination of x, y and z (voxel axes)", axes));
        allowed[at] = true;
    }
    std::vector<FlipAxes> out;
    for (int mask = 0; mask < 8; ++mask) {
        const FlipAxes flip{(mask & 1) != 0, (mask & 2) != 0, (mask & 4) != 0};
        bool ok = true;
        for (size_t a = 0; a < 3; ++a)
            ok = ok && (!flip[a] || allowed[a]);
        if (ok) out.push_back(flip);
    }
    return out;
}

namespace {

// Every member explains the target resolved on the ensemble's labels (segment features, for
// the perturbation methods, are the ensemble's segments, so that the maps share them).
void explainByMembers(const std::vector<EnsembleMember>& members, const Study& study, const Segmentation& ensemble,
                      const StabilityRequest& request, UncertaintyRun& run, JobContext* job) {
    run.target = resolveTarget(request.target, study, ensemble, request.parameters.instances);
    std::vector<std::string> names;
    for (size_t m = 0; m < members.size(); ++m) {
        std::optional<JobContext> memberJob = stepContext(job, m, members.size(), "explaining with " + members[m].name);
        const auto explanations =
            explain(*members[m].model, study, *run.target, {request.method}, request.parameters,
                    memberJob ? &*memberJob : nullptr, isFeatureMethod(request.method) ? &ensemble.labels : nullptr);
        run.memberMaps.push_back(combinedStudyMap(explanations.front(), study.geometry));
        names.push_back(members[m].name);
    }
    run.stability = explanationSpread(run.memberMaps, names, *run.target);
}

} // namespace

UncertaintyRun ensembleUncertainty(const std::vector<EnsembleMember>& members, const Study& study,
                                   const UncertaintyOptions& options, JobContext* job,
                                   const std::optional<StabilityRequest>& stability) {
    if (members.empty()) throw Error("an ensemble needs at least one model");
    if (options.flips.empty()) throw Error("uncertainty needs at least one pass per member (flips)");
    const auto start = std::chrono::steady_clock::now();
    UncertaintyRun run;
    std::optional<UncertaintyAccumulator> sums;
    if (options.mcDropoutPasses < 0) throw Error("MC dropout passes cannot be negative");
    const int dropoutRuns = std::max(1, options.mcDropoutPasses);
    const std::vector<Augmentation> augmentations = augmentationsOf(options);
    const size_t passes = members.size() * augmentations.size() * size_t(dropoutRuns);
    // Predictions take this share of the progress, explanations the rest.
    const float predicting = stability ? 0.5f : 1.0f;
    size_t pass = 0;
    for (size_t m = 0; m < members.size(); ++m) {
        std::optional<McDropout> dropout;
        if (options.mcDropoutPasses > 0) dropout.emplace(*members[m].model, options.mcDropoutSeed);
        // The input is prepared once per member for all its flips and dropout passes.
        const PreparedStudy prepared(*members[m].model, study);
        for (const Augmentation& augmentation : augmentations) {
            for (int t = 0; t < dropoutRuns; ++t, ++pass) {
                std::string name = members[m].name + augmentation.name();
                if (dropout) {
                    dropout->reseed(options.mcDropoutSeed + uint64_t(t));
                    name += fmt::format(" dropout {}", t + 1);
                }
                std::optional<JobContext> passJob = stepContext(
                    job, pass, passes, fmt::format("{} ({} of {})", name, pass + 1, passes), 0.0f, predicting);
                const Segmentation s =
                    segmentPass(prepared, *members[m].model, study, augmentation, passJob ? &*passJob : nullptr);
                if (!sums) {
                    sums.emplace(study.geometry, s.classNames, stdClassesOf(options.stdClasses, s.classNames));
                    run.notes.insert(run.notes.end(), s.notes.begin(), s.notes.end());
                }
                sums->add(s.probabilities, s.labels, name);
            }
        }
    }
    run.passes = passes;
    run.maps = sums->finish();
    sums.reset(); // the sums are freed before the structures are found
    Segmentation ensemble;
    ensemble.classNames = run.maps.classNames;
    ensemble.labels = run.maps.labels;
    ensemble.probabilities = run.maps.probabilities;
    run.instances = findInstances(ensemble);
    run.perInstance = instanceUncertainty(run.instances, run.maps);
    if (stability) {
        std::optional<JobContext> explaining;
        if (job) explaining = job->sub(predicting, 1.0f);
        explainByMembers(members, study, ensemble, *stability, run, explaining ? &*explaining : nullptr);
    }
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return run;
}

} // namespace segxai
