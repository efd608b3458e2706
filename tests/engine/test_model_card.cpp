#include "engine/core/error.h"
#include "engine/model/model_card.h"
#include "engine/model/model_input.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>

using namespace segxai;

TEST_CASE("a full model card parses every field", "[card]") {
    const ModelCard card = parseModelCard(R"({
        "name": "lesions", "description": "demo",
        "input_channels": ["t1", "flair"],
        "classes": [{"name": "background"}, {"name": "lesion", "color": [255, 0, 0]}],
        "spacing_mm": [1.5, 1.5, 2],
        "orientation": "RAS", "axis_order": "kji",
        "normalization": [{"kind": "zscore", "nonzero": true},
                          {"kind": "range", "a_min": -100, "a_max": 300, "b_min": 0, "b_max": 1, "clip": true}],
        "sliding_window": {"patch": [96, 96, 64], "overlap": 0.5, "blend": "constant"},
        "divisible_by": 16, "cam_layer": "model.1.submodule.2", "output": "probabilities",
        "synthetic_data": true})",
                                          "card.json");
    CHECK(card.name == "lesions");
    CHECK(card.inputChannels == std::vector<std::string>{"t1", "flair"});
    REQUIRE(card.classes.size() == 2);
    CHECK(card.classes[1].color == std::array<uint8_t, 3>{255, 0, 0});
    CHECK(card.classes[0].color == defaultClassColor(0));
    REQUIRE(card.spacingMm);
    CHECK((*card.spacingMm)[2] == 2.0);
    CHECK(card.reorientToRas);
    CHECK(card.reverseAxes);
    CHECK(card.normalizationFor(0).kind == Normalization::Kind::ZScore);
    CHECK(card.normalizationFor(0).nonzeroOnly);
    CHECK(card.normalizationFor(1).kind == Normalization::Kind::Range);
    CHECK(card.normalizationFor(1).aMin == -100.0);
    CHECK(card.normalizationFor(1).clip);
    REQUIRE(card.slidingWindow);
    CHECK(card.slidingWindow->patch == std::array<int64_t, 3>{96, 96, 64});
    CHECK(card.slidingWindow->overlap == 0.5);
    CHECK_FALSE(card.slidingWindow->gaussian);
    CHECK(card.divisibleBy == 16);
    CHECK(card.camLayer == "model.1.submodule.2");
    CHECK(card.outputsProbabilities);
    CHECK(card.syntheticData);

    // Written and read back, the card is the same.
    const ModelCard again = parseModelCard(modelCardToJson(card), "again.json");
    CHECK(modelCardToJson(again) == modelCardToJson(card));
}

TEST_CASE("an empty card gives the defaults of a bare model", "[card]") {
    const ModelCard card = parseModelCard("{}", "model.json");
    CHECK(card.inputChannels.empty());
    CHECK_FALSE(card.spacingMm);
    CHECK_FALSE(card.slidingWindow);
    CHECK(card.divisibleBy == 1);
    CHECK_FALSE(card.outputsProbabilities);
    CHECK(card.normalizationFor(3).kind == Normalization::Kind::None);
    CHECK(card.className(4) == "class 4");
}

TEST_CASE("wrong model cards are refused naming the file and the field", "[card]") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"{not json", "not valid JSON"},
        {"[1, 2]", "must be a JSON object"},
        {R"({"spacing_mm": "two"})", "'spacing_mm' must be a number or a list of 3 numbers"},
        {R"({"spacing_mm": [1, 0, 1]})", "'spacing_mm' must be between 0 and 100 mm"},
        {R"({"input_channels": "t1"})", "'input_channels' must be a list"},
        {R"({"classes": [{"name": "a", "color": [300, 0, 0]}]})", "'classes.color'"},
        {R"({"normalization": {"kind": "minmax"}})", "'normalization.kind' must be"},
        {R"({"normalization": {"kind": "range", "a_min": 0}})", "'normalization.a_max' is required"},
        {R"({"input_channels": ["a", "b"], "normalization": [{}, {}, {}]})", "has 3 entries for 2 input channels"},
        {R"({"sliding_window": {"overlap": 0.5}})", "'sliding_window.patch' is required"},
        {R"({"sliding_window": {"patch": 64, "overlap": 1.0}})", "'sliding_window.overlap'"},
        {R"({"divisible_by": 2.5})", "'divisible_by' must be a whole number"},
        {R"({"output": "scores"})", "'output' must be"},
        {R"({"orientation": "LPI"})", "'orientation' must be"},
        {R"({"name": 7})", "'name' must be a string"},
    };
    for (const auto& [text, message] : cases) {
        INFO(text);
        CHECK_THROWS_WITH(parseModelCard(text, "bad.json"), Catch::Contains("bad.json") && Catch::Contains(message));
    }
}

