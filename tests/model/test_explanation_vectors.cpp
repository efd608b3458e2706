// docs/methods.md#test-vectors: test vectors TV1-TV5 and properties, through explain() on tiny
// TorchScript models (tests/data/models/make_test_models.py).
#include "engine/core/error.h"
#include "engine/explain/explanation.h"
#include "engine/explain/quadrature.h"
#include "engine/model/model.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace segxai;

namespace {

const std::string kModels = SEGXAI_TEST_DATA "/models/";

// A study whose voxels along i hold `values` (dims values.size() x 1 x 1), per channel.
Study line(const std::vector<std::vector<float>>& channels) {
    Study s;
    s.geometry.dims = {int64_t(channels[0].size()), 1, 1};
    for (size_t c = 0; c < channels.size(); ++c) {
        Volume v(s.geometry, fmt::format("c{}", c));
        v.voxels = channels[c];
        s.channels.push_back(v);
    }
    return s;
}

ExplainParameters atLayer(const std::string& layer) {
    ExplainParameters p;
    p.layer = layer;
    return p;
}

Target targetOf(const Study& s, int classIndex, const std::vector<int>& voxels) {
    Target t;
    t.classIndex = classIndex;
    t.className = fmt::format("class {}", classIndex);
    t.mask.assign(s.geometry.voxelCount(), 0);
    for (int v : voxels)
        t.mask[size_t(v)] = 1;
    t.voxelCount = voxels.size();
    return t;
}

std::vector<float> values(const Explanation& e, size_t map = 0) {
    return e.maps.at(map).values.voxels;
}

void checkClose(const std::vector<float>& got, const std::vector<double>& want, double margin = 1e-5) {
    REQUIRE(got.size() == want.size());
    for (size_t n = 0; n < got.size(); ++n) {
        INFO("element " << n);
        CHECK(got[n] == Approx(want[n]).margin(margin));
    }
}

ExplainParameters maxNormalised(const std::string& layer) {
    ExplainParameters p;
    p.layer = layer;
    p.normalize = Normalize::Max;
    return p;
}

} // namespace

