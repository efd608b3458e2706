#pragma once
#include "engine/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

namespace segxai {

// A field of a JSON object read with a fallback when it is missing or null; a field of the
// wrong type throws segxai::Error naming `origin`, the key and the type found.
template <typename T> T jsonField(const nlohmann::json& object, const char* key, T fallback, const std::string& origin) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return fallback;
    bool ok = false;
    if constexpr (std::is_same_v<T, bool>) {
        ok = it->is_boolean();
    } else if constexpr (std::is_integral_v<T>) {
        // A whole number within T's range (converting one outside it is undefined).
        const double v = it->is_number() ? it->template get<double>() : NAN;
        ok = std::isfinite(v) && v == std::floor(v) && v >= double(std::numeric_limits<T>::lowest()) &&
             v < double(std::numeric_limits<T>::max()) + 1.0;
        if (ok && it->is_number_integer()) {
            if constexpr (std::is_unsigned_v<T>) {
                ok = it->is_number_unsigned() || it->template get<int64_t>() >= 0;
            }
        }
    } else if constexpr (std::is_arithmetic_v<T>) {
        ok = it->is_number();
    } else {
        ok = it->is_string();
    }
    if (!ok) throw Error(fmt::format("{}: '{}' has the wrong type ({})", origin, key, it->type_name()));
    return it->template get<T>();
}

} // namespace segxai
