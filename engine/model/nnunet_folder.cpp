// Finding nnU-Net trained-model folders, their configurations and folds on disk.
#include "engine/core/error.h"
#include "engine/model/nnunet_plans.h"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace segxai {
namespace {

bool isFile(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}
bool isFolder(const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(p, ec);
}

bool isModelFolder(const fs::path& p) {
    return isFile(p / "plans.json") && isFile(p / "dataset.json");
}

// <Trainer>__<Plans>__<configuration>, split at the double underscores.
std::vector<std::string> nameParts(const std::string& name) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t at = name.find("__"); at != std::string::npos; at = name.find("__", start)) {
        parts.push_back(name.substr(start, at - start));
        start = at + 2;
    }
    parts.push_back(name.substr(start));
    return parts;
}

std::string readText(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path.string() + ": cannot open the file");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string foldName(const std::string& text) {
    return text.rfind("fold_", 0) == 0 ? text.substr(5) : text;
}

// The fold folders with the checkpoint, as nnU-Net's auto_detect_available_folds finds them
// (sorted by name, fold_all left out); fold_all alone when it is the only one.
std::vector<std::string> availableFolds(const fs::path& folder, const std::string& checkpoint) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
        const std::string name = entry.path().filename().string();
        if (entry.is_directory() && name.rfind("fold_", 0) == 0 && isFile(entry.path() / checkpoint))
            names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    std::vector<std::string> folds;
    for (const auto& name : names)
        if (name != "fold_all") folds.push_back(foldName(name));
    if (folds.empty() && std::find(names.begin(), names.end(), "fold_all") != names.end()) folds.push_back("all");
    return folds;
}

} // namespace

