#include "engine/core/error.h"
#include "engine/io/image_io.h"
#include "tests/support/temp_dir.h"
#include "tests/support/volumes.h"

#include <array>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <itkImage.h>
#include <itkImageFileWriter.h>
#include <itkVector.h>
#include <zlib.h>

using namespace segxai;

namespace {

void checkSameGeometry(const Geometry& a, const Geometry& b, double tolerance) {
    CHECK(a.dims == b.dims);
    for (int x = 0; x < 3; ++x) {
        CHECK(a.spacing[x] == Approx(b.spacing[x]).margin(tolerance));
        CHECK(a.origin[x] == Approx(b.origin[x]).margin(tolerance));
        for (int y = 0; y < 3; ++y)
            CHECK(a.direction[x][y] == Approx(b.direction[x][y]).margin(tolerance));
    }
}

} // namespace

TEST_CASE("every writable format round-trips geometry and voxels", "[io]") {
    test::TempDir dir;
    const Volume original = test::makeVolume(test::obliqueGeometry(), [](auto i, auto j, auto k) {
        return float(i) * 1.5f - float(j) * 0.25f + float(k * k);
    });
    for (const std::string name : {"v.nii", "v.nii.gz", "v.nrrd", "v.mha", "v.mhd"}) {
        INFO(name);
        const std::string path = dir.file(name);
        writeVolume(original, path);
        const Volume back = readVolume(path);
        // NIfTI keeps its matrices in float32.
        checkSameGeometry(back.geometry, original.geometry, 1e-5);
        REQUIRE(back.voxels.size() == original.voxels.size());
        for (size_t n = 0; n < back.voxels.size(); ++n)
            REQUIRE(back.voxels[n] == original.voxels[n]);
        CHECK(back.name == "v");
        const ImageHeader header = readImageHeader(path);
        CHECK(header.pixelType == "float32");
        CHECK(header.geometry.dims == original.geometry.dims);
    }
}

TEST_CASE("a .nii.gz is the plain NIfTI in one gzip member, its blocks compressed in parallel", "[io]") {
    test::TempDir dir;
    Geometry g;
    g.dims = {128, 96, 80}; // 3.75 MiB of float32: four blocks and a part
    const Volume original =
        test::makeVolume(g, [](auto i, auto j, auto k) { return float((i * 7 + j * 3 + k) % 23) + 0.25f * float(k); });
    writeVolume(original, dir.file("v.nii"));
    writeVolume(original, dir.file("v.nii.gz"));
    std::ifstream plainFile(dir.file("v.nii"), std::ios::binary);
    const std::vector<char> plain((std::istreambuf_iterator<char>(plainFile)), std::istreambuf_iterator<char>());
    std::ifstream gzFile(dir.file("v.nii.gz"), std::ios::binary);
    std::vector<unsigned char> gz((std::istreambuf_iterator<char>(gzFile)), std::istreambuf_iterator<char>());
    REQUIRE(gz.size() > 18);
    CHECK(gz.size() < plain.size());
    // One member: a single inflate reaches the stream's end, with its CRC and size checked,
    // exactly at the file's end, and gives the plain file byte for byte.
    z_stream stream{};
    REQUIRE(inflateInit2(&stream, 16 + 15) == Z_OK);
    std::vector<char> out(plain.size() + 1024);
    stream.next_in = gz.data();
    stream.avail_in = uInt(gz.size());
    stream.next_out = reinterpret_cast<unsigned char*>(out.data());
    stream.avail_out = uInt(out.size());
    const int status = inflate(&stream, Z_FINISH);
    const size_t produced = out.size() - stream.avail_out;
    const uInt left = stream.avail_in;
    inflateEnd(&stream);
    CHECK(status == Z_STREAM_END);
    CHECK(left == 0);
    REQUIRE(produced == plain.size());
    CHECK(std::equal(plain.begin(), plain.end(), out.begin()));
    CHECK(readVolume(dir.file("v.nii.gz")).voxels == original.voxels);
    // Nothing else left in the folder: the plain temporary is gone.
    size_t files = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
        ++files;
    CHECK(files == 2);
}

TEST_CASE("label maps round-trip and must hold whole numbers", "[io]") {
    test::TempDir dir;
    Geometry g;
    g.dims = {6, 5, 4};
    LabelVolume labels(g, "gt");
    for (size_t n = 0; n < labels.labels.size(); ++n)
        labels.labels[n] = uint16_t(n % 7);
    writeLabelVolume(labels, dir.file("gt.nii.gz"));
    const LabelVolume back = readLabelVolume(dir.file("gt.nii.gz"));
    CHECK(back.labels == labels.labels);

    const Volume fractional = test::makeVolume(g, [](auto i, auto, auto) { return i == 3 ? 0.5f : 1.0f; });
    writeVolume(fractional, dir.file("soft.nii.gz"));
    CHECK_THROWS_WITH(readLabelVolume(dir.file("soft.nii.gz")), Catch::Contains("soft.nii.gz") &&
                                                                    Catch::Contains("not a label map") &&
                                                                    Catch::Contains("(3, 0, 0)"));
}

