#pragma once
#include <map>
#include <string>

namespace segxai::render {

// GLSL sources from shaders/, embedded at build time, keyed by file name ("slice.frag").
const std::map<std::string, std::string>& embeddedShaders();

} // namespace segxai::render
