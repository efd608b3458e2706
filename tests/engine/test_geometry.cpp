#include "engine/core/error.h"
#include "engine/core/geometry.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>
#include <itkImage.h>

using namespace segxai;

TEST_CASE("voxel to world matches ITK on an oblique - anisotropic grid", "[geometry]") {
    const Geometry g = test::obliqueGeometry();
    using Image = itk::Image<float, 3>;
    auto image = Image::New();
    Image::SpacingType spacing;
    Image::PointType origin;
    Image::DirectionType direction;
    for (unsigned a = 0; a < 3; ++a) {
        spacing[a] = g.spacing[a];
        origin[a] = g.origin[a];
        for (unsigned b = 0; b < 3; ++b)
            direction(b, a) = g.direction[a][b];
    }
    image->SetSpacing(spacing);
    image->SetOrigin(origin);
    image->SetDirection(direction);
    for (const glm::dvec3 index :
         {glm::dvec3(0, 0, 0), glm::dvec3(11, 9, 7), glm::dvec3(3.25, -1.5, 6.75), glm::dvec3(5, 2, 1)}) {
        itk::ContinuousIndex<double, 3> ci;
        for (unsigned a = 0; a < 3; ++a)
            ci[a] = index[a];
        Image::PointType expected;
        image->TransformContinuousIndexToPhysicalPoint(ci, expected);
        const glm::dvec3 world = g.voxelToWorld(index);
        for (int a = 0; a < 3; ++a)
            CHECK(world[a] == Approx(expected[unsigned(a)]).margin(1e-9));
    }
}

TEST_CASE("voxel to world and back round-trips", "[geometry]") {
    const Geometry g = test::obliqueGeometry();
    for (const glm::dvec3 index : {glm::dvec3(0, 0, 0), glm::dvec3(11, 9, 7), glm::dvec3(-2.5, 4.25, 100.0)}) {
        const glm::dvec3 back = g.worldToVoxel(g.voxelToWorld(index));
        for (int a = 0; a < 3; ++a)
            CHECK(back[a] == Approx(index[a]).margin(1e-9));
        const glm::dvec4 viaMatrix = g.worldToVoxelMatrix() * g.voxelToWorldMatrix() * glm::dvec4(index, 1.0);
        for (int a = 0; a < 3; ++a)
            CHECK(viaMatrix[a] == Approx(index[a]).margin(1e-9));
    }
    // Spacing is along the direction columns: one step in k moves 3 mm.
    const glm::dvec3 step = g.voxelToWorld({0, 0, 1}) - g.voxelToWorld({0, 0, 0});
    CHECK(glm::length(step) == Approx(3.0));
}

TEST_CASE("world bounds include whole voxels", "[geometry]") {
    Geometry g;
    g.dims = {10, 20, 5};
    g.spacing = {1.0, 0.5, 2.0};
    g.origin = {100.0, 0.0, -10.0};
    g.direction = glm::dmat3(-1.0, 0, 0, 0, -1.0, 0, 0, 0, 1.0);
    const WorldBox box = g.worldBounds();
    CHECK(box.min.x == Approx(100.0 - 9.5));
    CHECK(box.max.x == Approx(100.5));
    CHECK(box.min.y == Approx(-9.75));
    CHECK(box.max.y == Approx(0.25));
    CHECK(box.min.z == Approx(-11.0));
    CHECK(box.max.z == Approx(-1.0));
}

TEST_CASE("invalid geometry is refused with a message", "[geometry]") {
    Geometry g = test::obliqueGeometry();
    g.spacing.y = 0.0;
    CHECK_THROWS_WITH(g.validate("scan.nii"), Catch::Contains("scan.nii") && Catch::Contains("spacing"));
    g = test::obliqueGeometry();
    g.direction[2] = g.direction[1];
    CHECK_THROWS_AS(g.validate("scan.nii"), Error);
    g = test::obliqueGeometry();
    g.dims[1] = 0;
    CHECK_THROWS_AS(g.validate("scan.nii"), Error);
}
