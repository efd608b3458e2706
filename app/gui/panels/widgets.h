#pragma once
#include <imgui.h>
#include <initializer_list>
#include <vector>

namespace segxai::app {

// A combo box over a list of item labels. (ImGui's "a\0b\0" form breaks when a label starts
// with a digit after a separator: "\03D" is the octal escape \03 followed by "D".)
inline bool comboList(const char* label, int& current, std::initializer_list<const char*> items) {
    const std::vector<const char*> list(items);
    return ImGui::Combo(label, &current, list.data(), int(list.size()));
}

} // namespace segxai::app
