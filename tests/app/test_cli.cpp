#include "engine/image_io.h"
#include "tests/support/run_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace segxai;

TEST_CASE("segxai info prints geometry - pixel type and range as JSON", "[cli]") {
    test::TempDir dir;
    const Geometry g = test::obliqueGeometry({5, 6, 7});
    writeVolume(test::makeVolume(g, [](auto i, auto j, auto k) { return float(i - j * k); }), dir.file("v.nrrd"));
    const auto run = test::runProcess({SEGXAI_BINARY, "info", dir.file("v.nrrd")});
    REQUIRE(run.exitCode == 0);
    const auto info = nlohmann::json::parse(run.output);
    CHECK(info["dims"] == nlohmann::json({5, 6, 7}));
    CHECK(info["spacing"][2].get<double>() == Approx(3.0));
    CHECK(info["origin"][0].get<double>() == Approx(-12.5));
    // Row-major direction: row r holds the x, y or z component of the three axes.
    CHECK(info["direction"][1][2].get<double>() == Approx(g.direction[2][1]));
    CHECK(info["pixel_type"] == "float32");
    CHECK(info["min"].get<double>() == Approx(-30.0));
    CHECK(info["max"].get<double>() == Approx(4.0));
    CHECK(info["format"] == "NRRD");
}

TEST_CASE("command-line errors are one line on stderr with a failing status", "[cli]") {
    const auto missing = test::runProcess({SEGXAI_BINARY, "info", "/no/such/file.nii.gz"});
    CHECK(missing.exitCode == 1);
    CHECK(missing.output == "segxai: error: /no/such/file.nii.gz: file not found\n");
    const auto help = test::runProcess({SEGXAI_BINARY, "--help"});
    CHECK(help.exitCode == 0);
    CHECK_THAT(help.output, Catch::Contains("info"));
    const auto bad = test::runProcess({SEGXAI_BINARY, "info"});
    CHECK(bad.exitCode != 0);
}
