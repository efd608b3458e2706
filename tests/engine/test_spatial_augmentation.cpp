// Test-time rotations and shifts: seeded draws, the motion and its exact inverse, and
// predictions moved back onto the study.
#include "engine/analysis/ensemble_uncertainty.h"
#include "engine/analysis/spatial_augmentation.h"
#include "engine/core/error.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>
#include <cmath>

using namespace segxai;

namespace {

Geometry grid(int64_t x, int64_t y, int64_t z, glm::dvec3 spacing = glm::dvec3(1.0)) {
    Geometry g;
    g.dims = {x, y, z};
    g.spacing = spacing;
    return g;
}

Study studyOf(const Geometry& g, float (*f)(double, double, double)) {
    Study s;
    s.geometry = g;
    s.channels.push_back(
        test::makeVolume(g, [&](auto i, auto j, auto k) { return f(double(i), double(j), double(k)); }));
    return s;
}

// A voxel-wise two-class "segmentation" of a channel: p(class 1) = sigmoid(value).
Segmentation voxelWise(const Volume& channel) {
    Segmentation s;
    s.classNames = {"background", "foreground"};
    s.labels = LabelVolume(channel.geometry, "segmentation");
    s.probabilities = ClassProbabilities(channel.geometry, 2);
    for (size_t v = 0; v < channel.voxels.size(); ++v) {
        const float p = 1.0f / (1.0f + std::exp(-channel.voxels[v]));
        const float both[] = {1.0f - p, p};
        s.probabilities.setVoxel(v, both);
        s.labels.labels[v] = p > 0.5f;
    }
    return s;
}

} // namespace

TEST_CASE("spatial jitter: seeded draws within bounds, whole-voxel shifts, bad bounds refused", "[uncertainty]") {
    const auto draws = spatialJitters(40, 5.0, 2, 7);
    REQUIRE(draws.size() == 40);
    bool turned = false, shifted = false;
    for (const SpatialJitter& j : draws) {
        for (int a = 0; a < 3; ++a) {
            CHECK(std::abs(j.rotationDegrees[a]) <= 5.0);
            CHECK(std::abs(j.shiftVoxels[a]) <= 2.0);
            CHECK(j.shiftVoxels[a] == std::round(j.shiftVoxels[a]));
            turned = turned || std::abs(j.rotationDegrees[a]) > 1.0;
            shifted = shifted || j.shiftVoxels[a] != 0.0;
        }
    }
    CHECK(turned);
    CHECK(shifted);
    CHECK(spatialJitters(40, 5.0, 2, 7)[9].rotationDegrees == draws[9].rotationDegrees); // seeded
    CHECK(spatialJitters(40, 5.0, 2, 8)[9].rotationDegrees != draws[9].rotationDegrees);
    CHECK(spatialJitters(3, 0.0, 0, 1)[2].rotationDegrees == glm::dvec3(0.0));
    CHECK_THROWS_WITH(spatialJitters(2, 45.0, 2, 0), Catch::Contains("45") && Catch::Contains("[0, 30]"));
    CHECK_THROWS_WITH(spatialJitters(2, 5.0, 20, 0), Catch::Contains("20") && Catch::Contains("[0, 16]"));
    CHECK_THROWS_WITH(spatialJitters(-1, 5.0, 2, 0), Catch::Contains("negative"));
}

TEST_CASE("a motion and its inverse: a rotation about the centre in millimetres, then the shift", "[uncertainty]") {
    const Geometry g = grid(11, 9, 7, {1.0, 1.0, 2.0});
    SpatialJitter j;
    j.rotationDegrees = {0.0, 0.0, 90.0};
    j.shiftVoxels = {1.0, 0.0, -1.0};
    // The centre is (5, 4, 3); 90 degrees about k takes the offset (1, 0, 0) to (0, 1, 0).
    const glm::dvec3 from = movedFrom(j, g, {6.0, 4.0, 3.0});
    CHECK(from.x == Approx(6.0));
    CHECK(from.y == Approx(5.0));
    CHECK(from.z == Approx(2.0));
    // About i, a 2 mm k-spacing: the offset (0, 2 voxels = 2 mm, 0) turns to (0, 0, 2 mm) = 1 voxel.
    SpatialJitter aboutI;
    aboutI.rotationDegrees = {90.0, 0.0, 0.0};
    const glm::dvec3 up = movedFrom(aboutI, g, {5.0, 6.0, 3.0});
    CHECK(up.y == Approx(4.0).margin(1e-9));
    CHECK(up.z == Approx(4.0));
    SpatialJitter any;
    any.rotationDegrees = {3.1, -4.7, 2.2};
    any.shiftVoxels = {-2.0, 1.0, 2.0};
    for (const glm::dvec3 x : {glm::dvec3(0, 0, 0), glm::dvec3(10, 8, 6), glm::dvec3(3.5, 2.25, 1)}) {
        const glm::dvec3 back = movedTo(any, g, movedFrom(any, g, x));
        CHECK(glm::length(back - x) < 1e-9);
    }
}