TEST_CASE("TV1: Seg-Grad-CAM and Seg-HiRes-Grad-CAM on the 1-D toy", "[explain][tv]") {
    const auto model = Model::load(kModels + "tv1.pt");
    const Study s = line({{1, 2, -1, 3}});
    const std::vector<Method> cams = {Method::SegGradCam, Method::SegHiResGradCam};

    SECTION("class 1, T = {0, 1}") {
        const auto e = explain(*model, s, targetOf(s, 1, {0, 1}), cams, maxNormalised("layer"));
        CHECK(e[0].score == Approx(6.0));
        checkClose(values(e[0]), {1.0 / 3, 2.0 / 3, 0.5, 1.0});
        checkClose(values(e[1]), {0.5, 1.0, 0.0, 0.0});
        // Un-normalised, the HiRes map sums to S and Grad-CAM is [1, 2, 1.5, 3].
        const auto raw = explain(*model, s, targetOf(s, 1, {0, 1}), cams, atLayer("layer"));
        checkClose(values(raw[0]), {1.0, 2.0, 1.5, 3.0});
        double sum = 0.0;
        for (float v : values(raw[1]))
            sum += v;
        CHECK(sum == Approx(6.0));
        REQUIRE(raw[1].layerMap);
        CHECK(raw[1].layerMap->geometry.dims == Index3{4, 1, 1});
        CHECK(raw[0].layer == "layer");
        CHECK(raw[0].layerShape == std::vector<int64_t>{1, 2, 4, 1, 1});
    }
    SECTION("class 1, T = all: both maps are the logits") {
        const auto e = explain(*model, s, targetOf(s, 1, {0, 1, 2, 3}), cams, maxNormalised("layer"));
        checkClose(values(e[0]), {1.0 / 3, 2.0 / 3, 0.5, 1.0});
        // HiRes equals Grad-CAM when G_k(u) is constant in u.
        checkClose(values(e[1]), {1.0 / 3, 2.0 / 3, 0.5, 1.0});
    }
    SECTION("class 0, T = {2}") {
        const auto raw = explain(*model, s, targetOf(s, 0, {2}), cams, atLayer("layer"));
        CHECK(raw[0].score == Approx(1.0));
        // weights (-0.25, 0.25): raw [-0.25, -0.5, 0.25, -0.75] before the ReLU
        checkClose(values(raw[0]), {0.0, 0.0, 0.25, 0.0});
        const auto e = explain(*model, s, targetOf(s, 0, {2}), cams, maxNormalised("layer"));
        checkClose(values(e[0]), {0.0, 0.0, 1.0, 0.0});
        checkClose(values(e[1]), {0.0, 0.0, 1.0, 0.0});
    }
    SECTION("with a 1x1 head, normalised Seg-Grad-CAM is the same for every target of a class") {
        const auto a = explain(*model, s, targetOf(s, 1, {3}), {Method::SegGradCam}, maxNormalised("layer"));
        const auto b = explain(*model, s, targetOf(s, 1, {0, 2}), {Method::SegGradCam}, maxNormalised("layer"));
        checkClose(values(a[0]), {1.0 / 3, 2.0 / 3, 0.5, 1.0});
        checkClose(values(b[0]), {1.0 / 3, 2.0 / 3, 0.5, 1.0});
        // HiRes is zero outside T.
        const auto h = explain(*model, s, targetOf(s, 1, {0, 2}), {Method::SegHiResGradCam}, maxNormalised("layer"));
        CHECK(values(h[0])[1] == 0.0f);
        CHECK(values(h[0])[3] == 0.0f);
    }
    SECTION("normalised maps do not change when S is multiplied by a positive constant") {
        // Holds for the methods linear in the gradient. Seg-Grad-CAM++'s closed form is not
        // homogeneous in S (alpha = G^2 / (2 G^2 + sum(A) G^3) changes with |G|): checked apart.
        const auto scaled = Model::load(kModels + "tv1_scaled.pt");
        const std::vector<Method> all = {Method::SegGradCam, Method::SegHiResGradCam, Method::Saliency,
                                         Method::InputXGradient};
        const auto a = explain(*model, s, targetOf(s, 1, {0, 1}), all, maxNormalised("layer"));
        const auto b = explain(*scaled, s, targetOf(s, 1, {0, 1}), all, maxNormalised("layer"));
        CHECK(b[0].score == Approx(3.0 * a[0].score));
        for (size_t m = 0; m < all.size(); ++m) {
            INFO(methodId(all[m]));
            const std::vector<float> expected = values(a[m]);
            checkClose(values(b[m]), std::vector<double>(expected.begin(), expected.end()));
        }
        const auto plusA =
            explain(*model, s, targetOf(s, 1, {0, 1}), {Method::SegGradCamPlusPlus}, maxNormalised("layer"));
        const auto plusB =
            explain(*scaled, s, targetOf(s, 1, {0, 1}), {Method::SegGradCamPlusPlus}, maxNormalised("layer"));
        checkClose(values(plusA[0]), {5.0 / 21, 10.0 / 21, 1.0, 5.0 / 7});
        checkClose(values(plusB[0]), {11.0 / 57, 22.0 / 57, 1.0, 11.0 / 19});
    }
    SECTION("class 1, T = {0, 1}: Seg-Grad-CAM++ by hand, both variants") {
        // paper: alpha_1 = 4 / (8 + 6 * 8) = 1/14, w_1 = 2/7; alpha_2 = 9 / (18 + 27) = 1/5,
        // w_2 = 6/5; map [2/7, 4/7, 6/5, 6/7].
        ExplainParameters p = maxNormalised("layer");
        const auto paper = explain(*model, s, targetOf(s, 1, {0, 1}), {Method::SegGradCamPlusPlus}, p);
        checkClose(values(paper[0]), {5.0 / 21, 10.0 / 21, 1.0, 5.0 / 7});
        // monai: per-channel denominators 2 G^2 + sum(A G^3) = 8 + 24 and 18 + 0: w = (1/2, 3),
        // map [1/2, 1, 3, 3/2].
        p.variant = CamPlusPlusVariant::Monai;
        const auto monai = explain(*model, s, targetOf(s, 1, {0, 1}), {Method::SegGradCamPlusPlus}, p);
        checkClose(values(monai[0]), {1.0 / 6, 1.0 / 3, 1.0, 0.5});
        CHECK(monai[0].report()["parameters"]["variant"] == "monai");
    }
}

