#include "engine/torch/pickle_opcodes.h"

#include <cstdio>

namespace segxai::pickle {

const char* opcodeName(uint8_t op) {
    switch (op) {
    case MARK:
        return "MARK";
    case STOP:
        return "STOP";
    case POP:
        return "POP";
    case POP_MARK:
        return "POP_MARK";
    case DUP:
        return "DUP";
    case FLOAT:
        return "FLOAT";
    case INT:
        return "INT";
    case BININT:
        return "BININT";
    case BININT1:
        return "BININT1";
    case LONG:
        return "LONG";
    case BININT2:
        return "BININT2";
    case NONE:
        return "NONE";
    case PERSID:
        return "PERSID";
    case BINPERSID:
        return "BINPERSID";
    case REDUCE:
        return "REDUCE";
    case STRING:
        return "STRING";
    case BINSTRING:
        return "BINSTRING";
    case SHORT_BINSTRING:
        return "SHORT_BINSTRING";
    case UNICODE:
        return "UNICODE";
    case BINUNICODE:
        return "BINUNICODE";
    case APPEND:
        return "APPEND";
    case BUILD:
        return "BUILD";
    case GLOBAL:
        return "GLOBAL";
    case DICT:
        return "DICT";
    case EMPTY_DICT:
        return "EMPTY_DICT";
    case APPENDS:
        return "APPENDS";
    case GET:
        return "GET";
    case BINGET:
        return "BINGET";
    case INST:
        return "INST";
    case LONG_BINGET:
        return "LONG_BINGET";
    case LIST:
        return "LIST";
    case EMPTY_LIST:
        return "EMPTY_LIST";
    case OBJ:
        return "OBJ";
    case PUT:
        return "PUT";
    case BINPUT:
        return "BINPUT";
    case LONG_BINPUT:
        return "LONG_BINPUT";
    case SETITEM:
        return "SETITEM";
    case TUPLE:
        return "TUPLE";
    case EMPTY_TUPLE:
        return "EMPTY_TUPLE";
    case SETITEMS:
        return "SETITEMS";
    case BINFLOAT:
        return "BINFLOAT";
    case PROTO:
        return "PROTO";
    case NEWOBJ:
        return "NEWOBJ";
    case EXT1:
        return "EXT1";
    case EXT2:
        return "EXT2";
    case EXT4:
        return "EXT4";
    case TUPLE1:
        return "TUPLE1";
    case TUPLE2:
        return "TUPLE2";
    case TUPLE3:
        return "TUPLE3";
    case NEWTRUE:
        return "NEWTRUE";
    case NEWFALSE:
        return "NEWFALSE";
    case LONG1:
        return "LONG1";
    case LONG4:
        return "LONG4";
    case BINBYTES:
        return "BINBYTES";
    case SHORT_BINBYTES:
        return "SHORT_BINBYTES";
    case SHORT_BINUNICODE:
        return "SHORT_BINUNICODE";
    case BINUNICODE8:
        return "BINUNICODE8";
    case BINBYTES8:
        return "BINBYTES8";
    case EMPTY_SET:
        return "EMPTY_SET";
    case ADDITEMS:
        return "ADDITEMS";
    case FROZENSET:
        return "FROZENSET";
    case NEWOBJ_EX:
        return "NEWOBJ_EX";
    case STACK_GLOBAL:
        return "STACK_GLOBAL";
    case MEMOIZE:
        return "MEMOIZE";
    case FRAME:
        return "FRAME";
    case BYTEARRAY8:
        return "BYTEARRAY8";
    case NEXT_BUFFER:
        return "NEXT_BUFFER";
    case READONLY_BUFFER:
        return "READONLY_BUFFER";
    default:
        return nullptr;
    }
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
