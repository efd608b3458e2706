#pragma once
// What a path says about an image file, before it is opened.
#include <string>

namespace segxai {

// The image extension of a path, compound ones included (".nii.gz"), in lower case.
std::string imageExtension(const std::string& path);

// The format an extension names: "NIfTI", "NRRD", "MetaImage" or "DICOM".
std::string formatName(const std::string& ext);

// Extensions SegXAI reads (directories are read as DICOM series).
bool isSupportedImagePath(const std::string& path);

// Channel name from a path: "t1" for ".../t1.nii.gz".
std::string volumeNameFromPath(const std::string& path);

} // namespace segxai
