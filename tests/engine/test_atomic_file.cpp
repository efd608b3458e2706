#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/image_io.h"
#include "tests/support/temp_dir.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace segxai;

namespace {

std::string readAll(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

size_t fileCount(const std::filesystem::path& dir) {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir))
        ++n;
    return n;
}

} // namespace

TEST_CASE("a failed write leaves the old file and no partial file", "[atomic]") {
    test::TempDir dir;
    writeFileAtomically(dir.file("table.csv"), "old\n");
    CHECK_THROWS_AS(writeAtomically(dir.file("table.csv"), ".csv", {},
                                    [](const std::string& temporary) {
                                        std::ofstream(temporary) << "half a ta";
                                        throw Error("disk full");
                                    }),
                    Error);
    CHECK(readAll(dir.file("table.csv")) == "old\n");
    CHECK(fileCount(dir.path()) == 1);
    writeFileAtomically(dir.file("table.csv"), "new\n");
    CHECK(readAll(dir.file("table.csv")) == "new\n");
    CHECK(fileCount(dir.path()) == 1);
}

TEST_CASE("outputs never overwrite inputs - even through another spelling", "[atomic]") {
    test::TempDir dir;
    const Volume v = test::makeVolume(test::obliqueGeometry(), [](auto i, auto, auto) { return float(i); });
    writeVolume(v, dir.file("t1.nii.gz"));
    const std::string sameFile = dir.path().string() + "/./t1.nii.gz";
    CHECK_THROWS_WITH(writeVolume(v, sameFile, {dir.file("t1.nii.gz")}),
                      Catch::Contains("refusing to overwrite an input"));
    std::filesystem::create_symlink(dir.file("t1.nii.gz"), dir.file("link.nii.gz"));
    CHECK_THROWS_AS(writeVolume(v, dir.file("link.nii.gz"), {dir.file("t1.nii.gz")}), Error);
    CHECK(readVolume(dir.file("t1.nii.gz")).voxels == v.voxels);
}

TEST_CASE("writing into a missing folder says so", "[atomic]") {
    test::TempDir dir;
    CHECK_THROWS_WITH(writeFileAtomically(dir.file("nowhere/x.json"), "{}"), Catch::Contains("does not exist"));
}
