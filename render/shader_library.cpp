#include "render/shader_library.h"

#include "render/embedded_shaders.h"

#include <fstream>
#include <regex>
#include <sstream>

namespace segxai::render {
namespace {

// Mesa writes "0:12(5): error: ..."; other drivers "ERROR: 0:12: ...". Name the file.
std::string withFileName(const std::string& log, const std::string& file) {
    static const std::regex location(R"((ERROR: )?0:(\d+)(\(\d+\))?:)");
    return std::regex_replace(log, location, file + ":$2:");
}

GLuint compile(GLenum type, const std::string& source, const std::string& file, std::vector<std::string>& log) {
    const GLuint shader = glCreateShader(type);
    const char* text = source.c_str();
    glShaderSource(shader, 1, &text, nullptr);
    glCompileShader(shader);
    GLint ok = 0;
    glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        GLint length = 0;
        glGetShaderiv(shader, GL_INFO_LOG_LENGTH, &length);
        std::string message(size_t(std::max(length, 1)), '\0');
        glGetShaderInfoLog(shader, length, nullptr, message.data());
        log.push_back("shader " + file + ": " + withFileName(message.c_str(), file));
        glDeleteShader(shader);
        return 0;
    }
    return shader;
}

// The defines go right after the #version line; #line keeps error line numbers those of the file.
std::string withDefines(const std::string& source, const std::vector<std::string>& defines) {
    if (defines.empty()) return source;
    const size_t versionEnd = source.rfind("#version", 0) == 0 ? source.find('\n') : std::string::npos;
    if (versionEnd == std::string::npos) return source;
    std::string out = source.substr(0, versionEnd + 1);
    for (const auto& d : defines)
        out += "#define " + d + "\n";
    out += "#line 2\n";
    return out + source.substr(versionEnd + 1);
}

} // namespace

ShaderLibrary::ShaderLibrary(std::filesystem::path developmentFolder) : m_folder(std::move(developmentFolder)) {}

std::string ShaderLibrary::source(const std::string& file) const {
    if (!m_folder.empty()) {
        std::ifstream in(m_folder / file);
        if (in) {
            std::stringstream text;
            text << in.rdbuf();
            return text.str();
        }
    }
    const auto& embedded = embeddedShaders();
    auto it = embedded.find(file);
    return it == embedded.end() ? std::string() : it->second;
}

std::filesystem::file_time_type ShaderLibrary::stamp(const std::string& file) const {
    std::error_code ec;
    if (m_folder.empty()) return {};
    auto t = std::filesystem::last_write_time(m_folder / file, ec);
    return ec ? std::filesystem::file_time_type{} : t;
}

std::unique_ptr<ShaderProgram> ShaderLibrary::build(const std::string& vertexFile, const std::string& fragmentFile,
                                                    const std::vector<std::string>& defines) {
    const std::string vs = withDefines(source(vertexFile), defines), fs = withDefines(source(fragmentFile), defines);
    if (vs.empty() || fs.empty()) {
        m_log.push_back("shader missing: " + (vs.empty() ? vertexFile : fragmentFile));
        return nullptr;
    }
    const GLuint v = compile(GL_VERTEX_SHADER, vs, vertexFile, m_log);
    const GLuint f = compile(GL_FRAGMENT_SHADER, fs, fragmentFile, m_log);
    if (!v || !f) {
        if (v) glDeleteShader(v);
        if (f) glDeleteShader(f);
        return nullptr;
    }
    ProgramName program(glCreateProgram());
    glAttachShader(program.get(), v);
    glAttachShader(program.get(), f);
    glLinkProgram(program.get());
    glDeleteShader(v);
    glDeleteShader(f);
    GLint ok = 0;
    glGetProgramiv(program.get(), GL_LINK_STATUS, &ok);
    if (!ok) {
        char message[2048] = {};
        glGetProgramInfoLog(program.get(), sizeof message, nullptr, message);
        m_log.push_back("shader link " + vertexFile + " + " + fragmentFile + ": " + message);
        return nullptr;
    }
    return std::make_unique<ShaderProgram>(std::move(program));
}

const ShaderProgram* ShaderLibrary::program(const std::string& vertexFile, const std::string& fragmentFile,
                                            const std::vector<std::string>& defines) {
    Key key{vertexFile, fragmentFile, defines};
    auto it = m_programs.find(key);
    if (it == m_programs.end()) {
        Entry entry;
        entry.program = build(vertexFile, fragmentFile, defines);
        entry.stamp = std::max(stamp(vertexFile), stamp(fragmentFile));
        it = m_programs.emplace(key, std::move(entry)).first;
    }
    return it->second.program.get();
}

bool ShaderLibrary::reloadChanged() {
    if (m_folder.empty()) return false;
    bool changed = false;
    for (auto& [key, entry] : m_programs) {
        const auto now = std::max(stamp(key.vertexFile), stamp(key.fragmentFile));
        if (now == entry.stamp) continue;
        entry.stamp = now;
        if (auto rebuilt = build(key.vertexFile, key.fragmentFile, key.defines)) {
            entry.program = std::move(rebuilt);
            m_log.push_back("shader reloaded: " + key.vertexFile + " + " + key.fragmentFile);
            changed = true;
        }
    }
    return changed;
}

std::vector<std::string> ShaderLibrary::takeLog() {
    std::vector<std::string> log;
    log.swap(m_log);
    return log;
}

} // namespace segxai::render
