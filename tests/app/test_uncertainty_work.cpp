// The Uncertainty tab's state without a window: the ensemble run on the open study, its maps in
// panel A on an absolute scale, the structure columns, explanation stability, and model versions
// compared, each against answers worked out here.
#include "app/gui/state/document.h"
#include "engine/explain/target.h"
#include "engine/io/image_io.h"
#include "engine/model/inference.h"
#include "tests/app/run_jobs.h"
#include "tests/support/temp_dir.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>

using namespace segxai;
using namespace segxai::app;

namespace {

// A one-channel study of blobs, segmented by `model` (a quarter of it class 1 for kLocal).
struct Opened {
    test::TempDir dir;
    JobRunner jobs;
    Document document{jobs};
    explicit Opened(const std::string& model) {
        Geometry g;
        g.dims = {16, 16, 12};
        g.spacing = {1.0, 1.0, 2.0};
        writeVolume(test::makeVolume(g,
                                     [](int64_t i, int64_t j, int64_t k) {
                                         return float(5.0 * (std::sin(0.7 * double(i)) * std::cos(0.5 * double(j)) +
                                                             0.3 * std::sin(double(k))) +
                                                      5.0);
                                     }),
                    dir.file("t1.nii.gz"));
        document.workspace.openModel(model);
        finish();
        document.workspace.openStudy(StudyRequest{{dir.file("t1.nii.gz")}, {}, {}});
        finish();
    }
    void finish() { test::runJobsToEnd(jobs, document); }
};

// Two small networks of one input channel and two classes, with other weights.
const std::string kLocal = SEGXAI_TEST_DATA "/models/dropout_zero_scripted.pt";
const std::string kWide = SEGXAI_TEST_DATA "/models/wide_fcn.pt";

} // namespace

TEST_CASE("the Uncertainty tab: a model taken twice is sure of itself, and its maps and columns say so",
          "[uncertainty][workspace]") {
    Opened o(kLocal);
    Document& document = o.document;
    REQUIRE(document.workspace.segmentation());
    REQUIRE(document.workspace.instances());
    UncertaintySettings settings;
    settings.extraModels = {kLocal};
    document.uncertainty.run(settings, std::nullopt);
    o.finish();
    INFO(fmt::format("{}", fmt::join(document.messages().take(), "; ")));
    const auto result = document.uncertainty.result();
    REQUIRE(result);
    const UncertaintyMaps& maps = result->run.maps;
    CHECK(result->run.passes == 2);
    CHECK(*std::max_element(maps.mutualInformation.voxels.begin(), maps.mutualInformation.voxels.end()) <= 1e-6f);
    CHECK(*std::max_element(maps.disagreement.voxels.begin(), maps.disagreement.voxels.end()) == 0.0f);
    // Certainty: 1 - H / ln 2, voxel by voxel.
    REQUIRE(result->certainty->voxels.size() == maps.entropy.voxels.size());
    for (size_t v = 0; v < maps.entropy.voxels.size(); v += 37)
        CHECK(result->certainty->voxels[v] == Approx(1.0 - maps.entropy.voxels[v] / std::log(2.0)).margin(1e-6));
    // A column per structure of the open segmentation: found by both, the same volume.
    const auto& instances = document.workspace.instances()->instances;
    REQUIRE(result->perStructure.size() == instances.size());
    REQUIRE_FALSE(instances.empty());
    for (const InstanceUncertainty& u : result->perStructure) {
        CHECK(u.memberShare == 1.0);
        CHECK(u.volumeCv == Approx(0.0).margin(1e-12));
    }
    // The maps, each on its absolute scale; panel A was empty, so it shows the mutual information.
    const ExplanationSet& set = *result->maps;
    REQUIRE(set.titles.size() == 5); // entropy, MI, disagreement, expected entropy, std of p(class 1)
    CHECK(set.titles[1] == "mutual information");
    CHECK(set.titles[4] == "std of p(class 1)");
    CHECK(set.figures[0][0].extent == Approx(std::log(2.0)));
    CHECK(set.figures[2][0].extent == 1.0f);
    const Panel& a = document.comparison.panels().front();
    REQUIRE(a.result);
    CHECK(a.result->source.kind == MapSource::Kind::Uncertainty);
    CHECK(document.workspace.viewer().displays[0].index == 1);
    CHECK(itemTitle(*a.result, 1) == "mutual information");
    document.uncertainty.showMap(0, 2);
    CHECK(document.comparison.shownMap(0)->map.values.voxels == maps.disagreement.voxels);

    SECTION("every member explains the target: identical members, identical maps") {
        const StabilityRequest request{Method::Saliency, parseTargetSpec("class:1"), {}};
        settings.stability = true;
        document.uncertainty.run(settings, request);
        o.finish();
        const auto stable = document.uncertainty.result();
        REQUIRE(stable);
        REQUIRE(stable->stabilityMaps);
        REQUIRE(stable->stabilityMaps->items.size() == 4); // mean, std, each member
        CHECK(stable->run.stability->meanRankCorrelation == Approx(1.0));
        CHECK(stable->run.stability->meanTopOverlap == Approx(1.0));
        const Volume& deviation = stable->stabilityMaps->items[1].maps[0].values;
        CHECK(*std::max_element(deviation.voxels.begin(), deviation.voxels.end()) <= 1e-6f);
        CHECK(stable->stabilityMaps->items[0].maps[0].values.voxels == stable->run.memberMaps[0].voxels);
        document.uncertainty.showStability(1, 0);
        REQUIRE(document.comparison.panels().size() == 2);
        CHECK(document.comparison.panels()[1].result->source.kind == MapSource::Kind::Stability);
    }
    SECTION("the Lesions tab's lesions get their columns once both are there") {
        LesionAnalysisOptions options;
        setLesionMethods(options.explain, {"none"});
        options.context = false;
        options.lesions.minimumSize = 1;
        document.lesions.analyse(options);
        o.finish();
        const auto analysis = document.lesions.analysis();
        REQUIRE(analysis);
        const auto lesions = document.lesions.uncertainty();
        REQUIRE(lesions);
        REQUIRE(lesions->perLesion.size() == analysis->lesions.lesions.size());
        for (const InstanceUncertainty& u : lesions->perLesion) {
            CHECK(u.memberShare == 1.0);
            CHECK(u.meanMutualInformation <= 1e-6);
        }
        document.lesions.save(o.dir.file("lesions"));
        o.finish();
        std::ifstream csv(o.dir.file("lesions/instances.csv"));
        std::string header;
        std::getline(csv, header);
        CHECK_THAT(header, Catch::EndsWith("mean_entropy,mean_mutual_information,member_share,volume_cv"));
    }
    SECTION("the result goes with the segmentation it was made on") {
        document.workspace.segment();
        o.finish();
        CHECK_FALSE(document.uncertainty.result());
    }
    SECTION("saved as segxai uncertainty writes it, never over an input") {
        document.uncertainty.save(o.dir.file("out"));
        o.finish();
        CHECK(std::filesystem::exists(o.dir.file("out/mutual_information.nii.gz")));
        CHECK(std::filesystem::exists(o.dir.file("out/instances.csv")));
        CHECK(document.messages().take().empty());
    }
}

