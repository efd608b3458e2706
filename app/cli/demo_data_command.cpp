// `segxai demo-data DIR`: the held-out demo studies (and, for training, more cases).
#include "app/cli/command.h"
#include "engine/demo/demo_data.h"

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
    double spacing = 0.0; // 0: the template's 1 mm grid
};

int run(const DemoDataOptions& o) {
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
                     "as NIfTI: DIR/lesions/{t1,flair,gt}.nii.gz and DIR/anatomy/{t1,gt}.nii.gz");
    auto o = std::make_shared<DemoDataOptions>();
    command->add_option("folder", o->folder, "Output folder")->required();
    command->add_option("--task", o->task, "lesions, anatomy or both")
        ->check(CLI::IsMember({"lesions", "anatomy", "both"}));
    command->add_option("--cases", o->cases, "Write this many cases as DIR/<task>/case_<seed>/ (training data)");
    command->add_option("--first-seed", o->firstSeed,
                        "Seed of the first case (held-out studies use seeds from 1000000)");
    command->add_option("--spacing", o->spacing, "Resample to this isotropic spacing in mm");
    return [o] { return runReportingErrors([&] { return run(*o); }); };
}

} // namespace segxai::app
