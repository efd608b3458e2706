#include "tests/fuzz/fuzz_targets.h"

#include "app/command_line.h"
#include "app/gui/state/session.h"
#include "engine/batch/batch_config.h"
#include "engine/batch/shard.h"
#include "engine/core/error.h"
#include "engine/explain/explanation.h"
#include "engine/explain/quadrature.h"
#include "engine/explain/target.h"
#include "engine/io/image_io.h"
#include "engine/io/manifest.h"
#include "engine/io/study_loader.h"
#include "engine/model/model_card.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace segxai::fuzz {
namespace {

std::string text(const uint8_t* data, size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

// Runs `body`, keeping only the errors meant for users.
template <typename Body> void expectingUserErrors(Body&& body) {
    try {
        body();
    } catch (const Error&) {
    } catch (const CLI::Error&) {
    }
}

// JSON input: text that does not parse is the JSON library's business, not ours.
template <typename Body> void withJson(const uint8_t* data, size_t size, Body&& body) {
    const nlohmann::json j = nlohmann::json::parse(text(data, size), nullptr, false);
    if (j.is_discarded()) return;
    expectingUserErrors([&] { body(j); });
}

} // namespace

const std::vector<Target>& targets() {
    static const std::vector<Target> all{{"model_card", modelCard},     {"session", session},
                                         {"manifest", manifest},        {"spec_grammars", specGrammars},
                                         {"batch_config", batchConfig}, {"command_line", commandLine},
                                         {"study_file", studyFile}};
    return all;
}

void modelCard(const uint8_t* data, size_t size) {
    expectingUserErrors([&] { parseModelCard(text(data, size), "fuzz.json"); });
}

void session(const uint8_t* data, size_t size) {
    withJson(data, size, [](const nlohmann::json& j) {
        const app::Session s = app::sessionFromJson(j, "fuzz.segxai", "/nonexistent");
        app::ViewerState state;
        app::applyViewState(s.view, state);
    });
}

void manifest(const uint8_t* data, size_t size) {
    expectingUserErrors([&] { parseManifest(text(data, size), "fuzz.csv", "/nonexistent"); });
}

void specGrammars(const uint8_t* data, size_t size) {
    const std::string t = text(data, size);
    expectingUserErrors([&] { parseTargetSpec(t); });
    expectingUserErrors([&] { parseShard(t); });
    expectingUserErrors([&] { parseBaseline(t); });
    expectingUserErrors([&] { parseQuadratureRule(t); });
    expectingUserErrors([&] { parseMethod(t); });
    expectingUserErrors([&] { parseClassList(t, {"background", "lesion", "edema"}); });
}

void batchConfig(const uint8_t* data, size_t size) {
    withJson(data, size, [](const nlohmann::json& j) { batchConfigFromJson(j, "fuzz.json"); });
}

void commandLine(const uint8_t* data, size_t size) {
    std::vector<std::string> arguments{"segxai"};
    std::string current;
    for (size_t n = 0; n < size; ++n) {
        if (data[n] == 0) {
            arguments.push_back(current);
            current.clear();
        } else {
            current += char(data[n]);
        }
    }
    if (!current.empty()) arguments.push_back(current);
    if (arguments.size() > 64) return;
    // Parsed only, never run: a fuzzed command must not write files or open windows. --help
    // and --version are parse "errors" that print; keep them quiet.
    std::vector<const char*> argv;
    for (const auto& a : arguments)
        argv.push_back(a.c_str());
    app::CommandLine line;
    expectingUserErrors([&] { line.parser.parse(int(argv.size()), argv.data()); });
}

void studyFile(const uint8_t* data, size_t size) {
    if (size < 1) return;
    static const char* extensions[] = {".nii", ".nii.gz", ".nrrd", ".mha", ".mhd"};
    static const fs::path folder = [] {
        const fs::path f = fs::temp_directory_path() / ("segxai-fuzz-" + std::to_string(getpid()));
        fs::create_directories(f);
        return f;
    }();
    const fs::path path = folder / (std::string("study") + extensions[data[0] % 5]);
    {
        std::ofstream out(path, std::ios::binary);
        out.write(reinterpret_cast<const char*>(data + 1), std::streamsize(size - 1));
    }
    expectingUserErrors([&] { readImageHeader(path.string()); });
    expectingUserErrors([&] {
        StudyRequest request;
        request.channelPaths = {path.string()};
        loadStudy(request);
    });
    std::error_code ec;
    fs::remove(path, ec);
}

} // namespace segxai::fuzz
