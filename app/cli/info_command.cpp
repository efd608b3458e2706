// `segxai info FILE...`: each file's geometry and value range as JSON.
#include "app/cli/command.h"
#include "engine/io/image_io.h"
#include "engine/io/json_text.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace segxai::app {
namespace {

nlohmann::json vectorJson(const glm::dvec3& v) {
    return {v.x, v.y, v.z};
}

nlohmann::json fileInfo(const std::string& path) {
    const ImageHeader header = readImageHeader(path);
    const Volume volume = readVolume(path);
    const ValueRange range = finiteRange(volume.voxels);
    const Geometry& g = volume.geometry;
    nlohmann::json direction = nlohmann::json::array();
    for (int row = 0; row < 3; ++row) { // row-major, as ITK prints it
        direction.push_back({g.direction[0][row], g.direction[1][row], g.direction[2][row]});
    }
    return {{"path", path},
            {"format", header.format},
            {"dims", {g.dims[0], g.dims[1], g.dims[2]}},
            {"spacing", vectorJson(g.spacing)},
            {"origin", vectorJson(g.origin)},
            {"direction", direction},
            {"pixel_type", header.pixelType},
            {"min", range.min},
            {"max", range.max}};
}

} // namespace

CommandRun registerInfoCommand(CLI::App& parser) {
    auto* command =
        parser.add_subcommand("info", "Print each image's geometry (dims, spacing, origin, direction in LPS), pixel "
                                      "type, min and max as JSON");
    auto files = std::make_shared<std::vector<std::string>>();
    command->add_option("files", *files, "Image files (NIfTI, NRRD, MetaImage) or DICOM folders")->required();
    return [files] {
        return runReportingErrors([&] {
            nlohmann::json out = nlohmann::json::array();
            for (const auto& path : *files)
                out.push_back(fileInfo(path));
            std::printf("%s", readableJson(files->size() == 1 ? out[0] : out).c_str());
            return 0;
        });
    };
}

} // namespace segxai::app
