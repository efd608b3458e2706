#pragma once
// Engine-internal: reading the fields of nnU-Net's JSON files; every complaint names the file
// and the field's path ("plans.json: 'configurations.3d_fullres.patch_size' must be ...").
#include "engine/core/error.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace segxai {

class NnunetJson {
public:
    using json = nlohmann::json;

    explicit NnunetJson(std::string file) : m_file(std::move(file)) {}

    [[noreturn]] void fail(const std::string& field, const std::string& what) const {
        throw Error(fmt::format("{}: '{}' {}", m_file, field, what));
    }
    const json& need(const json& object, const std::string& key, const std::string& field) const {
        const auto it = object.find(key);
        if (it == object.end() || it->is_null()) fail(field, "is missing");
        return *it;
    }
    const json* find(const json& object, const std::string& key) const {
        if (!object.is_object()) return nullptr;
        const auto it = object.find(key);
        return it == object.end() || it->is_null() ? nullptr : &*it;
    }
    int64_t whole(const json& v, const std::string& field) const {
        if (!v.is_number() || v.get<double>() != std::floor(v.get<double>()) || std::abs(v.get<double>()) > 1e12)
            fail(field, "must be a whole number");
        return int64_t(v.get<double>());
    }
    double number(const json& v, const std::string& field) const {
        if (!v.is_number() || !std::isfinite(v.get<double>())) fail(field, "must be a number");
        return v.get<double>();
    }
    std::string string(const json& v, const std::string& field) const {
        if (!v.is_string()) fail(field, "must be a string");
        return v.get<std::string>();
    }
    // A list of whole numbers, or one number repeated `count` times (dynamic_network_architectures
    // accepts both).
    std::vector<int64_t> wholes(const json& v, size_t count, const std::string& field) const {
        if (v.is_number()) return std::vector<int64_t>(count, whole(v, field));
        if (!v.is_array() || (count && v.size() != count))
            fail(field, count ? fmt::format("must be a list of {} whole numbers", count) : "must be a list");
        std::vector<int64_t> out;
        for (size_t n = 0; n < v.size(); ++n)
            out.push_back(whole(v[n], fmt::format("{}[{}]", field, n)));
        return out;
    }
    std::array<int64_t, 3> triple(const json& v, const std::string& field) const {
        const auto w = wholes(v, 3, field);
        return {w[0], w[1], w[2]};
    }
    // Per stage: a list of triples (or of single numbers), or one value for all.
    std::vector<std::array<int64_t, 3>> perStage(const json& v, size_t stages, const std::string& field) const {
        if (!v.is_array()) {
            const int64_t n = whole(v, field);
            return std::vector<std::array<int64_t, 3>>(stages, {n, n, n});
        }
        if (v.size() != stages) fail(field, fmt::format("must have {} entries, one per stage", stages));
        std::vector<std::array<int64_t, 3>> out;
        for (size_t s = 0; s < stages; ++s) {
            const std::string at = fmt::format("{}[{}]", field, s);
            if (v[s].is_array() && v[s].size() == 2)
                fail(at, "has 2 entries: a 2D network; SegXAI runs 3D configurations (3d_fullres, 3d_lowres)");
            out.push_back(triple(v[s], at));
        }
        return out;
    }
    const std::string& file() const { return m_file; }

private:
    std::string m_file;
};

} // namespace segxai
