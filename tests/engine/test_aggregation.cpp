// Agg2Exp aggregation: TV6 by hand, masses summing to 1, invariance to scaling, the cohort
// mean and the column names existing analyses read.
#include "engine/analysis/aggregation.h"

#include <catch2/catch.hpp>

using namespace segxai;

namespace {

void checkAll(const std::vector<double>& got, const std::vector<double>& want) {
    REQUIRE(got.size() == want.size());
    for (size_t n = 0; n < got.size(); ++n) {
        INFO("element " << n);
        CHECK(got[n] == Approx(want[n]).margin(1e-12));
    }
}

const std::vector<uint16_t> kSegments{0, 0, 0, 1, 1, 2};
const std::vector<float> kE{0.1f, -0.3f, 0.5f, 0.5f, -0.2f, 0.4f};

} // namespace

TEST_CASE("TV6: masses and means of |E| and of its positive and negative parts", "[aggregation][tv]") {
    const SegmentShares s = aggregateOverSegments(kE, kSegments, 3);
    const auto abs = size_t(AttributionPart::Absolute), pos = size_t(AttributionPart::Positive),
               neg = size_t(AttributionPart::Negative);
    checkAll(s.mass[abs], {0.45, 0.35, 0.20});
    checkAll(s.mean[abs], {0.30, 0.35, 0.40});
    checkAll(s.mass[pos], {0.40, 1.0 / 3.0, 4.0 / 15.0});
    checkAll(s.mean[pos], {0.20, 0.25, 0.40});
    checkAll(s.mass[neg], {0.60, 0.40, 0.0});
    checkAll(s.mean[neg], {0.10, 0.10, 0.0});
}

TEST_CASE("masses sum to 1 per class and do not change when the map is scaled", "[aggregation]") {
    std::vector<float> scaled;
    for (float v : kE)
        scaled.push_back(3.7f * v);
    const SegmentShares a = aggregateOverSegments(kE, kSegments, 4), b = aggregateOverSegments(scaled, kSegments, 4);
    for (int p = 0; p < kAttributionParts; ++p) {
        double sum = 0.0;
        for (double m : a.mass[size_t(p)])
            sum += m;
        CHECK(sum == Approx(1.0));
        for (size_t k = 0; k < 4; ++k) {
            CHECK(b.mass[size_t(p)][k] == Approx(a.mass[size_t(p)][k]).margin(1e-7));
            CHECK(b.mean[size_t(p)][k] == Approx(3.7 * a.mean[size_t(p)][k]).margin(1e-6));
        }
    }
    CHECK(a.mean[0][3] == 0.0); // an empty segment
    // A zero map has no mass anywhere (not NaN).
    const SegmentShares zero = aggregateOverSegments(std::vector<float>(6, 0.0f), kSegments, 3);
    for (double m : zero.mass[0])
        CHECK(m == 0.0);
    CHECK_THROWS(aggregateOverSegments(kE, kSegments, 2)); // label 2 out of range
}

TEST_CASE("two channels' attributions add up before the shares", "[aggregation]") {
    Geometry g;
    g.dims = {6, 1, 1};
    Volume a(g, "a"), b(g, "b");
    a.voxels = kE;
    b.voxels = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f};
    LabelVolume segments(g, "segments");
    segments.labels = kSegments;
    const SegmentShares s = aggregateOverSegments({&a, &b}, segments, 3);
    // |E| sums 0.9, 0.7, 1.4 of 3.0.
    checkAll(s.mass[0], {0.3, 0.7 / 3.0, 1.4 / 3.0});
    checkAll(s.mean[0], {0.3, 0.35, 1.4});
}

TEST_CASE("the cohort mean and the Agg2Exp column names", "[aggregation]") {
    AggregationMatrix m;
    m.method = "saliency";
    m.classNames = {"background", "liver", "spleen"};
    m.targetClasses = {1, 2};
    m.segmentVoxels = {10, 4, 2};
    m.rows = {aggregateOverSegments(kE, kSegments, 3),
              aggregateOverSegments(std::vector<float>{1, 1, 1, 1, 1, 1}, kSegments, 3)};
    AggregationMatrix other = m;
    other.rows[1] = aggregateOverSegments(std::vector<float>{0, 0, 0, 1, 1, 0}, kSegments, 3);
    const AggregationMatrix mean = cohortMean({m, other});
    CHECK(mean.mass(AttributionPart::Absolute, 0, 0) == Approx(0.45));
    CHECK(mean.mass(AttributionPart::Absolute, 1, 1) == Approx(0.5 * (2.0 / 6.0 + 1.0)));
    const auto columns = aggregationColumns(m);
    const auto row = aggregationRow(m);
    REQUIRE(columns.size() == row.size());
    CHECK(columns.size() == 3 * 2 * 3 * 2);
    CHECK(columns[0] == "liver_explanation_in_background_mass");
    CHECK(columns[1] == "liver_explanation_in_background_mean");
    CHECK(columns[2] == "liver_explanation_in_liver_mass");
    CHECK(columns[6] == "spleen_explanation_in_background_mass");
    CHECK(columns[12] == "liver_explanation_in_background_positive_mass");
    CHECK(row[0] == Approx(0.45));
    CHECK(row[1] == Approx(0.30));

    AggregationMatrix spaced = m;
    spaced.classNames = {"background", "deep grey", "white-matter"};
    const auto names = aggregationColumns(spaced);
    CHECK(names[2] == "deep_grey_explanation_in_deep_grey_mass"); // R and pandas read the same names
    CHECK(names[10] == "white_matter_explanation_in_white_matter_mass");
}