TEST_CASE("the Uncertainty tab refuses an ensemble whose members do not fit, and keeps what it had",
          "[uncertainty][workspace]") {
    Opened o(kLocal);
    UncertaintySettings settings;
    settings.extraModels = {SEGXAI_TEST_DATA "/models/many_classes.pt"}; // 105 classes
    o.document.uncertainty.run(settings, std::nullopt);
    o.finish();
    const auto errors = o.document.messages().take();
    REQUIRE(errors.size() == 1);
    CHECK_THAT(errors[0], Catch::Contains("classes"));
    CHECK_FALSE(o.document.uncertainty.result());
}

TEST_CASE("the Uncertainty tab's MC dropout: a scripted model with dropout on is unsure, seeded",
          "[uncertainty][workspace]") {
    Opened o(SEGXAI_TEST_DATA "/models/dropout_scripted.pt"); // p = 0.5
    UncertaintySettings settings;
    settings.mcDropoutPasses = 4;
    settings.mcDropoutSeed = 7;
    o.document.uncertainty.run(settings, std::nullopt);
    o.finish();
    const auto first = o.document.uncertainty.result();
    REQUIRE(first);
    CHECK(first->run.passes == 4);
    const auto& mi = first->run.maps.mutualInformation.voxels;
    CHECK(*std::max_element(mi.begin(), mi.end()) > 0.01f);
    o.document.uncertainty.run(settings, std::nullopt); // the same seed: the same maps
    o.finish();
    CHECK(o.document.uncertainty.result()->run.maps.mutualInformation.voxels == mi);
}

