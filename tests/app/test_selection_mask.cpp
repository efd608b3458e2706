// The picked structure's mask over its bounding box, built off the render thread.
#include "app/gui/state/selection_mask.h"
#include "engine/model/segmentation.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

using namespace segxai;
using namespace segxai::app;

namespace {

// Two structures of class 1 on a 12 x 10 x 8 grid: an L-shaped one in the box (2..6, 3..5,
// 1..4) and a single voxel at (10, 8, 7), so the L's box also holds background.
Segmentation twoStructures() {
    Geometry g;
    g.dims = {12, 10, 8};
    g.spacing = {0.5, 2.0, 3.0};
    g.origin = {10.0, -4.0, 7.0};
    Segmentation s;
    s.classNames = {"background", "lesion"};
    s.labels = LabelVolume(g, "labels");
    s.probabilities = ClassProbabilities(g, 2); // zero: findInstances reads them
    for (int64_t k = 1; k <= 4; ++k)
        for (int64_t j = 3; j <= 5; ++j)
            for (int64_t i = 2; i <= 6; ++i)
                if (i <= 3 || j == 3) s.labels.labels[g.linearIndex(i, j, k)] = 1;
    s.labels.labels[g.linearIndex(10, 8, 7)] = 1;
    return s;
}

} // namespace

TEST_CASE("a picked structure's mask covers its bounding box and holds exactly its voxels", "[selection]") {
    const Segmentation s = twoStructures();
    const auto instances = std::make_shared<const InstanceSet>(findInstances(s, 26, 1));
    REQUIRE(instances->instances.size() == 2);
    const Instance& l = instances->instances[0];
    CHECK(l.voxels == 4 * (2 * 3 + 3));
    const Geometry& g = s.labels.geometry;
    SelectionMaskBuild build(instances, g, l);
    for (int n = 0; n < 5000 && !build.ready(); ++n)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    REQUIRE(build.ready());
    CHECK(build.dims() == glm::ivec3(5, 3, 4));
    REQUIRE(build.mask().size() == 5 * 3 * 4);
    int64_t inside = 0;
    for (int k = 0; k < 4; ++k)
        for (int j = 0; j < 3; ++j)
            for (int i = 0; i < 5; ++i) {
                const uint16_t expected = i <= 1 || j == 0 ? 1 : 0;
                CHECK(build.mask()[size_t(i + 5 * (j + 3 * k))] == expected);
                inside += build.mask()[size_t(i + 5 * (j + 3 * k))];
            }
    CHECK(inside == l.voxels);
    // The box's matrix takes a voxel's world position to its index in the box.
    const glm::dvec3 world = g.voxelToWorld(glm::dvec3(4.0, 5.0, 3.0));
    const glm::dvec4 inBox = build.worldToBox() * glm::dvec4(world, 1.0);
    CHECK(inBox.x == Approx(2.0));
    CHECK(inBox.y == Approx(2.0));
    CHECK(inBox.z == Approx(2.0));
}

TEST_CASE("a mask build stops early when cancelled", "[selection]") {
    const Segmentation s = twoStructures();
    const InstanceSet instances = findInstances(s, 26, 1);
    const std::atomic<bool> cancelled{true};
    const std::vector<uint16_t> mask = selectionMask(instances, s.labels.geometry, instances.instances[0], cancelled);
    REQUIRE(mask.size() == 5 * 3 * 4);
    CHECK(std::count(mask.begin(), mask.end(), uint16_t(1)) == 0); // no slice was read
}
