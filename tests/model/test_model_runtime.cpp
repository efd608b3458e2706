// The model runtime on tiny TorchScript models made by tests/data/models/make_test_models.py.
#include "engine/core/error.h"
#include "engine/core/grid.h"
#include "engine/core/resample.h"
#include "engine/model/inference.h"
#include "engine/model/model.h"
#include "engine/torch/model_forward.h"
#include "engine/torch/tensors.h"
#include "tests/support/temp_dir.h"
#include "tests/support/volumes.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace segxai;
namespace fs = std::filesystem;

namespace {

const std::string kModels = SEGXAI_TEST_DATA "/models/";

Study studyOf(std::vector<Volume> channels) {
    Study s;
    s.geometry = channels.front().geometry;
    s.channels = std::move(channels);
    return s;
}

Geometry box(Index3 dims) {
    Geometry g;
    g.dims = dims;
    return g;
}

// A model file copied beside a card of our own (cards live next to the model).
std::string withCard(const test::TempDir& dir, const std::string& model, const std::string& card) {
    const fs::path target = dir.path() / fs::path(model).filename();
    fs::copy_file(kModels + model, target, fs::copy_options::overwrite_existing);
    std::ofstream(fs::path(target).replace_extension(".json")) << card;
    return target.string();
}

} // namespace

TEST_CASE("spatial axes reach the model in (i, j, k) order", "[model]") {
    // axis_probe answers only for a 5 x 6 x 7 input and marks where the input rises along
    // the first spatial axis.
    const auto model = Model::load(kModels + "axis_probe.pt");
    auto value = [](int64_t i, int64_t j, int64_t k) { return float((i * 7 + j * 3 + k) % 5); };
    const Study study = studyOf({test::makeVolume(box({5, 6, 7}), value)});
    const Segmentation s = segmentStudy(*model, study);
    for (int64_t k = 0; k < 7; ++k)
        for (int64_t j = 0; j < 6; ++j)
            for (int64_t i = 0; i < 5; ++i) {
                const float rise = value(i, j, k) - value((i + 4) % 5, j, k);
                REQUIRE(s.labels.at(i, j, k) == (rise > 0 ? 1 : 0));
            }
    CHECK(s.probabilities.size() == 2);
    CHECK(s.classNames[1] == "class 1");

    test::TempDir dir;
    const auto reversed = Model::load(withCard(dir, "axis_probe.pt", R"({"axis_order": "kji"})"));
    CHECK_THROWS_WITH(segmentStudy(*reversed, study), Catch::Contains("forward failed") &&
                                                          Catch::Contains("axis probe expects spatial size 5 x 6 x 7"));
}

TEST_CASE("sliding-window inference matches whole-volume inference", "[model]") {
    test::TempDir dir;
    const Volume input = test::makeVolume(box({40, 36, 30}), [](auto i, auto j, auto k) {
        return float(std::sin(0.31 * i) + std::cos(0.23 * j) * std::sin(0.17 * k + 0.4));
    });
    const Study study = studyOf({input});
    const auto whole = Model::load(withCard(dir, "local_fcn.pt", R"({"name": "whole"})"));
    const Segmentation a = segmentStudy(*whole, study);
    CHECK_FALSE(a.slidingWindow);
    test::TempDir dir2;
    const auto windowed =
        Model::load(withCard(dir2, "local_fcn.pt", R"({"sliding_window": {"patch": [16, 16, 16], "overlap": 0.5}})"));
    const Segmentation b = segmentStudy(*windowed, study);
    CHECK(b.slidingWindow);
    double worst = 0.0;
    size_t agree = 0;
    for (size_t n = 0; n < a.labels.labels.size(); ++n) {
        worst = std::max(worst, double(std::abs(a.probabilities.at(1, n) - b.probabilities.at(1, n))));
        agree += a.labels.labels[n] == b.labels.labels[n];
    }
    // The receptive field is 5 voxels; Gaussian blending gives window borders ~1e-3 weight.
    CHECK(worst < 0.01);
    CHECK(double(agree) / double(a.labels.labels.size()) > 0.999);
}

TEST_CASE("a card's spacing resamples the input and maps probabilities back", "[model]") {
    // probabilities.pt: p(class 1) = sigmoid(8 x), so labels follow the input's sign.
    Geometry g = box({30, 30, 30});
    g.origin = {-15, -15, -15};
    const Volume input = test::makeVolume(g, [&](auto i, auto j, auto k) {
        return float(g.voxelToWorld({double(i), double(j), double(k)}).x + 0.3);
    });
    test::TempDir dir;
    const auto model = Model::load(withCard(
        dir, "probabilities.pt", R"({"output": "probabilities", "spacing_mm": 3, "classes": ["neg", "pos"]})"));
    const Segmentation s = segmentStudy(*model, studyOf({input}));
    REQUIRE(s.labels.geometry.sameGrid(g));
    size_t wrong = 0;
    for (int64_t k = 0; k < 30; ++k)
        for (int64_t j = 0; j < 30; ++j)
            for (int64_t i = 1; i < 29; ++i)
                wrong += s.labels.at(i, j, k) != (input.at(i, j, k) > 0 ? 1 : 0);
    CHECK(wrong == 0);
    CHECK(s.classNames == std::vector<std::string>{"neg", "pos"});
    // Probabilities pass through unchanged (no softmax on top) and stay in [0, 1].
    CHECK(s.probabilities.at(1, 29, 5, 5) == Approx(1.0).margin(1e-3));
}

