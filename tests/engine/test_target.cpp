#include "engine/core/error.h"
#include "engine/explain/target.h"
#include "engine/io/image_io.h"
#include "tests/support/temp_dir.h"

#include <catch2/catch.hpp>

using namespace segxai;

namespace {

// A 6 x 5 x 1 study with two "lesion" blobs touching only diagonally and a class-2 block.
struct Fixture {
    Study study;
    Segmentation segmentation;
    Fixture() {
        study.geometry.dims = {6, 5, 1};
        study.channels = {Volume(study.geometry, "t1")};
        segmentation.classNames = {"background", "lesion", "edema"};
        segmentation.labels = LabelVolume(study.geometry, "labels");
        segmentation.probabilities = ClassProbabilities(study.geometry, 3);
        auto set = [&](int i, int j, uint16_t label, float p) {
            segmentation.labels.at(i, j, 0) = label;
            float values[3] = {0.0f, 0.0f, 0.0f};
            values[label] = p;
            segmentation.probabilities.setVoxel(study.geometry.linearIndex(i, j, 0), values);
        };
        set(0, 0, 1, 0.9f);
        set(1, 0, 1, 0.6f);
        set(2, 1, 1, 0.95f); // diagonal to (1, 0)
        set(4, 3, 2, 0.7f);
        set(5, 3, 2, 0.7f);
        set(5, 4, 2, 0.7f);
        study.groundTruth = LabelVolume(study.geometry, "gt");
        study.groundTruth->at(3, 3, 0) = 1;
        study.groundTruth->at(3, 4, 0) = 1;
    }
};

} // namespace

TEST_CASE("target specs parse, and bad ones say the grammar", "[target]") {
    CHECK(parseTargetSpec("class:lesion").kind == TargetSpec::Kind::ClassRegion);
    CHECK(*parseTargetSpec("class:1:0.5").probabilityAbove == 0.5);
    CHECK(parseTargetSpec("instance:1,2,3").voxel == Index3{1, 2, 3});
    const TargetSpec box = parseTargetSpec("box:5,1,2,3,4,0@edema");
    CHECK(box.voxel == Index3{3, 1, 0});
    CHECK(box.boxEnd == Index3{5, 4, 2});
    CHECK(box.classText == "edema");
    CHECK(parseTargetSpec("mask:/tmp/m.nii.gz").maskPath == "/tmp/m.nii.gz");
    for (const std::string bad :
         {"lesion", "class:", "instance:1,2", "box:1,2,3", "voxel:a,b,c", "class:1:2", "nose:1", "mask:"}) {
        INFO(bad);
        CHECK_THROWS_WITH(parseTargetSpec(bad), Catch::Contains(bad));
    }
}

TEST_CASE("targets resolve to the voxels their definitions name", "[target]") {
    Fixture f;
    auto resolve = [&](const std::string& spec, InstanceOptions options = {}) {
        return resolveTarget(parseTargetSpec(spec), f.study, f.segmentation, options);
    };
    CHECK(resolve("class:lesion").voxelCount == 3);
    CHECK(resolve("class:1:0.7").voxelCount == 2);
    CHECK(resolve("channel:edema").voxelCount == 30);
    // Connectivity decides whether the diagonal neighbour belongs to the instance.
    CHECK(resolve("instance:0,0,0").voxelCount == 3);
    CHECK(resolve("instance:0,0,0", {6, 0}).voxelCount == 2);
    CHECK(resolve("instance:2,1,0", {6, 0}).voxelCount == 1);
    CHECK(resolve("instance:5,4,0").classIndex == 2);
    CHECK_THROWS_WITH(resolve("instance:0,0,0", {26, 5}), Catch::Contains("fewer than the minimum size 5"));
    CHECK_THROWS_WITH(resolve("instance:3,0,0"), Catch::Contains("background"));
    const Target gt = resolve("gt-instance:3,4,0");
    CHECK(gt.voxelCount == 2);
    CHECK(gt.className == "lesion");
    const Target box = resolve("box:3,2,0,5,4,0");
    CHECK(box.voxelCount == 9);
    CHECK(box.className == "edema"); // the box's most frequent foreground label
    CHECK(resolve("voxel:0,0,0").className == "lesion");
    CHECK(resolve("voxel:3,0,0@2").classIndex == 2);
    CHECK_THROWS_WITH(resolve("voxel:9,0,0"), Catch::Contains("outside the study"));
    CHECK_THROWS_WITH(resolve("class:tumour"), Catch::Contains("no class 'tumour'") && Catch::Contains("1 (lesion)"));
    const Target empty = resolve("class:2:0.9");
    CHECK(empty.voxelCount == 0);
    REQUIRE(empty.warnings.size() == 1);
    CHECK_THAT(empty.warnings[0], Catch::Contains("empty"));
    f.study.groundTruth.reset();
    CHECK_THROWS_WITH(resolve("gt-instance:3,4,0"), Catch::Contains("no ground truth"));
}

TEST_CASE("a mask file target is read and its class taken from the segmentation", "[target]") {
    Fixture f;
    test::TempDir dir;
    LabelVolume mask(f.study.geometry, "mask");
    mask.at(0, 0, 0) = 1;
    mask.at(1, 0, 0) = 7;
    writeLabelVolume(mask, dir.file("mask.nii.gz"));
    const Target t = resolveTarget(parseTargetSpec("mask:" + dir.file("mask.nii.gz")), f.study, f.segmentation);
    CHECK(t.voxelCount == 2);
    CHECK(t.className == "lesion");
    CHECK_THROWS_WITH(resolveTarget(parseTargetSpec("mask:" + dir.file("none.nii.gz")), f.study, f.segmentation),
                      Catch::Contains("none.nii.gz"));
}