TEST_CASE("bad study files give one clear message naming the file", "[io]") {
    test::TempDir dir;
    CHECK_THROWS_WITH(readVolume(dir.file("missing.nii.gz")),
                      Catch::Contains("missing.nii.gz") && Catch::Contains("not found"));

    std::ofstream(dir.file("notes.txt")) << "hello";
    CHECK_THROWS_WITH(readVolume(dir.file("notes.txt")),
                      Catch::Contains("notes.txt") && Catch::Contains("unsupported file type"));

    std::ofstream(dir.file("broken.nii")) << "this is not a NIfTI header";
    CHECK_THROWS_WITH(readVolume(dir.file("broken.nii")), Catch::Contains("broken.nii"));

    // A valid compressed file cut in half.
    const Volume v =
        test::makeVolume(test::obliqueGeometry({30, 30, 30}), [](auto i, auto j, auto k) { return float(i * j + k); });
    writeVolume(v, dir.file("whole.nii.gz"));
    const auto size = std::filesystem::file_size(dir.file("whole.nii.gz"));
    std::filesystem::copy_file(dir.file("whole.nii.gz"), dir.file("cut.nii.gz"));
    std::filesystem::resize_file(dir.file("cut.nii.gz"), size / 2);
    CHECK_THROWS_WITH(readVolume(dir.file("cut.nii.gz")), Catch::Contains("cut.nii.gz"));
}

TEST_CASE("4D and vector images are refused where a 3D scalar volume is needed", "[io]") {
    registerImageFormats();
    test::TempDir dir;
    using Image4 = itk::Image<float, 4>;
    auto image4 = Image4::New();
    Image4::RegionType region4;
    region4.SetSize({{4, 5, 6, 3}});
    image4->SetRegions(region4);
    image4->Allocate(true);
    auto writer4 = itk::ImageFileWriter<Image4>::New();
    writer4->SetInput(image4);
    writer4->SetFileName(dir.file("series.nii.gz"));
    writer4->Update();
    CHECK_THROWS_WITH(readVolume(dir.file("series.nii.gz")),
                      Catch::Contains("series.nii.gz") && Catch::Contains("4D") && Catch::Contains("4x5x6x3"));

    // A 4D file with one time point is a 3D volume.
    region4.SetSize({{4, 5, 6, 1}});
    image4->SetRegions(region4);
    image4->Allocate(true);
    writer4->SetFileName(dir.file("single.nii.gz"));
    writer4->Update();
    CHECK(readVolume(dir.file("single.nii.gz")).geometry.dims == Index3{4, 5, 6});

    using VectorImage = itk::Image<itk::Vector<float, 3>, 3>;
    auto vectors = VectorImage::New();
    VectorImage::RegionType region;
    region.SetSize({{4, 5, 6}});
    vectors->SetRegions(region);
    vectors->Allocate(true);
    auto writer = itk::ImageFileWriter<VectorImage>::New();
    writer->SetInput(vectors);
    writer->SetFileName(dir.file("field.nii.gz"));
    writer->Update();
    CHECK_THROWS_WITH(readVolume(dir.file("field.nii.gz")),
                      Catch::Contains("field.nii.gz") && Catch::Contains("3 components"));
}

