#pragma once
#include <functional>
#include <string>
#include <vector>

namespace segxai {

// Writes `path` through `write(temporaryPath)`: the temporary file sits beside the target
// (same folder, hidden name, same extension so format-by-extension writers still work) and
// is renamed onto `path` only when `write` returned. On any exception the temporary file is
// removed and the exception propagates; an existing file at `path` is untouched.
// Throws segxai::Error when `path` is one of `protectedPaths` (inputs are never overwritten)
// or its folder does not exist.
void writeAtomically(const std::string& path, const std::string& extension,
                     const std::vector<std::string>& protectedPaths,
                     const std::function<void(const std::string& temporaryPath)>& write);

// Checks, before any work, that `path` can be written as an output file: not an input, not a
// folder, in a folder that exists and that this process may write into. Throws segxai::Error
// with the operating system's reason ("...: cannot write into /data: Permission denied").
void checkOutputFile(const std::string& path, const std::vector<std::string>& protectedPaths = {});
// The same for an output folder: it exists as a folder or can be created, and is writable.
void checkOutputFolder(const std::string& folder);
// checkOutputFile for the command line: a missing folder of the output is created first (as
// `--out a/b/labels.nii.gz` creates a/b, the way folder outputs are created).
void prepareOutputFile(const std::string& path, const std::vector<std::string>& protectedPaths = {});

// A whole file (CSV, JSON, PNG bytes) written atomically.
void writeFileAtomically(const std::string& path, const std::string& contents,
                         const std::vector<std::string>& protectedPaths = {});

// True when both paths name the same file (resolving symlinks and relative parts).
bool samePath(const std::string& a, const std::string& b);

} // namespace segxai
