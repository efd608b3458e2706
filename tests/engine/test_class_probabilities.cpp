// A segmentation's per-class probabilities kept compactly: every class in float32 for few
// classes, the four most probable per voxel in half precision for many.
#include "engine/model/class_probabilities.h"

#include <algorithm>
#include <catch2/catch.hpp>

using namespace segxai;

namespace {

Geometry grid(int64_t x, int64_t y, int64_t z) {
    Geometry g;
    g.dims = {x, y, z};
    return g;
}

} // namespace

TEST_CASE("few classes are kept exactly, every class at every voxel", "[probabilities]") {
    ClassProbabilities p(grid(2, 1, 1), 3);
    CHECK(p.dense());
    const float first[] = {0.1f, 0.2f, 0.7f}, second[] = {0.3333333f, 0.0001f, 0.6665667f};
    p.setVoxel(0, first);
    p.setVoxel(1, second);
    CHECK(p.at(2, 0) == 0.7f);
    CHECK(p.at(1, 1) == 0.0001f); // below the floor, still kept: nothing is left out
    CHECK(p.at(0, 1) == 0.3333333f);
    CHECK(p.volume(2).voxels == std::vector<float>{0.7f, 0.6665667f});
    CHECK(p.bytes() == 3 * 2 * sizeof(float));
    p.offer(1, {0.5f, 0.25f});
    CHECK(p.at(1, 0) == 0.5f);
    p.fill(0, 1.0f);
    CHECK(p.at(0, 1) == 1.0f);
    CHECK(p.at(2, 1) == 0.0f);
}

TEST_CASE("many classes keep the four most probable per voxel above the floor, in half precision", "[probabilities]") {
    ClassProbabilities p(grid(3, 1, 1), 105);
    CHECK_FALSE(p.dense());
    CHECK(p.bytes() == 3 * 4 * 2 * sizeof(uint16_t)); // 16 bytes per voxel, whatever the classes
    std::vector<float> values(105, 0.0f);
    // Voxel 0: six classes, 0.3, 0.25, 0.2, 0.15, 0.06, 0.04: the last two are left out.
    const float six[] = {0.3f, 0.25f, 0.2f, 0.15f, 0.06f, 0.04f};
    for (int c = 0; c < 6; ++c)
        values[size_t(10 + c)] = six[c];
    p.setVoxel(0, values.data());
    for (int c = 0; c < 4; ++c)
        CHECK(p.at(size_t(10 + c), 0) == Approx(six[c]).epsilon(1.0 / 2048));
    CHECK(p.at(14, 0) == 0.0f);
    CHECK(p.at(15, 0) == 0.0f);
    CHECK(p.at(0, 0) == 0.0f);
    // Voxel 1: one confident class and traces below the floor (1/1024), which read 0.
    std::fill(values.begin(), values.end(), 0.0005f);
    values[42] = 0.948f;
    p.setVoxel(1, values.data());
    CHECK(p.at(42, 1) == Approx(0.948).margin(2.5e-4));
    CHECK(p.at(41, 1) == 0.0f);
    // Offering class by class gives the same as a whole voxel at once, whatever the order.
    ClassProbabilities q(grid(3, 1, 1), 105);
    for (int c = 104; c >= 0; --c) {
        std::vector<float> map(3, 0.0f);
        if (c >= 10 && c < 16) map[0] = six[c - 10];
        q.offer(size_t(c), map);
    }
    for (size_t c = 0; c < 105; ++c)
        CHECK(q.at(c, 0) == p.at(c, 0));
    // The background of everything, as nnU-Net writes outside its crop.
    q.fill(0, 1.0f);
    CHECK(q.at(0, 2) == 1.0f);
    CHECK(q.at(12, 0) == 0.0f);
    CHECK(q.volume(0).voxels == std::vector<float>{1.0f, 1.0f, 1.0f});
}

TEST_CASE("a large grid's probabilities start at 0 for every class, filled on every core", "[probabilities]") {
    // Above parallelFilled's chunk (1 << 20 values), so the fill is split between threads; each
    // allocation follows a freed one of its size holding other values, which the heap hands out
    // again unwritten, so a value the fill missed shows.
    const Geometry g = grid(129, 131, 67);
    const size_t voxels = g.voxelCount();
    { std::vector<uint16_t> dirty(2 * ClassProbabilities::kKeptPerVoxel * voxels, uint16_t(1)); }
    const ClassProbabilities many(g, 105);
    size_t nonzero = 0;
    for (size_t v = 0; v < voxels; ++v)
        nonzero += many.at(1, v) != 0.0f;
    CHECK(nonzero == 0);
    { std::vector<float> dirty(3 * voxels, 0.5f); }
    ClassProbabilities few(g, 3);
    std::vector<float> values(voxels);
    few.read(2, 0, voxels, values.data());
    CHECK(std::count(values.begin(), values.end(), 0.0f) == ptrdiff_t(voxels));
    const float kept[] = {0.9f, 0.1f, 0.0f};
    few.setVoxel(voxels - 1, kept);
    CHECK(few.at(0, voxels - 1) == 0.9f);
}
