#pragma once
#include <string>
#include <vector>

namespace segxai {

// One CSV line's fields: commas separate, double quotes protect commas ("" is a quote),
// spaces around unquoted fields are dropped. Throws segxai::Error naming `where` for an
// unclosed quote.
std::vector<std::string> splitCsvLine(const std::string& line, const std::string& where);

// A field as CSV text: quoted when it holds a comma, a quote or a line break.
std::string csvField(const std::string& text);

} // namespace segxai
