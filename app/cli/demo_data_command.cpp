// `segxai demo-data DIR`: the held-out demo studies (and, for training, more cases).
#include "app/cli/command.h"
#include "engine/core/error.h"
#include "engine/demo/demo_data.h"
#include "engine/demo/scale_model.h"
#include "engine/demo/scale_phantom.h"
#include "engine/io/image_io.h"

#include <cstdio>
#include <filesystem>
#include <fmt/format.h>

namespace segxai::app {
namespace {

struct DemoDataOptions {
    std::string folder;
    std::string task = "both";
    int cases = 0; // 0: the two held-out demo studies
    uint64_t firstSeed = kFirstHeldOutSeed;
    double spacing = 0.0;             // 0: the template's 1 mm grid
    std::string size = "512x512x400"; // the scale phantom's voxels
};

// DIR/scale: the CT phantom, its structures and the 105-class model (scale_phantom.h,
// scale_model.h).
void writeScaleCase(const DemoDataOptions& o) {
    Index3 dims{};
    if (std::sscanf(o.size.c_str(), "%ldx%ldx%ld", &dims[0], &dims[1], &dims[2]) != 3 || dims[0] < 16 || dims[1] < 16 ||
        dims[2] < 16)
        throw Error(fmt::format("--size '{}': expected WxHxD of at least 16 voxels each, e.g. 512x512x400", o.size));
    const std::filesystem::path root = std::filesystem::path(o.folder) / "scale";
    std::filesystem::create_directories(root);
    std::fprintf(stderr, "making a %ld x %ld x %ld CT phantom...\n", dims[0], dims[1], dims[2]);
    const ScalePhantom phantom = makeScalePhantom(o.firstSeed, dims);
    writeInt16Volume(phantom.grid, phantom.hounsfield, (root / "ct.nii.gz").string());
    writeLabelVolume(phantom.labels, (root / "gt.nii.gz").string());
    const std::string model = writeScaleModel((root / "model").string(), phantom.names, o.firstSeed);
    std::printf("%s\n%s\n%s\n", (root / "ct.nii.gz").string().c_str(), (root / "gt.nii.gz").string().c_str(),
                model.c_str());
}

int run(const DemoDataOptions& o) {
    if (o.task == "scale") {
        writeScaleCase(o);
        return 0;
    }
    const DemoTemplates templates = DemoTemplates::load();
    std::vector<DemoTask> tasks;
    if (o.task == "both" || o.task == "lesions") tasks.push_back(DemoTask::Lesions);
    if (o.task == "both" || o.task == "anatomy") tasks.push_back(DemoTask::Anatomy);
    for (DemoTask task : tasks) {
        const std::filesystem::path root = std::filesystem::path(o.folder) / demoTaskName(task);
        if (o.cases == 0) {
            writeDemoCase(makeDemoCase(templates, task, o.firstSeed), root.string(), o.spacing);
            std::printf("%s\n", root.string().c_str());
            continue;
        }
        for (int n = 0; n < o.cases; ++n) {
            const uint64_t seed = o.firstSeed + uint64_t(n);
            const DemoCase c = makeDemoCase(templates, task, seed);
            writeDemoCase(c, (root / fmt::format("case_{:07d}", seed)).string(), o.spacing);
            std::fprintf(stderr, "\r%s: %d / %d", demoTaskName(task), n + 1, o.cases);
        }
        std::fprintf(stderr, "\n");
    }
    return 0;
}

} // namespace

CommandRun registerDemoDataCommand(CLI::App& parser) {
    auto* command = parser.add_subcommand(
        "demo-data", "Write the held-out demo studies (synthetic lesions on Colin27, and Colin27 anatomy) "
                     "as NIfTI: DIR/lesions/{t1,flair,gt}.nii.gz and DIR/anatomy/{t1,gt}.nii.gz; with --task scale "
                     "a body-CT-sized phantom of 104 structures and a 105-class model for measuring scale: "
                     "DIR/scale/{ct,gt}.nii.gz and DIR/scale/model/");
    auto o = std::make_shared<DemoDataOptions>();
    command->add_option("folder", o->folder, "Output folder")->required();
    command->add_option("--task", o->task, "lesions, anatomy, both, or scale (the scale benchmark)")
        ->check(CLI::IsMember({"lesions", "anatomy", "both", "scale"}));
    command->add_option("--cases", o->cases, "Write this many cases as DIR/<task>/case_<seed>/ (training data)");
    command->add_option("--first-seed", o->firstSeed,
                        "Seed of the first case (held-out studies use seeds from 1000000)");
    command->add_option("--spacing", o->spacing, "Resample to this isotropic spacing in mm");
    command->add_option("--size", o->size,
                        "Scale task: the phantom's voxels WxHxD (default 512x512x400; the field of view stays "
                        "410 x 410 x 600 mm)");
    return [o] { return runReportingErrors([&] { return run(*o); }); };
}

} // namespace segxai::app
