#include "engine/batch/batch_merge.h"

#include "engine/batch/batch_folder.h"
#include "engine/core/error.h"
#include "engine/explain/faithfulness.h"
#include "engine/io/atomic_file.h"
#include "engine/io/csv.h"
#include "engine/io/json_text.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace fs = std::filesystem;

namespace segxai {
namespace {

using nlohmann::json;

std::optional<std::string> fileText(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

json readJson(const fs::path& path) {
    return readJsonFile(path.string(), "file");
}

std::vector<std::string> linesOf(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) lines.push_back(line);
    }
    return lines;
}

// Tables of the same name from every finished study, concatenated under one header.
class ConcatenatedTable {
public:
    explicit ConcatenatedTable(std::string name) : m_name(std::move(name)) {}

    // `prefix`: a first column to add ("study"), or empty when the table has one.
    void add(const std::string& id, const fs::path& file, const std::string& prefix = {}) {
        const auto text = fileText(file);
        if (!text) return;
        auto lines = linesOf(*text);
        if (lines.empty()) return;
        const std::string header = (prefix.empty() ? "" : prefix + ",") + lines.front();
        if (m_header.empty()) m_header = header;
        if (header != m_header) {
            throw Error(fmt::format("{}: its columns differ from the other studies' ({} columns against {}): "
                                    "were they computed with different models?",
                                    file.string(), splitCsvLine(header, "").size(), splitCsvLine(m_header, "").size()));
        }
        for (size_t n = 1; n < lines.size(); ++n)
            m_rows.push_back((prefix.empty() ? "" : csvField(id) + ",") + lines[n]);
    }
    bool empty() const { return m_header.empty(); }
    const std::string& name() const { return m_name; }
    const std::vector<std::string>& rows() const { return m_rows; }
    const std::string& header() const { return m_header; }
    std::string text() const {
        std::string out = m_header + "\n";
        for (const auto& r : m_rows)
            out += r + "\n";
        return out;
    }

private:
    std::string m_name, m_header;
    std::vector<std::string> m_rows;
};

std::string number(double v) {
    return std::isfinite(v) ? fmt::format("{:.6g}", v) : std::string();
}

// The cohort mean of an aggregation table: each numeric column's mean over the studies (a
// cell some study lacks, written empty, makes the mean empty, as AggregationMatrix's mean).
std::string aggregationMean(const ConcatenatedTable& table) {
    const auto header = splitCsvLine(table.header(), table.name());
    std::vector<double> sum(header.size(), 0.0);
    for (const auto& row : table.rows()) {
        const auto f = splitCsvLine(row, table.name());
        for (size_t c = 1; c < header.size() && c < f.size(); ++c)
            sum[c] += f[c].empty() ? NAN : std::stod(f[c]);
    }
    std::string out = table.header() + "\ncohort_mean";
    for (size_t c = 1; c < header.size(); ++c) {
        out += ',';
        out += number(sum[c] / double(table.rows().size()));
    }
    return out + "\n";
}

// The cohort benchmark from every study's evaluations.csv rows (study, target, method, metric, value).
Benchmark cohortBenchmark(const ConcatenatedTable& metrics) {
    Benchmark b;
    std::map<std::pair<std::string, std::string>, size_t> index; // (study + target, method) -> evaluation
    for (const auto& row : metrics.rows()) {
        const auto f = splitCsvLine(row, metrics.name());
        if (f.size() < 5) continue;
        const auto key = std::make_pair(f[0] + "\n" + f[1], f[2]);
        auto it = index.find(key);
        if (it == index.end()) {
            it = index.emplace(key, b.evaluations.size()).first;
            MethodEvaluation e;
            e.method = f[2];
            e.target = f[0] + ": " + f[1];
            b.evaluations.push_back(e);
        }
        b.evaluations[it->second].values[f[3]] = f[4].empty() ? NAN : std::stod(f[4]);
    }
    b.summarise();
    return b;
}

std::string lesionStudiesTable(const std::vector<std::pair<std::string, json>>& summaries) {
    std::string out = "study,lesions,TP,FP,FN,ground_truth_lesions,detected,sensitivity,precision,f1,voxel_dice\n";
    for (const auto& [id, s] : summaries) {
        const json& l = s.value("lesions", json::object());
        const json& groups = l.value("groups", json::object());
        const json& d = s.value("detection", json::object());
        auto count = [&](const char* g) { return groups.value(g, 0); };
        auto value = [&](const char* k) {
            return d.contains(k) && d[k].is_number() ? number(d[k].get<double>()) : std::string();
        };
        out += fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", csvField(id), l.value("count", 0), count("TP"),
                           count("FP"), count("FN"), value("ground_truth_lesions"), value("detected"),
                           value("sensitivity"), value("precision"), value("f1"), value("voxel_dice"));
    }
    return out;
}

} // namespace

