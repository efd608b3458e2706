#pragma once
// Tables of an enum's names (an id for files and command lines, a title for people), and the
// look-ups every such table needs, written once.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace segxai {

template <typename Enum> struct EnumName {
    Enum value;
    const char* id;
    const char* title;
};

// The id of `value` ("" when the table lacks it).
template <typename Enum, size_t N> const char* idOf(const EnumName<Enum> (&table)[N], Enum value) {
    for (const auto& name : table) {
        if (name.value == value) return name.id;
    }
    return "";
}

// The title of `value` ("" when the table lacks it).
template <typename Enum, size_t N> const char* titleOf(const EnumName<Enum> (&table)[N], Enum value) {
    for (const auto& name : table) {
        if (name.value == value) return name.title;
    }
    return "";
}

// The value whose id is `id`, if any.
template <typename Enum, size_t N>
std::optional<Enum> valueOf(const EnumName<Enum> (&table)[N], const std::string& id) {
    for (const auto& name : table) {
        if (id == name.id) return name.value;
    }
    return std::nullopt;
}

// Every id, in the table's order, separated by ", " (for error messages).
template <typename Enum, size_t N> std::string idList(const EnumName<Enum> (&table)[N]) {
    std::string all;
    for (const auto& name : table) {
        if (!all.empty()) all += ", ";
        all += name.id;
    }
    return all;
}

// Every value, in the table's order.
template <typename Enum, size_t N> std::vector<Enum> allValues(const EnumName<Enum> (&table)[N]) {
    std::vector<Enum> values;
    for (const auto& name : table)
        values.push_back(name.value);
    return values;
}

} // namespace segxai
