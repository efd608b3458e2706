#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/io/image_io.h"
#include "engine/io/study_loader.h"
#include "tests/support/temp_dir.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

using namespace segxai;

namespace {

Geometry grid(Index3 dims, glm::dvec3 spacing, glm::dvec3 origin) {
    Geometry g;
    g.dims = dims;
    g.spacing = spacing;
    g.origin = origin;
    return g;
}

} // namespace

TEST_CASE("channels on another grid are resampled onto the first channel's", "[study]") {
    test::TempDir dir;
    // t1: 1 mm grid; flair: 2 mm grid covering the same box, value = world x.
    const Geometry fine = grid({20, 20, 20}, {1, 1, 1}, {0, 0, 0});
    const Geometry coarse = grid({10, 10, 10}, {2, 2, 2}, {0.5, 0.5, 0.5});
    writeVolume(test::makeVolume(fine, [](auto i, auto, auto) { return float(i); }), dir.file("t1.nii.gz"));
    writeVolume(test::makeVolume(coarse, [&](auto i, auto, auto) { return float(0.5 + 2.0 * i); }),
                dir.file("flair.nii.gz"));
    StandaloneJob job;
    JobContext context = job.context();
    const Study study = loadStudy({{dir.file("t1.nii.gz"), dir.file("flair.nii.gz")}, std::nullopt, {}}, &context);
    REQUIRE(study.channels.size() == 2);
    CHECK(study.channels[1].name == "flair");
    CHECK(study.channels[1].geometry.sameGrid(study.geometry));
    // Linear in x, so linear resampling reproduces x exactly inside the coarse grid's centres.
    for (int64_t i = 1; i < 19; ++i)
        CHECK(study.channels[1].at(i, 7, 9) == Approx(double(i)).margin(1e-4));
    REQUIRE(study.warnings.size() == 1);
    CHECK_THAT(study.warnings[0], Catch::Contains("flair") && Catch::Contains("resampled"));
    CHECK(job.control().fraction() == Approx(1.0));
}

TEST_CASE("a channel that does not overlap the first is refused", "[study]") {
    test::TempDir dir;
    const Geometry a = grid({10, 10, 10}, {1, 1, 1}, {0, 0, 0});
    const Geometry b = grid({10, 10, 10}, {1, 1, 1}, {500, 0, 0});
    writeVolume(test::makeVolume(a, [](auto, auto, auto) { return 1.0f; }), dir.file("a.nii.gz"));
    writeVolume(test::makeVolume(b, [](auto, auto, auto) { return 1.0f; }), dir.file("b.nii.gz"));
    CHECK_THROWS_WITH(loadStudy({{dir.file("a.nii.gz"), dir.file("b.nii.gz")}, std::nullopt, {}}),
                      Catch::Contains("b.nii.gz") && Catch::Contains("does not overlap"));
}

TEST_CASE("ground truth is resampled nearest-neighbour and non-finite voxels are reported", "[study]") {
    test::TempDir dir;
    const Geometry fine = grid({8, 8, 8}, {1, 1, 1}, {0, 0, 0});
    const Geometry coarse = grid({4, 4, 4}, {2, 2, 2}, {0.5, 0.5, 0.5});
    writeVolume(
        test::makeVolume(fine, [](auto i, auto j,
                                  auto) { return i == 0 && j == 0 ? std::numeric_limits<float>::quiet_NaN() : 1.0f; }),
        dir.file("t1.mha")); // ITK's NIfTI reader itself turns NaN into 0
    LabelVolume labels(coarse, "gt");
    for (int64_t k = 0; k < 4; ++k)
        for (int64_t j = 0; j < 4; ++j)
            for (int64_t i = 0; i < 4; ++i)
                labels.at(i, j, k) = uint16_t(i + 1);
    writeLabelVolume(labels, dir.file("gt.nii.gz"));
    REQUIRE(std::isnan(readVolume(dir.file("t1.mha")).voxels[0]));
    const Study study = loadStudy({{dir.file("t1.mha")}, dir.file("gt.nii.gz"), {}});
    REQUIRE(study.groundTruth);
    // Fine voxel i covers x = i; coarse voxel n covers x in [2n - 0.5, 2n + 1.5].
    for (int64_t i = 0; i < 8; ++i)
        CHECK(study.groundTruth->at(i, 3, 3) == uint16_t(i / 2 + 1));
    CHECK(study.channels[0].at(0, 0, 5) == 0.0f);
    bool reported = false;
    for (const auto& w : study.warnings)
        reported = reported || w.find("8 voxels were NaN") != std::string::npos;
    CHECK(reported);
}
