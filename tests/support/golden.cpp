#include "tests/support/golden.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#ifndef SEGXAI_GOLDEN_DIR
#error "SEGXAI_GOLDEN_DIR must name tests/data/golden"
#endif

namespace fs = std::filesystem;

namespace segxai::test {
namespace {

void writePng(const render::RgbaImage& image, const fs::path& path) {
    fs::create_directories(path.parent_path());
    const std::vector<uint8_t> bytes = render::encodePng(image);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

} // namespace

render::RgbaImage loadPng(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
    return render::decodePng(bytes);
}

std::string compareImages(const render::RgbaImage& image, const render::RgbaImage& expected, const std::string& name,
                          const GoldenTolerance& tolerance) {
    std::ostringstream message;
    if (expected.width != image.width || expected.height != image.height) {
        message << name << ": " << image.width << "x" << image.height << ", the expected image is " << expected.width
                << "x" << expected.height;
        return message.str();
    }
    render::RgbaImage diff = image;
    size_t different = 0;
    double sum = 0.0;
    for (size_t p = 0; p < image.pixels.size(); p += 4) {
        int worst = 0;
        for (size_t c = 0; c < 3; ++c) {
            const int d = std::abs(int(image.pixels[p + c]) - int(expected.pixels[p + c]));
            worst = std::max(worst, d);
            sum += d;
        }
        different += worst > tolerance.levels;
        // The difference picture: black where equal, red as bright as the difference.
        diff.pixels[p] = uint8_t(std::min(255, worst * 8));
        diff.pixels[p + 1] = diff.pixels[p + 2] = 0;
        diff.pixels[p + 3] = 255;
    }
    const size_t pixels = std::max<size_t>(1, image.pixels.size() / 4);
    const double share = double(different) / double(pixels), mean = sum / double(pixels * 3);
    if (share <= tolerance.differentShare && mean <= tolerance.meanDifference) return "";
    message << name << ": " << different << " of " << pixels << " pixels differ by more than " << tolerance.levels
            << " levels (" << share * 100.0 << " %, allowed " << tolerance.differentShare * 100.0
            << " %), mean difference " << mean << " (allowed " << tolerance.meanDifference << ")";
    writePng(diff, fs::path("golden-failures") / (name + ".diff.png"));
    return message.str();
}

std::string compareWithGolden(const render::RgbaImage& image, const std::string& name,
                              const GoldenTolerance& tolerance) {
    const fs::path golden = fs::path(SEGXAI_GOLDEN_DIR) / (name + ".png");
    const render::RgbaImage expected = loadPng(golden.string());
    const bool update = std::getenv("SEGXAI_UPDATE_GOLDEN") != nullptr;
    if (expected.width == 0) {
        if (update) {
            writePng(image, golden);
            return "";
        }
        return golden.string() + " is missing (SEGXAI_UPDATE_GOLDEN=1 writes it)";
    }
    std::string message = compareImages(image, expected, name, tolerance);
    if (message.empty()) return "";
    if (update) {
        writePng(image, golden);
        return "";
    }
    writePng(image, fs::path("golden-failures") / (name + ".actual.png"));
    return message + "; see golden-failures/" + name + ".actual.png";
}

} // namespace segxai::test
