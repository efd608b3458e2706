#include "engine/io/image_paths.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace fs = std::filesystem;

namespace segxai {
namespace {

std::string lowercase(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

} // namespace

std::string imageExtension(const std::string& path) {
    const std::string name = lowercase(fs::path(path).filename().string());
    for (const char* ext : {".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd", ".dcm"}) {
        const std::string e(ext);
        if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0) {
            return e;
        }
    }
    return fs::path(name).extension().string();
}

std::string formatName(const std::string& ext) {
    if (ext == ".nii" || ext == ".nii.gz") return "NIfTI";
    if (ext == ".nrrd" || ext == ".nhdr") return "NRRD";
    if (ext == ".mha" || ext == ".mhd") return "MetaImage";
    return "DICOM";
}

bool isSupportedImagePath(const std::string& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) return true;
    const std::string ext = imageExtension(path);
    return ext == ".nii" || ext == ".nii.gz" || ext == ".nrrd" || ext == ".nhdr" || ext == ".mha" || ext == ".mhd" ||
           ext == ".dcm";
}

std::string volumeNameFromPath(const std::string& path) {
    fs::path p(path);
    std::string name = p.filename().string();
    if (name.empty()) name = p.parent_path().filename().string(); // "dir/"
    const std::string ext = imageExtension(name);
    if (!fs::is_directory(path) && name.size() > ext.size()) {
        name = name.substr(0, name.size() - ext.size());
    }
    return name;
}

} // namespace segxai