TEST_CASE("a whole-voxel shift moves voxels exactly, and a voxel-wise prediction moves back exactly", "[uncertainty]") {
    const Geometry g = grid(8, 7, 6);
    const Study study =
        studyOf(g, [](double i, double j, double k) { return float(std::sin(0.9 * i) + 0.5 * std::cos(0.7 * j + k)); });
    SpatialJitter shift;
    shift.shiftVoxels = {2.0, -1.0, 1.0};
    const Study moved = movedStudy(study, shift);
    const Volume& in = study.channels[0];
    const Volume& out = moved.channels[0];
    // Voxel x of the moved study holds the study at x + t, the nearest edge voxel outside.
    CHECK(out.at(1, 3, 2) == in.at(3, 2, 3));
    CHECK(out.at(7, 0, 5) == in.at(7, 0, 5)); // (9, -1, 6) clamped to (7, 0, 5)
    const Segmentation back = movedBack(voxelWise(out), shift);
    const Segmentation direct = voxelWise(in);
    size_t inside = 0;
    // Voxel y reads the moved study at y - t, which holds the study at y where y - t is inside.
    for (int64_t k = 1; k < 6; ++k)
        for (int64_t j = 0; j < 6; ++j)
            for (int64_t i = 2; i < 8; ++i) {
                const size_t v = g.linearIndex(i, j, k);
                CHECK(back.probabilities.at(1, v) == direct.probabilities.at(1, v));
                CHECK(back.labels.labels[v] == direct.labels.labels[v]);
                ++inside;
            }
    CHECK(inside == 5 * 6 * 6);
}

TEST_CASE("a rotation maps a smooth prediction back close to the unmoved one, probabilities summing to 1",
          "[uncertainty]") {
    const Geometry g = grid(24, 24, 16, {1.0, 1.0, 1.5});
    const Study study =
        studyOf(g, [](double i, double j, double k) { return float(0.3 * (i - 11.5) + 0.2 * (j - 11.5) - 0.1 * k); });
    SpatialJitter turn;
    turn.rotationDegrees = {2.0, -3.0, 4.0};
    const Segmentation back = movedBack(voxelWise(movedStudy(study, turn).channels[0]), turn);
    const Segmentation direct = voxelWise(study.channels[0]);
    double worst = 0.0, worstSum = 0.0;
    for (int64_t k = 4; k < 12; ++k)
        for (int64_t j = 6; j < 18; ++j)
            for (int64_t i = 6; i < 18; ++i) {
                const size_t v = g.linearIndex(i, j, k);
                worst = std::max(worst, double(std::abs(back.probabilities.at(1, v) - direct.probabilities.at(1, v))));
            }
    for (size_t v = 0; v < g.voxelCount(); ++v)
        worstSum =
            std::max(worstSum, std::abs(double(back.probabilities.at(0, v) + back.probabilities.at(1, v)) - 1.0));
    // A linear input is read back exactly by trilinear sampling; only the sigmoid's curvature
    // between voxels is left (at most a few thousandths here).
    CHECK(worst < 5e-3);
    CHECK(worst > 0.0);
    CHECK(worstSum < 1e-6);
}

TEST_CASE("test-time augmentation kinds: any of flips, intensity and spatial joined by +", "[uncertainty]") {
    TestTimeAugmentation t;
    t.kind = "flips+spatial";
    t.spatialPasses = 3;
    UncertaintyOptions options;
    t.applyTo(options);
    CHECK(options.flips.size() == 8); // xyz
    CHECK(options.intensity.empty());
    CHECK(options.spatial.size() == 3);
    for (const std::string bad : {"flips+flips", "spatial+", "rotate", "flips++intensity", "+"}) {
        t.kind = bad;
        CHECK_THROWS_WITH(t.applyTo(options), Catch::Contains("'" + bad + "'") && Catch::Contains("joined by '+'"));
    }
    t.kind = "intensity+spatial";
    t.maxRotationDegrees = 40.0;
    CHECK_THROWS_WITH(t.applyTo(options), Catch::Contains("[0, 30]"));
}
