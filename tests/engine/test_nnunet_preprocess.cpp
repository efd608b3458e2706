// nnU-Net's preprocessing and export against the references nnU-Net's own predictor wrote
// (tests/data/nnunet): the network input, and labels and probabilities from its logits.
#include "engine/core/half.h"
#include "engine/io/image_io.h"
#include "engine/model/nnunet_normalize.h"
#include "engine/model/nnunet_plans.h"
#include "engine/model/nnunet_preprocess.h"
#include "tests/support/nnunet_refs.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <random>

using namespace segxai;

namespace {

struct Reference {
    std::string dataset, variant;
    size_t channels;
};

const std::vector<Reference> kReferences = {{"Dataset901_PlainCTAniso", "f0_nomirror", 1},
                                            {"Dataset902_ResEncMR2ch", "f0_nomirror", 2},
                                            {"Dataset903_RegionsMR", "f0_default", 1},
                                            {"Dataset904_OldPlansCT", "f0_nomirror", 1}};

std::string refs(const Reference& r) {
    return test::nnunetData() + "/refs/" + r.dataset + "/";
}

std::vector<Volume> studyChannels(const Reference& r) {
    std::vector<Volume> channels;
    for (size_t c = 0; c < r.channels; ++c)
        channels.push_back(readVolume(refs(r) + "case_000" + std::to_string(c) + ".nii.gz"));
    return channels;
}

} // namespace

TEST_CASE("nnU-Net's float32 statistics are numpy's", "[nnunet]") {
    std::mt19937 random(3);
    std::normal_distribution<float> normal(50.0f, 100.0f);
    std::vector<float> v(70001);
    for (float& x : v)
        x = normal(random);
    // numpy 1.24: np.float32 array of these values .sum() (pairwise sums within blocks of 8192).
    double plain = 0.0;
    for (float x : v)
        plain += x;
    CHECK(std::abs(numpyFloat32Sum(v.data(), int64_t(v.size())) - plain) < 1.0);
    CHECK(numpyFloat32Sum(v.data(), 5) == (((v[0] + v[1]) + v[2]) + v[3]) + v[4]);
}

TEST_CASE("half precision rounds to nearest even", "[nnunet]") {
    CHECK(halfToFloat(floatToHalf(1.0f)) == 1.0f);
    CHECK(floatToHalf(65504.0f) == 0x7bff);
    CHECK(floatToHalf(65520.0f) == 0x7c00);
    CHECK(floatToHalf(5.9604645e-8f) == 0x0001);
    CHECK(floatToHalf(2.9802322e-8f) == 0x0000); // a tie rounds to the even 0
    CHECK(floatToHalf(8.940697e-8f) == 0x0002);  // 1.5 units: a tie rounds to 2
    CHECK(floatToHalf(1.0f + 1.0f / 2048.0f) == 0x3c00);
    CHECK(floatToHalf(1.0f + 3.0f / 2048.0f) == 0x3c02);
    CHECK(halfToFloat(0x8001) == -5.9604645e-8f);
    // Just above a tie: rounding to float first would land on the tie and round to even.
    CHECK(doubleToHalf(1.0 + 1.0 / 2048.0 + 1e-12) == 0x3c01);
    CHECK(doubleToHalf(-(1.0 + 1.0 / 2048.0 + 1e-12)) == 0xbc01);
    CHECK(doubleToHalf(1.0 + 1.0 / 2048.0) == 0x3c00);
    CHECK(doubleToHalf(0.1) == floatToHalf(0.1f));
}

TEST_CASE("preprocessing gives nnU-Net's network input", "[nnunet]") {
    for (const Reference& r : kReferences) {
        INFO(r.dataset);
        const NnunetPlan plan = readNnunetFolder(test::nnunetModelFolder(r.dataset), {});
        const NnunetInput input = nnunetPreprocess(studyChannels(r), plan);
        const test::RawArray expected = test::readRawArray(refs(r) + "pre_" + r.variant + "_data");
        const nlohmann::json properties = test::readJson(refs(r) + "pre_" + r.variant + "_properties.json");
        const NnunetCase& c = input.recipe;
        CHECK(std::vector<int64_t>(c.shapeBeforeCrop.begin(), c.shapeBeforeCrop.end()) ==
              properties["shape_before_cropping"].get<std::vector<int64_t>>());
        for (int a = 0; a < 3; ++a)
            CHECK(std::vector<int64_t>{c.box[size_t(a)][0], c.box[size_t(a)][1]} ==
                  properties["bbox_used_for_cropping"][size_t(a)].get<std::vector<int64_t>>());
        REQUIRE(std::vector<int64_t>{int64_t(input.channels.size()), c.modelShape[0], c.modelShape[1],
                                     c.modelShape[2]} == expected.shape);
        double worst = 0.0, scale = 0.0;
        size_t n = 0;
        for (const Volume& channel : input.channels)
            for (float v : channel.voxels) {
                worst = std::max(worst, double(std::abs(v - expected.values[n])));
                scale = std::max(scale, double(std::abs(expected.values[n++])));
            }
        std::printf("nnU-Net preprocessing, %s: largest difference %.3g (values up to %.3g)\n", r.dataset.c_str(),
                    worst, scale);
        CHECK(worst <= 1e-5 * std::max(1.0, scale));
    }
}

TEST_CASE("export turns nnU-Net's logits into its labels and probabilities", "[nnunet]") {
    for (const Reference& r : kReferences) {
        INFO(r.dataset);
        const NnunetPlan plan = readNnunetFolder(test::nnunetModelFolder(r.dataset), {});
        const NnunetInput input = nnunetPreprocess(studyChannels(r), plan);
        const test::RawArray logits = test::readRawArray(refs(r) + "pre_" + r.variant + "_logits");
        const size_t voxels = size_t(shapeVoxels(input.recipe.modelShape));
        const size_t classes = plan.labels.names.size();
        std::vector<uint16_t> half(classes * voxels, 0);
        for (size_t k = 0; k < size_t(logits.shape[0]); ++k) {
            // Region models: region k is the class its label names (regions_class_order).
            const size_t to = plan.labels.regions ? size_t(plan.labels.regionOrder[k]) : k;
            for (size_t v = 0; v < voxels; ++v)
                half[to * voxels + v] = floatToHalf(logits.values[k * voxels + v]);
        }
        const Segmentation s = nnunetExport(half, input.recipe, plan);
        const LabelVolume expected = readLabelVolume(refs(r) + "pred_" + r.variant + "_labels.nii.gz");
        REQUIRE(expected.labels.size() == s.labels.labels.size());
        size_t same = 0;
        for (size_t n = 0; n < expected.labels.size(); ++n)
            same += expected.labels[n] == s.labels.labels[n];
        const test::RawArray p = test::readFloatNifti(refs(r) + "pred_" + r.variant + "_probabilities.nii.gz");
        double worst = 0.0;
        const size_t studyVoxels = s.labels.labels.size();
        for (size_t k = 0; k < size_t(p.shape[3]); ++k) {
            const size_t to = plan.labels.regions ? size_t(plan.labels.regionOrder[k]) : k;
            for (size_t n = 0; n < studyVoxels; ++n)
                worst = std::max(worst, double(std::abs(p.values[k * studyVoxels + n] - s.probabilities.at(to, n))));
        }
        std::printf("nnU-Net export, %s: labels %zu of %zu equal, largest probability difference %.3g\n",
                    r.dataset.c_str(), same, expected.labels.size(), worst);
        CHECK(same == expected.labels.size());
        CHECK(worst < 1e-5);
    }
}