TEST_CASE("resampling to a coarser grid and back keeps a linear field", "[model]") {
    Geometry g = box({40, 40, 40});
    const Volume field = test::makeVolume(g, [](auto i, auto j, auto k) { return float(0.5 * i - 0.25 * j + k); });
    const Geometry coarse = gridWithSpacing(g, glm::dvec3(2.0));
    const Volume back = resampleLinear(resampleLinear(field, coarse), g);
    for (int64_t i = 1; i < 38; ++i)
        CHECK(back.at(i, 20, 20) == Approx(field.at(i, 20, 20)).margin(1e-4));
}

TEST_CASE("a MONAI bundle folder loads with its channel and class names", "[model]") {
    const auto model = Model::load(kModels + "bundle");
    CHECK(model->card().name == "test bundle");
    CHECK(model->card().inputChannels == std::vector<std::string>{"T1"});
    REQUIRE(model->card().classes.size() == 2);
    CHECK(model->card().classes[1].name == "tumour");
    const Study study = studyOf({test::makeVolume(box({8, 9, 10}), [](auto i, auto, auto) { return float(i); })});
    const Segmentation s = segmentStudy(*model, study);
    CHECK(s.classNames[1] == "tumour");
}

TEST_CASE("a bare model's input channels come from its first convolution", "[model]") {
    const auto model = Model::load(kModels + "local_fcn.pt");
    CHECK(model->expectedInputChannels() == 1);
    CHECK(model->card().source.find("defaults") != std::string::npos);
    const Study twoChannels = studyOf({test::makeVolume(box({8, 8, 8}), [](auto, auto, auto) { return 1.0f; }),
                                       test::makeVolume(box({8, 8, 8}), [](auto, auto, auto) { return 1.0f; })});
    CHECK_THROWS_WITH(segmentStudy(*model, twoChannels), "model expects 1 input channel, study has 2");
}

TEST_CASE("broken models and bad outputs give clear errors", "[model]") {
    const Study one = studyOf({test::makeVolume(box({8, 8, 8}), [](auto i, auto, auto) { return float(i); })});
    test::TempDir dir;
    std::ofstream(dir.file("garbage.pt")) << "not a zip archive";
    CHECK_THROWS_WITH(Model::load(dir.file("garbage.pt")),
                      Catch::Contains("garbage.pt") && Catch::Contains("not a TorchScript model"));
    CHECK_THROWS_WITH(Model::load(dir.file("absent.pt")), Catch::Contains("absent.pt: model not found"));
    CHECK_THROWS_WITH(Model::load(dir.path().string()), Catch::Contains("MONAI bundle"));

    const auto tiny = Model::load(kModels + "tiny_unet_traced.pt");
    CHECK_THROWS_WITH(segmentStudy(*tiny, one), "model expects 2 input channels (t1, flair), study has 1");
    CHECK_THROWS_WITH(segmentStudy(*Model::load(kModels + "throws.pt"), one),
                      Catch::Contains("deliberate failure inside forward"));
    CHECK_THROWS_WITH(segmentStudy(*Model::load(kModels + "wrong_shape.pt"), one),
                      Catch::Contains("is not [batch, classes, 8, 8, 8]"));
    CHECK_THROWS_WITH(segmentStudy(*Model::load(kModels + "nan_output.pt"), one), Catch::Contains("NaN"));

    const auto broken = withCard(dir, "local_fcn.pt", R"({"spacing_mm": "fine"})");
    CHECK_THROWS_WITH(Model::load(broken), Catch::Contains("local_fcn.json") && Catch::Contains("spacing_mm"));
}

