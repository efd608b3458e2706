// `segxai batch` and `segxai merge` as a cluster runs them: shards in separate processes,
// a shard killed mid-run, failures, reruns, and memory over many studies.
#include "engine/io/image_io.h"
#include "tests/support/run_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

using namespace segxai;
namespace fs = std::filesystem;

namespace {

const std::string kModel = SEGXAI_TEST_DATA "/models/tiny_unet_traced.pt";

// A cohort of `count` two-channel studies the tiny U-Net reads, each a little different,
// and its manifest (relative paths, a ground truth for every other study).
std::string writeCohort(const fs::path& folder, int count, const std::string& manifestName = "studies.csv") {
    fs::create_directories(folder / "data");
    Geometry g;
    g.dims = {16, 20, 12};
    std::string manifest = "id,t1,flair,gt\n";
    for (int n = 0; n < count; ++n) {
        const std::string id = fmt::format("case{:02}", n + 1);
        const double phase = 0.37 * n;
        writeVolume(test::makeVolume(g, [&](auto i, auto j,
                                            auto k) { return float(std::sin(0.3 * i + 0.2 * j + 0.1 * k + phase)); }),
                    (folder / "data" / (id + "_t1.nii.gz")).string());
        writeVolume(test::makeVolume(g, [&](auto i, auto j,
                                            auto k) { return float(std::cos(0.2 * i + 0.3 * j + 0.1 * k - phase)); }),
                    (folder / "data" / (id + "_flair.nii.gz")).string());
        std::string gt;
        if (n % 2 == 0) {
            LabelVolume labels;
            labels.geometry = g;
            labels.labels.assign(g.voxelCount(), 0);
            for (size_t v = 0; v < labels.labels.size(); ++v)
                labels.labels[v] = (v / 7 + size_t(n)) % 3 == 0 ? 1 : 0;
            writeLabelVolume(labels, (folder / "data" / (id + "_gt.nii.gz")).string());
            gt = "data/" + id + "_gt.nii.gz";
        }
        manifest += fmt::format("{},data/{}_t1.nii.gz,data/{}_flair.nii.gz,{}\n", id, id, id, gt);
    }
    std::ofstream((folder / manifestName).string()) << manifest;
    return (folder / manifestName).string();
}

// Every analysis, with small settings.
const char* kFullConfig = R"({
  "explanations": [{"method": "seg-grad-cam", "targets": ["every-class"]},
                   {"method": "smoothgrad", "targets": ["every-instance"], "parameters": {"samples": 3}}],
  "instances": {"min_size": 40},
  "lesions": {"class": 1, "samples": 2, "context_max_mm": 2, "methods": ["smoothgrad"]},
  "aggregation": {"methods": ["saliency"]},
  "metrics": {"methods": ["saliency", "input-x-gradient"], "metrics": ["faithfulness-correlation", "deletion"],
              "runs": 4, "curve_steps": 3},
  "uncertainty": {"tta": "flips", "flip_axes": "x", "write_maps": false}
})";

std::string writeConfig(const fs::path& folder, const std::string& text, const std::string& name = "batch.json") {
    std::ofstream((folder / name).string()) << text;
    return (folder / name).string();
}

std::vector<std::string> batchCommand(const std::string& manifest, const std::string& config, const std::string& out) {
    return {SEGXAI_BINARY, "batch", "--manifest", manifest, "--model", kModel, "--config", config, "--out", out};
}

std::string text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// A table without its timing columns (the only thing two runs may differ in).
std::string withoutTimings(const std::string& csv) {
    std::istringstream in(csv);
    std::string out, line;
    std::vector<bool> keep;
    while (std::getline(in, line)) {
        std::vector<std::string> fields;
        std::stringstream s(line);
        for (std::string f; std::getline(s, f, ',');)
            fields.push_back(f);
        if (keep.empty()) {
            for (const auto& f : fields)
                keep.push_back(f.rfind("seconds", 0) != 0);
        }
        for (size_t n = 0; n < fields.size(); ++n) {
            if (n >= keep.size() || keep[n]) out += fields[n] + ",";
        }
        out += "\n";
    }
    return out;
}

