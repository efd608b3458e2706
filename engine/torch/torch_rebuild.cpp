#include "engine/torch/torch_rebuild.h"

#include <ATen/ops/empty.h>
#include <c10/util/Half.h>
#include <cstring>

namespace segxai::torchload {
namespace {

using Kind = PickleValue::Kind;

// Stands for a loaded storage inside the value tree; tensors refer to it.
constexpr const char* kStorageHandle = "torch.storage.TypedStorage";

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the checkpoint reader assumes a little-endian host");

[[noreturn]] void damaged(const std::string& what) {
    throw CheckpointError("damaged checkpoint: " + what);
}

std::optional<c10::ScalarType> storageDtype(const std::string& global) {
    static const std::map<std::string, c10::ScalarType> kTypes = {
        {"FloatStorage", c10::kFloat},
        {"DoubleStorage", c10::kDouble},
        {"HalfStorage", c10::kHalf},
        {"BFloat16Storage", c10::kBFloat16},
        {"LongStorage", c10::kLong},
        {"IntStorage", c10::kInt},
        {"ShortStorage", c10::kShort},
        {"CharStorage", c10::kChar},
        {"ByteStorage", c10::kByte},
        {"BoolStorage", c10::kBool},
        {"ComplexFloatStorage", c10::kComplexFloat},
        {"ComplexDoubleStorage", c10::kComplexDouble},
        {"UntypedStorage", c10::kByte},
        {"_UntypedStorage", c10::kByte},
    };
    for (const std::string prefix : {"torch.cuda.", "torch.storage.", "torch."}) {
        if (global.compare(0, prefix.size(), prefix) != 0) continue;
        const auto it = kTypes.find(global.substr(prefix.size()));
        if (it != kTypes.end()) return it->second;
    }
    return std::nullopt;
}

int64_t intArgument(const PickleValue& v, const char* what) {
    if (!v.is(Kind::Int)) damaged(std::string("tensor ") + what + " is a " + v.describe());
    return v.asInt();
}

std::vector<int64_t> intList(const PickleValue& v, const char* what) {
    if (!v.is(Kind::Tuple) && !v.is(Kind::List)) {
        damaged(std::string("tensor ") + what + " is a " + v.describe());
    }
    std::vector<int64_t> out;
    for (const auto& item : v.items())
        out.push_back(intArgument(item, what));
    return out;
}

std::string join(const std::vector<int64_t>& values) {
    std::string out = "[";
    for (size_t i = 0; i < values.size(); ++i) {
        out += (i ? ", " : "") + std::to_string(values[i]);
    }
    return out + "]";
}

// The element range a strided view touches must lie inside its storage.
// All arithmetic is overflow-checked: sizes, strides and offset are hostile.
bool viewFitsStorage(int64_t offset, const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides,
                     int64_t numel) {
    if (sizes.size() != strides.size() || offset < 0 || offset > numel) {
        return false; // an empty view may start right at the end, not past it
    }
    int64_t elements = 1;
    int64_t last = offset;
    bool empty = false;
    for (size_t i = 0; i < sizes.size(); ++i) {
        if (sizes[i] < 0 || strides[i] < 0) return false;
        if (__builtin_mul_overflow(elements, sizes[i], &elements)) return false;
        empty = empty || sizes[i] == 0;
    }
    if (empty) return true; // reads nothing
    for (size_t i = 0; i < sizes.size(); ++i) {
        int64_t span = 0;
        if (__builtin_mul_overflow(sizes[i] - 1, strides[i], &span) || __builtin_add_overflow(last, span, &last)) {
            return false;
        }
    }
    return last < numel;
}

// Code points of valid UTF-8 as latin-1 bytes, if they are all below 256.
std::optional<std::string> latin1FromUtf8(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size();) {
        const auto b = static_cast<uint8_t>(s[i]);
        if (b < 0x80) {
            out.push_back(static_cast<char>(b));
            i += 1;
        } else if ((b & 0xE0) == 0xC0 && i + 1 < s.size()) {
            const unsigned cp = ((b & 0x1Fu) << 6) | (static_cast<uint8_t>(s[i + 1]) & 0x3Fu);
            if (cp > 0xFF) return std::nullopt;
            out.push_back(static_cast<char>(cp));
            i += 2;
        } else {
            return std::nullopt;
        }
    }
    return out;
}

// _codecs.encode(text, encoding): how protocol 2 pickles bytes objects
// (numpy scalars among them).
PickleValue codecsEncode(Opaque call) {
    if (call.args.size() == 2 && call.args[0].is(Kind::String) && call.args[1].is(Kind::String)) {
        const std::string& encoding = call.args[1].asString();
        if (encoding == "latin1" || encoding == "latin-1" || encoding == "iso-8859-1") {
            if (auto bytes = latin1FromUtf8(call.args[0].asString())) {
                return PickleValue::bytes(std::move(*bytes));
            }
        } else if (encoding == "utf-8" || encoding == "utf8") {
            return PickleValue::bytes(call.args[0].asString());
        }
    }
    return PickleValue::opaque(std::move(call));
}

// OrderedDict(), dict(), defaultdict(factory): their items arrive through
// SETITEMS (dictItems); OrderedDict may also get a list of pairs.  Instance
// attributes (state_dict()'s _metadata) are dropped.
PickleValue makeDict(Opaque call) {
    std::vector<PickleValue::Entry> entries;
    if (call.global == "collections.OrderedDict" && !call.args.empty()) {
        const PickleValue& pairs = call.args[0];
        if (!pairs.is(Kind::List) && !pairs.is(Kind::Tuple)) {
            return PickleValue::opaque(std::move(call));
        }
        for (const auto& pair : pairs.items()) {
            if (!pair.is(Kind::Tuple) || pair.items().size() != 2) {
                return PickleValue::opaque(std::move(call));
            }
            entries.emplace_back(pair.items()[0], pair.items()[1]);
        }
    }
    for (auto& entry : call.dictItems)
        entries.push_back(std::move(entry));
    return PickleValue::dict(std::move(entries));
}

bool isNumpyScalar(const std::string& global) {
    return global == "numpy.core.multiarray.scalar" || global == "numpy._core.multiarray.scalar"; // numpy >= 2
}

} // namespace