TEST_CASE("TV2: a 3-tap head spreads the gradient over the receptive field", "[explain][tv]") {
    const auto model = Model::load(kModels + "tv2.pt");
    const Study s = line({{1, 1, 1, 1}});
    const auto raw = explain(*model, s, targetOf(s, 0, {1}),
                             {Method::SegGradCam, Method::SegHiResGradCam, Method::Saliency}, atLayer("layer"));
    CHECK(raw[0].score == Approx(6.0));
    checkClose(values(raw[2]), {1.0, 2.0, 3.0, 0.0}); // the gradient (ReLU passes it at A = 1)
    checkClose(values(raw[1]), {1.0, 2.0, 3.0, 0.0}); // HiRes sums to y(1) = 6
    const auto e =
        explain(*model, s, targetOf(s, 0, {1}), {Method::SegGradCam, Method::SegHiResGradCam}, maxNormalised("layer"));
    checkClose(values(e[0]), {1.0, 1.0, 1.0, 1.0});
    checkClose(values(e[1]), {1.0 / 3, 2.0 / 3, 1.0, 0.0});
}

TEST_CASE("TV3: the ReLU comes before trilinear upsampling with align_corners false", "[explain][tv]") {
    // The layer averages pairs: z = [-1, 1]; the target's gradient is constant.
    const auto model = Model::load(kModels + "tv3.pt");
    const Study s = line({{-2, 0, 0, 2}});
    const auto e = explain(*model, s, targetOf(s, 0, {0, 1, 2, 3}), {Method::SegGradCam}, maxNormalised("layer"));
    checkClose(values(e[0]), {0.0, 0.25, 0.75, 1.0});
    REQUIRE(e[0].layerMap);
    CHECK(e[0].layerMap->geometry.dims == Index3{2, 1, 1});
    CHECK(e[0].layerMap->voxels[0] == 0.0f); // ReLU at the layer grid
    // Layer voxel 0 covers input voxels 0 and 1: its centre sits at index 0.5.
    CHECK(e[0].layerMap->geometry.voxelToWorld({0, 0, 0}).x == Approx(0.5));
    CHECK(e[0].layerMap->geometry.spacing.x == Approx(2.0));
}

TEST_CASE("TV4: Integrated Gradients of x^3 under every quadrature rule", "[explain][tv]") {
    const auto model = Model::load(kModels + "cube.pt");
    const Study s = line({{1, 0}});
    const std::vector<std::pair<QuadratureRule, double>> expected = {
        {QuadratureRule::RiemannLeft, 0.92625},    {QuadratureRule::RiemannRight, 1.07625},
        {QuadratureRule::RiemannMiddle, 0.999375}, {QuadratureRule::Trapezoid, 1.0013850},
        {QuadratureRule::GaussLegendre, 1.0},
    };
    for (const auto& [rule, value] : expected) {
        INFO(quadratureName(rule));
        ExplainParameters p;
        p.steps = 20;
        p.rule = rule;
        const auto e = explain(*model, s, targetOf(s, 0, {0}), {Method::IntegratedGradients}, p);
        CHECK(values(e[0])[0] == Approx(value).epsilon(1e-5));
        REQUIRE(e[0].completenessGap);
        CHECK(*e[0].completenessGap == Approx(std::abs(value - 1.0)).margin(1e-5));
    }
    // f(x1, x2) = x1 x2 at (2, 3): IG = (3, 3), summing to 6.
    const auto product = Model::load(kModels + "product.pt");
    const Study two = line({{2}, {3}});
    const auto e = explain(*product, two, targetOf(two, 0, {0}), {Method::IntegratedGradients}, ExplainParameters{});
    REQUIRE(e[0].maps.size() == 2);
    CHECK(values(e[0], 0)[0] == Approx(3.0));
    CHECK(values(e[0], 1)[0] == Approx(3.0));
    CHECK(*e[0].completenessGap < 1e-6);
}