// The merged tables of a batch folder, by name.
std::map<std::string, std::string> mergedTables(const fs::path& out) {
    std::map<std::string, std::string> tables;
    for (const auto& e : fs::directory_iterator(out)) {
        if (e.path().extension() == ".csv") tables[e.path().filename().string()] = withoutTimings(text(e.path()));
        if (e.path().filename() == "cohort_benchmark.json") tables["cohort_benchmark.json"] = text(e.path());
    }
    return tables;
}

// No folder under its final name lacks done.json, and nothing is half-written outside .partial.
void checkNothingLooksCompleteThatIsNot(const fs::path& out) {
    for (const auto& e : fs::directory_iterator(out)) {
        const std::string name = e.path().filename().string();
        if (!e.is_directory() || name == ".partial" || name == "failures") continue;
        INFO(name);
        CHECK(fs::exists(e.path() / "done.json"));
    }
    for (const auto& e : fs::recursive_directory_iterator(out)) {
        const std::string rel = fs::relative(e.path(), out).string();
        if (rel.rfind(".partial", 0) == 0) continue;
        INFO(rel);
        CHECK(e.path().filename().string().find(".partial-") == std::string::npos); // no temporary file in place
    }
}

} // namespace

TEST_CASE("six studies as three shards in separate processes merge to what one unsharded run gives", "[cli][batch]") {
    test::TempDir dir;
    const std::string manifest = writeCohort(dir.path(), 6), config = writeConfig(dir.path(), kFullConfig);
    const std::string whole = dir.file("whole"), sharded = dir.file("sharded");
    const auto one = test::runProcess(batchCommand(manifest, config, whole));
    INFO(one.output);
    REQUIRE(one.exitCode == 0);
    CHECK_THAT(one.output,
               Catch::Contains("6 studies in this run: 6 computed, 0 skipped") && Catch::Contains("merged 6 of 6"));
    for (const char* name :
         {"studies.csv", "failures.csv", "cohort_segmentation.csv", "cohort_explanations.csv", "cohort_lesions.csv",
          "cohort_lesion_studies.csv", "cohort_aggregation_saliency.csv", "cohort_aggregation_saliency_mean.csv",
          "cohort_metrics.csv", "cohort_benchmark.csv", "cohort_benchmark.json", "cohort_uncertainty.csv"}) {
        INFO(name);
        CHECK(fs::exists(fs::path(whole) / name));
    }
    // Per study: its files, in its own folder.
    for (const char* file :
         {"done.json", "segmentation.csv", "labels.nii.gz", "explanations.csv", "lesions/instances.csv",
          "lesions/summary.json", "aggregation_saliency.csv", "evaluations.csv", "curves.csv"}) {
        INFO(file);
        CHECK(fs::exists(fs::path(whole) / "case04" / file));
    }
    const auto segmentation = text(fs::path(whole) / "cohort_segmentation.csv");
    CHECK(segmentation.rfind("study,class,voxels,volume_ml,mean_probability,dice\ncase01,lesion,", 0) == 0);
    CHECK(std::count(segmentation.begin(), segmentation.end(), '\n') == 1 + 6 * 2); // two foreground classes per study
    const auto aggregation = text(fs::path(whole) / "cohort_aggregation_saliency.csv");
    CHECK(std::count(aggregation.begin(), aggregation.end(), '\n') == 7);
    CHECK(aggregation.find("lesion_explanation_in_edema_mass") != std::string::npos);
    // Uncertainty: the model and its mirror image along x as two members, every structure of
    // every study in one table.
    const auto uncertainty = text(fs::path(whole) / "cohort_uncertainty.csv");
    CHECK(uncertainty.rfind("study,id,class,voxels,volume_mm3,mean_probability,voxel_i,voxel_j,voxel_k,truth,", 0) ==
          0);
    CHECK(uncertainty.find("volume_mm3_member_2\ncase01,") != std::string::npos);
    CHECK(fs::exists(fs::path(whole) / "case01" / "uncertainty" / "summary.json"));
    CHECK_FALSE(fs::exists(fs::path(whole) / "case01" / "uncertainty" / "entropy.nii.gz")); // write_maps false
    // With the lesions too: every lesion of the cohort carries its uncertainty under that ensemble.
    const auto cohortLesions = text(fs::path(whole) / "cohort_lesions.csv");
    const std::string lesionHeader = cohortLesions.substr(0, cohortLesions.find('\n'));
    CHECK_THAT(lesionHeader, Catch::EndsWith(",mean_entropy,mean_mutual_information,member_share,volume_cv"));
    const auto explanations = text(fs::path(whole) / "cohort_explanations.csv");
    CHECK(explanations.find("case06,smoothgrad,\"lesion instance 1") != std::string::npos);
    CHECK(explanations.find("maps/seg-grad-cam_edema.nii.gz") != std::string::npos);

    // Three shards, each its own process, running at the same time.
    std::vector<std::future<test::ProcessResult>> shards;
    for (int i = 1; i <= 3; ++i) {
        auto command = batchCommand(manifest, config, sharded);
        command.push_back("--shard");
        command.push_back(std::to_string(i) + "/3");
        shards.push_back(std::async(std::launch::async, [command] { return test::runProcess(command); }));
    }
    for (auto& s : shards) {
        const auto r = s.get();
        INFO(r.output);
        CHECK(r.exitCode == 0);
        CHECK_THAT(r.output, Catch::Contains("2 studies in this run: 2 computed") && Catch::Contains("segxai merge"));
    }
    const auto merge = test::runProcess({SEGXAI_BINARY, "merge", sharded});
    INFO(merge.output);
    REQUIRE(merge.exitCode == 0);
    CHECK_THAT(merge.output, Catch::Contains("6 studies: 6 done, 0 failed, 0 not finished"));
    const auto expected = mergedTables(whole), actual = mergedTables(sharded);
    REQUIRE(expected.size() == 12);
    for (const auto& [name, table] : expected) {
        INFO(name);
        CHECK(actual.count(name) == 1);
        CHECK(actual.at(name) == table);
    }
    checkNothingLooksCompleteThatIsNot(sharded);
}

