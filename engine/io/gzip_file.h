#pragma once
#include <string>

namespace segxai {

// Compresses the file `from` into a gzip file `to` (one gzip member, as gzip and pigz write),
// its blocks deflated in parallel on every usable core at zlib's fastest level. Throws
// segxai::Error on a read or write failure; `to` may then be left partly written (callers
// write to a temporary, see writeAtomically).
void gzipFile(const std::string& from, const std::string& to);

} // namespace segxai