TorchResolver::TorchResolver(RecordLoader loader, std::string archiveName)
    : m_loader(std::move(loader)), m_archiveName(std::move(archiveName)) {}

std::string TorchResolver::recordName(const std::string& key) const {
    return m_archiveName + "/data/" + key;
}

// torch.save's persistent ids:
// ('storage', torch.FloatStorage, key, location, numel).
PickleValue TorchResolver::persistentLoad(const PickleValue& pid) {
    if (!pid.is(Kind::Tuple) || pid.items().size() != 5 || !pid.items()[0].is(Kind::String) ||
        pid.items()[0].asString() != "storage") {
        damaged("unknown kind of persistent id (" + pid.describe() + ")");
    }
    const auto& item = pid.items();
    if (!item[1].is(Kind::Opaque) || !item[2].is(Kind::String) || !item[3].is(Kind::String) || !item[4].is(Kind::Int)) {
        damaged("malformed storage reference");
    }
    // item[3] is the device the storage was saved from ("cuda:0"): ignored,
    // everything is loaded onto the CPU.
    const std::string& type = item[1].asOpaque().global;
    const std::string& key = item[2].asString();
    const auto dtype = storageDtype(type);
    if (!dtype) {
        throw CheckpointError("unsupported storage dtype '" + type + "' (storage '" + recordName(key) +
                              "'): only float, double, half, bfloat16, "
                              "integer, bool and complex tensors can be read");
    }
    loadStorage(key, *dtype, item[4].asInt());
    Opaque handle;
    handle.global = kStorageHandle;
    handle.args.push_back(PickleValue::string(key));
    return PickleValue::opaque(std::move(handle));
}