TEST_CASE("a batch killed mid-run leaves nothing that looks complete, and its rerun merges to the same result",
          "[cli][batch]") {
    test::TempDir dir;
    // Heavier SmoothGrad, so the kill surely lands inside a study.
    std::string heavier = kFullConfig;
    heavier.replace(heavier.find("\"samples\": 3"), 12, "\"samples\": 12");
    const std::string manifest = writeCohort(dir.path(), 6), config = writeConfig(dir.path(), heavier);
    const std::string reference = dir.file("reference"), killed = dir.file("killed");
    REQUIRE(test::runProcess(batchCommand(manifest, config, reference)).exitCode == 0);

    {
        test::Process batch(batchCommand(manifest, config, killed));
        // Kill it (no chance to clean up) once two studies are done and the third is being written.
        auto third = [&] {
            std::error_code ec;
            for (const auto& e : fs::directory_iterator(fs::path(killed) / ".partial", ec)) {
                if (e.path().filename().string().rfind("case03.", 0) == 0) return true;
            }
            return false;
        };
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
        while (!third() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        batch.signal(SIGKILL);
        const auto r = batch.wait();
        INFO(r.output);
        REQUIRE(r.exitCode == 128 + SIGKILL); // killed while running, not after
    }
    CHECK_FALSE(fs::is_empty(fs::path(killed) / ".partial")); // the third study's files, under their private name
    checkNothingLooksCompleteThatIsNot(killed);
    CHECK(fs::exists(fs::path(killed) / "case01" / "done.json"));
    CHECK_FALSE(fs::exists(fs::path(killed) / "case06"));
    CHECK_FALSE(fs::exists(fs::path(killed) / "studies.csv")); // never merged

    const auto rerun = test::runProcess(batchCommand(manifest, config, killed));
    INFO(rerun.output);
    REQUIRE(rerun.exitCode == 0);
    CHECK_THAT(rerun.output, Catch::Contains("case01: already done with this configuration, skipped"));
    CHECK_THAT(rerun.output, Catch::Contains("case02: already done"));
    CHECK_THAT(rerun.output, Catch::Contains("case06: done"));
    CHECK(fs::is_empty(fs::path(killed) / ".partial")); // the killed study's leftovers were cleared
    const auto expected = mergedTables(reference), actual = mergedTables(killed);
    for (const auto& [name, table] : expected) {
        INFO(name);
        CHECK(actual.at(name) == table);
    }

    // A second rerun computes nothing; another configuration recomputes everything.
    const auto again = test::runProcess(batchCommand(manifest, config, killed));
    CHECK_THAT(again.output, Catch::Contains("0 computed, 6 skipped"));
    const std::string other =
        writeConfig(dir.path(), R"({"aggregation": {"methods": ["input-x-gradient"]}})", "other.json");
    const auto changed = test::runProcess(batchCommand(manifest, other, killed));
    INFO(changed.output);
    CHECK_THAT(changed.output, Catch::Contains("6 computed, 0 skipped"));
    CHECK(fs::exists(fs::path(killed) / "cohort_aggregation_input-x-gradient.csv"));
    CHECK_FALSE(
        fs::exists(fs::path(killed) / "case01" / "explanations.csv")); // the old result was replaced, not mixed in
}

TEST_CASE("a failing study goes to failures.csv and the batch goes on, an interrupt stops cleanly", "[cli][batch]") {
    test::TempDir dir;
    const std::string manifest = writeCohort(dir.path(), 4);
    const std::string config = writeConfig(dir.path(), R"({"explanations": [{"method": "saliency"}]})");
    const fs::path data = dir.path() / "data";
    fs::copy_file(data / "case02_flair.nii.gz", dir.path() / "kept_flair.nii.gz");
    fs::copy_file(data / "case03_t1.nii.gz", dir.path() / "kept_t1.nii.gz");
    fs::remove(data / "case02_flair.nii.gz");
    std::ofstream(dir.file("data/case03_t1.nii.gz")) << "not an image";
    const std::string out = dir.file("out");
    const auto r = test::runProcess(batchCommand(manifest, config, out));
    INFO(r.output);
    CHECK(r.exitCode == 3);
    CHECK_THAT(r.output,
               Catch::Contains("case02: FAILED") && Catch::Contains("case04: done") && Catch::Contains("2 failed"));
    const std::string failures = text(fs::path(out) / "failures.csv");
    CHECK(failures.rfind("study,error\ncase02,", 0) == 0);
    CHECK_THAT(failures, Catch::Contains("case02_flair.nii.gz") && Catch::Contains("case03_t1.nii.gz"));
    CHECK_THAT(text(fs::path(out) / "studies.csv"),
               Catch::Contains("case01,done,") && Catch::Contains("case02,failed,,"));
    CHECK_FALSE(fs::exists(fs::path(out) / "case02"));
    CHECK(fs::exists(fs::path(out) / "case04" / "done.json"));

    // Fixed inputs: the rerun computes the failed studies only and they leave failures.csv.
    fs::copy_file(dir.path() / "kept_flair.nii.gz", data / "case02_flair.nii.gz");
    fs::copy_file(dir.path() / "kept_t1.nii.gz", data / "case03_t1.nii.gz", fs::copy_options::overwrite_existing);
    const auto fixed = test::runProcess(batchCommand(manifest, config, out));
    INFO(fixed.output);
    CHECK(fixed.exitCode == 0);
    CHECK_THAT(fixed.output, Catch::Contains("2 computed, 2 skipped"));
    CHECK(text(fs::path(out) / "failures.csv") == "study,error\n");

    // A bad configuration or manifest: one message, nothing written.
    const std::string bad =
        writeConfig(dir.path(), R"({"explanations": [{"method": "saliency", "target": "every-class"}]})", "bad.json");
    const auto refused = test::runProcess(batchCommand(manifest, bad, dir.file("never")));
    CHECK(refused.exitCode == 1);
    CHECK_THAT(refused.output, Catch::Contains("bad.json: explanations[0]: unknown key 'target'"));
    CHECK_FALSE(fs::exists(dir.file("never")));
    std::ofstream(dir.file("escape.csv")) << "id,t1,flair\n../up,data/case01_t1.nii.gz,data/case01_flair.nii.gz\n";
    const auto escape = test::runProcess(batchCommand(dir.file("escape.csv"), config, dir.file("never")));
    CHECK(escape.exitCode == 1);
    CHECK_THAT(escape.output, Catch::Contains("cannot be a folder name"));
    const auto noBatch = test::runProcess({SEGXAI_BINARY, "merge", dir.file("data")});
    CHECK(noBatch.exitCode == 1);
    CHECK_THAT(noBatch.output, Catch::Contains("not a batch folder"));

    // SIGTERM (a scheduler's time limit) mid-run: exit 143, the running study's folder removed.
    const std::string slow = writeConfig(
        dir.path(), R"({"explanations": [{"method": "smoothgrad", "parameters": {"samples": 400}}]})", "slow.json");
    const std::string interrupted = dir.file("interrupted");
    test::Process batch(batchCommand(manifest, slow, interrupted));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (!fs::exists(fs::path(interrupted) / ".partial") && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    batch.signal(SIGTERM);
    const auto stopped = batch.wait();
    INFO(stopped.output);
    CHECK(stopped.exitCode == 128 + SIGTERM);
    CHECK_THAT(stopped.output, Catch::Contains("interrupted"));
    CHECK(fs::is_empty(fs::path(interrupted) / ".partial"));
    checkNothingLooksCompleteThatIsNot(interrupted);
}

TEST_CASE("resident memory after 50 studies stays within 10 percent of after 5", "[cli][batch]") {
    test::TempDir dir;
    const std::string manifest = writeCohort(dir.path(), 50);
    const std::string config =
        writeConfig(dir.path(), R"({"explanations": [{"method": "seg-grad-cam", "targets": ["every-class"]},
                                                                            {"method": "saliency", "targets": ["every-instance"]}],
                                                           "instances": {"min_size": 40},
                                                           "aggregation": {"methods": ["saliency"]}})");
    const std::string out = dir.file("out");
    const auto r = test::runProcess(batchCommand(manifest, config, out));
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
    auto resident = [&](const char* id) {
        const auto done = nlohmann::json::parse(text(fs::path(out) / id / "done.json"));
        return done.at("resident_bytes").get<double>();
    };
    const double after5 = resident("case05"), after50 = resident("case50");
    INFO("resident after 5 studies: " << after5 / 1048576.0 << " MiB, after 50: " << after50 / 1048576.0 << " MiB");
    CHECK(after5 > 0.0);
#if !defined(__SANITIZE_ADDRESS__) // ASan's quarantine keeps freed memory resident by design
    CHECK(after50 <= 1.10 * after5);
#endif
}