TEST_CASE("TV5: SmoothGrad of a linear model is its weights and of x^3 it is 3 + 3 sigma^2", "[explain][tv]") {
    const auto linear = Model::load(kModels + "linear.pt");
    Study s;
    s.geometry.dims = {2, 2, 2};
    s.channels = {test::makeVolume(
                      s.geometry, [](auto i, auto j, auto k) { return float(i + 2 * j - k); }, "a"),
                  test::makeVolume(
                      s.geometry, [](auto i, auto, auto k) { return float(3 * i * k); }, "b")};
    ExplainParameters p;
    p.samples = 7;
    p.noiseFraction = 0.5;
    const auto e = explain(*linear, s, targetOf(s, 0, {0, 1, 2, 3, 4, 5, 6, 7}), {Method::SmoothGrad}, p);
    REQUIRE(e[0].maps.size() == 2);
    CHECK(e[0].maps[0].channel == "a");
    for (float v : values(e[0], 0))
        CHECK(v == Approx(0.5f));
    for (float v : values(e[0], 1))
        CHECK(v == Approx(-2.0f));

    // x^3 at x = 1, sigma = 0.1 (the channel spans 0..1): E = 3.03, standard error 0.6 / sqrt(n).
    const auto cube = Model::load(kModels + "cube.pt");
    const Study c = line({{1, 0}});
    ExplainParameters q;
    q.samples = 4000;
    q.noiseFraction = 0.1;
    q.seed = 11;
    const auto m = explain(*cube, c, targetOf(c, 0, {0}), {Method::SmoothGrad}, q);
    CHECK(values(m[0])[0] == Approx(3.03).margin(4 * 0.6 / std::sqrt(4000.0)));
    // Seeded: the same seed gives the same map, another seed another.
    q.samples = 10;
    const auto a = explain(*cube, c, targetOf(c, 0, {0}), {Method::SmoothGrad}, q);
    const auto b = explain(*cube, c, targetOf(c, 0, {0}), {Method::SmoothGrad}, q);
    q.seed = 12;
    const auto d = explain(*cube, c, targetOf(c, 0, {0}), {Method::SmoothGrad}, q);
    CHECK(values(a[0]) == values(b[0]));
    CHECK(values(a[0]) != values(d[0]));
}

TEST_CASE("TV5, antithetic: paired noise cancels the odd terms of the gradient exactly", "[explain][tv]") {
    // f(x1, x2) = x1 x2 at (2, 3): the gradient (x2 + e2, x1 + e1) is linear in the noise, so
    // one antithetic pair gives (3, 2) exactly, for any sigma; independent samples do not.
    const auto product = Model::load(kModels + "product.pt");
    const Study two = line({{2, 0}, {3, 0}});
    ExplainParameters p;
    p.samples = 2;
    p.noiseFraction = 0.5;
    p.noiseSampling = NoiseSampling::Antithetic;
    const auto paired = explain(*product, two, targetOf(two, 0, {0}), {Method::SmoothGrad}, p);
    REQUIRE(paired[0].maps.size() == 2);
    CHECK(values(paired[0], 0)[0] == Approx(3.0).margin(1e-5));
    CHECK(values(paired[0], 1)[0] == Approx(2.0).margin(1e-5));
    p.noiseSampling = NoiseSampling::Independent;
    const auto independent = explain(*product, two, targetOf(two, 0, {0}), {Method::SmoothGrad}, p);
    CHECK(std::abs(values(independent[0], 0)[0] - 3.0f) > 1e-3);

    // x^3 at x = 1, sigma = 0.1: each pair averages to 3 + 3 e^2, so the estimate of 3.03 has a
    // standard error of 0.042 / sqrt(pairs), against 0.6 / sqrt(n) for independent samples.
    const auto cube = Model::load(kModels + "cube.pt");
    const Study c = line({{1, 0}});
    ExplainParameters q;
    q.samples = 200;
    q.noiseFraction = 0.1;
    q.noiseSampling = NoiseSampling::Antithetic;
    const auto m = explain(*cube, c, targetOf(c, 0, {0}), {Method::SmoothGrad}, q);
    CHECK(values(m[0])[0] == Approx(3.03).margin(4 * 0.042 / std::sqrt(100.0)));
    // Names, and a parameter file that names neither is refused.
    CHECK(parseNoiseSampling("antithetic") == NoiseSampling::Antithetic);
    CHECK(std::string(noiseSamplingName(NoiseSampling::Independent)) == "independent");
    CHECK_THROWS_WITH(parseNoiseSampling("sobol", "batch.json"), Catch::Contains("batch.json: 'sobol'"));
}

