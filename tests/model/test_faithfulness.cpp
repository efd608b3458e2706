// Faithfulness metrics on models where the answer is known: input x gradient of a linear
// model has faithfulness correlation 1 under a zero baseline; deleting the voxels of a model
// that adds up positive contributions lowers its score step by step.
#include "engine/explain/faithfulness.h"
#include "engine/model/model.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <fmt/format.h>

using namespace segxai;

namespace {

const std::string kModels = SEGXAI_TEST_DATA "/models/";

Target everyVoxel(const Geometry& g, int classIndex) {
    Target t;
    t.classIndex = classIndex;
    t.className = fmt::format("class {}", classIndex);
    t.mask.assign(g.voxelCount(), 1);
    t.voxelCount = g.voxelCount();
    t.description = "every voxel";
    return t;
}

// linear.pt (class 0 = 0.5 x0 - 2 x1 per voxel) on inputs where every voxel adds a
// different positive amount.
Study positiveStudy(Geometry& g) {
    g.dims = {6, 5, 4};
    Study s;
    s.geometry = g;
    s.channels = {test::makeVolume(
                      g, [](auto i, auto j, auto k) { return float(1 + i + 0.3 * j + 0.11 * k); }, "x0"),
                  test::makeVolume(
                      g, [](auto i, auto j, auto k) { return -float(0.2 + 0.05 * i * j + 0.07 * k); }, "x1")};
    return s;
}

} // namespace

TEST_CASE("input x gradient of a linear model has faithfulness correlation 1 with a zero baseline", "[faithfulness]") {
    const auto model = Model::load(kModels + "linear.pt");
    Geometry g;
    const Study study = positiveStudy(g);
    MetricOptions options;
    options.correlationRuns = 30;
    options.subsetFraction = 0.1;
    const auto e = evaluateMethods(*model, study, {everyVoxel(g, 0)}, {Method::InputXGradient, Method::Saliency}, {},
                                   {Metric::FaithfulnessCorrelation, Metric::Complexity}, options, nullptr);
    REQUIRE(e.size() == 2);
    CHECK(e[0].method == "input-x-gradient");
    CHECK(e[0].values.at("faithfulness-correlation") == Approx(1.0).margin(1e-6));
    // Saliency (a constant 0.5 - 2 per voxel) does not follow the contributions as well.
    CHECK(e[1].values.at("faithfulness-correlation") < 0.999);
    // Every voxel carries attribution: effective complexity 1.
    CHECK(e[0].values.at("complexity") == Approx(1.0));
}

TEST_CASE("deleting the most relevant voxels first lowers the score of an additive model monotonically",
          "[faithfulness]") {
    const auto model = Model::load(kModels + "linear.pt");
    Geometry g;
    const Study study = positiveStudy(g);
    MetricOptions options;
    options.curveSteps = 8;
    const auto e = evaluateMethods(*model, study, {everyVoxel(g, 0)}, {Method::InputXGradient}, {},
                                   {Metric::Deletion, Metric::Insertion}, options, nullptr);
    REQUIRE(e.size() == 1);
    for (const char* name : {"deletion-morf", "deletion-lerf"}) {
        INFO(name);
        const Curve& c = e[0].curves.at(name);
        REQUIRE(c.scores.size() == 9);
        CHECK(c.scores.front() == Approx(1.0));
        CHECK(c.scores.back() == Approx(0.0).margin(1e-6));
        for (size_t n = 1; n < c.scores.size(); ++n)
            CHECK(c.scores[n] <= c.scores[n - 1] + 1e-6);
    }
    for (const char* name : {"insertion-morf", "insertion-lerf"}) {
        const Curve& c = e[0].curves.at(name);
        for (size_t n = 1; n < c.scores.size(); ++n)
            CHECK(c.scores[n] >= c.scores[n - 1] - 1e-6);
    }
    // Most relevant first falls faster: a smaller area for deletion, a larger one for insertion.
    CHECK(e[0].values.at("deletion-morf") < e[0].values.at("deletion-lerf"));
    CHECK(e[0].values.at("insertion-morf") > e[0].values.at("insertion-lerf"));
}

TEST_CASE("sensitivity and cascading randomisation on a U-Net", "[faithfulness]") {
    const auto model = Model::load(kModels + "tiny_unet_traced.pt");
    Study study = test::twoChannelStudy({16, 20, 12});
    const Geometry& g = study.geometry;
    MetricOptions options;
    options.sensitivitySamples = 2;
    options.randomisationStages = 3;
    const auto e = evaluateMethods(*model, study, {everyVoxel(g, 1)}, {Method::Saliency}, {},
                                   {Metric::Sensitivity, Metric::Randomisation}, options, nullptr);
    REQUIRE(e.size() == 1);
    CHECK(e[0].values.at("sensitivity") > 0.0);
    CHECK(e[0].values.at("sensitivity") < 1.0);
    REQUIRE(e[0].randomisation.size() == 3);
    for (double r : e[0].randomisation)
        CHECK((r >= -1.0 && r <= 1.0));
    // With every layer random, the saliency map is no longer the trained model's.
    CHECK(e[0].randomisation.back() < 0.9);
}

TEST_CASE("the benchmark summary names the most faithful method", "[faithfulness]") {
    Benchmark b;
    b.methods = {Method::Saliency, Method::SmoothGrad};
    b.metrics = {Metric::FaithfulnessCorrelation};
    b.evaluations = {{"saliency", "a", 1.0, {{"faithfulness-correlation", 0.2}}, {}, {}, {}},
                     {"saliency", "b", 1.0, {{"faithfulness-correlation", 0.4}}, {}, {}, {}},
                     {"smoothgrad", "a", 10.0, {{"faithfulness-correlation", 0.5}}, {}, {}, {}},
                     {"smoothgrad", "b", 12.0, {{"faithfulness-correlation", 0.7}}, {}, {}, {}}};
    b.summarise();
    CHECK(b.mostFaithful == "smoothgrad");
    CHECK(b.summary["saliency"]["faithfulness-correlation"].first == Approx(0.3));
    CHECK(b.summary["saliency"]["faithfulness-correlation"].second == Approx(std::sqrt(0.02)));
    CHECK(b.seconds["smoothgrad"] == Approx(11.0));
    CHECK_THAT(b.csv(), Catch::Contains("smoothgrad,faithfulness-correlation,0.6,"));
    CHECK(b.toJson()["most_faithful"] == "smoothgrad");
    CHECK(pearson({1, 2, 3}, {2, 4, 6}) == Approx(1.0));
    CHECK(spearman({1, 2, 3, 4}, {10, 20, 15, 40}) == Approx(0.8));
    CHECK_THROWS_WITH(parseMetric("vibes"), Catch::Contains("faithfulness-correlation"));
}
