// The pieces of `segxai batch` that need no model: shards (given and from a scheduler's
// environment), batch.json, study folders that appear only when complete, prefetching.
#include "engine/batch/batch_config.h"
#include "engine/batch/batch_folder.h"
#include "engine/batch/shard.h"
#include "engine/core/error.h"
#include "engine/io/image_io.h"
#include "engine/io/study_prefetcher.h"
#include "tests/support/temp_dir.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>

using namespace segxai;
namespace fs = std::filesystem;

namespace {

EnvironmentLookup environment(std::map<std::string, std::string> values) {
    return [values](const std::string& name) -> std::optional<std::string> {
        auto it = values.find(name);
        if (it == values.end()) return std::nullopt;
        return it->second;
    };
}

} // namespace

TEST_CASE("shards partition a cohort, from --shard I/N or a scheduler's array", "[batch]") {
    const Shard s = parseShard("2/3");
    CHECK(s.index == 1);
    CHECK(s.count == 3);
    CHECK(s.text() == "2/3");
    // Every study in exactly one shard.
    for (size_t p = 0; p < 10; ++p) {
        int owners = 0;
        for (int i = 0; i < 3; ++i)
            owners += Shard{i, 3}.includes(p);
        CHECK(owners == 1);
    }
    CHECK(Shard{1, 3}.includes(1));
    CHECK(Shard{1, 3}.includes(4));
    CHECK_FALSE(Shard{1, 3}.includes(2));
    CHECK_THROWS_WITH(parseShard("0/3"), Catch::Contains("from 1 to N"));
    CHECK_THROWS_WITH(parseShard("4/3"), Catch::Contains("from 1 to N"));
    CHECK_THROWS_WITH(parseShard("3"), Catch::Contains("I/N"));
    CHECK_THROWS_WITH(parseShard("a/3"), Catch::Contains("not an integer"));

    CHECK_FALSE(shardFromScheduler(environment({})).has_value());
    // sbatch --array=0-7: task 5 of 8.
    auto slurm = shardFromScheduler(
        environment({{"SLURM_ARRAY_TASK_ID", "5"}, {"SLURM_ARRAY_TASK_MIN", "0"}, {"SLURM_ARRAY_TASK_COUNT", "8"}}));
    REQUIRE(slurm);
    CHECK(slurm->index == 5);
    CHECK(slurm->count == 8);
    // --array=1-4: task 1 is the first shard.
    slurm = shardFromScheduler(
        environment({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_MAX", "4"}}));
    REQUIRE(slurm);
    CHECK(slurm->index == 0);
    CHECK(slurm->count == 4);
    // --array=0-30:10 is 4 tasks; task 20 is the third.
    slurm = shardFromScheduler(environment({{"SLURM_ARRAY_TASK_ID", "20"},
                                            {"SLURM_ARRAY_TASK_MIN", "0"},
                                            {"SLURM_ARRAY_TASK_MAX", "30"},
                                            {"SLURM_ARRAY_TASK_STEP", "10"},
                                            {"SLURM_ARRAY_TASK_COUNT", "4"}}));
    REQUIRE(slurm);
    CHECK(slurm->index == 2);
    CHECK(slurm->count == 4);
    // qsub -t 1-6 (SGE): task 6 is the last of 6.
    auto sge = shardFromScheduler(environment(
        {{"SGE_TASK_ID", "6"}, {"SGE_TASK_FIRST", "1"}, {"SGE_TASK_LAST", "6"}, {"SGE_TASK_STEPSIZE", "1"}}));
    REQUIRE(sge);
    CHECK(sge->index == 5);
    CHECK(sge->count == 6);
    CHECK_FALSE(shardFromScheduler(environment({{"SGE_TASK_ID", "undefined"}})).has_value()); // a plain SGE job
    // bsub -J "job[1-3]" (LSF).
    auto lsf = shardFromScheduler(environment({{"LSB_JOBINDEX", "2"}, {"LSB_JOBINDEX_END", "3"}}));
    REQUIRE(lsf);
    CHECK(lsf->index == 1);
    CHECK(lsf->count == 3);
    CHECK_FALSE(shardFromScheduler(environment({{"LSB_JOBINDEX", "0"}})).has_value()); // not an array job
    // A task outside its array's range is refused, not mapped to a wrong shard.
    CHECK_THROWS_WITH(
        shardFromScheduler(environment(
            {{"SLURM_ARRAY_TASK_ID", "9"}, {"SLURM_ARRAY_TASK_MIN", "0"}, {"SLURM_ARRAY_TASK_COUNT", "4"}})),
        Catch::Contains("not in 0-3"));
    CHECK(schedulerDescription(environment({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "2"}})) ==
          "Slurm array task 1 of 0-1");
}

TEST_CASE("batch.json: defaults, every section, and clear errors", "[batch]") {
    const BatchConfig empty = batchConfigFromJson(nlohmann::json::object(), "batch.json");
    CHECK(empty.writeLabels);
    CHECK(empty.explanations.empty());
    CHECK_FALSE(empty.lesions);
    CHECK_FALSE(empty.aggregation);
    CHECK_FALSE(empty.metrics);

    const auto full = nlohmann::json::parse(R"({
        "segmentation": {"write_probabilities": true},
        "explanations": [{"method": "smoothgrad", "targets": ["every-instance", "class:1"], "parameters": {"samples": 7}}],
        "instances": {"connectivity": 6, "min_size": 3},
        "lesions": {"class": 2, "samples": 4, "context_max_mm": 0, "methods": ["smoothgrad"]},
        "aggregation": {"methods": ["saliency", "seg-grad-cam"], "classes": "1,2"},
        "metrics": {"methods": ["saliency"], "metrics": ["deletion"], "runs": 5, "curve_steps": 3},
        "uncertainty": {"tta": "flips", "flip_axes": "xy", "mc_dropout": 3, "std_classes": ["lesion"]}})");
    const BatchConfig c = batchConfigFromJson(full, "batch.json");
    CHECK(c.writeProbabilities);
    REQUIRE(c.explanations.size() == 1);
    CHECK(c.explanations[0].method == Method::SmoothGrad);
    CHECK(c.explanations[0].parameters.samples == 7);
    CHECK(c.explanations[0].parameters.instances.connectivity == 6); // every-instance uses the instances section
    CHECK(c.explanations[0].targets == std::vector<std::string>{"every-instance", "class:1"});
    REQUIRE(c.lesions);
    CHECK(c.lesions->options.lesions.classIndex == 2);
    CHECK(c.lesions->options.explain.samples == 4);
    CHECK_FALSE(c.lesions->options.context);
    CHECK_FALSE(c.lesions->options.explain.camPlusPlus);
    REQUIRE(c.aggregation);
    CHECK(c.aggregation->methods.size() == 2);
    REQUIRE(c.metrics);
    CHECK(c.metrics->metrics == std::vector<Metric>{Metric::Deletion});
    CHECK(c.metrics->options.correlationRuns == 5);
    REQUIRE(c.uncertainty);
    CHECK(c.uncertainty->tta.kind == "flips");
    CHECK(c.uncertainty->tta.flipAxes == "xy");
    CHECK(c.uncertainty->mcDropout == 3);
    CHECK(c.uncertainty->stdClasses == std::vector<std::string>{"lesion"});
    CHECK(c.uncertainty->writeMaps);
    // The canonical form parses back to the same configuration.
    CHECK(batchConfigFromJson(c.toJson(), "again").toJson() == c.toJson());

    auto error = [](const char* text) {
        try {
            batchConfigFromJson(nlohmann::json::parse(text), "batch.json");
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK_THAT(error(R"({"explanation": []})"), Catch::Contains("unknown key 'explanation'"));
    CHECK_THAT(error(R"({"explanations": [{"method": "gradcam"}]})"),
               Catch::Contains("explanations[0]") && Catch::Contains("gradcam"));
    CHECK_THAT(error(R"({"explanations": [{"method": "saliency", "targets": ["everything"]}]})"),
               Catch::Contains("everything"));
    CHECK_THAT(error(R"({"explanations": [{"method": "saliency", "parameters": {"samples": "20"}}]})"),
               Catch::Contains("'samples' has the wrong type (string)"));
    CHECK_THAT(error(R"({"lesions": {"samples": 2.5}})"), Catch::Contains("'samples' has the wrong type"));
    CHECK_THAT(error(R"({"metrics": {"metrics": ["accuracy"]}})"), Catch::Contains("accuracy"));
    CHECK_THAT(error(R"({"instances": {"connectivity": 8}})"), Catch::Contains("6, 18 or 26"));
    CHECK_THAT(error(R"([1, 2])"), Catch::Contains("must be a JSON object"));
    CHECK_THAT(error(R"({"uncertainty": {"tta": "rotations"}})"), Catch::Contains("uncertainty") &&
                                                                      Catch::Contains("'rotations'") &&
                                                                      Catch::Contains("spatial joined by"));
    CHECK_THAT(error(R"({"uncertainty": {"tta": "flips+spatial", "max_shift_voxels": 20}})"),
               Catch::Contains("uncertainty") && Catch::Contains("shift 20 voxels is outside [0, 16]"));
    CHECK_THAT(error(R"({"uncertainty": {"tta": "intensity", "intensity_strength": 0.9}})"),
               Catch::Contains("uncertainty") && Catch::Contains("[0, 0.5]"));
    CHECK_THAT(error(R"({"uncertainty": {"flip_axes": "xw"}})"),
               Catch::Contains("uncertainty") && Catch::Contains("'xw'"));
    CHECK_THAT(error(R"({"uncertainty": {"members": 3}})"), Catch::Contains("unknown key 'members'"));

    test::TempDir dir;
    std::ofstream(dir.file("broken.json")) << "{\"explanations\": [";
    CHECK_THROWS_WITH(readBatchConfig(dir.file("broken.json")), Catch::Contains("broken.json: not valid JSON"));
    CHECK_THROWS_WITH(readBatchConfig(dir.file("missing.json")), Catch::Contains("cannot open"));
}

TEST_CASE("a study folder appears only complete, and an uncommitted one leaves nothing", "[batch]") {
    test::TempDir dir;
    const std::string out = dir.path().string();
    {
        StudyOutputFolder folder(out, "case1");
        std::ofstream(fs::path(folder.path()) / "table.csv") << "a,b\n";
        CHECK_FALSE(fs::exists(dir.path() / "case1"));
        // dies uncommitted: an exception or a cancel
    }
    CHECK_FALSE(fs::exists(dir.path() / "case1"));
    CHECK(fs::is_empty(dir.path() / ".partial"));
    CHECK_FALSE(studyCompletion(out, "case1"));

    {
        StudyOutputFolder folder(out, "case1");
        std::ofstream(fs::path(folder.path()) / "table.csv") << "first\n";
        folder.commit({{"config_hash", "aaa"}, {"inputs_hash", "bbb"}});
    }
    CHECK(fs::exists(dir.path() / "case1" / "table.csv"));
    CHECK(studyComplete(out, "case1", "aaa", "bbb"));
    CHECK_FALSE(studyComplete(out, "case1", "other", "bbb")); // another configuration
    CHECK_FALSE(studyComplete(out, "case1", "aaa", "other")); // changed input files

    // A killed run's leftovers are cleared when the study starts again; a new result replaces the old.
    fs::create_directories(dir.path() / ".partial" / "case1.otherhost.99");
    {
        StudyOutputFolder folder(out, "case1");
        CHECK_FALSE(fs::exists(dir.path() / ".partial" / "case1.otherhost.99"));
        std::ofstream(fs::path(folder.path()) / "table.csv") << "second\n";
        folder.commit({{"config_hash", "ccc"}, {"inputs_hash", "bbb"}});
    }
    std::ifstream in(dir.path() / "case1" / "table.csv");
    std::string line;
    std::getline(in, line);
    CHECK(line == "second");
    CHECK(studyComplete(out, "case1", "ccc", "bbb"));
    CHECK(fs::is_empty(dir.path() / ".partial"));

    recordStudyFailure(out, "case2", "case2/t1.nii.gz: cannot read");
    CHECK(studyFailure(out, "case2") == std::optional<std::string>("case2/t1.nii.gz: cannot read"));
    clearStudyFailure(out, "case2");
    CHECK_FALSE(studyFailure(out, "case2"));

    CHECK_THROWS_WITH(checkStudyId("../escape"), Catch::Contains("cannot be a folder name"));
    CHECK_THROWS_WITH(checkStudyId(".hidden"), Catch::Contains("cannot be a folder name"));
    CHECK_THROWS(checkStudyId(""));
    CHECK_NOTHROW(checkStudyId("sub-01_ses-1 T1"));

    // Input identity changes when a file changes size.
    std::ofstream(dir.file("input.nii")) << "1234";
    const std::string before = filesIdentity({dir.file("input.nii")});
    CHECK(filesIdentity({dir.file("input.nii")}) == before);
    std::ofstream(dir.file("input.nii")) << "12345";
    CHECK(filesIdentity({dir.file("input.nii")}) != before);
    CHECK(textHash("abc") == "e71fa2190541574b"); // FNV-1a 64
}

TEST_CASE("the prefetcher hands studies out in order and a broken one as its error", "[batch]") {
    test::TempDir dir;
    Geometry g;
    g.dims = {4, 5, 6};
    std::vector<StudyRequest> requests;
    for (int n = 0; n < 5; ++n) {
        const std::string path = dir.file("study" + std::to_string(n) + ".nii.gz");
        if (n != 2) writeVolume(test::makeVolume(g, [n](auto, auto, auto) { return float(n); }), path);
        StudyRequest r;
        r.channelPaths = {path};
        requests.push_back(r);
    }
    for (size_t depth : {size_t(0), size_t(1), size_t(3)}) {
        StudyPrefetcher prefetcher(requests, depth);
        for (int n = 0; n < 5; ++n) {
            if (n == 2) {
                CHECK_THROWS_WITH(prefetcher.next(), Catch::Contains("study2.nii.gz"));
            } else {
                const Study s = prefetcher.next();
                CHECK(s.channels.at(0).voxels.at(7) == float(n));
            }
        }
        CHECK_THROWS(prefetcher.next());
    }
    // Destroyed with studies still loading or waiting: no hang, no leak.
    StudyPrefetcher abandoned(requests, 2);
    CHECK(abandoned.next().channels.at(0).voxels.at(0) == 0.0f);
}
