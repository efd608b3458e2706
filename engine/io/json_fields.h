#pragma once
#include "engine/core/error.h"

#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

namespace segxai {

// A field of a JSON object read with a fallback when it is missing or null; a field of the
// wrong type throws segxai::Error naming `origin`, the key and the type found.
template <typename T>
T jsonField(const nlohmann::json& object, const char* key, T fallback, const std::string& origin) {
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

// A list of strings, `fallback` when the key is missing; anything else throws segxai::Error.
inline std::vector<std::string> stringList(const nlohmann::json& section, const char* key,
                                           std::vector<std::string> fallback, const std::string& origin) {
    auto it = section.find(key);
    if (it == section.end()) return fallback;
    if (!it->is_array()) throw Error(fmt::format("{}: '{}' must be a list of strings", origin, key));
    std::vector<std::string> out;
    for (const auto& item : *it) {
        if (!item.is_string()) throw Error(fmt::format("{}: '{}' must be a list of strings", origin, key));
        out.push_back(item.get<std::string>());
    }
    return out;
}

// Throws segxai::Error naming `origin` and the key when `object` is not an object or holds a
// key outside `known` (a misspelt option must not be ignored silently).
inline void refuseUnknownKeys(const nlohmann::json& object, const std::set<std::string>& known,
                              const std::string& origin) {
    if (!object.is_object()) throw Error(origin + " must be a JSON object");
    for (const auto& [key, value] : object.items()) {
        if (known.count(key) == 0) {
            std::string list;
            for (const auto& k : known)
                list += (list.empty() ? "" : ", ") + k;
            throw Error(fmt::format("{}: unknown key '{}' (known: {})", origin, key, list));
        }
    }
}

} // namespace segxai