TEST_CASE("SmoothGrad's noise does not depend on how its samples are batched", "[explain][tv]") {
    // Each sample draws from its own stream, and a batch's samples are drawn in parallel: a
    // map from batches of 1, 3 or all 10 samples is the same to the bit, also when batches
    // split antithetic pairs (3 per batch).
    const auto cube = Model::load(kModels + "cube.pt");
    const Study c = line({{1.0f, 0.5f, -0.25f}});
    for (NoiseSampling sampling : {NoiseSampling::Independent, NoiseSampling::Antithetic}) {
        INFO(noiseSamplingName(sampling));
        ExplainParameters q;
        q.samples = 10;
        q.noiseFraction = 0.2;
        q.noiseSampling = sampling;
        q.seed = 5;
        std::vector<std::vector<float>> maps;
        for (int batch : {1, 3, 10}) {
            q.batch = batch;
            maps.push_back(values(explain(*cube, c, targetOf(c, 0, {0, 1, 2}), {Method::SmoothGrad}, q)[0]));
        }
        CHECK(maps[0] == maps[1]);
        CHECK(maps[0] == maps[2]);
        // And the noise is there: 3 (x + e)^2 averaged over the samples is not 3 x^2.
        CHECK(std::abs(maps[0][0] - 3.0f) > 1e-4);
    }
}

TEST_CASE("quadrature rules integrate what they should exactly", "[explain]") {
    // Gauss-Legendre with n points is exact up to degree 2n - 1.
    const Quadrature g = quadrature(QuadratureRule::GaussLegendre, 5);
    double integral = 0.0, weights = 0.0;
    for (size_t j = 0; j < g.points.size(); ++j) {
        integral += g.weights[j] * std::pow(g.points[j], 9);
        weights += g.weights[j];
    }
    CHECK(integral == Approx(0.1).epsilon(1e-12));
    CHECK(weights == Approx(1.0).epsilon(1e-12));
    CHECK_THROWS_AS(quadrature(QuadratureRule::Trapezoid, 1), Error);
    CHECK(parseQuadratureRule("gauss-legendre") == QuadratureRule::GaussLegendre);
    CHECK_THROWS_WITH(parseQuadratureRule("simpson"), Catch::Contains("riemann-left"));
}

TEST_CASE("saliency, input x gradient and occlusion on a linear model", "[explain]") {
    const auto model = Model::load(kModels + "linear.pt");
    Study s;
    s.geometry.dims = {2, 2, 2};
    s.channels = {test::makeVolume(
                      s.geometry, [](auto i, auto j, auto k) { return float(1 + i + 2 * j + 4 * k); }, "a"),
                  test::makeVolume(
                      s.geometry, [](auto, auto, auto) { return 1.0f; }, "b")};
    const Target all = targetOf(s, 0, {0, 1, 2, 3, 4, 5, 6, 7});
    ExplainParameters p;
    p.window = 1;
    p.stride = 1;
    const auto e =
        explain(*model, s, all, {Method::Saliency, Method::SaliencyAbs, Method::InputXGradient, Method::Occlusion}, p);
    for (float v : values(e[0], 1))
        CHECK(v == Approx(-2.0f));
    for (float v : values(e[1], 1))
        CHECK(v == Approx(2.0f));
    for (size_t n = 0; n < 8; ++n)
        CHECK(values(e[2], 0)[n] == Approx(0.5 * s.channels[0].voxels[n]));
    // Occluding one voxel (both channels, zero baseline) drops S by 0.5 a - 2 b there.
    REQUIRE(e[3].maps.size() == 1);
    for (size_t n = 0; n < 8; ++n)
        CHECK(values(e[3])[n] == Approx(0.5 * s.channels[0].voxels[n] - 2.0));
    // Larger windows: each voxel gets its window's drop.
    p.window = 2;
    p.stride = 2;
    const auto w = explain(*model, s, all, {Method::Occlusion}, p);
    double total = 0.0;
    for (float a : s.channels[0].voxels)
        total += 0.5 * a - 2.0;
    for (float v : values(w[0]))
        CHECK(v == Approx(total));
}

TEST_CASE("an empty target gives zero maps and a warning", "[explain]") {
    const auto model = Model::load(kModels + "tv1.pt");
    const Study s = line({{1, 2, -1, 3}});
    const Target empty = [&] {
        Target t = targetOf(s, 1, {});
        t.warnings.push_back("target 'x' is empty: the maps are zero");
        return t;
    }();
    const auto e = explain(*model, s, empty, {Method::SegGradCam, Method::Saliency, Method::IntegratedGradients},
                           atLayer("layer"));
    for (const auto& x : e) {
        for (const auto& map : x.maps) {
            for (float v : map.values.voxels)
                CHECK(v == 0.0f);
        }
        CHECK(x.warnings.size() >= 1);
    }
}