TEST_CASE("model versions compared in the viewer: Dice by hand, and each class's disagreement a click away",
          "[uncertainty][workspace]") {
    Opened o(kLocal);
    Document& document = o.document;
    REQUIRE(document.workspace.segmentation());

    SECTION("a model with itself agrees everywhere") {
        document.models.compare({kLocal});
        o.finish();
        const auto result = document.models.result();
        REQUIRE(result);
        CHECK(result->comparison.voxelAgreement == 1.0);
        for (size_t r = 0; r < result->comparison.classes.size(); ++r) {
            CHECK(result->comparison.classes[r].dice == 1.0);
            CHECK(result->disagreementVoxels[r] == 0);
        }
    }
    SECTION("another model: its Dice and the voxels where the two differ") {
        document.models.compare({kWide});
        o.finish();
        const auto result = document.models.result();
        REQUIRE(result);
        const Study& study = *document.workspace.study()->study;
        const LabelVolume a = segmentStudy(*Model::load(kLocal), study).labels;
        const LabelVolume b = segmentStudy(*Model::load(kWide), study).labels;
        int64_t both = 0, inA = 0, inB = 0, apart = 0;
        for (size_t v = 0; v < a.labels.size(); ++v) {
            both += a.labels[v] == 1 && b.labels[v] == 1;
            inA += a.labels[v] == 1;
            inB += b.labels[v] == 1;
            apart += (a.labels[v] == 1) != (b.labels[v] == 1);
        }
        REQUIRE(apart > 0);
        const auto& rows = result->comparison.classes;
        const auto row =
            std::find_if(rows.begin(), rows.end(), [](const ClassAgreement& c) { return c.className == "class 1"; });
        REQUIRE(row != rows.end());
        const size_t r = size_t(row - rows.begin());
        CHECK(row->dice == Approx(2.0 * double(both) / double(inA + inB)));
        CHECK(result->disagreementVoxels[r] == apart);
        // The row takes the views to a voxel where exactly one of the two labels the class.
        document.models.showRow(r);
        const Index3 at = document.workspace.viewer().crosshair;
        CHECK((a.at(at[0], at[1], at[2]) == 1) != (b.at(at[0], at[1], at[2]) == 1));
        REQUIRE(document.comparison.panels().front().result);
        CHECK(document.comparison.panels().front().result->titles.front() == "disagreement of 2 models");
        // Side by side: panel B gets the other model and both explain the same target.
        document.models.explainSideBySide(1, parseTargetSpec("class:1"));
        o.finish();
        o.finish();
        REQUIRE(document.comparison.panels().size() == 2);
        CHECK(document.comparison.panels()[1].modelPath == kWide);
        CHECK(document.comparison.panels()[0].result);
        CHECK(document.comparison.panels()[1].result);
        CHECK(document.workspace.viewer().showDifference);
        // How far the two explanations agree, as engine/analysis/explanation_agreement.h has it.
        const auto agreement = document.models.agreement();
        REQUIRE(agreement);
        const auto& panels = document.comparison.panels();
        const Volume mapA = combinedStudyMap(panels[0].result->items.front(), study.geometry);
        const Volume mapB = combinedStudyMap(panels[1].result->items.front(), study.geometry);
        const MapAgreement expected = mapAgreement(mapA, mapB);
        CHECK(agreement->maps.rankCorrelation == Approx(expected.rankCorrelation));
        CHECK(agreement->maps.topOverlap == Approx(expected.topOverlap));
        const Target target = resolveTarget(parseTargetSpec("class:1"), study, *document.workspace.segmentation());
        CHECK(agreement->insideB == Approx(positiveMassInside(mapB, target)));
    }
}

TEST_CASE("a session keeps the ensemble's uncertainty and reopens to the same map in the same panel",
          "[uncertainty][workspace]") {
    Opened o(kLocal);
    UncertaintySettings settings;
    settings.extraModels = {kWide};
    settings.flips = true;
    settings.flipAxes.assign(1, 'x');
    settings.spatialPasses = 1;
    o.document.uncertainty.run(settings, std::nullopt);
    o.finish();
    const auto before = o.document.uncertainty.result();
    REQUIRE(before);
    CHECK(before->run.passes == 6); // 2 members x (2 flips + 1 motion)
    o.document.uncertainty.showMap(0, 2);
    REQUIRE(o.document.comparison.panels()[0].result == before->maps);
    const nlohmann::json saved = sessionToJson(o.document);
    INFO(saved.dump(1));
    CHECK(saved["panels"][0]["shows"] == "uncertainty");
    CHECK(saved["panels"][0]["explained"] == true);
    CHECK(saved["uncertainty"]["extra_models"][0] == std::filesystem::absolute(kWide).lexically_normal().string());
    CHECK(saved["uncertainty"]["flip_axes"] == "x");
    CHECK(saved["uncertainty"]["spatial_passes"] == 1);
    CHECK(saved["uncertainty"]["panel"] == 0);
    CHECK(saved["uncertainty"]["map"] == 2);

    // A fresh viewer opens the session: the ensemble runs again and panel A shows map 2.
    JobRunner jobs;
    Document reopened{jobs};
    reopened.sessions.open(sessionFromJson(saved, "s.segxai"));
    for (int n = 0; n < 40 && (!jobs.quiescent() || reopened.workspace.loading() || !reopened.uncertainty.result());
         ++n) {
        jobs.waitIdle();
        reopened.update();
    }
    INFO(fmt::format("{}", fmt::join(reopened.messages().take(), "; ")));
    const auto after = reopened.uncertainty.result();
    REQUIRE(after);
    CHECK(after->run.maps.memberNames == before->run.maps.memberNames);
    CHECK(after->run.maps.mutualInformation.voxels == before->run.maps.mutualInformation.voxels);
    CHECK(reopened.comparison.panels()[0].result == after->maps);
    CHECK(reopened.workspace.viewer().displays[0].index == 2);

    // A session whose panel shows an uncertainty map it does not name is refused.
    nlohmann::json broken = saved;
    broken.erase("uncertainty");
    CHECK_THROWS_WITH(sessionFromJson(broken, "s.segxai"),
                      Catch::Contains("panel A shows an uncertainty map, but 'uncertainty' names none"));
    broken = saved;
    broken["uncertainty"]["max_shift_voxels"] = 99;
    CHECK_THROWS_WITH(sessionFromJson(broken, "s.segxai"),
                      Catch::Contains("s.segxai: uncertainty: ") && Catch::Contains("outside [0, 16]"));
}
