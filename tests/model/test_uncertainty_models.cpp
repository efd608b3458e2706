// Ensembles of real TorchScript models and nnU-Net folds (members, flips mapped back, the
// uncertainty they give) and models compared, where the answers are known.
#include "engine/analysis/ensemble_uncertainty.h"
#include "engine/analysis/model_comparison.h"
#include "engine/core/error.h"
#include "engine/model/inference.h"
#include "engine/model/mc_dropout.h"
#include "tests/support/temp_dir.h"
#include "tests/support/volumes.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>

using namespace segxai;

namespace {

const std::string kModels = SEGXAI_TEST_DATA "/models/";

Study studyOf(const Volume& channel) {
    Study s;
    s.geometry = channel.geometry;
    s.channels = {channel};
    return s;
}

Study waves(Index3 dims) {
    Geometry g;
    g.dims = dims;
    return studyOf(test::makeVolume(g, [](auto i, auto j, auto k) {
        return float(std::sin(0.9 * i + 0.2) * std::cos(0.7 * j) + 0.3 * std::sin(1.3 * k + 0.5 * i));
    }));
}

float largest(const Volume& v) {
    return *std::max_element(v.voxels.begin(), v.voxels.end());
}

} // namespace

TEST_CASE("flips of a flip-equivariant model give zero disagreement and mutual information", "[uncertainty]") {
    // probabilities.pt is voxel-wise (softmax of -4x, 4x): mirroring its input mirrors its output.
    const std::vector<EnsembleMember> members{{Model::load(kModels + "probabilities.pt"), "voxel-wise"}};
    UncertaintyOptions options;
    options.flips = flipsOf("xyz");
    REQUIRE(options.flips.size() == 8);
    const UncertaintyRun run = ensembleUncertainty(members, waves({7, 6, 5}), options);
    CHECK(run.passes == 8);
    CHECK(run.maps.memberNames.size() == 8);
    CHECK(run.maps.memberNames[7] == "voxel-wise mirrored xyz");
    CHECK(largest(run.maps.disagreement) == 0.0f);
    CHECK(largest(run.maps.mutualInformation) < 1e-5f); // 0 to float precision
    CHECK(largest(run.maps.classStd.at(0)) < 1e-3f);
    CHECK(largest(run.maps.entropy) > 0.01f); // the model is unsure near 0, all passes alike
}

TEST_CASE("identical members give zero mutual information and each its own name", "[uncertainty]") {
    const auto model = Model::load(kModels + "local_fcn.pt");
    const std::vector<EnsembleMember> members{{model, "a"}, {model, "b"}, {model, "c"}};
    const UncertaintyRun run = ensembleUncertainty(members, waves({9, 8, 7}), {});
    CHECK(run.passes == 3);
    CHECK(largest(run.maps.mutualInformation) < 1e-5f); // 0 to float precision
    CHECK(largest(run.maps.disagreement) == 0.0f);
    CHECK(run.maps.memberNames == std::vector<std::string>{"a", "b", "c"});
    // The ensemble's labels are the model's own.
    const Segmentation alone = segmentStudy(*model, waves({9, 8, 7}));
    CHECK(run.maps.labels.labels == alone.labels.labels);
}

TEST_CASE("a flipped pass is the model on the mirrored study, mapped back", "[uncertainty]") {
    // local_fcn's 3 x 3 x 3 kernels are not symmetric: mirroring changes its answer.
    const auto model = Model::load(kModels + "local_fcn.pt");
    const Study study = waves({10, 9, 8});
    UncertaintyOptions options;
    options.flips = flipsOf("y");
    REQUIRE(options.flips.size() == 2);
    const UncertaintyRun run = ensembleUncertainty({{model, "fcn"}}, study, options);
    const FlipAxes flip{false, true, false};
    Study mirroredStudy = study;
    mirroredStudy.channels[0].voxels = mirrored(study.channels[0].voxels, study.geometry, flip);
    const Segmentation onMirror = segmentStudy(*model, mirroredStudy);
    CHECK(run.maps.memberLabels[1].labels == mirrored(onMirror.labels.labels, study.geometry, flip));
    CHECK(largest(run.maps.mutualInformation) > 1e-6f);
}

