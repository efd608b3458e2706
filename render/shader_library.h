#pragma once
#include "render/gl_objects.h"

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace segxai::render {

// Compiles and caches programs from the shaders embedded in the binary. In development, a
// shader folder can be given instead (SEGXAI_SHADER_DIR): files are read from it and
// programs rebuilt when a file changes. A compile error is logged with file and line and the
// last good program stays in use (or the program is absent), never a crash.
class ShaderLibrary {
public:
    explicit ShaderLibrary(std::filesystem::path developmentFolder = {});

    // nullptr when the program has never compiled. `defines` ("HAS_OVERLAY", "STEPS 4") are
    // #defined in both stages: each combination is its own program, so a feature that is off
    // costs nothing (software rasterisers run both sides of every branch, even on uniforms).
    const ShaderProgram* program(const std::string& vertexFile, const std::string& fragmentFile,
                                 const std::vector<std::string>& defines = {});
    // Development mode: rebuilds programs whose files changed on disk. True if any did.
    bool reloadChanged();
    // Messages (compile errors, reloads) since the last call.
    std::vector<std::string> takeLog();

private:
    struct Entry {
        std::unique_ptr<ShaderProgram> program;
        std::filesystem::file_time_type stamp{};
    };
    std::string source(const std::string& file) const;
    std::filesystem::file_time_type stamp(const std::string& file) const;
    std::unique_ptr<ShaderProgram> build(const std::string& vertexFile, const std::string& fragmentFile,
                                         const std::vector<std::string>& defines);

    std::filesystem::path m_folder;
    struct Key {
        std::string vertexFile, fragmentFile;
        std::vector<std::string> defines;
        bool operator<(const Key& o) const {
            return std::tie(vertexFile, fragmentFile, defines) < std::tie(o.vertexFile, o.fragmentFile, o.defines);
        }
    };
    std::map<Key, Entry> m_programs;
    std::vector<std::string> m_log;
};

} // namespace segxai::render
