// The scale benchmark's data (`segxai demo-data DIR --task scale`): the CT phantom and the
// 105-class model, at reduced sizes so the test runs in seconds; the figures at full size are
// in docs/performance.md#the-scale-benchmark.
#include "engine/demo/scale_model.h"
#include "engine/demo/scale_phantom.h"
#include "engine/model/inference.h"
#include "engine/model/model.h"
#include "tests/support/temp_dir.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <set>

using namespace segxai;

TEST_CASE("the scale phantom holds the 104 structures at their densities in a body-sized field of view",
          "[model][scale]") {
    const ScalePhantom p = makeScalePhantom(7, {128, 128, 100});
    REQUIRE(p.names.size() == 105);
    CHECK(p.names[5] == "liver");
    CHECK(p.names[41] == "vertebrae_C1");
    CHECK(p.names[104] == "urinary_bladder");
    CHECK(p.grid.spacing.x == Approx(3.2));
    CHECK(p.grid.spacing.z == Approx(6.0));
    const std::set<uint16_t> present(p.labels.labels.begin(), p.labels.labels.end());
    CHECK(present.size() >= 100); // the smallest (adrenal glands) may fall between 3.2 mm voxels
    CHECK(*present.rbegin() == 104);
    // Air outside the body, soft tissue around the liver's centre, bone in the vertebrae.
    auto mean = [&](uint16_t label) {
        double sum = 0.0;
        size_t n = 0;
        for (size_t v = 0; v < p.labels.labels.size(); ++v)
            if (p.labels.labels[v] == label) {
                sum += p.hounsfield[v];
                ++n;
            }
        return n ? sum / double(n) : 0.0;
    };
    CHECK(p.hounsfield[0] < -900);
    CHECK(mean(5) == Approx(60).margin(3));
    CHECK(mean(13) == Approx(-850).margin(3));
    CHECK(mean(18) > 400);
    // Seeded: the same seed gives the same voxels, another seed other noise.
    CHECK(makeScalePhantom(7, {32, 32, 32}).hounsfield == makeScalePhantom(7, {32, 32, 32}).hounsfield);
    CHECK(makeScalePhantom(8, {32, 32, 32}).hounsfield != makeScalePhantom(7, {32, 32, 32}).hounsfield);
}

TEST_CASE("the scale model is a 105-class 6-stage U-Net card that segments the phantom by sliding windows",
          "[model][scale]") {
    test::TempDir dir;
    // Narrow and coarse, so 45 windows run in seconds; the card's other fields are as at full size.
    ScaleModelShape shape;
    shape.features = {2, 4, 8, 8, 8, 8};
    shape.patch = 32;
    shape.spacingMm = 6.0;
    const std::string path = writeScaleModel(dir.path().string(), scalePhantomNames(), 3, shape);
    const auto model = Model::load(path);
    const ModelCard& card = model->card();
    REQUIRE(card.classes.size() == 105);
    CHECK(card.classes[5].name == "liver");
    REQUIRE(card.slidingWindow);
    CHECK(card.slidingWindow->patch == std::array<int64_t, 3>{32, 32, 32});
    CHECK(card.divisibleBy == 32);
    CHECK(card.camLayer == "encoder.stages.4");
    REQUIRE(card.normalization.size() == 1);
    CHECK(card.normalization[0].clip);
    CHECK(card.normalization[0].aMin == -958.0);
    const auto layers = model->layers({1, 32, 32, 32});
    CHECK(std::any_of(layers.begin(), layers.end(), [](const LayerInfo& l) { return l.path == "encoder.stages.5"; }));

    const ScalePhantom p = makeScalePhantom(7, {96, 96, 80});
    Study study;
    study.geometry = p.grid;
    Volume ct(p.grid, "ct");
    std::copy(p.hounsfield.begin(), p.hounsfield.end(), ct.voxels.begin());
    study.channels = {ct};
    // Reduced slab by slab (105 classes x 68 x 68 x 100 x 4 bytes, 194 MB, is above a quarter of 400 MB).
    setenv("SEGXAI_MEMORY_LIMIT_MB", "400", 1);
    const Segmentation s = segmentStudy(*model, study);
    unsetenv("SEGXAI_MEMORY_LIMIT_MB");
    CHECK(s.classNames.size() == 105);
    CHECK(s.labels.geometry.sameGrid(p.grid));
    CHECK(s.probabilities.bytes() == 16 * p.grid.voxelCount());
    CHECK(*std::max_element(s.labels.labels.begin(), s.labels.labels.end()) < 105);
    // Random weights still give a label map of several classes, not a constant.
    const std::set<uint16_t> labels(s.labels.labels.begin(), s.labels.labels.end());
    CHECK(labels.size() > 3);
}
