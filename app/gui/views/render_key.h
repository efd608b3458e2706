#pragma once
#include <fmt/format.h>
#include <string>

namespace segxai::app {

// Everything a view's picture depends on, as one string: a view renders again only when its
// key changes (an idle or unchanged view costs nothing per frame).
template <typename... Values> std::string renderKey(const Values&... values) {
    std::string key;
    ((key += fmt::format("{}|", values)), ...);
    return key;
}

} // namespace segxai::app
