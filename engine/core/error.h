#pragma once
#include <stdexcept>
#include <string>

namespace segxai {

// An error caused by user input (a file, a model, an argument), with a message the user can
// act on. Engine functions throw it; job boundaries turn it into a failed result.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

} // namespace segxai
