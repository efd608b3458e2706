#pragma once
#include "engine/core/volume.h"

#include <optional>
#include <string>
#include <vector>

namespace segxai {

// What to load as one study: 1..N co-registered channel files (or DICOM folders) and an
// optional ground-truth label map.
struct StudyRequest {
    std::vector<std::string> channelPaths;
    std::optional<std::string> groundTruthPath;
    // For DICOM folders holding several series: the series UID to read per channel path
    // (empty: the series with the most slices).
    std::vector<std::string> dicomSeries;
    // The channels are in the model's order as given: do not match them to the model's input
    // names (engine/study_channels.h). Set by --no-channel-matching and by a user's own order.
    bool keepChannelOrder = false;
    // The channel whose grid is the study's grid: the file the user gave first, wherever
    // matching moved it (voxel targets and outputs refer to that file's grid).
    size_t referenceChannel = 0;
};

// One study in one grid: the first channel's. Other channels and the ground truth are
// resampled onto it when their grids differ.
struct Study {
    Geometry geometry;
    std::vector<Volume> channels;
    std::optional<LabelVolume> groundTruth;
    std::vector<std::string> sourcePaths; // one per channel
    std::optional<std::string> groundTruthPath;
    std::vector<std::string> warnings;
};

// The study's geometry, paths and channel names, each channel's voxels made by
// `voxels(channel, index)` (a test-time augmentation's input); no ground truth.
template <typename MakeVoxels> Study transformedStudy(const Study& study, MakeVoxels&& voxels) {
    Study out;
    out.geometry = study.geometry;
    out.sourcePaths = study.sourcePaths;
    for (size_t c = 0; c < study.channels.size(); ++c) {
        Volume v;
        v.geometry = study.channels[c].geometry;
        v.name = study.channels[c].name;
        v.voxels = voxels(study.channels[c], c);
        out.channels.push_back(std::move(v));
    }
    return out;
}

// Frees the channels' voxels, keeping each channel's name and geometry (and the study's
// geometry, paths and ground truth): for a caller that needs the study's layout, not its values.
inline void releaseVoxels(Study& study) {
    for (Volume& channel : study.channels)
        std::vector<float>().swap(channel.voxels);
}

} // namespace segxai
