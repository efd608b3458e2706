#include "engine/io/study_channels.h"

#include "engine/core/error.h"
#include "engine/io/image_io.h"

#include <algorithm>
#include <filesystem>

namespace segxai {

std::vector<std::string> channelNamesOf(const StudyRequest& request) {
    std::vector<std::string> names;
    for (size_t c = 0; c < request.channelPaths.size(); ++c) {
        const std::string& path = request.channelPaths[c];
        std::string name = volumeNameFromPath(path);
        std::error_code ec;
        if (std::filesystem::is_directory(path, ec)) {
            try {
                const std::string chosen = c < request.dicomSeries.size() ? request.dicomSeries[c] : std::string();
                const auto series = listDicomSeries(path);
                const DicomSeries* pick = nullptr;
                for (const auto& s : series) {
                    if (chosen.empty() ? (!pick || s.sliceCount > pick->sliceCount) : s.uid == chosen) pick = &s;
                }
                if (pick && !pick->description.empty()) name += " " + pick->description;
            } catch (const Error&) {
                // Unreadable folders are reported when the study loads; the name stays the folder's.
            }
        }
        names.push_back(std::move(name));
    }
    return names;
}

ChannelMatch matchStudyRequest(StudyRequest& request, const std::vector<std::string>& modelInputs,
                               const std::vector<std::string>& names) {
    std::vector<std::string> files;
    for (const auto& path : request.channelPaths)
        files.push_back(std::filesystem::path(path).filename().string());
    if (request.keepChannelOrder) return matchChannels(files, {}, files); // as given
    ChannelMatch match =
        matchChannels(names.size() == files.size() ? names : channelNamesOf(request), modelInputs, files);
    if (match.reorders()) {
        const size_t reference = request.referenceChannel;
        request.referenceChannel =
            size_t(std::find(match.order.begin(), match.order.end(), reference) - match.order.begin());
        request.channelPaths = reordered(request.channelPaths, match.order);
        if (request.dicomSeries.size() == match.order.size())
            request.dicomSeries = reordered(request.dicomSeries, match.order);
    }
    return match;
}

ChannelMatch matchStudyRequestOrThrow(StudyRequest& request, const std::vector<std::string>& modelInputs) {
    ChannelMatch match = matchStudyRequest(request, modelInputs);
    if (match.outcome == ChannelMatch::Outcome::Ambiguous) {
        std::string inputs;
        for (size_t i = 0; i < modelInputs.size(); ++i)
            inputs += (i ? ", " : "") + modelInputs[i];
        throw Error("cannot tell which study file is which model input: " + match.reason +
                    ". Name the files after the model's inputs (" + inputs +
                    "), or give them in that order with --no-channel-matching");
    }
    return match;
}

ChannelMatch matchManifest(Manifest& manifest, const std::vector<std::string>& modelInputs, bool keepOrder,
                           const std::string& origin) {
    if (keepOrder) return matchChannels(manifest.channelNames, {});
    ChannelMatch match = matchChannels(manifest.channelNames, modelInputs);
    if (match.outcome == ChannelMatch::Outcome::Ambiguous) {
        throw Error(origin + ": cannot tell which column is which model input: " + match.reason +
                    ". Name the columns after the model's inputs, or keep their order with --no-channel-matching");
    }
    if (!match.warnings.empty()) {
        throw Error(origin + ": " + match.warnings.front() +
                    ". Rename the column, or keep the given order with --no-channel-matching");
    }
    if (match.reorders()) {
        manifest.channelNames = reordered(manifest.channelNames, match.order);
        const size_t reference =
            size_t(std::find(match.order.begin(), match.order.end(), size_t(0)) - match.order.begin());
        for (ManifestEntry& entry : manifest.studies) {
            entry.request.channelPaths = reordered(entry.request.channelPaths, match.order);
            entry.request.referenceChannel = reference;
        }
    }
    return match;
}

} // namespace segxai
