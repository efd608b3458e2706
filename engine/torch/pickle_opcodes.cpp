#include "engine/torch/pickle_opcodes.h"

#include <cstdio>
#include <utility>

namespace segxai::pickle {

const char* opcodeName(uint8_t op) {
    // Every opcode this reader knows, by name (the table of Python's pickletools).
    static constexpr std::pair<uint8_t, const char*> kNames[] = {
        {MARK, "MARK"},
        {STOP, "STOP"},
        {POP, "POP"},
        {POP_MARK, "POP_MARK"},
        {DUP, "DUP"},
        {FLOAT, "FLOAT"},
        {INT, "INT"},
        {BININT, "BININT"},
        {BININT1, "BININT1"},
        {LONG, "LONG"},
        {BININT2, "BININT2"},
        {NONE, "NONE"},
        {PERSID, "PERSID"},
        {BINPERSID, "BINPERSID"},
        {REDUCE, "REDUCE"},
        {STRING, "STRING"},
        {BINSTRING, "BINSTRING"},
        {SHORT_BINSTRING, "SHORT_BINSTRING"},
        {UNICODE, "UNICODE"},
        {BINUNICODE, "BINUNICODE"},
        {APPEND, "APPEND"},
        {BUILD, "BUILD"},
        {GLOBAL, "GLOBAL"},
        {DICT, "DICT"},
        {EMPTY_DICT, "EMPTY_DICT"},
        {APPENDS, "APPENDS"},
        {GET, "GET"},
        {BINGET, "BINGET"},
        {INST, "INST"},
        {LONG_BINGET, "LONG_BINGET"},
        {LIST, "LIST"},
        {EMPTY_LIST, "EMPTY_LIST"},
        {OBJ, "OBJ"},
        {PUT, "PUT"},
        {BINPUT, "BINPUT"},
        {LONG_BINPUT, "LONG_BINPUT"},
        {SETITEM, "SETITEM"},
        {TUPLE, "TUPLE"},
        {EMPTY_TUPLE, "EMPTY_TUPLE"},
        {SETITEMS, "SETITEMS"},
        {BINFLOAT, "BINFLOAT"},
        {PROTO, "PROTO"},
        {NEWOBJ, "NEWOBJ"},
        {EXT1, "EXT1"},
        {EXT2, "EXT2"},
        {EXT4, "EXT4"},
        {TUPLE1, "TUPLE1"},
        {TUPLE2, "TUPLE2"},
        {TUPLE3, "TUPLE3"},
        {NEWTRUE, "NEWTRUE"},
        {NEWFALSE, "NEWFALSE"},
        {LONG1, "LONG1"},
        {LONG4, "LONG4"},
        {BINBYTES, "BINBYTES"},
        {SHORT_BINBYTES, "SHORT_BINBYTES"},
        {SHORT_BINUNICODE, "SHORT_BINUNICODE"},
        {BINUNICODE8, "BINUNICODE8"},
        {BINBYTES8, "BINBYTES8"},
        {EMPTY_SET, "EMPTY_SET"},
        {ADDITEMS, "ADDITEMS"},
        {FROZENSET, "FROZENSET"},
        {NEWOBJ_EX, "NEWOBJ_EX"},
        {STACK_GLOBAL, "STACK_GLOBAL"},
        {MEMOIZE, "MEMOIZE"},
        {FRAME, "FRAME"},
        {BYTEARRAY8, "BYTEARRAY8"},
        {NEXT_BUFFER, "NEXT_BUFFER"},
        {READONLY_BUFFER, "READONLY_BUFFER"},
    };
    for (const auto& [code, name] : kNames) {
        if (code == op) return name;
    }
    return nullptr;
}

std::string describeOpcode(uint8_t op) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned>(op));
    const char* name = opcodeName(op);
    return name ? std::string(name) + " (" + hex + ")" : std::string(hex);
}

namespace {

// Length of the valid UTF-8 sequence starting at in[i], or 0 if malformed.
size_t utf8SequenceLength(const std::string& in, size_t i) {
    const auto at = [&](size_t k) { return static_cast<uint8_t>(in[k]); };
    const uint8_t b0 = at(i);
    if (b0 < 0x80) return 1;
    size_t len = 0;
    uint8_t lo = 0x80, hi = 0xBF; // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        if (b0 == 0xE0) lo = 0xA0; // overlong
        if (b0 == 0xED) hi = 0x9F; // UTF-16 surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        if (b0 == 0xF0) lo = 0x90; // overlong
        if (b0 == 0xF4) hi = 0x8F; // beyond U+10FFFF
    } else {
        return 0;
    }
    if (i + len > in.size()) return 0;
    if (at(i + 1) < lo || at(i + 1) > hi) return 0;
    for (size_t k = 2; k < len; ++k) {
        if (at(i + k) < 0x80 || at(i + k) > 0xBF) return 0;
    }
    return len;
}

} // namespace

std::string sanitizeUtf8(const std::string& in) {
    std::string out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size();) {
        const size_t len = utf8SequenceLength(in, i);
        if (len == 0) {
            out += "\xEF\xBF\xBD"; // U+FFFD REPLACEMENT CHARACTER
            ++i;
        } else {
            out.append(in, i, len);
            i += len;
        }
    }
    return out;
}

} // namespace segxai::pickle
