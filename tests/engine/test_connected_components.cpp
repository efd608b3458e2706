#include "engine/analysis/connected_components.h"
#include "engine/core/error.h"

#include <catch2/catch.hpp>

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
