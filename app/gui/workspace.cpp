#include "app/gui/workspace.h"

#include "engine/log.h"

#include <algorithm>
#include <filesystem>
#include <regex>

namespace segxai::app {

namespace {
const char* kLoadSlot = "study";
}

bool looksLikeLabelMap(const std::string& path) {
    static const std::regex pattern(R"((^|[^a-z])(seg|segmentation|labels?|mask|gt|truth)([^a-z]|$))",
                                    std::regex::icase);
    return std::regex_search(std::filesystem::path(path).filename().string(), pattern);
}

void Workspace::openStudy(StudyRequest request) {
    // A DICOM folder with several series: ask which one, before loading.
    for (size_t c = 0; c < request.channelPaths.size(); ++c) {
        const std::string& path = request.channelPaths[c];
        std::error_code ec;
        const bool chosen = c < request.dicomSeries.size() && !request.dicomSeries[c].empty();
        if (!std::filesystem::is_directory(path, ec) || chosen) continue;
        try {
            auto series = listDicomSeries(path);
            if (series.size() > 1) {
                m_pendingSeries = SeriesChoice{std::move(request), c, std::move(series)};
                return;
            }
        } catch (const std::exception& e) {
            reportError(e.what());
            return;
        }
    }
    submitLoad(std::move(request));
}

void Workspace::submitLoad(StudyRequest request) {
    const uint64_t id = m_jobs.submit(kLoadSlot, "Loading study", [request](JobContext& job) {
        return std::any(loadStudyForViewing(request, job));
    });
    // A new load supersedes any earlier one (same slot): its result will never arrive.
    m_inFlight.clear();
    m_inFlight.emplace_back(id, std::move(request));
}

void Workspace::addChannels(const std::vector<std::string>& paths) {
    if (!m_study) {
        openStudy(StudyRequest{paths, std::nullopt, {}});
        return;
    }
    StudyRequest request = m_request;
    request.channelPaths.insert(request.channelPaths.end(), paths.begin(), paths.end());
    openStudy(std::move(request));
}

void Workspace::loadGroundTruth(const std::string& path) {
    if (!m_study) {
        reportError("open a study before loading its ground truth");
        return;
    }
    StudyRequest request = m_request;
    request.groundTruthPath = path;
    submitLoad(std::move(request));
}

void Workspace::openPaths(const std::vector<std::string>& paths) {
    if (paths.empty()) return;
    for (const auto& path : paths) {
        if (!isSupportedImagePath(path)) {
            reportError(path + ": not a study file SegXAI reads (NIfTI .nii/.nii.gz, NRRD, "
                               "MetaImage .mha/.mhd, or a DICOM folder)");
            return;
        }
    }
    if (m_study) {
        m_pendingDrop = DropChoice{paths};
        return;
    }
    StudyRequest request;
    for (const auto& path : paths) {
        if (looksLikeLabelMap(path) && !request.groundTruthPath && paths.size() > 1) {
            request.groundTruthPath = path;
        } else {
            request.channelPaths.push_back(path);
        }
    }
    openStudy(std::move(request));
}

void Workspace::cancelLoading() {
    for (const auto& job : m_jobs.active()) {
        if (job.slot == kLoadSlot) m_jobs.cancel(job.id);
    }
}

void Workspace::adopt(std::shared_ptr<const LoadedStudy> loaded, const StudyRequest& request) {
    const bool sameStudy = m_study && !request.channelPaths.empty() &&
                           !m_request.channelPaths.empty() &&
                           request.channelPaths[0] == m_request.channelPaths[0] &&
                           loaded->study->geometry.sameGrid(m_study->study->geometry);
    m_study = std::move(loaded);
    m_request = request;
    ++m_studyGeneration;
    const Study& study = *m_study->study;
    if (!sameStudy) {
        m_viewer = ViewerState{};
        for (int a = 0; a < 3; ++a) m_viewer.crosshair[size_t(a)] = study.geometry.dims[size_t(a)] / 2;
        m_viewer.windows = m_study->displayRanges;
    } else {
        // Keep the view; add display ranges for new channels.
        for (size_t c = m_viewer.windows.size(); c < m_study->displayRanges.size(); ++c) {
            m_viewer.windows.push_back(m_study->displayRanges[c]);
        }
        m_viewer.windows.resize(m_study->displayRanges.size());
        m_viewer.displayChannel = std::min(m_viewer.displayChannel, int(study.channels.size()) - 1);
    }
    logInfo("loaded study: {} channel(s), {}{}", study.channels.size(), study.geometry.describe(),
            study.groundTruth ? ", with ground truth" : "");
    for (const auto& warning : study.warnings) logWarning("{}", warning);
}

void Workspace::processResults() {
    for (JobResult& result : m_jobs.drain()) {
        if (result.slot != kLoadSlot) continue;
        auto it = std::find_if(m_inFlight.begin(), m_inFlight.end(),
                               [&](const auto& entry) { return entry.first == result.id; });
        if (it == m_inFlight.end()) continue;
        const StudyRequest request = it->second;
        m_inFlight.erase(it);
        switch (result.status) {
        case JobStatus::Succeeded:
            adopt(std::any_cast<std::shared_ptr<const LoadedStudy>>(result.value), request);
            break;
        case JobStatus::Cancelled: logInfo("loading cancelled"); break;
        case JobStatus::Failed: reportError(result.error); break;
        }
    }
}

void Workspace::reportError(const std::string& message) {
    logError("{}", message);
    m_errors.push_back(message);
}

std::vector<std::string> Workspace::takeErrors() {
    std::vector<std::string> errors;
    errors.swap(m_errors);
    return errors;
}

} // namespace segxai::app
