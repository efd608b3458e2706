#pragma once
#include <imgui.h>
#include <initializer_list>
#include <string>
#include <vector>

namespace segxai::app {

// A combo box over a list of item labels. (ImGui's "a\0b\0" form breaks when a label starts
// with a digit after a separator: "\03D" is the octal escape \03 followed by "D".)
inline bool comboList(const char* label, int& current, std::initializer_list<const char*> items) {
    const std::vector<const char*> list(items);
    return ImGui::Combo(label, &current, list.data(), int(list.size()));
}

inline bool comboList(const char* label, int& current, const std::vector<std::string>& items) {
    std::vector<const char*> list;
    for (const auto& item : items)
        list.push_back(item.c_str());
    return ImGui::Combo(label, &current, list.data(), int(list.size()));
}

// A whole number typed (or stepped with - and +), kept within [lo, hi]. Counts such as
// SmoothGrad samples are typed, not dragged: a slider caps them and hides typing.
inline bool inputCount(const char* label, int& value, int lo, int hi) {
    const bool changed = ImGui::InputInt(label, &value);
    value = value < lo ? lo : value > hi ? hi : value;
    return changed;
}

// A number typed (or stepped), kept within [lo, hi].
inline bool inputNumber(const char* label, double& value, double lo, double hi, double step, const char* format) {
    const bool changed = ImGui::InputDouble(label, &value, step, step * 10.0, format);
    value = value < lo ? lo : value > hi ? hi : value;
    return changed;
}

} // namespace segxai::app