TEST_CASE("intensity passes: each the model on the jittered study, and no jitter gives no uncertainty",
          "[uncertainty]") {
    const auto model = Model::load(kModels + "local_fcn.pt");
    const Study study = waves({9, 8, 7});
    TestTimeAugmentation tta;
    tta.kind = "flips+intensity";
    tta.flipAxes = "x";
    tta.intensityPasses = 3;
    tta.intensitySeed = 5;
    UncertaintyOptions options;
    tta.applyTo(options);
    REQUIRE(options.flips.size() == 2);
    REQUIRE(options.intensity.size() == 3);
    const UncertaintyRun run = ensembleUncertainty({{model, "fcn"}}, study, options);
    CHECK(run.passes == 5); // 2 flips, then 3 jitters
    CHECK_THAT(run.maps.memberNames[2], Catch::StartsWith("fcn intensity gain "));
    // Pass 3 is the model on the study jittered by the first draw, nothing mapped back.
    const Segmentation jittered = segmentStudy(*model, jitteredStudy(study, options.intensity[0]));
    CHECK(run.maps.memberLabels[2].labels == jittered.labels.labels);
    CHECK(largest(run.maps.mutualInformation) > 1e-6f);

    // Strength 0: every jitter gives the study back (noise 0), so the passes agree exactly.
    tta.kind = "intensity";
    tta.intensityStrength = 0.0;
    UncertaintyOptions none;
    tta.applyTo(none);
    REQUIRE(none.flips.size() == 1);
    const UncertaintyRun same = ensembleUncertainty({{model, "fcn"}}, study, none);
    CHECK(same.passes == 4);
    CHECK(largest(same.maps.mutualInformation) < 1e-5f);
    CHECK(largest(same.maps.disagreement) == 0.0f);
    tta.kind = "rotations";
    CHECK_THROWS_WITH(tta.applyTo(none), Catch::Contains("'rotations'") && Catch::Contains("spatial joined by '+'"));
}

TEST_CASE("a card's members join its model's ensemble, relative to the card", "[uncertainty]") {
    test::TempDir dir;
    std::filesystem::create_directories(dir.path() / "v");
    std::filesystem::copy_file(kModels + "local_fcn.pt", dir.file("a.pt"));
    std::filesystem::copy_file(kModels + "local_fcn.pt", dir.file("v/b.pt"));
    std::ofstream(dir.file("a.json")) << R"({"name": "a", "members": ["v/b.pt"]})";
    const auto members = loadEnsemble({dir.file("a.pt")}, {}, true);
    REQUIRE(members.size() == 2);
    CHECK(members[0].name == "a.pt");
    CHECK(members[1].name == "b.pt");
    // Identical weights: the ensemble of the card is sure of itself.
    const UncertaintyRun run = ensembleUncertainty(members, waves({8, 7, 6}), {});
    CHECK(largest(run.maps.mutualInformation) < 1e-5f);
    std::ofstream(dir.file("a.json")) << R"({"name": "a", "members": ["v/c.pt"]})";
    CHECK_THROWS_WITH(loadEnsemble({dir.file("a.pt")}, {}, true),
                      Catch::Contains("a.json") && Catch::Contains("v/c.pt") && Catch::Contains("does not exist"));
}

TEST_CASE("members that differ in inputs or classes are refused with both", "[uncertainty]") {
    CHECK_THROWS_WITH(loadEnsemble({kModels + "local_fcn.pt", kModels + "linear.pt"}, {}, true),
                      Catch::Contains("takes 2 input channels") && Catch::Contains("takes 1"));
    const std::vector<EnsembleMember> members{{Model::load(kModels + "probabilities.pt"), "two"},
                                              {Model::load(kModels + "many_classes.pt"), "many"}};
    CHECK_THROWS_WITH(ensembleUncertainty(members, waves({6, 6, 6}), {}),
                      Catch::Contains("'many' has 105 classes") && Catch::Contains("the ensemble has 2"));
    CHECK_THROWS_WITH(flipsOf("xw"), Catch::Contains("'xw'"));
    UncertaintyOptions unknownClass;
    unknownClass.stdClasses = {"liver"};
    CHECK_THROWS_WITH(ensembleUncertainty({members.front()}, waves({6, 6, 6}), unknownClass),
                      Catch::Contains("'liver'") && Catch::Contains("negative, positive"));
}