const TorchResolver::LoadedStorage& TorchResolver::loadStorage(const std::string& key, c10::ScalarType dtype,
                                                               int64_t numel) {
    if (const auto it = m_storages.find(key); it != m_storages.end()) {
        if (it->second.dtype != dtype || it->second.numel != numel) {
            damaged("storage '" + recordName(key) + "' is used with two types");
        }
        return it->second; // views of one storage share its memory
    }
    int64_t nbytes = 0;
    if (numel < 0 || __builtin_mul_overflow(numel, static_cast<int64_t>(c10::elementSize(dtype)), &nbytes)) {
        damaged("storage '" + recordName(key) + "' has an invalid size");
    }
    std::optional<Record> record = m_loader("data/" + key);
    if (!record) damaged("storage '" + recordName(key) + "' is missing");
    if (record->size != static_cast<uint64_t>(nbytes)) {
        damaged("storage '" + recordName(key) + "' holds " + std::to_string(record->size) + " bytes instead of " +
                std::to_string(nbytes) + " (" + std::to_string(numel) + " x " + c10::toString(dtype) + ")");
    }
    if (dtype == c10::kBool) { // any byte but 0/1 would be an invalid bool
        auto* bytes = static_cast<uint8_t*>(record->data.get());
        for (size_t i = 0; i < record->size; ++i)
            bytes[i] = bytes[i] != 0;
    }
    c10::Storage storage(c10::Storage::use_byte_size_t(), record->size, std::move(record->data), /*allocator=*/nullptr,
                         /*resizable=*/false);
    return m_storages.emplace(key, LoadedStorage{std::move(storage), dtype, numel}).first->second;
}

const TorchResolver::LoadedStorage& TorchResolver::storageOf(const PickleValue& handle) const {
    if (handle.is(Kind::Opaque)) {
        const Opaque& o = handle.asOpaque();
        if (o.global == kStorageHandle && o.args.size() == 1 && o.args[0].is(Kind::String)) {
            const auto it = m_storages.find(o.args[0].asString());
            if (it != m_storages.end()) return it->second;
        }
    }
    damaged("a tensor refers to " + handle.describe() + " instead of a storage");
}

// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
// backward_hooks[, metadata]) and the older _rebuild_tensor (first four).
// requires_grad and hooks are dropped: the result is a plain tensor.
PickleValue TorchResolver::rebuildTensor(const Opaque& call) const {
    if (call.args.size() < 4) damaged("tensor without size or stride");
    const LoadedStorage& s = storageOf(call.args[0]);
    const int64_t offset = intArgument(call.args[1], "storage offset");
    const auto sizes = intList(call.args[2], "size");
    const auto strides = intList(call.args[3], "stride");
    if (sizes.size() != strides.size()) {
        damaged("a tensor has " + std::to_string(sizes.size()) + " sizes but " + std::to_string(strides.size()) +
                " strides");
    }
    if (!viewFitsStorage(offset, sizes, strides, s.numel)) {
        damaged("a tensor of size " + join(sizes) + ", stride " + join(strides) + " and offset " +
                std::to_string(offset) + " does not fit its storage of " + std::to_string(s.numel) + " elements");
    }
    at::Tensor tensor = at::empty({0}, at::TensorOptions().dtype(s.dtype));
    tensor.set_(s.storage, offset, sizes, strides);
    return PickleValue::tensor(std::move(tensor));
}

// _rebuild_from_type_v2(func, new_type, args, state): a tensor subclass.
// We rebuild the plain tensor via func(*args) and forget the subclass.
PickleValue TorchResolver::rebuildFromType(const Opaque& call) {
    if (call.args.size() < 3 || !call.args[0].is(Kind::Opaque) || call.args[0].asOpaque().called ||
        !call.args[2].is(Kind::Tuple)) {
        return PickleValue::opaque(call);
    }
    Opaque inner;
    inner.global = call.args[0].asOpaque().global;
    inner.args = call.args[2].items();
    return construct(std::move(inner));
}

