#pragma once
#include "engine/io/study.h"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace segxai {

// Loads studies in order on a thread of its own, at most `depth` ahead of the one being
// computed, so reading the next study from disk overlaps the current one's computation and
// memory stays bounded (depth + 1 studies). depth 0 loads in next(), on the caller's thread.
class StudyPrefetcher {
public:
    StudyPrefetcher(std::vector<StudyRequest> requests, size_t depth);
    ~StudyPrefetcher();
    StudyPrefetcher(const StudyPrefetcher&) = delete;
    StudyPrefetcher& operator=(const StudyPrefetcher&) = delete;

    // The next study in request order (waits for it). Rethrows the error its loading threw,
    // so the caller records that study as failed and goes on with the next.
    Study next();

private:
    struct Loaded {
        std::optional<Study> study;
        std::exception_ptr error;
    };
    static Loaded load(const StudyRequest& request);
    void work();

    std::vector<StudyRequest> m_requests;
    size_t m_depth;
    size_t m_taken = 0; // studies handed out by next()
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<Loaded> m_ready;
    bool m_stop = false;
    std::thread m_thread;
};

} // namespace segxai