TEST_CASE("an nnU-Net folder's folds are members of their own", "[uncertainty]") {
    const std::string folder = SEGXAI_ASSET_DIR "/models/lesions_nnunet/Dataset950_SegXAILesions";
    const auto members = loadEnsemble({folder}, {}, false);
    REQUIRE(members.size() == 3);
    for (size_t f = 0; f < 3; ++f) {
        CHECK(members[f].name == "Dataset950_SegXAILesions fold " + std::to_string(f));
        REQUIRE(members[f].model->nnunetPlan()->folds.size() == 1);
        CHECK(members[f].model->nnunetPlan()->folds.front().name == std::to_string(f));
        CHECK_FALSE(members[f].model->nnunetSelection()->options.mirroring);
    }
    NnunetOptions two;
    two.folds = {"0", "2"};
    CHECK(loadEnsemble({folder}, two, true).size() == 2);
}

TEST_CASE("a target explained by identical members is perfectly stable", "[uncertainty]") {
    const auto model = Model::load(kModels + "local_fcn.pt");
    StabilityRequest request;
    request.method = Method::Saliency;
    request.target = parseTargetSpec("class:1");
    const UncertaintyRun run =
        ensembleUncertainty({{model, "a"}, {model, "b"}}, waves({9, 8, 7}), {}, nullptr, request);
    REQUIRE(run.stability);
    CHECK(run.memberMaps.size() == 2);
    CHECK(run.stability->meanRankCorrelation == Approx(1.0));
    CHECK(run.stability->meanTopOverlap == 1.0);
    CHECK(largest(run.stability->deviation) == 0.0f);
    CHECK(run.stability->massInside[0] == run.stability->massInside[1]);
    CHECK(run.target->className == "class 1");
    // The same map as explaining alone.
    const Study study = waves({9, 8, 7});
    const auto alone = explain(*model, study, *run.target, {Method::Saliency}, request.parameters);
    CHECK(combinedStudyMap(alone.front(), study.geometry).voxels == run.memberMaps[0].voxels);
}

namespace {

// A test model copied beside a card of our own.
std::string withCard(const test::TempDir& dir, const std::string& model, const std::string& card) {
    const std::filesystem::path target = dir.path() / model;
    std::filesystem::copy_file(kModels + model, target, std::filesystem::copy_options::overwrite_existing);
    std::ofstream(std::filesystem::path(target).replace_extension(".json")) << card;
    return target.string();
}

// 24 voxels: -1, 0, 1 in turn.
Study signs() {
    Geometry g;
    g.dims = {4, 3, 2};
    g.spacing = {2.0, 1.0, 1.0};
    return studyOf(
        test::makeVolume(g, [&](auto i, auto j, auto k) { return float(int(g.linearIndex(i, j, k) % 3) - 1); }));
}

} // namespace

