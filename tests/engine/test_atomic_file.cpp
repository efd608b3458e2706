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

TEST_CASE("outputs are checked before any work: a folder, a folder that cannot be written, an input", "[atomic]") {
    test::TempDir dir;
    CHECK_NOTHROW(checkOutputFile(dir.file("out.nii.gz")));
    CHECK_THROWS_WITH(checkOutputFile(dir.path().string()), Catch::Contains("is a folder; give a file name"));
    // /sys refuses new files even to root: the operating system's reason is in the message.
    CHECK_THROWS_WITH(checkOutputFile("/sys/segxai_out.nii.gz"), Catch::Contains("cannot write into /sys: "));
    CHECK_THROWS_WITH(checkOutputFile(dir.file("a/b.nii.gz")), Catch::Contains("does not exist"));
    std::ofstream(dir.file("in.nii.gz")) << "x";
    CHECK_THROWS_WITH(checkOutputFile(dir.file("in.nii.gz"), {dir.file("in.nii.gz")}),
                      Catch::Contains("refusing to overwrite an input"));
    CHECK_NOTHROW(checkOutputFolder(dir.file("new/nested")));
    // The command line's form creates a missing folder of an output file, and still refuses
    // what cannot be written.
    CHECK_NOTHROW(prepareOutputFile(dir.file("made/here/out.nii.gz")));
    CHECK(std::filesystem::is_directory(dir.file("made/here")));
    CHECK_THROWS_WITH(prepareOutputFile("/sys/segxai_dir/out.nii.gz"), Catch::Contains("cannot write into /sys: "));
    std::filesystem::remove_all(dir.file("made"));
    CHECK_THROWS_WITH(checkOutputFolder(dir.file("in.nii.gz")), Catch::Contains("is a file, not a folder"));
    CHECK_THROWS_WITH(checkOutputFolder("/sys/segxai_out"), Catch::Contains("cannot write into /sys: "));
    // The probe leaves nothing behind.
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator{}) == 1);
}
