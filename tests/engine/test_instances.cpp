#include "engine/explain/instances.h"

#include <catch2/catch.hpp>

using namespace segxai;

TEST_CASE("structures are listed by class and size, and found by id in their list") {
    // A 7 x 1 x 1 row: lesion (1) at 0, background, lesion at 2-4, edema (2) at 5-6.
    Geometry g;
    g.dims = {7, 1, 1};
    g.spacing = {2.0, 1.0, 1.0};
    Segmentation s;
    s.classNames = {"background", "lesion", "edema"};
    s.labels = LabelVolume(g, "labels");
    s.probabilities = ClassProbabilities(g, 3);
    const uint16_t row[7] = {1, 0, 1, 1, 1, 2, 2};
    for (int64_t i = 0; i < 7; ++i) {
        s.labels.at(i, 0, 0) = row[i];
        float p[3] = {0.0f, 0.0f, 0.0f};
        p[row[i]] = 0.5f + 0.1f * float(i % 3);
        s.probabilities.setVoxel(size_t(i), p);
    }
    const InstanceSet set = findInstances(s, 6);
    REQUIRE(set.instances.size() == 3);
    // The one-voxel lesion comes first on the grid (id 1) but second in the list.
    CHECK(set.components == std::vector<int32_t>{1, 0, 2, 2, 2, 3, 3});
    CHECK(set.instances[0].id == 2);
    CHECK(set.instances[0].voxels == 3);
    CHECK(set.instances[0].volumeMm3 == Approx(6.0));
    CHECK(set.instances[0].representative == Index3{3, 0, 0});
    CHECK(set.instances[0].first == Index3{2, 0, 0});
    CHECK(set.instances[0].last == Index3{4, 0, 0});
    CHECK(set.instances[0].meanProbability == Approx((0.7 + 0.5 + 0.6) / 3.0));
    CHECK(set.instances[0].maxProbability == Approx(0.7));
    CHECK(set.instances[1].id == 1);
    CHECK(set.instances[1].voxels == 1);
    CHECK(set.instances[2].id == 3);
    CHECK(set.instances[2].classIndex == 2);
    CHECK(set.instances[2].centroid.x == Approx(5.5));
    CHECK(set.instances[2].first == Index3{5, 0, 0});
    CHECK(set.instances[2].last == Index3{6, 0, 0});
    for (size_t n = 0; n < set.instances.size(); ++n)
        CHECK(set.positionOf(set.instances[n].id) == int(n));
    CHECK(set.positionOf(0) == -1);
    CHECK(set.positionOf(4) == -1);
    CHECK(set.positionOf(-3) == -1);
}
