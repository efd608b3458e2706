// `segxai aggregate` and `segxai evaluate` on a small U-Net: the Agg2Exp columns, a cohort
// from a manifest, and the benchmark's files.
#include "engine/io/image_io.h"
#include "tests/support/run_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

using namespace segxai;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> out;
    std::stringstream s(line);
    for (std::string f; std::getline(s, f, ',');)
        out.push_back(f);
    return out;
}

// Two channels the tiny U-Net reads, with a phase that differs per study.
void writeStudy(const test::TempDir& dir, const std::string& name, double phase) {
    Geometry g;
    g.dims = {16, 20, 12};
    writeVolume(test::makeVolume(
                    g, [&](auto i, auto j, auto k) { return float(std::sin(0.3 * i + 0.2 * j + 0.1 * k + phase)); }),
                dir.file(name + "_a.nii.gz"));
    writeVolume(test::makeVolume(
                    g, [&](auto i, auto j, auto k) { return float(std::cos(0.2 * i + 0.3 * j + 0.1 * k - phase)); }),
                dir.file(name + "_b.nii.gz"));
}

const std::string kModel = SEGXAI_TEST_DATA "/models/tiny_unet_traced.pt";

} // namespace

TEST_CASE("segxai aggregate writes Agg2Exp columns per study and the cohort mean", "[cli][aggregation]") {
    test::TempDir dir;
    writeStudy(dir, "one", 0.0);
    writeStudy(dir, "two", 0.7);
    auto run = test::runProcess({SEGXAI_BINARY, "aggregate", "--study", dir.file("one_a.nii.gz"), "--study",
                                 dir.file("one_b.nii.gz"), "--model", kModel, "--method", "saliency", "--out",
                                 dir.file("one.csv")});
    INFO(run.output);
    REQUIRE(run.exitCode == 0);
    const auto rows = lines(dir.file("one.csv"));
    REQUIRE(rows.size() == 2);
    const auto header = split(rows[0]), values = split(rows[1]);
    REQUIRE(header.size() == values.size());
    CHECK(header[0] == "study");
    // 2 target classes (1, 2) x 3 segments x (mass, mean) x 3 parts.
    CHECK(header.size() == 1 + 2 * 3 * 2 * 3);
    CHECK(header[1] == "lesion_explanation_in_background_mass"); // the card names the classes
    CHECK(header[2] == "lesion_explanation_in_background_mean");
    // Each class's |E| masses sum to 1 over the segments.
    double sum = 0.0;
    for (size_t c = 1; c <= 6; c += 2)
        sum += std::stod(values[c]);
    CHECK(sum == Approx(1.0).epsilon(1e-4));

    std::ofstream(dir.file("cohort.csv")) << "id,a,b\n"
                                          << "one,one_a.nii.gz,one_b.nii.gz\n"
                                          << "two,two_a.nii.gz,two_b.nii.gz\n";
    run = test::runProcess({SEGXAI_BINARY, "aggregate", "--manifest", dir.file("cohort.csv"), "--model", kModel,
                            "--method", "input-x-gradient", "--classes", "1", "--out", dir.file("cohort_out.csv")});
    INFO(run.output);
    REQUIRE(run.exitCode == 0);
    const auto cohort = lines(dir.file("cohort_out.csv"));
    REQUIRE(cohort.size() == 3);
    CHECK(cohort[1].rfind("one,", 0) == 0);
    CHECK(cohort[2].rfind("two,", 0) == 0);
    const auto mean = lines(dir.file("cohort_out_cohort_mean.csv"));
    REQUIRE(mean.size() == 2);
    CHECK(split(mean[1])[0] == "cohort_mean");
    CHECK(std::stod(split(mean[1])[1]) ==
          Approx(0.5 * (std::stod(split(cohort[1])[1]) + std::stod(split(cohort[2])[1]))).epsilon(1e-4));

    // A broken manifest: one line, no file.
    std::ofstream(dir.file("broken.csv")) << "name,a\nx,y\n";
    run = test::runProcess({SEGXAI_BINARY, "aggregate", "--manifest", dir.file("broken.csv"), "--model", kModel,
                            "--method", "saliency", "--out", dir.file("broken_out.csv")});
    CHECK(run.exitCode != 0);
    CHECK_THAT(run.output, Catch::Contains("must start with an \"id\" column"));
    CHECK(!fs::exists(dir.file("broken_out.csv")));
}

TEST_CASE("segxai evaluate writes the benchmark and names the most faithful method", "[cli][aggregation]") {
    test::TempDir dir;
    writeStudy(dir, "one", 0.0);
    const auto run = test::runProcess({SEGXAI_BINARY, "evaluate", "--study", dir.file("one_a.nii.gz"), "--study",
                                       dir.file("one_b.nii.gz"), "--model", kModel, "--methods",
                                       "saliency,input-x-gradient,segment-ablation", "--metrics",
                                       "faithfulness-correlation,deletion,complexity", "--runs", "8", "--curve-steps",
                                       "4", "--out", dir.file("bench")});
    INFO(run.output);
    REQUIRE(run.exitCode == 0);
    CHECK_THAT(run.output, Catch::Contains("most faithful: "));
    const nlohmann::json j = nlohmann::json::parse(std::ifstream(dir.file("bench/benchmark.json")));
    CHECK(j["methods"].size() == 3);
    CHECK(!j["most_faithful"].get<std::string>().empty());
    CHECK(j["summary"]["saliency"]["faithfulness-correlation"]["better"] == "higher");
    CHECK(j["summary"]["saliency"]["deletion-morf"]["better"] == "lower");
    CHECK(j["evaluations"].size() == 3 * 2); // 3 methods x 2 target classes
    const auto csv = lines(dir.file("bench/benchmark.csv"));
    CHECK(csv[0] == "method,metric,mean,sd,n,better,seconds_per_target");
    CHECK(csv.size() == 1 + 3 * 4); // faithfulness correlation, complexity, deletion MoRF and LeRF per method
    const auto curves = lines(dir.file("bench/curves.csv"));
    CHECK(curves.size() == 1 + 3 * 2 * 2 * 5); // methods x targets x (MoRF, LeRF) x 5 points
}
