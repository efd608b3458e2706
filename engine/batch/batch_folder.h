#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace segxai {

// The output folder of `segxai batch` (DIR):
//   DIR/batch.json          the configuration, its hash, the model and the cohort's study ids
//   DIR/<id>/               one finished study; DIR/<id>/done.json is written last
//   DIR/.partial/<id>.*     a study being computed (or left by a killed process)
//   DIR/failures/<id>.txt   a study that failed, with its error
//   DIR/cohort_*.csv, studies.csv, failures.csv   the merged tables (segxai merge)
// A study folder appears under its final name only by one rename, once every file in it is
// written, so a folder that looks finished is finished, whatever interrupts the batch.

// A study id is a folder name: not empty, no '/' or '\\', not starting with '.', at most
// 200 bytes. Throws segxai::Error naming the id.
void checkStudyId(const std::string& id);

// 16 hex digits of FNV-1a 64 of `text`.
std::string textHash(const std::string& text);

// What identifies input files without reading them: canonical path, size and modification
// time of each (every file inside a folder, such as a DICOM series or a MONAI bundle).
std::string filesIdentity(const std::vector<std::string>& paths);

// done.json of DIR/<id>, if the study finished (any configuration).
std::optional<nlohmann::json> studyCompletion(const std::string& dir, const std::string& id);

// True when DIR/<id> finished with this configuration and these inputs.
bool studyComplete(const std::string& dir, const std::string& id, const std::string& configHash,
                   const std::string& inputsHash);

// A study's outputs being written: a private folder under DIR/.partial, removed when the
// object dies uncommitted (an exception, a cancel). commit() writes done.json last and
// renames the folder to DIR/<id>, replacing an older result of that study.
class StudyOutputFolder {
public:
    // Removes leftovers of earlier runs of this study (DIR/.partial/<id>.*): with shards, one
    // process owns a study. Throws segxai::Error when the folder cannot be created.
    StudyOutputFolder(const std::string& dir, const std::string& id);
    ~StudyOutputFolder();
    StudyOutputFolder(const StudyOutputFolder&) = delete;
    StudyOutputFolder& operator=(const StudyOutputFolder&) = delete;

    const std::string& path() const { return m_partial; } // write the study's files here
    void commit(const nlohmann::json& completion);

private:
    std::string m_dir, m_id, m_partial;
    bool m_committed = false;
};

// DIR/failures/<id>.txt (atomically), or its removal when the study later succeeds.
void recordStudyFailure(const std::string& dir, const std::string& id, const std::string& error);
void clearStudyFailure(const std::string& dir, const std::string& id);
std::optional<std::string> studyFailure(const std::string& dir, const std::string& id);

} // namespace segxai