PickleValue TorchResolver::construct(Opaque call) {
    const std::string& g = call.global;
    if (!call.called) return PickleValue::opaque(std::move(call));
    if (g == "collections.OrderedDict" || g == "builtins.dict" || g == "collections.defaultdict") {
        return makeDict(std::move(call));
    }
    if (g == "torch._utils._rebuild_tensor_v2" || g == "torch._utils._rebuild_tensor") {
        return rebuildTensor(call);
    }
    if (g == "torch._utils._rebuild_parameter" || g == "torch._utils._rebuild_parameter_with_state") {
        // (data, requires_grad, backward_hooks[, state]): the data is the tensor.
        if (!call.args.empty()) return call.args[0];
    }
    if (g == "torch._tensor._rebuild_from_type_v2" || g == "torch._tensor._rebuild_from_type") {
        return rebuildFromType(call);
    }
    if (g == "torch.storage._load_from_bytes") {
        throw CheckpointError("unsupported object torch.storage._load_from_bytes (a tensor pickled "
                              "with plain pickle or a legacy torch.save): re-save with torch.save");
    }
    if (g == "_codecs.encode") return codecsEncode(std::move(call));
    if (g == "builtins.bytes" && call.args.empty()) return PickleValue::bytes("");
    if (isNumpyScalar(g)) call.number = decodeNumpyScalar(call);
    return PickleValue::opaque(std::move(call));
}

namespace {

char numpyByteOrder(const Opaque& dtype) {
    // numpy.dtype's BUILD state: (version, byteorder, ...), e.g. (3, '<', ...)
    if (!dtype.state.is(Kind::Tuple) || dtype.state.items().size() < 2) return '<';
    const PickleValue& order = dtype.state.items()[1];
    if (!order.is(Kind::String) || order.asString().size() != 1) return '<';
    return order.asString()[0];
}

template <typename T> T loadAs(const std::string& bytes) {
    T value;
    std::memcpy(&value, bytes.data(), sizeof value);
    return value;
}

PickleValue decodeSigned(const std::string& data) {
    switch (data.size()) {
    case 1:
        return PickleValue::integer(loadAs<int8_t>(data));
    case 2:
        return PickleValue::integer(loadAs<int16_t>(data));
    case 4:
        return PickleValue::integer(loadAs<int32_t>(data));
    case 8:
        return PickleValue::integer(loadAs<int64_t>(data));
    default:
        return {};
    }
}

PickleValue decodeUnsigned(const std::string& data) {
    switch (data.size()) {
    case 1:
        return PickleValue::integer(loadAs<uint8_t>(data));
    case 2:
        return PickleValue::integer(loadAs<uint16_t>(data));
    case 4:
        return PickleValue::integer(loadAs<uint32_t>(data));
    case 8: {
        const auto v = loadAs<uint64_t>(data);
        if (v > static_cast<uint64_t>(INT64_MAX)) {
            return PickleValue::real(static_cast<double>(v));
        }
        return PickleValue::integer(static_cast<int64_t>(v));
    }
    default:
        return {};
    }
}

PickleValue decodeFloat(const std::string& data) {
    switch (data.size()) {
    case 2: {
        c10::Half h(loadAs<uint16_t>(data), c10::Half::from_bits());
        return PickleValue::real(static_cast<float>(h));
    }
    case 4:
        return PickleValue::real(loadAs<float>(data));
    case 8:
        return PickleValue::real(loadAs<double>(data));
    default:
        return {};
    }
}

} // namespace

// numpy pickles a scalar as scalar(dtype('f8'), b'<raw bytes>').
PickleValue decodeNumpyScalar(const Opaque& call) {
    if (call.args.size() != 2 || !call.args[0].is(Kind::Opaque) || !call.args[1].is(Kind::Bytes)) {
        return {};
    }
    const Opaque& dtype = call.args[0].asOpaque();
    if (dtype.global != "numpy.dtype" || dtype.args.empty() || !dtype.args[0].is(Kind::String)) {
        return {};
    }
    const std::string& code = dtype.args[0].asString(); // "f8", "i4", "b1"
    const std::string& data = call.args[1].asBytes();
    if (code.size() != 2 || code[1] - '0' != static_cast<int>(data.size())) {
        return {};
    }
    if (numpyByteOrder(dtype) == '>' && data.size() > 1) return {};
    switch (code[0]) {
    case 'b':
        return PickleValue::boolean(data[0] != 0);
    case 'i':
        return decodeSigned(data);
    case 'u':
        return decodeUnsigned(data);
    case 'f':
        return decodeFloat(data);
    default:
        return {};
    }
}

} // namespace segxai::torchload
