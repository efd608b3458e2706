#include "engine/torch/pickle_value.h"

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

namespace segxai {

const char* kindName(PickleValue::Kind kind) {
    switch (kind) {
    case PickleValue::Kind::None:
        return "None";
    case PickleValue::Kind::Bool:
        return "bool";
    case PickleValue::Kind::Int:
        return "int";
    case PickleValue::Kind::Double:
        return "float";
    case PickleValue::Kind::String:
        return "str";
    case PickleValue::Kind::Bytes:
        return "bytes";
    case PickleValue::Kind::List:
        return "list";
    case PickleValue::Kind::Tuple:
        return "tuple";
    case PickleValue::Kind::Dict:
        return "dict";
    case PickleValue::Kind::Tensor:
        return "tensor";
    case PickleValue::Kind::Opaque:
        return "opaque object";
    }
    return "unknown";
}

PickleValue PickleValue::boolean(bool value) {
    PickleValue v;
    v.m_kind = Kind::Bool;
    v.m_bool = value;
    return v;
}

PickleValue PickleValue::integer(int64_t value) {
    PickleValue v;
    v.m_kind = Kind::Int;
    v.m_int = value;
    return v;
}

PickleValue PickleValue::real(double value) {
    PickleValue v;
    v.m_kind = Kind::Double;
    v.m_double = value;
    return v;
}

PickleValue PickleValue::string(std::string utf8) {
    PickleValue v;
    v.m_kind = Kind::String;
    v.m_text = std::move(utf8);
    return v;
}

PickleValue PickleValue::bytes(std::string raw) {
    PickleValue v;
    v.m_kind = Kind::Bytes;
    v.m_text = std::move(raw);
    return v;
}

PickleValue PickleValue::list(std::vector<PickleValue> items) {
    PickleValue v;
    v.m_kind = Kind::List;
    v.m_items = std::move(items);
    return v;
}

PickleValue PickleValue::tuple(std::vector<PickleValue> items) {
    PickleValue v;
    v.m_kind = Kind::Tuple;
    v.m_items = std::move(items);
    return v;
}

PickleValue PickleValue::dict(std::vector<Entry> entries) {
    PickleValue v;
    v.m_kind = Kind::Dict;
    v.m_entries = std::move(entries);
    return v;
}

PickleValue PickleValue::tensor(at::Tensor value) {
    PickleValue v;
    v.m_kind = Kind::Tensor;
    v.m_tensor = std::make_shared<const at::Tensor>(std::move(value));
    return v;
}

PickleValue PickleValue::opaque(Opaque value) {
    PickleValue v;
    v.m_kind = Kind::Opaque;
    v.m_opaque = std::make_shared<const Opaque>(std::move(value));
    return v;
}

namespace {
[[noreturn]] void wrongKind(const PickleValue& v, const char* wanted) {
    throw CheckpointError(std::string("expected ") + wanted + ", found " + v.describe());
}
} // namespace

bool PickleValue::asBool() const {
    if (m_kind != Kind::Bool) wrongKind(*this, "bool");
    return m_bool;
}

int64_t PickleValue::asInt() const {
    if (m_kind != Kind::Int) wrongKind(*this, "int");
    return m_int;
}

double PickleValue::asDouble() const {
    if (m_kind != Kind::Double) wrongKind(*this, "float");
    return m_double;
}

const std::string& PickleValue::asString() const {
    if (m_kind != Kind::String) wrongKind(*this, "str");
    return m_text;
}

const std::string& PickleValue::asBytes() const {
    if (m_kind != Kind::Bytes) wrongKind(*this, "bytes");
    return m_text;
}

const std::vector<PickleValue>& PickleValue::items() const {
    if (m_kind != Kind::List && m_kind != Kind::Tuple) {
        wrongKind(*this, "list or tuple");
    }
    return m_items;
}

const std::vector<PickleValue::Entry>& PickleValue::entries() const {
    if (m_kind != Kind::Dict) wrongKind(*this, "dict");
    return m_entries;
}

const at::Tensor& PickleValue::asTensor() const {
    if (m_kind != Kind::Tensor) wrongKind(*this, "tensor");
    return *m_tensor;
}

const Opaque& PickleValue::asOpaque() const {
    if (m_kind != Kind::Opaque) wrongKind(*this, "opaque object");
    return *m_opaque;
}

std::optional<double> PickleValue::asNumber() const {
    switch (m_kind) {
    case Kind::Bool:
        return m_bool ? 1.0 : 0.0;
    case Kind::Int:
        return static_cast<double>(m_int);
    case Kind::Double:
        return m_double;
    case Kind::Opaque:
        if (m_opaque->number.isNone()) return std::nullopt;
        return m_opaque->number.asNumber();
    default:
        return std::nullopt;
    }
}

std::string PickleValue::describe() const {
    if (m_kind == Kind::Opaque) return "opaque " + m_opaque->global;
    return kindName(m_kind);
}

const PickleValue* find(const PickleValue& dict, const std::string& key) {
    if (!dict.is(PickleValue::Kind::Dict)) return nullptr;
    for (const auto& [k, v] : dict.entries()) {
        if (k.is(PickleValue::Kind::String) && k.asString() == key) return &v;
    }
    return nullptr;
}

namespace {

std::string tensorSummary(const at::Tensor& t) {
    std::string out = "tensor[";
    const auto sizes = t.sizes();
    for (size_t i = 0; i < sizes.size(); ++i) {
        if (i) out += ", ";
        out += std::to_string(sizes[i]);
    }
    return out + "]";
}

nlohmann::json jsonArray(const std::vector<PickleValue>& items) {
    auto out = nlohmann::json::array();
    for (const auto& item : items)
        out.push_back(toJson(item));
    return out;
}

std::string jsonKey(const PickleValue& key) {
    if (key.is(PickleValue::Kind::String)) return key.asString();
    return toJson(key).dump(); // ints -> "3", tuples -> "[1,2]", ...
}

nlohmann::json opaqueJson(const Opaque& o) {
    if (!o.number.isNone()) return toJson(o.number);
    nlohmann::json out = {{"__global__", o.global}};
    if (!o.args.empty()) out["__args__"] = jsonArray(o.args);
    return out;
}

} // namespace

nlohmann::json toJson(const PickleValue& value) {
    using Kind = PickleValue::Kind;
    switch (value.kind()) {
    case Kind::None:
        return nullptr;
    case Kind::Bool:
        return value.asBool();
    case Kind::Int:
        return value.asInt();
    case Kind::Double:
        return value.asDouble();
    case Kind::String:
        return value.asString();
    case Kind::Bytes:
        return "bytes[" + std::to_string(value.asBytes().size()) + "]";
    case Kind::List:
    case Kind::Tuple:
        return jsonArray(value.items());
    case Kind::Dict: {
        auto out = nlohmann::json::object();
        for (const auto& [k, v] : value.entries())
            out[jsonKey(k)] = toJson(v);
        return out;
    }
    case Kind::Tensor:
        return tensorSummary(value.asTensor());
    case Kind::Opaque:
        return opaqueJson(value.asOpaque());
    }
    return nullptr;
}

} // namespace segxai
