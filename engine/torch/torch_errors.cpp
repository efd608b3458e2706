#include "engine/torch/torch_errors.h"

#include <regex>
#include <sstream>
#include <vector>

namespace segxai {

std::string torchErrorMessage(const std::string& what) {
    std::vector<std::string> lines;
    std::istringstream in(what);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    // TorchScript ends with "builtins.RuntimeError: <message>" (the message may continue).
    static const std::regex raised(R"(^\s*(builtins\.)?[A-Za-z]*(Error|Exception): (.*)$)");
    for (size_t n = lines.size(); n-- > 0;) {
        std::smatch m;
        if (std::regex_match(lines[n], m, raised)) {
            std::string message = m[3];
            for (size_t k = n + 1; k < lines.size(); ++k)
                message += " " + lines[k];
            while (!message.empty() && std::isspace(static_cast<unsigned char>(message.back())))
                message.pop_back();
            return message;
        }
    }
    return lines.empty() ? what : lines.front();
}

} // namespace segxai