TEST_CASE("z-score and range normalisation match their definitions", "[card]") {
    std::vector<float> v = {0, 2, 4, 0, 6};
    Normalization z;
    z.kind = Normalization::Kind::ZScore;
    z.nonzeroOnly = true;
    normalize(v, z); // mean 4, population deviation sqrt(8/3)
    const double s = std::sqrt(8.0 / 3.0);
    CHECK(v[0] == 0.0f);
    CHECK(v[1] == Approx(-2.0 / s));
    CHECK(v[2] == Approx(0.0).margin(1e-7));
    CHECK(v[4] == Approx(2.0 / s));

    std::vector<float> constant = {3, 3, 3};
    normalize(constant, z); // zero deviation counts as 1
    CHECK(constant == std::vector<float>{0, 0, 0});

    std::vector<float> hu = {-1000, -100, 100, 300, 2000};
    Normalization r;
    r.kind = Normalization::Kind::Range;
    r.aMin = -100;
    r.aMax = 300;
    r.bMin = 0;
    r.bMax = 1;
    r.clip = true;
    normalize(hu, r);
    CHECK(hu == std::vector<float>{0, 0, 0.5f, 1, 1});
}

TEST_CASE("the model grid follows the card's orientation and spacing", "[card]") {
    Geometry g;
    g.dims = {181, 217, 181};
    g.spacing = {1, 1, 1};
    g.origin = {90, 125, -71};
    g.direction = glm::dmat3(glm::dvec3(-1, 0, 0), glm::dvec3(0, -1, 0), glm::dvec3(0, 0, 1));
    ModelCard card;
    CHECK(modelGridFor(g, card).sameGrid(g));
    card.spacingMm = std::array<double, 3>{2, 2, 2};
    const Geometry twoMm = modelGridFor(g, card);
    CHECK(twoMm.dims == Index3{91, 109, 91}); // 181 mm / 2 = 90.5 -> 91
    CHECK(twoMm.spacing == glm::dvec3(2, 2, 2));
    // The box's first corner stays where it was.
    CHECK(twoMm.voxelToWorld(glm::dvec3(-0.5)).x == Approx(g.voxelToWorld(glm::dvec3(-0.5)).x));
    CHECK(twoMm.voxelToWorld(glm::dvec3(-0.5)).z == Approx(g.voxelToWorld(glm::dvec3(-0.5)).z));

    // An LPS-ordered grid reoriented to RAS: same voxel centres, i reversed in x.
    Geometry lps = g;
    lps.direction = glm::dmat3(1.0);
    lps.origin = {-90, -126, -72};
    card = ModelCard{};
    card.reorientToRas = true;
    const Geometry ras = modelGridFor(lps, card);
    CHECK(ras.direction[0] == glm::dvec3(-1, 0, 0));
    CHECK(ras.direction[1] == glm::dvec3(0, -1, 0));
    CHECK(ras.dims == lps.dims);
    CHECK(ras.voxelToWorld({0, 0, 0}).x == Approx(lps.voxelToWorld({180, 0, 0}).x));
    CHECK(ras.voxelToWorld({0, 0, 0}).y == Approx(lps.voxelToWorld({0, 216, 0}).y));
}