std::vector<std::string> nnunetConfigurationFolders(const std::string& datasetFolder) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(datasetFolder, ec)) {
        if (entry.is_directory() && nameParts(entry.path().filename().string()).size() == 3 &&
            isModelFolder(entry.path()))
            out.push_back(entry.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string nnunetConfigurationName(const std::string& folder) {
    fs::path p = fs::path(folder).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    const auto parts = nameParts(p.filename().string());
    return parts.size() == 3 ? parts[2] : std::string();
}

std::vector<std::string> nnunetAvailableFolds(const std::string& folder, const std::string& checkpointName) {
    return availableFolds(fs::path(folder), checkpointName);
}

std::vector<std::string> nnunetCheckpointNames(const std::string& folder) {
    std::set<std::string> names;
    std::error_code ec;
    for (const auto& fold : fs::directory_iterator(folder, ec)) {
        if (!fold.is_directory() || fold.path().filename().string().rfind("fold_", 0) != 0) continue;
        for (const auto& file : fs::directory_iterator(fold.path(), ec))
            if (file.is_regular_file() && file.path().extension() == ".pth")
                names.insert(file.path().filename().string());
    }
    std::vector<std::string> out;
    if (names.erase("checkpoint_final.pth")) out.push_back("checkpoint_final.pth");
    out.insert(out.end(), names.begin(), names.end());
    return out;
}

namespace {

// The dataset folders (those holding configuration folders) inside an nnU-Net results folder,
// such as nnUNet_results or TotalSegmentator's ~/.totalsegmentator/nnunet/results.
std::vector<std::string> datasetFolders(const fs::path& resultsFolder) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(resultsFolder, ec))
        if (entry.is_directory() && !nnunetConfigurationFolders(entry.path().string()).empty())
            out.push_back(entry.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

bool isNnunetPath(const std::string& path) {
    const fs::path p(path);
    if (isFolder(p)) {
        return isModelFolder(p) || !nnunetConfigurationFolders(path).empty() || !datasetFolders(p).empty() ||
               (p.filename().string().rfind("fold_", 0) == 0 && isModelFolder(p.parent_path()));
    }
    return p.extension() == ".pth" && p.parent_path().filename().string().rfind("fold_", 0) == 0 &&
           isModelFolder(p.parent_path().parent_path());
}

NnunetLocation locateNnunetFolder(const std::string& path, const NnunetOptions& options) {
    NnunetLocation at;
    at.options = options;
    fs::path p = fs::path(path).lexically_normal();
    if (p.filename().empty()) p = p.parent_path(); // a trailing slash
    if (!isFolder(p) && p.extension() == ".pth") {
        at.options.checkpointName = p.filename().string();
        at.options.folds = {foldName(p.parent_path().filename().string())};
        at.notes.push_back(
            fmt::format("{} names fold {} and checkpoint {}", path, at.options.folds[0], at.options.checkpointName));
        p = p.parent_path().parent_path();
    } else if (p.filename().string().rfind("fold_", 0) == 0 && isModelFolder(p.parent_path())) {
        at.options.folds = {foldName(p.filename().string())};
        at.notes.push_back(fmt::format("{} names fold {}", path, at.options.folds[0]));
        p = p.parent_path();
    }
    if (!isModelFolder(p) && nnunetConfigurationFolders(p.string()).empty()) {
        const auto datasets = datasetFolders(p);
        if (datasets.size() > 1) {
            std::string list;
            for (const auto& d : datasets)
                list += (list.empty() ? "" : ", ") + fs::path(d).filename().string();
            throw Error(fmt::format("{}: an nnU-Net results folder with {} datasets ({}); open one of them", path,
                                    datasets.size(), list));
        }
        if (datasets.size() == 1) {
            at.notes.push_back(
                fmt::format("{} holds one dataset, {}", path, fs::path(datasets[0]).filename().string()));
            p = datasets[0];
        }
    }
    if (!isModelFolder(p)) {
        const auto configurations = nnunetConfigurationFolders(p.string());
        if (configurations.empty())
            throw Error(path + ": not an nnU-Net results folder (no plans.json and dataset.json, and no "
                               "<Trainer>__<Plans>__<configuration> folder inside)");
        std::string chosen, list;
        for (const auto& c : configurations) {
            const std::string name = fs::path(c).filename().string();
            list += (list.empty() ? "" : ", ") + name;
            const std::string configuration = nameParts(name)[2];
            if (options.configuration.empty() ? configuration == "3d_fullres" : configuration == options.configuration)
                chosen = chosen.empty() ? c : chosen;
        }
        if (chosen.empty() && options.configuration.empty() && configurations.size() == 1) chosen = configurations[0];
        if (chosen.empty()) {
            throw Error(
                options.configuration.empty()
                    ? fmt::format("{}: holds {}; choose one with --configuration NAME (or open its folder)", path, list)
                    : fmt::format("{}: has no configuration '{}' (it holds {})", path, options.configuration, list));
        }
        if (configurations.size() > 1)
            at.notes.push_back(fmt::format("{} holds {}; using {}", path, list, fs::path(chosen).filename().string()));
        p = chosen;
    }
    at.folder = p.string();
    return at;
}

NnunetPlan readNnunetFolder(const std::string& folder, const NnunetOptions& options, const std::string& configuration) {
    const fs::path p(folder);
    const auto parts = nameParts(p.filename().string());
    std::string chosen = configuration;
    if (chosen.empty()) chosen = parts.size() == 3 ? parts[2] : options.configuration;
    if (chosen.empty()) chosen = "3d_fullres";
    NnunetPlan plan = parseNnunetPlan(readText(p / "dataset.json"), readText(p / "plans.json"), chosen, folder);
    if (parts.size() == 3) plan.trainer = parts[0];
    if (plan.plansName.empty() && parts.size() == 3) plan.plansName = parts[1];
    if (plan.datasetName.empty()) plan.datasetName = p.parent_path().filename().string();
    std::vector<std::string> folds;
    for (const auto& f : options.folds)
        folds.push_back(foldName(f));
    if (folds.empty()) folds = availableFolds(p, options.checkpointName);
    if (folds.empty()) {
        throw Error(fmt::format("{}: no fold_<k>/{} (each fold of an nnU-Net results folder holds its checkpoint; "
                                "another checkpoint name: --checkpoint checkpoint_best.pth)",
                                folder, options.checkpointName));
    }
    for (const auto& name : folds) {
        const fs::path file = p / ("fold_" + name) / options.checkpointName;
        if (!isFile(file)) {
            const bool folderExists = isFolder(file.parent_path());
            const bool best = isFile(file.parent_path() / "checkpoint_best.pth");
            throw Error(fmt::format("{}: fold {} {}{}", file.string(), name,
                                    folderExists ? "has no " + options.checkpointName : "does not exist",
                                    best && options.checkpointName != "checkpoint_best.pth"
                                        ? " (it has checkpoint_best.pth: --checkpoint checkpoint_best.pth)"
                                        : ""));
        }
        if (std::any_of(plan.folds.begin(), plan.folds.end(), [&](const NnunetFold& f) { return f.name == name; }))
            throw Error(fmt::format("{}: fold {} is given twice", folder, name));
        plan.folds.push_back({name, file.string()});
    }
    return plan;
}

} // namespace segxai