MergeSummary mergeBatch(const std::string& dir) {
    const fs::path root(dir);
    if (!fs::exists(root / "batch.json")) {
        throw Error(dir + ": not a batch folder (no batch.json; segxai batch writes it when it starts)");
    }
    const json batch = readJson(root / "batch.json");
    const std::string configHash = batch.value("config_hash", "");
    if (!batch.contains("studies") || !batch["studies"].is_array())
        throw Error((root / "batch.json").string() + ": no study list");
    const json config = batch.value("config", json::object());

    MergeSummary summary;
    std::string studies = "study,status,seconds,error\n", failures = "study,error\n";
    ConcatenatedTable segmentation("cohort_segmentation.csv"), explanations("cohort_explanations.csv"),
        lesions("cohort_lesions.csv"), metrics("cohort_metrics.csv"), uncertainty("cohort_uncertainty.csv"),
        comparison("cohort_model_comparison.csv");
    std::map<std::string, ConcatenatedTable> aggregation;
    std::vector<std::pair<std::string, json>> lesionSummaries;
    for (const auto& entry : batch["studies"]) {
        const std::string id = entry.get<std::string>();
        ++summary.studies;
        const auto done = studyCompletion(dir, id);
        if (done && done->value("config_hash", "") == configHash) {
            ++summary.done;
            studies += fmt::format("{},done,{},\n", csvField(id), number(done->value("seconds", NAN)));
            const fs::path folder = root / id;
            segmentation.add(id, folder / "segmentation.csv");
            explanations.add(id, folder / "explanations.csv");
            lesions.add(id, folder / "lesions" / "instances.csv", "study");
            if (fs::exists(folder / "lesions" / "summary.json"))
                lesionSummaries.emplace_back(id, readJson(folder / "lesions" / "summary.json"));
            metrics.add(id, folder / "evaluations.csv");
            uncertainty.add(id, folder / "uncertainty" / "instances.csv", "study");
            comparison.add(id, folder / "model_comparison" / "structures.csv", "study");
            for (const auto& method : config.value("aggregation", json::object()).value("methods", json::array())) {
                const std::string name = "cohort_aggregation_" + method.get<std::string>() + ".csv";
                aggregation.try_emplace(name, name)
                    .first->second.add(id, folder / ("aggregation_" + method.get<std::string>() + ".csv"));
            }
        } else if (const auto failure = studyFailure(dir, id)) {
            ++summary.failed;
            studies += fmt::format("{},failed,,{}\n", csvField(id), csvField(*failure));
            failures += fmt::format("{},{}\n", csvField(id), csvField(*failure));
        } else {
            ++summary.missing;
            studies += fmt::format("{},missing,,\n", csvField(id));
        }
    }

    auto write = [&](const std::string& name, const std::string& text) {
        writeFileAtomically((root / name).string(), text);
        summary.tables.push_back(name);
    };
    write("studies.csv", studies);
    write("failures.csv", failures);
    for (const ConcatenatedTable* t : {&segmentation, &explanations, &lesions, &metrics, &uncertainty, &comparison}) {
        if (!t->empty()) write(t->name(), t->text());
    }
    if (!lesionSummaries.empty()) write("cohort_lesion_studies.csv", lesionStudiesTable(lesionSummaries));
    for (const auto& [name, table] : aggregation) {
        if (table.empty()) continue;
        write(name, table.text());
        write(name.substr(0, name.size() - 4) + "_mean.csv", aggregationMean(table));
    }
    if (!metrics.empty()) {
        const Benchmark b = cohortBenchmark(metrics);
        write("cohort_benchmark.csv", b.csv(false));
        write(
            "cohort_benchmark.json",
            json{{"most_faithful", b.mostFaithful}, {"ranking", b.ranking}, {"evaluations", b.evaluations.size()}}.dump(
                2) +
                "\n");
    }
    // Tables of an earlier configuration that this merge did not write would look current.
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("cohort_", 0) == 0 &&
            std::find(summary.tables.begin(), summary.tables.end(), name) == summary.tables.end()) {
            fs::remove(entry.path(), ec);
        }
    }
    return summary;
}

} // namespace segxai
