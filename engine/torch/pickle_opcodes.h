// Pickle opcode values and a bounds-checked reader for the pickle byte
// stream.  Internal to the checkpoint reader.
#pragma once

#include "engine/torch/pickle_value.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace segxai::pickle {

// The opcodes of protocols 0-5 (names as in Python's pickletools).
enum Op : uint8_t {
    MARK = '(',
    STOP = '.',
    POP = '0',
    POP_MARK = '1',
    DUP = '2',
    FLOAT = 'F',
    INT = 'I',
    BININT = 'J',
    BININT1 = 'K',
    LONG = 'L',
    BININT2 = 'M',
    NONE = 'N',
    PERSID = 'P',
    BINPERSID = 'Q',
    REDUCE = 'R',
    STRING = 'S',
    BINSTRING = 'T',
    SHORT_BINSTRING = 'U',
    UNICODE = 'V',
    BINUNICODE = 'X',
    APPEND = 'a',
    BUILD = 'b',
    GLOBAL = 'c',
    DICT = 'd',
    EMPTY_DICT = '}',
    APPENDS = 'e',
    GET = 'g',
    BINGET = 'h',
    INST = 'i',
    LONG_BINGET = 'j',
    LIST = 'l',
    EMPTY_LIST = ']',
    OBJ = 'o',
    PUT = 'p',
    BINPUT = 'q',
    LONG_BINPUT = 'r',
    SETITEM = 's',
    TUPLE = 't',
    EMPTY_TUPLE = ')',
    SETITEMS = 'u',
    BINFLOAT = 'G',
    PROTO = 0x80,
    NEWOBJ = 0x81,
    EXT1 = 0x82,
    EXT2 = 0x83,
    EXT4 = 0x84,
    TUPLE1 = 0x85,
    TUPLE2 = 0x86,
    TUPLE3 = 0x87,
    NEWTRUE = 0x88,
    NEWFALSE = 0x89,
    LONG1 = 0x8a,
    LONG4 = 0x8b,
    BINBYTES = 'B',
    SHORT_BINBYTES = 'C',
    SHORT_BINUNICODE = 0x8c,
    BINUNICODE8 = 0x8d,
    BINBYTES8 = 0x8e,
    EMPTY_SET = 0x8f,
    ADDITEMS = 0x90,
    FROZENSET = 0x91,
    NEWOBJ_EX = 0x92,
    STACK_GLOBAL = 0x93,
    MEMOIZE = 0x94,
    FRAME = 0x95,
    BYTEARRAY8 = 0x96,
    NEXT_BUFFER = 0x97,
    READONLY_BUFFER = 0x98,
};

// Name of a known opcode, nullptr for bytes that are no opcode at all.
const char* opcodeName(uint8_t op);

// "PUT (0x70)" or "0xff" for error messages.
std::string describeOpcode(uint8_t op);

// Reads the pickle stream; every read is checked against the end.
class PickleInput {
public:
    PickleInput(const uint8_t* data, size_t size) : m_data(data), m_size(size) {}

    size_t position() const { return m_pos; }
    bool atEnd() const { return m_pos >= m_size; }
    size_t remaining() const { return m_size - m_pos; }

    const uint8_t* take(size_t n) {
        if (n > remaining()) {
            throw CheckpointError("pickle data is truncated (needed " + std::to_string(n) + " bytes at byte " +
                                  std::to_string(m_pos) + ")");
        }
        const uint8_t* p = m_data + m_pos;
        m_pos += n;
        return p;
    }

    uint8_t byte() { return *take(1); }

    // Unsigned little-endian integer of n <= 8 bytes.
    uint64_t little(size_t n) {
        const uint8_t* p = take(n);
        uint64_t v = 0;
        for (size_t i = n; i-- > 0;)
            v = (v << 8) | p[i];
        return v;
    }

    std::string bytes(size_t n) {
        const uint8_t* p = take(n);
        return std::string(reinterpret_cast<const char*>(p), n);
    }

    // A newline-terminated text argument (GLOBAL); the newline is dropped.
    std::string line() {
        constexpr size_t kMaxLine = 4096;
        std::string out;
        for (;;) {
            const char c = static_cast<char>(byte());
            if (c == '\n') return out;
            if (out.size() >= kMaxLine) {
                throw CheckpointError("pickle text argument is too long");
            }
            out.push_back(c);
        }
    }

private:
    const uint8_t* m_data;
    size_t m_size;
    size_t m_pos = 0;
};

// Valid UTF-8 with every malformed sequence replaced by U+FFFD, so that the
// strings of a damaged file can still be printed and turned into JSON.
std::string sanitizeUtf8(const std::string& in);

} // namespace segxai::pickle