TEST_CASE("105 classes by sliding window: sums in half precision agree with float32, and too little memory is "
          "refused with both figures",
          "[model][memory]") {
    test::TempDir dir;
    const auto model =
        Model::load(withCard(dir, "many_classes.pt", R"({"sliding_window": {"patch": [16, 16, 16], "overlap": 0.5}})"));
    const Volume input = test::makeVolume(box({40, 36, 30}), [](auto i, auto j, auto k) {
        return float(std::sin(0.21 * i) * std::cos(0.17 * j) + 0.1 * std::sin(0.29 * k));
    });
    const torch::Tensor x = volumesToTensor({input}, false);
    torch::InferenceMode noGrad;
    std::string note;
    const torch::Tensor whole = torch::softmax(forwardModel(*model, x, nullptr), 1);
    const torch::Tensor half = forwardModel(*model, x, nullptr, true, WindowSums{0, &note});
    CHECK(half.scalar_type() == torch::kHalf);
    CHECK_THAT(note, Catch::Contains("windows summed in half precision") && Catch::Contains("105 classes"));
    const torch::Tensor fromHalf = torch::softmax(half.to(torch::kFloat32), 1);
    const double worst = (fromHalf - whole).abs().max().item<double>();
    const double agree = (fromHalf.argmax(1) == whole.argmax(1)).to(torch::kFloat64).mean().item<double>();
    std::printf("105 classes, windows summed in half precision: largest probability difference %.2g, labels %.4f "
                "equal\n",
                worst, agree);
    CHECK(worst < 2e-3);
    CHECK(agree > 0.998);

    // A segmentation of these 105 classes keeps 16 bytes per voxel of probabilities.
    const Segmentation s = segmentStudy(*model, studyOf({input}));
    CHECK(s.probabilities.bytes() == 16 * input.voxels.size());
    const Volume labelled = s.probabilities.volume(s.labels.labels[0]);
    CHECK(labelled.voxels[0] >= 1.0f / 105.0f);

    setenv("SEGXAI_MEMORY_LIMIT_MB", "1", 1);
    CHECK_THROWS_WITH(forwardModel(*model, x, nullptr, true, WindowSums{0, &note}),
                      Catch::Contains("the blended windows of 105 classes x") && Catch::Contains("GB are available"));
    unsetenv("SEGXAI_MEMORY_LIMIT_MB");
}

TEST_CASE("sliding windows stream slabs along the longest axis that blend to the whole output", "[model][memory]") {
    // A forward that doubles its input blends back to exactly twice the input (the windows'
    // shares of the blend sum to 1 at every voxel), whichever axis is longest and however the
    // windows are batched; every output row comes once, in order.
    for (const std::array<int64_t, 3>& size : {std::array<int64_t, 3>{44, 20, 24}, {20, 44, 24}, {20, 24, 44}}) {
        const torch::Tensor input = torch::rand({1, 2, size[0], size[1], size[2]});
        SlidingWindow window;
        window.patch = {16, 16, 16};
        window.overlap = 0.5;
        const auto doubled = [](const torch::Tensor& batch) { return batch * 2.0; };
        for (int64_t batch : {1, 3}) {
            int axis = -1;
            int64_t next = 0;
            torch::Tensor out = torch::zeros_like(input);
            slidingWindowSlabs(input, window, doubled, nullptr, batch, {}, [&](const OutputSlab& slab) {
                axis = slab.axis;
                CHECK(slab.first == next);
                next = slab.first + slab.values.size(2 + slab.axis);
                out.narrow(2 + slab.axis, slab.first, slab.values.size(2 + slab.axis)).copy_(slab.values);
            });
            const int64_t longest = int64_t(std::max_element(size.begin(), size.end()) - size.begin());
            CHECK(axis == longest);
            CHECK(next == size[size_t(longest)]);
            CHECK((out - input * 2.0).abs().max().item<double>() < 1e-5);
            const torch::Tensor whole = slidingWindowForward(input, window, doubled, nullptr, batch);
            CHECK(torch::equal(whole, out));
        }
    }
}

TEST_CASE("105 classes reduced slab by slab when their float32 maps would not fit: the same labels and "
          "probabilities",
          "[model][memory]") {
    test::TempDir dir;
    const Volume input = test::makeVolume(box({40, 36, 30}), [](auto i, auto j, auto k) {
        return float(std::sin(0.21 * i) * std::cos(0.17 * j) + 0.1 * std::sin(0.29 * k));
    });
    const auto model =
        Model::load(withCard(dir, "many_classes.pt", R"({"sliding_window": {"patch": [16, 16, 16], "overlap": 0.5}})"));
    const Segmentation whole = segmentStudy(*model, studyOf({input}));
    // 105 classes x 43200 voxels x 4 bytes (18 MB) is more than a quarter of 20 MB.
    setenv("SEGXAI_MEMORY_LIMIT_MB", "20", 1);
    const Segmentation reduced = segmentStudy(*model, studyOf({input}));
    unsetenv("SEGXAI_MEMORY_LIMIT_MB");
    REQUIRE(reduced.labels.labels.size() == whole.labels.labels.size());
    CHECK(reduced.labels.geometry.sameGrid(input.geometry));
    CHECK(reduced.labels.labels == whole.labels.labels);
    double worst = 0.0;
    for (size_t v = 0; v < whole.labels.labels.size(); ++v)
        for (size_t c = 0; c < 105; ++c)
            worst = std::max(worst, double(std::abs(whole.probabilities.at(c, v) - reduced.probabilities.at(c, v))));
    CHECK(worst == 0.0); // the same float32 blend, kept in the same half-precision slots
}