TEST_CASE("a header asking for an absurd size fails before allocating", "[io]") {
    test::TempDir dir;
    // A MetaImage header is plain text: claim 100,000^3 voxels.
    std::ofstream(dir.file("huge.mhd")) << "ObjectType = Image\nNDims = 3\n"
                                           "DimSize = 100000 100000 100000\n"
                                           "ElementType = MET_FLOAT\nElementDataFile = huge.raw\n";
    std::ofstream(dir.file("huge.raw")) << "x";
    CHECK_THROWS_WITH(readVolume(dir.file("huge.mhd")),
                      Catch::Contains("huge.mhd") && Catch::Contains("100000x100000x100000"));

    // Within the voxel limit but more than the memory there is: refused with both figures.
    std::ofstream(dir.file("large.mhd")) << "ObjectType = Image\nNDims = 3\nDimSize = 400 400 400\n"
                                            "ElementType = MET_SHORT\nElementDataFile = large.raw\n";
    std::ofstream(dir.file("large.raw")) << "x";
    // MetaImage headers that would make ITK's reader write past its buffer never reach it.
    std::ofstream(dir.file("twice.mha")) << "ObjectType = Image\nNDims = 1\nDimSize = 4 5 3\nNDims = 0\n"
                                            "ElementType = MET_FLOAT\nElementDataFile = LOCAL\n";
    CHECK_THROWS_WITH(readVolume(dir.file("twice.mha")),
                      Catch::Contains("twice.mha: damaged MetaImage header: 'NDims' is given twice"));
    std::ofstream(dir.file("mismatch.mha"))
        << "NDims = 2\nDimSize = 4 5 3\nElementType = MET_FLOAT\nElementDataFile = LOCAL\n";
    CHECK_THROWS_WITH(readVolume(dir.file("mismatch.mha")), Catch::Contains("DimSize has 3 numbers for NDims 2"));
    std::ofstream(dir.file("binary.mha")) << "NDims = 3\nDimSize = 4 5 3\nElementDatanane = LOCAL\n\x01\x02\x03\n";
    CHECK_THROWS_WITH(readVolume(dir.file("binary.mha")), Catch::Contains("line 4 is not 'Key = Value'"));

    setenv("SEGXAI_MEMORY_LIMIT_MB", "100", 1);
    CHECK_THROWS_WITH(readVolume(dir.file("large.mhd")),
                      Catch::Contains("large.mhd: reading it needs about 0.8 GB of memory") &&
                          Catch::Contains("only 0.1 GB is available"));
    unsetenv("SEGXAI_MEMORY_LIMIT_MB");
}

namespace {

// A NIfTI-1 file written byte by byte, so its header can say what no writer would.
void writeRawNifti(const std::string& path, std::vector<int16_t> dims, std::array<float, 3> spacing,
                   std::array<std::array<float, 4>, 3> sform, size_t dataBytes) {
    std::vector<char> bytes(352 + dataBytes, 0);
    auto put = [&](size_t offset, auto value) { std::memcpy(bytes.data() + offset, &value, sizeof(value)); };
    put(0, int32_t(348));
    put(40, int16_t(dims.size()));
    for (size_t d = 0; d < 7; ++d)
        put(42 + 2 * d, int16_t(d < dims.size() ? dims[d] : 1));
    put(70, int16_t(16)); // float32
    put(72, int16_t(32));
    put(76, 1.0f);
    for (size_t a = 0; a < 3; ++a)
        put(80 + 4 * a, spacing[a]);
    put(108, 352.0f);
    put(112, 1.0f);
    put(254, int16_t(1)); // sform only
    for (size_t r = 0; r < 3; ++r)
        for (size_t c = 0; c < 4; ++c)
            put(280 + 16 * r + 4 * c, sform[r][c]);
    std::memcpy(bytes.data() + 344, "n+1", 4);
    std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

const std::array<std::array<float, 4>, 3> kIdentity{{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}}};

} // namespace

TEST_CASE("hostile headers: zero or negative sizes, a degenerate orientation, 5D, symbolic link loops", "[io]") {
    test::TempDir dir;
    writeRawNifti(dir.file("ok.nii"), {4, 5, 3}, {1, 1, 1}, kIdentity, 4 * 5 * 3 * 4);
    CHECK(readVolume(dir.file("ok.nii")).geometry.dims == Index3{4, 5, 3});

    writeRawNifti(dir.file("negative.nii"), {4, -5, 3}, {1, 1, 1}, kIdentity, 240);
    CHECK_THROWS_WITH(readImageHeader(dir.file("negative.nii")), Catch::Contains("negative.nii") &&
                                                                     Catch::Contains("4 x -5 x 3") &&
                                                                     Catch::Contains("at least 1"));
    writeRawNifti(dir.file("zero.nii"), {4, 0, 3}, {1, 1, 1}, kIdentity, 0);
    CHECK_THROWS_WITH(readVolume(dir.file("zero.nii")), Catch::Contains("4 x 0 x 3"));
    writeRawNifti(dir.file("nodims.nii"), {}, {1, 1, 1}, kIdentity, 0);
    CHECK_THROWS_WITH(readVolume(dir.file("nodims.nii")), Catch::Contains("0 dimensions"));

    writeRawNifti(dir.file("flat.nii"), {4, 5, 3}, {0, 1, 1}, {{{0, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}}}, 240);
    CHECK_THROWS_WITH(readVolume(dir.file("flat.nii")),
                      Catch::Contains("flat.nii") && Catch::Contains("orientation matrix is degenerate"));
    writeRawNifti(dir.file("sheared.nii"), {4, 5, 3}, {1, 1, 1}, {{{1, 0, 0, 0}, {1, 0, 0, 0}, {0, 0, 1, 0}}}, 240);
    CHECK_THROWS_WITH(readVolume(dir.file("sheared.nii")), Catch::Contains("degenerate"));

    writeRawNifti(dir.file("five.nii"), {4, 5, 3, 1, 2}, {1, 1, 1}, kIdentity, 480);
    CHECK_THROWS_WITH(readVolume(dir.file("five.nii")), Catch::Contains("5D image (4x5x3x1x2)"));

    std::filesystem::create_symlink(dir.file("b.nii"), dir.file("a.nii"));
    std::filesystem::create_symlink(dir.file("a.nii"), dir.file("b.nii"));
    CHECK_THROWS_WITH(readVolume(dir.file("a.nii")),
                      Catch::Contains("a.nii") && Catch::Contains("loop of symbolic links"));
    std::filesystem::create_directories(dir.file("series"));
    std::filesystem::create_directory_symlink(dir.file("series"), dir.file("series/again"));
    CHECK_THROWS_WITH(readVolume(dir.file("series")), Catch::Contains("no DICOM series"));
}

