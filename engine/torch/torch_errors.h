#pragma once
// Engine-internal: the readable part of LibTorch's exception texts.
#include <string>

namespace segxai {

// For a TorchScript exception (raised inside a model's forward), the exception's own message
// without the interpreter's two tracebacks; for a C++ c10::Error, its first line.
std::string torchErrorMessage(const std::string& what);

} // namespace segxai
