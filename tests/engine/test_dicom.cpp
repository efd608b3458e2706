#include "engine/io/image_io.h"
#include "engine/io/study_loader.h"
#include "tests/support/dicom_writer.h"
#include "tests/support/temp_dir.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>
#include <cmath>

using namespace segxai;

namespace {

Geometry dicomGeometry(Index3 dims) {
    Geometry g;
    g.dims = dims;
    g.spacing = {0.7, 0.9, 2.5};
    g.origin = {-40.0, 25.0, 12.5};
    g.direction = test::rotation({0.0, 1.0, 0.2}, 15.0);
    return g;
}

} // namespace

TEST_CASE("a DICOM series written with ITK reads back with its geometry", "[io][dicom]") {
    test::TempDir dir;
    const Volume original = test::makeVolume(dicomGeometry({16, 12, 9}),
                                             [](auto i, auto j, auto k) { return float(i * 10 + j * 3 - k * 7); });
    test::writeDicomSeries(original, dir.file("series"), "1.2.826.0.1.3680043.2.1125.1", "T1 test");
    const Volume back = readVolume(dir.file("series"));
    const Geometry& g = back.geometry;
    CHECK(g.dims == original.geometry.dims);
    for (int a = 0; a < 3; ++a) {
        CHECK(g.spacing[a] == Approx(original.geometry.spacing[a]).margin(1e-4));
        CHECK(g.origin[a] == Approx(original.geometry.origin[a]).margin(1e-4));
        for (int b = 0; b < 3; ++b) {
            CHECK(g.direction[a][b] == Approx(original.geometry.direction[a][b]).margin(1e-4));
        }
    }
    REQUIRE(back.voxels.size() == original.voxels.size());
    for (size_t n = 0; n < back.voxels.size(); ++n)
        REQUIRE(back.voxels[n] == original.voxels[n]);

    const ImageHeader header = readImageHeader(dir.file("series"));
    CHECK(header.format == "DICOM");
    CHECK(header.geometry.dims == original.geometry.dims);
}

TEST_CASE("a folder with two DICOM series loads the largest - or the chosen one", "[io][dicom]") {
    test::TempDir dir;
    const Volume big = test::makeVolume(dicomGeometry({8, 8, 10}), [](auto, auto, auto) { return 100.0f; });
    const Volume small = test::makeVolume(dicomGeometry({8, 8, 4}), [](auto, auto, auto) { return 7.0f; });
    test::writeDicomSeries(big, dir.file("mixed"), "1.2.826.0.1.3680043.2.1125.10", "FLAIR", "big");
    test::writeDicomSeries(small, dir.file("mixed"), "1.2.826.0.1.3680043.2.1125.20", "scout", "small");

    const auto series = listDicomSeries(dir.file("mixed"));
    REQUIRE(series.size() == 2);
    CHECK(series[0].sliceCount == 10);
    CHECK(series[0].description == "FLAIR");
    CHECK(series[1].sliceCount == 4);
    CHECK(series[1].description == "scout");

    const Volume largest = readVolume(dir.file("mixed"));
    CHECK(largest.geometry.dims[2] == 10);
    CHECK(largest.voxels.front() == 100.0f);

    const Volume chosen = readVolume(dir.file("mixed"), series[1].uid);
    CHECK(chosen.geometry.dims[2] == 4);
    CHECK(chosen.voxels.front() == 7.0f);

    StudyRequest request;
    request.channelPaths = {dir.file("mixed")};
    request.dicomSeries = {series[1].uid};
    CHECK(loadStudy(request).geometry.dims[2] == 4);
}

TEST_CASE("an empty folder is not a DICOM series", "[io][dicom]") {
    test::TempDir dir;
    CHECK_THROWS_WITH(readVolume(dir.path().string()), Catch::Contains("no DICOM series"));
}
