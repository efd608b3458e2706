#include "engine/core/resample.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>

using namespace segxai;

TEST_CASE("resampling onto the same grid is the identity", "[resample]") {
    const Volume v =
        test::makeVolume(test::obliqueGeometry(), [](auto i, auto j, auto k) { return float(i * 7 + j * 3 + k); });
    const Volume same = resampleLinear(v, v.geometry);
    CHECK(same.voxels == v.voxels);
}

TEST_CASE("linear resampling interpolates between voxel centres", "[resample]") {
    Geometry g;
    g.dims = {4, 1, 1};
    const Volume v = test::makeVolume(g, [](auto i, auto, auto) { return float(i * i); });
    Geometry shifted = g;
    shifted.dims = {3, 1, 1};
    shifted.origin = {0.5, 0.0, 0.0};
    const Volume out = resampleLinear(v, shifted, -1.0f);
    CHECK(out.voxels[0] == Approx(0.5)); // between 0 and 1
    CHECK(out.voxels[1] == Approx(2.5)); // between 1 and 4
    CHECK(out.voxels[2] == Approx(6.5)); // between 4 and 9
    shifted.origin = {10.0, 0.0, 0.0};
    CHECK(resampleLinear(v, shifted, -1.0f).voxels[0] == -1.0f); // outside
}

TEST_CASE("an oblique rotation of the grid keeps values at the same world points", "[resample]") {
    // A linear function of world position is reproduced exactly by linear interpolation.
    Geometry source;
    source.dims = {30, 30, 30};
    source.origin = {-15, -15, -15};
    auto field = [](const glm::dvec3& w) { return 2.0 * w.x - 0.5 * w.y + 0.25 * w.z; };
    Volume v(source, "field");
    for (int64_t k = 0; k < 30; ++k)
        for (int64_t j = 0; j < 30; ++j)
            for (int64_t i = 0; i < 30; ++i)
                v.at(i, j, k) = float(field(source.voxelToWorld({double(i), double(j), double(k)})));
    Geometry target;
    target.dims = {8, 8, 8};
    target.spacing = {1.3, 0.7, 1.9};
    target.origin = {-4, -3, -5};
    target.direction = test::rotation({1, 1, 0}, 33.0);
    const Volume out = resampleLinear(v, target);
    for (int64_t k = 0; k < 8; ++k)
        for (int64_t j = 0; j < 8; ++j)
            for (int64_t i = 0; i < 8; ++i)
                REQUIRE(out.at(i, j, k) ==
                        Approx(field(target.voxelToWorld({double(i), double(j), double(k)}))).margin(1e-3));
}
