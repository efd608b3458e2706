// The shipped demo models on held-out demo studies (seeds never used in training), through
// the product's own path: the study in its 1 mm grid, segmented by segmentStudy.
#include "engine/analysis/connected_components.h"
#include "engine/core/grid.h"
#include "engine/core/resample.h"
#include "engine/demo/demo_data.h"
#include "engine/io/image_io.h"
#include "engine/model/inference.h"
#include "engine/model/model.h"
#include "tests/support/temp_dir.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

using namespace segxai;
namespace fs = std::filesystem;

namespace {

const std::string kAssets = SEGXAI_ASSET_DIR "/models/";

const DemoTemplates& templates() {
    static const DemoTemplates t = DemoTemplates::load();
    return t;
}

Study studyOf(const DemoCase& c) {
    Study s;
    s.geometry = c.groundTruth.geometry;
    s.channels = c.channels;
    return s;
}

double dice(const LabelVolume& a, const LabelVolume& b, uint16_t label) {
    size_t both = 0, sum = 0;
    for (size_t n = 0; n < a.labels.size(); ++n) {
        const bool x = a.labels[n] == label, y = b.labels[n] == label;
        both += x && y;
        sum += size_t(x) + size_t(y);
    }
    return sum == 0 ? 1.0 : 2.0 * double(both) / double(sum);
}

// Share of ground-truth lesions (18-connected, more than 5 voxels, as in the instance-level
// MS lesion study) that the prediction touches.
double detection(const LabelVolume& prediction, const LabelVolume& truth) {
    const Components lesions = connectedComponents(truth.geometry, labelMask(truth, 1), 18);
    std::vector<bool> hit(size_t(lesions.count()) + 1, false);
    for (size_t n = 0; n < truth.labels.size(); ++n) {
        if (lesions.labels[n] && prediction.labels[n] == 1) hit[size_t(lesions.labels[n])] = true;
    }
    int counted = 0, found = 0;
    for (int32_t c = 1; c <= lesions.count(); ++c) {
        if (lesions.sizes[size_t(c)] <= 5) continue;
        ++counted;
        found += hit[size_t(c)];
    }
    return counted == 0 ? 1.0 : double(found) / counted;
}

} // namespace

TEST_CASE("the lesion demo model meets its Dice and detection bars on held-out studies", "[demo]") {
    const auto model = Model::load(kAssets + "lesions");
    double diceSum = 0.0, detectionSum = 0.0;
    const int cases = 3;
    for (int n = 0; n < cases; ++n) {
        const DemoCase c = makeDemoCase(templates(), DemoTask::Lesions, kFirstHeldOutSeed + uint64_t(n));
        const Segmentation s = segmentStudy(*model, studyOf(c));
        const double d = dice(s.labels, c.groundTruth, 1), found = detection(s.labels, c.groundTruth);
        UNSCOPED_INFO("seed " << kFirstHeldOutSeed + uint64_t(n) << ": Dice " << d << ", detection " << found);
        diceSum += d;
        detectionSum += found;
    }
    CHECK(diceSum / cases >= 0.75);
    CHECK(detectionSum / cases >= 0.85);
}

TEST_CASE("the anatomy demo model meets its mean Dice bar on a held-out study", "[demo]") {
    const auto model = Model::load(kAssets + "anatomy");
    const DemoCase c = makeDemoCase(templates(), DemoTask::Anatomy, kFirstHeldOutSeed);
    const Segmentation s = segmentStudy(*model, studyOf(c));
    REQUIRE(s.classNames.size() == 9);
    double sum = 0.0;
    for (uint16_t label = 1; label < 9; ++label) {
        const double d = dice(s.labels, c.groundTruth, label);
        UNSCOPED_INFO(s.classNames[label] << ": " << d);
        sum += d;
    }
    CHECK(sum / 8.0 >= 0.85);
}

