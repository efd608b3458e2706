#include "engine/io/json_text.h"

#include <catch2/catch.hpp>

using namespace segxai;

TEST_CASE("readable JSON keeps number arrays on one line and parses back", "[json]") {
    const nlohmann::json value = {{"dims", {181, 217, 181}},
                                  {"direction", {{-1.0, 0.0, 0.0}, {0.0, -1.0, 0.0}}},
                                  {"name", "ch2"},
                                  {"empty", nlohmann::json::object()},
                                  {"list", nlohmann::json::array()}};
    const std::string text = readableJson(value);
    CHECK_THAT(text, Catch::Contains("\"dims\": [181, 217, 181]"));
    CHECK_THAT(text, Catch::Contains("    [-1.0, 0.0, 0.0],\n"));
    CHECK(nlohmann::json::parse(text) == value);
}
