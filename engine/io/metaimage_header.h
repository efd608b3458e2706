#pragma once
#include <string>

namespace segxai {

// ITK 5.2's MetaImage reader trusts its header: a header that states NDims twice, or sizes
// that disagree with NDims, makes it write past its buffer (found by fuzzing). This reads
// the text header of a .mha / .mhd file itself and throws segxai::Error naming the file
// unless every line up to ElementDataFile is "Key = Value", no key repeats, NDims is 1 to 4,
// DimSize holds NDims positive whole numbers and ElementNumberOfChannels (if given) is one
// or more. Only then does ITK see the file.
void checkMetaImageHeader(const std::string& path);

} // namespace segxai