TEST_CASE("two models compared class by class against closed forms", "[uncertainty]") {
    test::TempDir dir;
    // probabilities.pt says positive where x > 0; TV1 says class 1 wherever x != 0 (its class 1
    // logits 2 ReLU(x) + 3 ReLU(-x) beat class 0's -ReLU(x) + ReLU(-x) there).
    const std::vector<EnsembleMember> models{
        {Model::load(kModels + "probabilities.pt"), "reference"},
        {Model::load(withCard(dir, "tv1.pt", R"({"classes": ["negative", "positive"]})")), "tv1"}};
    const ModelComparison c = compareModels(models, signs());
    REQUIRE(c.classes.size() == 1);
    const ClassAgreement& a = c.classes[0];
    CHECK(a.className == "positive");
    CHECK(a.referenceVoxels == 8);
    CHECK(a.modelVoxels == 16);
    CHECK(a.commonVoxels == 8);
    CHECK(a.dice == Approx(2.0 * 8 / (8 + 16)));
    CHECK(a.referenceMm3 == Approx(16.0)); // 2 mm^3 voxels
    CHECK(a.volumeDifferencePercent == Approx(100.0));
    CHECK(c.voxelAgreement == Approx(16.0 / 24.0));
    double differing = 0.0;
    for (float v : c.disagreement.voxels)
        differing += v;
    CHECK(differing == Approx(8.0)); // the negative voxels

    const std::vector<EnsembleMember> renamed{
        models[0], {Model::load(withCard(dir, "tv1.pt", R"({"classes": ["negative", "other"]})")), "renamed"}};
    const ModelComparison r = compareModels(renamed, signs());
    CHECK(r.classes.empty());
    CHECK(r.onlyInReference == std::vector<std::string>{"positive"});
    CHECK(r.onlyInOthers == std::vector<std::string>{"other (renamed)"});
    CHECK_THROWS_WITH(compareModels({models[0]}, signs()), Catch::Contains("at least two"));
}

TEST_CASE("a model compared with itself gives Dice 1 and identical explanations", "[uncertainty]") {
    const auto model = Model::load(kModels + "local_fcn.pt");
    StabilityRequest request;
    request.method = Method::Saliency;
    request.target = parseTargetSpec("class:1");
    const ModelComparison c = compareModels({{model, "v1"}, {model, "v1 again"}}, waves({9, 8, 7}), request);
    for (const ClassAgreement& a : c.classes)
        CHECK(a.dice == 1.0);
    CHECK(c.voxelAgreement == 1.0);
    CHECK(largest(c.disagreement) == 0.0f);
    REQUIRE(c.explanations);
    CHECK(c.maps[0].voxels == c.maps[1].voxels);
    CHECK(c.explanations->meanRankCorrelation == Approx(1.0));
    CHECK(c.explanations->meanTopOverlap == 1.0);
}

TEST_CASE("MC dropout: scripted dropout switched on, p = 0 gives zero mutual information, traced said so",
          "[uncertainty]") {
    const auto scripted = Model::load(kModels + "dropout_scripted.pt");
    const DropoutLayers layers = dropoutLayers(*scripted);
    CHECK(layers.switchable);
    CHECK(layers.paths == std::vector<std::string>{"2"});
    const DropoutLayers traced = dropoutLayers(*Model::load(kModels + "dropout_traced.pt"));
    CHECK_FALSE(traced.switchable);
    CHECK_THAT(traced.reason, Catch::Contains("fixed off when the model was traced") && Catch::Contains("script"));
    CHECK_THAT(dropoutLayers(*Model::load(kModels + "local_fcn.pt")).reason, Catch::Contains("no dropout layers"));

    const Study study = waves({8, 7, 6});
    UncertaintyOptions options;
    options.mcDropoutPasses = 4;
    options.mcDropoutSeed = 11;
    const UncertaintyRun zero =
        ensembleUncertainty({{Model::load(kModels + "dropout_zero_scripted.pt"), "p0"}}, study, options);
    CHECK(zero.passes == 4);
    CHECK(zero.maps.memberNames.back() == "p0 dropout 4");
    CHECK(largest(zero.maps.mutualInformation) < 1e-5f);

    const Segmentation before = segmentStudy(*scripted, study);
    const UncertaintyRun half = ensembleUncertainty({{scripted, "p0.5"}}, study, options);
    CHECK(largest(half.maps.mutualInformation) > 1e-3f);
    // Seeded: the same passes again give the same maps.
    const UncertaintyRun again = ensembleUncertainty({{scripted, "p0.5"}}, study, options);
    CHECK(again.maps.entropy.voxels == half.maps.entropy.voxels);
    // Dropout is off again afterwards: the model predicts as before.
    const Segmentation after = segmentStudy(*scripted, study);
    CHECK(after.probabilities.volume(1).voxels == before.probabilities.volume(1).voxels);

    CHECK_THROWS_WITH(ensembleUncertainty({{Model::load(kModels + "dropout_traced.pt"), "t"}}, study, options),
                      Catch::Contains("MC dropout:") && Catch::Contains("traced"));
}

