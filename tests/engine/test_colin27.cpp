#include "engine/io/image_io.h"
#include "engine/io/study_loader.h"

#include <catch2/catch.hpp>
#include <filesystem>

using namespace segxai;

// Real data from Debian's mricron-data: the Colin27 T1 template in MNI space.
TEST_CASE("Colin27 T1 loads with its exact geometry", "[io][real]") {
    const std::string path = "/usr/share/mricron/templates/ch2.nii.gz";
    REQUIRE(std::filesystem::exists(path));
    const Study study = loadStudy(StudyRequest{{path}, std::nullopt, {}});
    const Geometry& g = study.geometry;
    CHECK(g.dims == Index3{181, 217, 181});
    CHECK(g.spacing == glm::dvec3(1.0, 1.0, 1.0));
    // The first voxel sits at MNI (x, y, z) = (-90, -125, -71) mm (RAS), which is LPS
    // (90, 125, -71).
    CHECK(g.origin.x == Approx(90.0));
    CHECK(g.origin.y == Approx(125.0));
    CHECK(g.origin.z == Approx(-71.0));
    // i runs right-to-left in LPS terms (x decreases), j anterior, k superior.
    CHECK(g.direction[0] == glm::dvec3(-1, 0, 0));
    CHECK(g.direction[1] == glm::dvec3(0, -1, 0));
    CHECK(g.direction[2] == glm::dvec3(0, 0, 1));
    REQUIRE(study.channels.size() == 1);
    CHECK(study.channels[0].name == "ch2");
    const ValueRange range = finiteRange(study.channels[0].voxels);
    CHECK(range.min == 0.0f);
    CHECK(range.max == 254.0f);
    // MNI origin (0, 0, 0) falls at the voxel centre the header says.
    const glm::dvec3 mniOrigin = g.worldToVoxel({0.0, 0.0, 0.0});
    CHECK(mniOrigin.x == Approx(90.0));
    CHECK(mniOrigin.y == Approx(125.0));
    CHECK(mniOrigin.z == Approx(71.0));
    // Background at the corner, brain tissue around the centre.
    CHECK(study.channels[0].at(0, 0, 0) == 0.0f);
    double sum = 0.0;
    for (int k = 60; k < 80; ++k)
        for (int j = 115; j < 135; ++j)
            for (int i = 80; i < 100; ++i)
                sum += study.channels[0].at(i, j, k);
    CHECK(sum / 8000.0 > 60.0);
}
