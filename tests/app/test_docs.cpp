// The documentation is part of the build: every subcommand and option that --help prints is
// in docs/cli.md, and every relative link in README.md and docs/ points at a file (and a
// heading) that exists.
#include "tests/support/run_process.h"

#include <catch2/catch.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace {

const fs::path kRoot = SEGXAI_SOURCE_DIR;

std::string readText(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The lines of a CLI11 help section ("Options:", "Subcommands:") up to the next blank line.
std::vector<std::string> section(const std::string& help, const std::string& title) {
    std::vector<std::string> lines;
    std::istringstream in(help);
    std::string line;
    bool inside = false;
    while (std::getline(in, line)) {
        if (line == title) {
            inside = true;
        } else if (inside && line.empty()) {
            break;
        } else if (inside) {
            lines.push_back(line);
        }
    }
    return lines;
}

// The long options of a help text (--name), and its subcommands.
std::vector<std::string> longOptions(const std::string& help) {
    std::vector<std::string> options;
    static const std::regex option(R"(^\s+(?:-\w,)?(--[a-z0-9-]+))");
    for (const auto& line : section(help, "Options:")) {
        std::smatch m;
        if (std::regex_search(line, m, option)) options.push_back(m[1]);
    }
    return options;
}

std::vector<std::string> subcommands(const std::string& help) {
    std::vector<std::string> names;
    static const std::regex name(R"(^  ([a-z][a-z0-9-]*)\s)");
    for (const auto& line : section(help, "Subcommands:")) {
        std::smatch m;
        if (std::regex_search(line, m, name)) names.push_back(m[1]);
    }
    return names;
}

// The part of docs/cli.md under "## segxai <name>" (or "## segxai" for the viewer).
std::string cliSection(const std::string& cli, const std::string& heading) {
    const std::string start = "\n" + heading + "\n";
    const size_t at = cli.find(start);
    if (at == std::string::npos) return "";
    const size_t end = cli.find("\n## ", at + start.size());
    return cli.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// GitHub's anchor of a heading: lower case, punctuation dropped, spaces to '-'; repeats get
// -1, -2 ...
std::set<std::string> anchorsOf(const std::string& markdown) {
    std::set<std::string> anchors;
    std::map<std::string, int> seen;
    std::istringstream in(markdown);
    std::string line;
    bool fenced = false;
    while (std::getline(in, line)) {
        if (line.rfind("```", 0) == 0) fenced = !fenced;
        if (fenced || line.empty() || line[0] != '#') continue;
        const std::string text = line.substr(line.find_first_not_of('#'));
        std::string slug;
        for (char c : text) {
            const auto u = static_cast<unsigned char>(c);
            if (std::isalnum(u) || c == '-' || c == '_') {
                slug += char(std::tolower(u));
            } else if (c == ' ') {
                slug += '-';
            }
        }
        if (!slug.empty() && slug[0] == '-') slug.erase(0, 1);
        const int n = seen[slug]++;
        anchors.insert(n == 0 ? slug : slug + "-" + std::to_string(n));
    }
    return anchors;
}

} // namespace

TEST_CASE("docs/cli.md names every subcommand and option that --help prints", "[docs]") {
    const std::string cli = readText(kRoot / "docs" / "cli.md");
    REQUIRE(!cli.empty());
    const auto help = segxai::test::runProcess({SEGXAI_BINARY, "--help"});
    REQUIRE(help.exitCode == 0);
    std::vector<std::pair<std::string, std::string>> pages{{"## segxai", help.output}};
    const auto names = subcommands(help.output);
    CHECK(names.size() >= 10);
    for (const auto& name : names) {
        const auto sub = segxai::test::runProcess({SEGXAI_BINARY, name, "--help"});
        REQUIRE(sub.exitCode == 0);
        pages.emplace_back("## segxai " + name, sub.output);
    }
    for (const auto& [heading, text] : pages) {
        INFO(heading);
        const std::string documented = cliSection(cli, heading);
        CHECK(!documented.empty());
        for (const auto& option : longOptions(text)) {
            INFO(option);
            CHECK(documented.find("`" + option) != std::string::npos);
        }
    }
}

TEST_CASE("every relative link in README.md and docs/ points at a file and heading that exist", "[docs]") {
    std::vector<fs::path> pages{kRoot / "README.md"};
    for (const auto& entry : fs::directory_iterator(kRoot / "docs")) {
        if (entry.path().extension() == ".md") pages.push_back(entry.path());
    }
    REQUIRE(pages.size() >= 9);
    static const std::regex link(R"(\]\(([^)\s]+)\))");
    for (const auto& page : pages) {
        const std::string text = readText(page);
        for (std::sregex_iterator it(text.begin(), text.end(), link), end; it != end; ++it) {
            const std::string target = (*it)[1];
            if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0 || target.rfind("mailto:", 0) == 0)
                continue;
            INFO(page.filename().string() << ": " << target);
            const size_t hash = target.find('#');
            const std::string file = target.substr(0, hash),
                              anchor = hash == std::string::npos ? "" : target.substr(hash + 1);
            const fs::path resolved = file.empty() ? page : (page.parent_path() / file).lexically_normal();
            CHECK(fs::exists(resolved));
            if (!anchor.empty() && fs::exists(resolved) && resolved.extension() == ".md") {
                CHECK(anchorsOf(readText(resolved)).count(anchor) == 1);
            }
        }
    }
}
