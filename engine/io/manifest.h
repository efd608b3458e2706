#pragma once
#include "engine/io/study.h"

#include <string>
#include <vector>

namespace segxai {

// A cohort as a CSV manifest: a header naming the columns, then one study per row:
//   id,t1,flair,gt
//   case01,case01/t1.nii.gz,case01/flair.nii.gz,case01/gt.nii.gz
// "id" first; a column named "gt" or "ground_truth" (optional, may be empty) is the ground
// truth; every other column is a channel, in order. Relative paths are taken from the
// manifest's folder; blank lines and lines starting with # are skipped; fields may be quoted.
struct ManifestEntry {
    std::string id;
    StudyRequest request;
};
struct Manifest {
    std::vector<std::string> channelNames;
    std::vector<ManifestEntry> studies;
};

// Throws segxai::Error naming the file and line: no header, no id column, no channel column,
// a row with another number of fields, an empty or repeated id, an empty channel path.
Manifest readManifest(const std::string& path);
Manifest parseManifest(const std::string& text, const std::string& origin, const std::string& folder = {});

} // namespace segxai
