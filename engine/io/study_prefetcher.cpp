#include "engine/io/study_prefetcher.h"

#include "engine/core/error.h"
#include "engine/io/study_loader.h"

namespace segxai {

StudyPrefetcher::StudyPrefetcher(std::vector<StudyRequest> requests, size_t depth)
    : m_requests(std::move(requests)), m_depth(depth) {
    if (m_depth > 0) m_thread = std::thread([this] { work(); });
}

StudyPrefetcher::~StudyPrefetcher() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_changed.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

StudyPrefetcher::Loaded StudyPrefetcher::load(const StudyRequest& request) {
    Loaded loaded;
    try {
        loaded.study = loadStudy(request);
    } catch (...) {
        loaded.error = std::current_exception();
    }
    return loaded;
}

void StudyPrefetcher::work() {
    for (size_t n = 0; n < m_requests.size(); ++n) {
        {
            std::unique_lock lock(m_mutex);
            m_changed.wait(lock, [&] { return m_stop || m_ready.size() < m_depth; });
            if (m_stop) return;
        }
        Loaded loaded = load(m_requests[n]);
        {
            std::lock_guard lock(m_mutex);
            m_ready.push_back(std::move(loaded));
        }
        m_changed.notify_all();
    }
}

Study StudyPrefetcher::next() {
    if (m_taken >= m_requests.size()) throw Error("no more studies to load");
    Loaded loaded;
    if (m_depth == 0) {
        loaded = load(m_requests[m_taken]);
    } else {
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [&] { return !m_ready.empty(); });
        loaded = std::move(m_ready.front());
        m_ready.pop_front();
        lock.unlock();
        m_changed.notify_all();
    }
    ++m_taken;
    if (loaded.error) std::rethrow_exception(loaded.error);
    return std::move(*loaded.study);
}

} // namespace segxai
