#include "engine/analysis/connected_components.h"
#include "engine/core/error.h"

#include <catch2/catch.hpp>
#include <functional>

using namespace segxai;

TEST_CASE("connectivity 6, 18 and 26 split diagonal neighbours differently", "[components]") {
    Geometry g;
    g.dims = {4, 4, 4};
    std::vector<uint8_t> mask(64, 0);
    auto at = [&](int i, int j, int k) -> uint8_t& { return mask[size_t(i + 4 * (j + 4 * k))]; };
    at(0, 0, 0) = 1;
    at(1, 1, 0) = 1; // edge neighbour of (0,0,0)
    at(2, 2, 1) = 1; // corner neighbour of (1,1,0)
    at(3, 3, 3) = 1; // alone
    at(3, 2, 3) = 1; // face neighbour of (3,3,3)
    CHECK(connectedComponents(g, mask, 6).count() == 4);
    CHECK(connectedComponents(g, mask, 18).count() == 3);
    const Components c = connectedComponents(g, mask, 26);
    REQUIRE(c.count() == 2);
    CHECK(c.sizes[1] == 3);
    CHECK(c.sizes[2] == 2);
    CHECK(c.labels[0] == 1);
    CHECK_THROWS_AS(connectedComponents(g, mask, 8), Error);
}

namespace {

// Components by union-find over every pair of neighbours, numbered in the scan order of their
// first voxel: the definition, written independently of the flood fill.
std::vector<int32_t> unionFindRegions(const LabelVolume& v, int connectivity) {
    const auto& d = v.geometry.dims;
    std::vector<size_t> parent(v.labels.size());
    for (size_t n = 0; n < parent.size(); ++n)
        parent[n] = n;
    const std::function<size_t(size_t)> root = [&](size_t n) {
        return parent[n] == n ? n : parent[n] = root(parent[n]);
    };
    for (int64_t k = 0; k < d[2]; ++k)
        for (int64_t j = 0; j < d[1]; ++j)
            for (int64_t i = 0; i < d[0]; ++i)
                for (int dz = -1; dz <= 1; ++dz)
                    for (int dy = -1; dy <= 1; ++dy)
                        for (int dx = -1; dx <= 1; ++dx) {
                            const int order = std::abs(dx) + std::abs(dy) + std::abs(dz);
                            if (order == 0 || (connectivity == 6 && order > 1) || (connectivity == 18 && order > 2))
                                continue;
                            const int64_t x = i + dx, y = j + dy, z = k + dz;
                            if (x < 0 || y < 0 || z < 0 || x >= d[0] || y >= d[1] || z >= d[2]) continue;
                            const size_t a = v.geometry.linearIndex(i, j, k), b = v.geometry.linearIndex(x, y, z);
                            if (v.labels[a] && v.labels[a] == v.labels[b]) parent[root(a)] = root(b);
                        }
    std::vector<int32_t> out(v.labels.size(), 0), number(v.labels.size(), 0);
    int32_t next = 0;
    for (size_t n = 0; n < out.size(); ++n) {
        if (!v.labels[n]) continue;
        int32_t& id = number[root(n)];
        if (!id) id = ++next;
        out[n] = id;
    }
    return out;
}

} // namespace

TEST_CASE("every label's components at once are each label's components", "[components]") {
    Geometry g;
    g.dims = {9, 7, 6};
    LabelVolume labels(g, "labels");
    uint64_t state = 12345;
    for (uint16_t& l : labels.labels) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        l = uint16_t((state >> 33) % 4); // background and 3 classes, touching everywhere
    }
    for (int connectivity : {6, 18, 26}) {
        const Components c = connectedRegions(labels, connectivity);
        const std::vector<int32_t> expected = unionFindRegions(labels, connectivity);
        CHECK(c.labels == expected);
        std::vector<int64_t> sizes(size_t(c.count()) + 1, 0);
        for (int32_t id : expected)
            ++sizes[size_t(id)];
        sizes[0] = 0;
        CHECK(c.sizes == sizes);
        // Each class on its own, through its mask: the same voxels grouped the same way.
        for (uint16_t label = 1; label < 4; ++label) {
            const Components own = connectedComponents(g, labelMask(labels, label), connectivity);
            std::vector<int32_t> ownOf(size_t(c.count()) + 1, 0);
            for (size_t n = 0; n < own.labels.size(); ++n) {
                if (!own.labels[n]) continue;
                int32_t& match = ownOf[size_t(c.labels[n])];
                if (!match) match = own.labels[n];
                CHECK(match == own.labels[n]);
            }
        }
    }
    CHECK(connectedRegions(labels, 26).count() < connectedRegions(labels, 6).count());
}
