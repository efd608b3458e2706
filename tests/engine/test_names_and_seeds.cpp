// The seed streams keep the derivation every stored result was made with, and the method and
// metric name tables read both ways.
#include "engine/core/error.h"
#include "engine/core/seed_streams.h"
#include "engine/explain/explanation.h"
#include "engine/explain/faithfulness.h"

#include <catch2/catch.hpp>

using namespace segxai;

TEST_CASE("each seed stream is the user's seed spread by the golden ratio plus its offset", "[seeds]") {
    // The arithmetic the engine used before the streams had names: it must never change.
    for (uint64_t seed : {uint64_t(0), uint64_t(1), uint64_t(11), uint64_t(123456789), ~uint64_t(0)}) {
        INFO("seed " << seed);
        CHECK(streamSeed(seed, SeedStream::SmoothGradNoise, 7) == seed * 0x9E3779B97F4A7C15ull + 7);
        CHECK(streamSeed(seed, SeedStream::DemoCase) == seed * 0x9E3779B97F4A7C15ull + 1);
        CHECK(streamSeed(seed, SeedStream::CorrelationSubsets) == seed * 0x9E3779B97F4A7C15ull + 5);
        CHECK(streamSeed(seed, SeedStream::SensitivityNoise) == seed * 0x9E3779B97F4A7C15ull + 11);
        CHECK(streamSeed(seed, SeedStream::KernelShapCoalitions) == seed * 0x9E3779B97F4A7C15ull + 17);
        CHECK(streamSeed(seed, SeedStream::RandomisedWeights) == seed * 0x9E3779B97F4A7C15ull + 23);
    }
    // The engine's first draw on a stream is the standard engine's on that seed.
    std::mt19937_64 reference(3 * 0x9E3779B97F4A7C15ull + 17);
    CHECK(streamEngine(3, SeedStream::KernelShapCoalitions)() == reference());
}

TEST_CASE("method and metric names read both ways, and unknown ones list the known", "[names]") {
    for (Method m : allMethods())
        CHECK(parseMethod(methodId(m)) == m);
    for (Metric m : allMetrics())
        CHECK(parseMetric(metricId(m)) == m);
    CHECK(allMethods().size() == 11);
    CHECK(allMetrics().size() == 6);
    CHECK(std::string(methodId(Method::SegGradCamPlusPlus)) == "seg-grad-cam++");
    CHECK(std::string(methodTitle(Method::KernelShap)) == "KernelSHAP");
    CHECK(std::string(metricId(Metric::FaithfulnessCorrelation)) == "faithfulness-correlation");
    CHECK_THROWS_WITH(parseMethod("vibes"),
                      "unknown method 'vibes' (methods: seg-grad-cam, seg-hires-grad-cam, seg-grad-cam++, "
                      "saliency, saliency-abs, input-x-gradient, smoothgrad, integrated-gradients, "
                      "occlusion, segment-ablation, kernel-shap, all-gradient)");
    CHECK_THROWS_WITH(parseMetric("vibes"),
                      "unknown metric 'vibes' (metrics: faithfulness-correlation, deletion, insertion, "
                      "sensitivity, complexity, randomisation)");
}
