// `segxai render`: a figure of a study (its segmentation, explanation maps) as a PNG, drawn
// by the viewer's own code in a hidden window: the same picture the viewer shows.
#include "app/cli/command.h"
#include "app/gui/gui_options.h"
#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/explain/explanation.h"
#include "engine/explain/target.h"
#include "engine/io/atomic_file.h"

#include <fmt/format.h>
#include <map>

namespace segxai::app {
namespace {

struct RenderOptions {
    StudyOptions study;
    std::string model;
    std::string method;
    std::vector<std::string> methods;
    std::string target = "class:1";
    std::string layer;
    std::string layout;
    std::string slice;
    std::string size = "1200x900";
    std::string out;
};

// Quoted for the script reader: paths may hold spaces.
std::string quoted(const std::string& path) {
    if (path.find('"') != std::string::npos) throw Error(path + ": a path with a double quote cannot be rendered");
    return "\"" + path + "\"";
}

// The viewer commands that draw the figure (app/gui/script.h).
std::vector<std::string> scriptFor(const RenderOptions& o) {
    std::vector<std::string> methods = o.methods;
    if (!o.method.empty()) methods.insert(methods.begin(), o.method);
    if (methods.size() > 4) throw Error("--methods: at most 4 panels");
    if (!methods.empty() && o.model.empty()) throw Error("explaining needs a model (--model)");
    for (const auto& m : methods) {
        if (m != "all-gradient") parseMethod(m); // a clear message before any window opens
    }
    const TargetSpec target = parseTargetSpec(o.target);
    int width = 0, height = 0;
    char extra = 0;
    if (std::sscanf(o.size.c_str(), "%dx%d%c", &width, &height, &extra) != 2 || width < 16 || height < 16 ||
        width > 16384 || height > 16384) {
        throw Error("--size expects WxH between 16x16 and 16384x16384, not " + o.size);
    }
    const std::string layout = o.layout.empty() ? (methods.size() > 1 ? "compare" : "tri") : o.layout;
    const std::map<std::string, std::string> views = {
        {"axial", "axial"}, {"coronal", "coronal"}, {"sagittal", "sagittal"}, {"volume", "3d"}, {"compare", "axial"}};

    std::vector<std::string> lines;
    const auto at = [](const Index3& v) { return fmt::format("{},{},{}", v[0], v[1], v[2]); };
    if (!methods.empty()) {
        using Kind = TargetSpec::Kind;
        if (target.kind == Kind::Instance) {
            // As a click on it would: the slices pass through it and it is outlined in every view.
            lines.push_back("pick " + at(target.voxel));
        } else if (target.kind == Kind::GroundTruthInstance || target.kind == Kind::Voxel) {
            lines.push_back("crosshair " + at(target.voxel));
        } else if (target.kind == Kind::Box) {
            Index3 centre;
            for (size_t a = 0; a < 3; ++a)
                centre[a] = (target.voxel[a] + target.boxEnd[a]) / 2;
            lines.push_back("crosshair " + at(centre));
        }
    }
    if (!o.slice.empty()) lines.push_back("crosshair " + o.slice);
    if (!methods.empty()) {
        lines.push_back(fmt::format("compare {}", fmt::join(methods, " ")));
        if (!o.layer.empty()) lines.push_back("layer " + quoted(o.layer));
        lines.push_back("explain " + quoted(o.target));
    }
    if (layout == "tri") {
        lines.push_back("layout tri");
    } else {
        lines.push_back("layout compare " + views.at(layout));
    }
    lines.push_back(fmt::format("figure {} {}x{}", quoted(o.out), width, height));
    lines.push_back("quit");
    return lines;
}

} // namespace

CommandRun registerRenderCommand(CLI::App& parser) {
    auto o = std::make_shared<RenderOptions>();
    CLI::App* c = parser.add_subcommand(
        "render", "Render a figure (PNG) of a study, its segmentation and explanation maps, exactly as the viewer "
                  "draws it, in a hidden window (needs a display: under Xvfb, xvfb-run)");
    addStudyOptions(*c, o->study);
    c->add_option("--model", o->model, "TorchScript model, model folder or MONAI bundle (segments the study)");
    c->add_option("--method", o->method, "Explanation method (segxai explain --help), or all-gradient");
    c->add_option("--methods", o->methods, "Methods compared side by side, one panel each (comma-separated)")
        ->delimiter(',');
    c->add_option("--target", o->target, "Target of the explanation (segxai explain's SPEC; default class:1)");
    c->add_option("--layer", o->layer, "CAM layer (dotted submodule path)");
    c->add_option("--layout", o->layout,
                  "tri (axial, sagittal, coronal, 3D), compare (the panels side by side, axial), or one view for every "
                  "panel: axial, coronal, sagittal, volume (default: tri for one method, compare for several)")
        ->check(CLI::IsMember({"axial", "coronal", "sagittal", "volume", "tri", "compare"}));
    c->add_option("--slice", o->slice,
                  "Crosshair voxel I,J,K the slices pass through (default: the target's voxel, or "
                  "the centre)");
    c->add_option("--size", o->size, "Figure size WxH in pixels (default 1200x900)");
    c->add_option("--out", o->out, "PNG file to write")->required();
    return [o] {
        return runReportingErrors([&] {
            prepareOutputFile(o->out, o->study.files);
            GuiOptions gui;
            gui.files = o->study.files;
            if (!o->study.groundTruth.empty()) gui.groundTruth = o->study.groundTruth;
            gui.keepChannelOrder = o->study.keepChannelOrder;
            gui.model = o->model;
            gui.scriptLines = scriptFor(*o);
            gui.hidden = true;
            Log::instance().setEcho(LogLevel::Warning); // errors and warnings only: the figure is the output
            return runGui(gui);
        });
    };
}

} // namespace segxai::app
