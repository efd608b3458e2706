#include "app/gui/state/session_restore.h"

#include <utility>

namespace segxai::app {
namespace {

// What showing a lesion or an aggregation cell moves, put back as the session had it.
void restoreShownState(const ViewerState& saved, ViewerState& state) {
    state.displays[0] = saved.displays[0];
    state.crosshair = saved.crosshair;
    state.showSegmentation = saved.showSegmentation;
    state.segmentationOutline = saved.segmentationOutline;
}

bool panelAShows(const Session& session, MapSource::Kind kind) {
    return !session.panels.empty() && session.panels[0].explained && session.panels[0].shows == kind;
}

} // namespace

SessionRestore::SessionRestore(Workspace& workspace, Comparison& comparison, LesionWork& lesions,
                               AggregationWork& aggregation, UncertaintyWork& uncertainty)
    : m_workspace(workspace), m_comparison(comparison), m_lesions(lesions), m_aggregation(aggregation),
      m_uncertainty(uncertainty) {
    m_workspace.onStudyLoaded = [this] { studyLoaded(); };
    m_workspace.onSegmented = [this] { segmented(); };
    m_workspace.onLoadFailed = [this] { m_pending.reset(); };
    m_lesions.onAnalysed = [this] { lesionsAnalysed(); };
    m_lesions.onAnalysisFailed = [this] { m_restoringLesions = false; };
    m_aggregation.onAggregated = [this] { aggregated(); };
    m_aggregation.onAggregationFailed = [this] { m_restoringAggregation = false; };
    m_uncertainty.onFinished = [this] { uncertaintyFinished(); };
    m_uncertainty.onFailed = [this] { m_restoringUncertainty = false; };
}

void SessionRestore::open(const Session& session) {
    m_pending = std::make_shared<const Session>(session);
    m_restoring.reset();
    if (!session.model.empty()) m_workspace.openModel(session.model, session.nnunet);
    m_workspace.openStudy(session.study);
}

void SessionRestore::studyLoaded() {
    if (!m_pending) return;
    applyViewState(m_pending->view, m_workspace.viewer());
    if (m_pending->synthetic) m_lesions.paint(*m_pending->synthetic);
}

void SessionRestore::segmented() {
    // A session with a painted lesion is restored once the painted study is segmented.
    if (!m_pending || (m_pending->synthetic && !m_lesions.painted())) return;
    restorePanels(*std::exchange(m_pending, {}));
}

void SessionRestore::restorePanels(const Session& session) {
    applyViewState(session.view, m_workspace.viewer());
    if (!session.panels.empty()) {
        m_comparison.setPanelCount(int(session.panels.size()));
        for (size_t n = 0; n < session.panels.size(); ++n) {
            const Session::PanelEntry& entry = session.panels[n];
            m_comparison.panel(int(n)).methods = entry.methods;
            m_comparison.panel(int(n)).parameters = entry.parameters;
            if (!entry.modelPath.empty()) m_comparison.setPanelModel(int(n), entry.modelPath);
        }
    }
    if (!session.targetSpec.empty()) {
        const TargetSpec target = parseTargetSpec(session.targetSpec);
        for (size_t n = 0; n < session.panels.size(); ++n) {
            if (!session.panels[n].explained || session.panels[n].shows != MapSource::Kind::Explanation) continue;
            m_comparison.keepDisplayOnce(int(n));
            m_comparison.explain(int(n), target);
        }
    }
    applySelection(session);
    // The analyses panel A's maps (or the tabs) came from are computed again, then shown.
    m_restoringLesions = session.lesions.has_value();
    m_restoringAggregation = session.aggregation.has_value();
    m_restoringUncertainty = session.uncertainty.has_value();
    m_restoringSegmentation = m_workspace.segmentationGeneration();
    if (m_restoringLesions || m_restoringAggregation || m_restoringUncertainty)
        m_restoring = std::make_shared<const Session>(session);
    if (session.lesions) m_lesions.analyse(session.lesions->options);
    if (session.aggregation) m_aggregation.aggregate(session.aggregation->method, session.aggregation->parameters);
    if (session.uncertainty) {
        m_uncertainty.extraMembers = session.uncertainty->settings.extraModels;
        m_uncertainty.run(session.uncertainty->settings, std::nullopt);
    }
}

void SessionRestore::applySelection(const Session& session) {
    if (session.selectedVoxel) m_workspace.viewer().selectedInstance = m_workspace.instanceAt(*session.selectedVoxel);
}

void SessionRestore::lesionsAnalysed() {
    const auto session = arrived(m_restoringLesions);
    if (!session) return;
    const int id = session->lesions->shown;
    if (!panelAShows(*session, MapSource::Kind::Lesion)) {
        m_lesions.setShown(id);
        return;
    }
    ViewerState saved = m_workspace.viewer();
    applyViewState(session->view, saved);
    m_comparison.keepDisplayOnce(0);
    m_lesions.show(id, saved.displays[0].index, saved.displays[0].map);
    restoreShownState(saved, m_workspace.viewer());
    applySelection(*session);
}

void SessionRestore::aggregated() {
    const auto session = arrived(m_restoringAggregation);
    if (!session) return;
    const Session::AggregationEntry& cell = *session->aggregation;
    if (!panelAShows(*session, MapSource::Kind::AggregationCell) || cell.row < 0) return;
    ViewerState saved = m_workspace.viewer();
    applyViewState(session->view, saved);
    m_comparison.keepDisplayOnce(0);
    m_aggregation.showCell(cell.row, cell.segment, cell.part);
    restoreShownState(saved, m_workspace.viewer());
    applySelection(*session);
}

void SessionRestore::uncertaintyFinished() {
    const auto session = arrived(m_restoringUncertainty);
    if (!session) return;
    const Session::UncertaintyEntry& entry = *session->uncertainty;
    if (entry.panel < 0 || entry.panel >= int(m_comparison.panels().size()) || entry.map < 0) return;
    ViewerState saved = m_workspace.viewer();
    applyViewState(session->view, saved);
    m_comparison.keepDisplayOnce(entry.panel);
    m_uncertainty.showMap(entry.panel, entry.map);
    m_workspace.viewer().displays[size_t(entry.panel)] = saved.displays[size_t(entry.panel)];
}

std::shared_ptr<const Session> SessionRestore::arrived(bool& restoring) {
    if (!std::exchange(restoring, false) || !m_restoring) return nullptr;
    auto session = m_restoring;
    if (!m_restoringLesions && !m_restoringAggregation && !m_restoringUncertainty) m_restoring.reset();
    return m_restoringSegmentation == m_workspace.segmentationGeneration() ? session : nullptr;
}

} // namespace segxai::app