TEST_CASE("flips mirror the model's own grid and are mapped back on it (spacing, RAS)", "[uncertainty]") {
    // An LPS study at 1 mm; the card reorients to RAS (x and y reversed) and resamples to 2 mm:
    // each flip mirrors the prepared input on the model's grid, not the study again.
    test::TempDir dir;
    const std::string card = R"({"output": "probabilities", "spacing_mm": 2, "orientation": "RAS"})";
    const Study study = waves({12, 10, 8});
    UncertaintyOptions options;
    options.flips = flipsOf("xyz");
    // Voxel-wise: every flip gives back the unflipped prediction, bit for bit.
    const auto voxelWise = Model::load(withCard(dir, "probabilities.pt", card));
    const UncertaintyRun same = ensembleUncertainty({{voxelWise, "voxel-wise"}}, study, options);
    const Segmentation plain = segmentStudy(*voxelWise, study);
    for (const LabelVolume& member : same.maps.memberLabels)
        CHECK(member.labels == plain.labels.labels);
    CHECK(largest(same.maps.mutualInformation) < 1e-5f); // 0 to float precision
    CHECK(largest(same.maps.classStd.at(0)) == 0.0f);
    // local_fcn's kernels are not symmetric: its flipped passes differ, so the flips happened.
    const auto fcn = Model::load(withCard(dir, "local_fcn.pt", R"({"spacing_mm": 2, "orientation": "RAS"})"));
    const UncertaintyRun differing = ensembleUncertainty({{fcn, "fcn"}}, study, options);
    CHECK(largest(differing.maps.mutualInformation) > 1e-6f);
    CHECK(differing.maps.memberLabels[0].labels == segmentStudy(*fcn, study).labels.labels);
}

TEST_CASE("whole-voxel shifts of a voxel-wise model give no uncertainty away from the edge, rotations little",
          "[uncertainty]") {
    const auto model = Model::load(kModels + "probabilities.pt");
    const Study study = waves({12, 10, 8});
    TestTimeAugmentation tta;
    tta.kind = "spatial";
    tta.spatialPasses = 4;
    tta.maxRotationDegrees = 0.0;
    tta.maxShiftVoxels = 1;
    UncertaintyOptions options;
    tta.applyTo(options);
    const UncertaintyRun shifted = ensembleUncertainty({{model, "voxel-wise"}}, study, options);
    CHECK(shifted.passes == 5); // the unmoved pass, then 4 motions
    CHECK_THAT(shifted.maps.memberNames[1], Catch::StartsWith("voxel-wise moved rotation 0.0, 0.0, 0.0 deg, shift"));
    float interior = 0.0f, edge = 0.0f;
    for (int64_t k = 0; k < 8; ++k)
        for (int64_t j = 0; j < 10; ++j)
            for (int64_t i = 0; i < 12; ++i) {
                const bool inside = i >= 1 && j >= 1 && k >= 1 && i < 11 && j < 9 && k < 7;
                float& worst = inside ? interior : edge;
                worst = std::max(worst, shifted.maps.mutualInformation.at(i, j, k));
                if (inside) CHECK(shifted.maps.disagreement.at(i, j, k) == 0.0f);
            }
    CHECK(interior < 1e-5f);
    CHECK(edge > 1e-5f); // within a shift of the edge a moved pass reads the edge voxel again
    tta.maxRotationDegrees = 5.0;
    tta.applyTo(options);
    const UncertaintyRun turned = ensembleUncertainty({{model, "voxel-wise"}}, study, options);
    CHECK(largest(turned.maps.mutualInformation) > 1e-5f);
}