namespace {

// Writes 2 x 3 x 2 voxels of `values` (cycled) as type T and reads them back as SegXAI does.
template <typename T> std::vector<float> readBackAs(const std::string& path, const std::vector<double>& values) {
    using Image = itk::Image<T, 3>;
    auto image = Image::New();
    typename Image::RegionType region;
    region.SetSize({2, 3, 2});
    image->SetRegions(region);
    image->Allocate();
    for (size_t n = 0; n < 12; ++n)
        image->GetBufferPointer()[n] = static_cast<T>(values[n % values.size()]);
    auto writer = itk::ImageFileWriter<Image>::New();
    writer->SetFileName(path);
    writer->SetInput(image);
    writer->Update();
    return readVolume(path).voxels;
}

template <typename T> void checkReadsAsFloat(const std::string& path, const std::vector<double>& values) {
    INFO(path);
    const std::vector<float> back = readBackAs<T>(path, values);
    REQUIRE(back.size() == 12);
    for (size_t n = 0; n < 12; ++n)
        CHECK(back[n] == static_cast<float>(static_cast<T>(values[n % values.size()])));
}

} // namespace

TEST_CASE("every stored pixel type reads as the same float32 values, a NIfTI's scaling applied", "[io]") {
    test::TempDir dir;
    registerImageFormats(); // the files are written with ITK's own writer, before SegXAI registers them
    for (const std::string ext : {".nii.gz", ".nrrd", ".mha"}) {
        checkReadsAsFloat<uint8_t>(dir.file("u8" + ext), {0, 1, 127, 128, 200, 255});
        checkReadsAsFloat<int8_t>(dir.file("s8" + ext), {-128, -1, 0, 1, 127});
        checkReadsAsFloat<uint16_t>(dir.file("u16" + ext), {0, 1, 32768, 65535});
        checkReadsAsFloat<int16_t>(dir.file("s16" + ext), {-32768, -1024, -1, 0, 3071, 32767});
        checkReadsAsFloat<uint32_t>(dir.file("u32" + ext), {0, 16777217, 4294967295.0});
        checkReadsAsFloat<int32_t>(dir.file("s32" + ext), {-2147483648.0, -16777217, 0, 2147483647});
        checkReadsAsFloat<float>(dir.file("f32" + ext), {-1.5, 0.1, 3e38, 1e-40});
        checkReadsAsFloat<double>(dir.file("f64" + ext), {0.1, -1e-300, 1e30, 123456789.123});
    }
    // A CT stored as int16 with scl_slope 0.5 and scl_inter -1024: voxels read as v * 0.5 - 1024.
    const std::string scaled = dir.file("scaled.nii");
    writeRawNifti(scaled, {2, 3, 2}, {1, 1, 1}, kIdentity, 12 * 2);
    std::fstream file(scaled, std::ios::in | std::ios::out | std::ios::binary);
    auto put = [&](std::streamoff offset, auto value) {
        file.seekp(offset);
        file.write(reinterpret_cast<const char*>(&value), sizeof(value));
    };
    put(70, int16_t(4)); // int16
    put(72, int16_t(16));
    put(112, 0.5f);
    put(116, -1024.0f);
    const std::array<int16_t, 12> stored{-32768, -1, 0, 1, 2, 3, 100, 2047, 4095, 32767, 7, -7};
    for (size_t n = 0; n < stored.size(); ++n)
        put(std::streamoff(352 + 2 * n), stored[n]);
    file.close();
    const Volume ct = readVolume(scaled);
    REQUIRE(ct.voxels.size() == stored.size());
    for (size_t n = 0; n < stored.size(); ++n)
        CHECK(ct.voxels[n] == float(stored[n]) * 0.5f - 1024.0f);
    // Whole or not is judged by the stored type's size, not the float32 ITK delivers.
    std::filesystem::resize_file(scaled, 352 + 22);
    CHECK_THROWS_WITH(readVolume(scaled), Catch::Contains("holds 22 bytes of image data where the header needs 24"));
}