TEST_CASE("compare_models in batch.json: every study compared with a version named relative to it, merged",
          "[cli][batch][uncertainty]") {
    test::TempDir dir;
    // The other version: the same network scripted instead of traced, so every class agrees.
    fs::create_directories(dir.path() / "v2");
    fs::copy_file(SEGXAI_TEST_DATA "/models/tiny_unet_scripted.pt", dir.path() / "v2" / "model.pt");
    fs::copy_file(SEGXAI_TEST_DATA "/models/tiny_unet_scripted.json", dir.path() / "v2" / "model.json");
    const std::string manifest = writeCohort(dir.path(), 2);
    const std::string config = writeConfig(
        dir.path(), R"({"compare_models": {"models": ["v2/model.pt"], "method": "saliency", "target": "class:1",
                                            "write_maps": false}})");
    const std::string out = dir.file("out");
    const auto run = test::runProcess(batchCommand(manifest, config, out));
    INFO(run.output);
    REQUIRE(run.exitCode == 0);
    for (const char* study : {"case01", "case02"}) {
        CHECK(fs::exists(fs::path(out) / study / "model_comparison" / "summary.json"));
        CHECK_FALSE(fs::exists(fs::path(out) / study / "model_comparison" / "disagreement.nii.gz"));
    }
    const auto cohort = text(fs::path(out) / "cohort_model_comparison.csv");
    CHECK(cohort.rfind("study,model,class,dice,", 0) == 0);
    size_t rows = 0;
    std::stringstream lines(cohort);
    std::string line;
    std::getline(lines, line);
    for (; std::getline(lines, line); ++rows)
        CHECK(line.find(",model.pt,") != std::string::npos);
    CHECK(rows >= 2);
    CHECK(cohort.find(",0.") == std::string::npos); // identical networks: every Dice is 1
    const auto summary = nlohmann::json::parse(text(fs::path(out) / "case01" / "model_comparison" / "summary.json"));
    CHECK(summary.dump().find("rank") != std::string::npos); // the two explanations' agreement

    // A version that is not there is named before any study runs.
    const std::string missing = writeConfig(dir.path(), R"({"compare_models": {"models": ["v3/model.pt"]}})", "b.json");
    const auto refused = test::runProcess(batchCommand(manifest, missing, dir.file("out2")));
    CHECK(refused.exitCode != 0);
    CHECK_THAT(refused.output, Catch::Contains("compare_models") && Catch::Contains("v3/model.pt") &&
                                   Catch::Contains("does not exist"));
    CHECK_FALSE(fs::exists(fs::path(dir.file("out2")) / "case01"));
}