TEST_CASE("classes reduced slab by slab and resampled to the study give the labels of the whole output",
          "[demo][memory]") {
    // The anatomy demo (9 classes, 2 mm) by sliding windows on a 1 mm held-out study, once with
    // its whole output resampled class by class, once reduced on the 2 mm grid to the 4 most
    // probable classes per voxel and those resampled (what 100+ class models on large studies
    // do: docs/performance.md#memory-at-many-classes).
    test::TempDir dir;
    fs::copy_file(kAssets + "anatomy/model.pt", dir.file("model.pt"));
    std::ifstream cardIn(kAssets + "anatomy/model.json");
    std::string card((std::istreambuf_iterator<char>(cardIn)), {});
    card.insert(card.rfind('}'), R"(, "sliding_window": {"patch": [48, 56, 48], "overlap": 0.5})");
    std::ofstream(dir.file("model.json")) << card;
    const auto model = Model::load(dir.file("model.pt"));
    const DemoCase c = makeDemoCase(templates(), DemoTask::Anatomy, kFirstHeldOutSeed);
    const Segmentation whole = segmentStudy(*model, studyOf(c));
    // 9 classes x 91 x 109 x 91 voxels x 4 bytes (32 MB) is more than a quarter of 100 MB.
    setenv("SEGXAI_MEMORY_LIMIT_MB", "100", 1);
    const Segmentation reduced = segmentStudy(*model, studyOf(c));
    unsetenv("SEGXAI_MEMORY_LIMIT_MB");
    REQUIRE(reduced.labels.labels.size() == whole.labels.labels.size());
    size_t same = 0;
    double worst = 0.0;
    for (size_t v = 0; v < whole.labels.labels.size(); ++v) {
        same += whole.labels.labels[v] == reduced.labels.labels[v];
        const size_t label = whole.labels.labels[v];
        worst =
            std::max(worst, double(std::abs(whole.probabilities.at(label, v) - reduced.probabilities.at(label, v))));
    }
    const double agree = double(same) / double(whole.labels.labels.size());
    std::printf("anatomy demo, classes reduced on the model's grid then resampled: labels %.6f equal, largest "
                "difference of the labelled class's probability %.3g; frontal Dice %.4f vs %.4f\n",
                agree, worst, dice(reduced.labels, c.groundTruth, 1), dice(whole.labels, c.groundTruth, 1));
    CHECK(agree > 0.999);
    CHECK(worst < 0.1); // where a fifth class held probability at a neighbouring model voxel
    for (uint16_t label = 1; label < 9; ++label)
        CHECK(std::abs(dice(reduced.labels, c.groundTruth, label) - dice(whole.labels, c.groundTruth, label)) < 0.002);
}

TEST_CASE("segxai gives the same lesion labels as the Python inference that trained the model", "[demo]") {
    // Held-out case 1000000 at the model's 2 mm, as `segxai demo-data --spacing 2` writes it
    // and as train_demo_models.py segmented it into reference_labels.nii.gz.
    const DemoCase c = makeDemoCase(templates(), DemoTask::Lesions, kFirstHeldOutSeed);
    const Geometry grid = gridWithSpacing(c.groundTruth.geometry, glm::dvec3(2.0));
    Study study;
    study.geometry = grid;
    for (const Volume& channel : c.channels)
        study.channels.push_back(resampleLinear(channel, grid));
    const Segmentation s = segmentStudy(*Model::load(kAssets + "lesions"), study);
    const LabelVolume python = readLabelVolume(kAssets + "lesions/reference_labels.nii.gz");
    REQUIRE(python.geometry.sameGrid(grid));
    size_t differ = 0, lesion = 0;
    for (size_t n = 0; n < python.labels.size(); ++n) {
        differ += python.labels[n] != s.labels.labels[n];
        lesion += python.labels[n] == 1;
    }
    INFO(differ << " of " << python.labels.size() << " voxels differ; " << lesion << " lesion voxels");
    CHECK(lesion > 100);
    CHECK(differ <= 2); // float summation order may flip a tie, nothing more
}

TEST_CASE("the lesion demo as an nnU-Net folder segments a held-out study through nnU-Net's pipeline",
          "[demo][nnunet]") {
    // assets/models/lesions_nnunet (README.md there): 3 folds; fold 0 without mirroring here
    // (one forward), the whole ensemble is measured in its training.json.
    NnunetOptions fold0;
    fold0.folds = {"0"};
    fold0.mirroring = false;
    const auto model = Model::load(kAssets + "lesions_nnunet/Dataset950_SegXAILesions", fold0);
    REQUIRE(model->nnunetSelection());
    CHECK(model->nnunetSelection()->availableFolds == std::vector<std::string>{"0", "1", "2"});
    CHECK(model->card().inputChannels == std::vector<std::string>{"t1", "flair"});
    const DemoCase c = makeDemoCase(templates(), DemoTask::Lesions, kFirstHeldOutSeed);
    const Segmentation s = segmentStudy(*model, studyOf(c));
    CHECK(s.classNames == std::vector<std::string>{"background", "lesion"});
    const double d = dice(s.labels, c.groundTruth, 1);
    std::printf("nnU-Net lesion demo, fold 0 without mirroring, seed %llu: lesion Dice %.3f, detection %.2f\n",
                (unsigned long long)kFirstHeldOutSeed, d, detection(s.labels, c.groundTruth));
    CHECK(d >= 0.80);
}
