// PickleValue: the object tree that the checkpoint reader builds from a
// Python pickle.  It is a plain value type; tensors and opaque objects are
// immutable and shared between copies.
#pragma once

#include "engine/core/error.h"

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

// Only declared here: ATen's headers are slow to compile and (in Debian's
// build) define glog's CHECK macro, which clashes with Catch2.  Code that uses
// the tensors includes <ATen/core/Tensor.h> (or more) itself.
namespace at {
class Tensor;
} // namespace at

namespace segxai {

// Every failure of the checkpoint reader is reported as a CheckpointError
// whose message is meant for the user (no C++ backtraces).
class CheckpointError : public Error {
public:
    using Error::Error;
};

struct Opaque;

class PickleValue {
public:
    enum class Kind { None, Bool, Int, Double, String, Bytes, List, Tuple, Dict, Tensor, Opaque };
    using Entry = std::pair<PickleValue, PickleValue>;

    PickleValue() = default; // None

    static PickleValue boolean(bool value);
    static PickleValue integer(int64_t value);
    static PickleValue real(double value);
    static PickleValue string(std::string utf8);
    static PickleValue bytes(std::string raw);
    static PickleValue list(std::vector<PickleValue> items);
    static PickleValue tuple(std::vector<PickleValue> items);
    static PickleValue dict(std::vector<Entry> entries);
    static PickleValue tensor(at::Tensor value);
    static PickleValue opaque(Opaque value);

    Kind kind() const { return m_kind; }
    bool is(Kind kind) const { return m_kind == kind; }
    bool isNone() const { return m_kind == Kind::None; }

    // Typed accessors throw CheckpointError when the kind does not match.
    bool asBool() const;
    int64_t asInt() const;
    double asDouble() const;
    const std::string& asString() const;           // Kind::String (UTF-8)
    const std::string& asBytes() const;            // Kind::Bytes (raw)
    const std::vector<PickleValue>& items() const; // List or Tuple
    const std::vector<Entry>& entries() const;     // Dict, in pickle order
    const at::Tensor& asTensor() const;
    const Opaque& asOpaque() const;

    // A number for Bool, Int, Double and for opaque objects that carry a
    // decoded number (numpy scalars, Python ints wider than 64 bits).
    std::optional<double> asNumber() const;

    // Short description for error messages: "dict", "opaque torch.device", ...
    std::string describe() const;

private:
    Kind m_kind = Kind::None;
    bool m_bool = false;
    int64_t m_int = 0;
    double m_double = 0.0;
    std::string m_text; // String and Bytes
    std::vector<PickleValue> m_items;
    std::vector<Entry> m_entries;
    std::shared_ptr<const at::Tensor> m_tensor;
    std::shared_ptr<const Opaque> m_opaque;
};

// An object of a class the reader does not turn into a plain value.  The
// fields follow Python's __reduce__ protocol: global(*args), then
// __setstate__(state), then append(listItems) and obj[k] = v (dictItems).
struct Opaque {
    std::string global; // "module.qualname", e.g. "torch.device"
    bool called = true; // false: the bare class/function itself, not a call
    std::vector<PickleValue> args;
    PickleValue state; // None when there was no BUILD
    std::vector<PickleValue> listItems;
    std::vector<PickleValue::Entry> dictItems;
    // Decoded value of numpy scalars (Bool, Int or Double); None otherwise.
    PickleValue number;
};

const char* kindName(PickleValue::Kind kind);

// The value stored under a string key of a dict; nullptr if `dict` is not a
// dict or has no such key.
const PickleValue* find(const PickleValue& dict, const std::string& key);

// JSON view of the non-tensor parts.  Tensors become "tensor[4, 2, 3]",
// bytes "bytes[N]", tuples arrays, non-string dict keys their JSON text,
// numeric opaque objects numbers, other opaque objects
// {"__global__": name} plus "__args__" when the object was called with args.
nlohmann::json toJson(const PickleValue& value);

} // namespace segxai
