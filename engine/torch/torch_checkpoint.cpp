#include "engine/torch/torch_checkpoint.h"

#include "engine/torch/pickle_machine.h"
#include "engine/torch/torch_rebuild.h"

#include <ATen/core/Tensor.h>
#include <algorithm>
#include <c10/util/Exception.h>
#include <caffe2/serialize/inline_container.h>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <new>

namespace segxai {
namespace {

using caffe2::serialize::PyTorchStreamReader;
using torchload::Record;

// LibTorch's messages: first line only, without its standard appeal.
std::string firstLine(const std::string& text) {
    std::string line = text.substr(0, text.find('\n'));
    const size_t appeal = line.find("  (Could this error message be improved?");
    return appeal == std::string::npos ? line : line.substr(0, appeal);
}

// Runs a call into LibTorch's zip reader.  Its c10::Error::what() carries a
// C++ backtrace, so only the first line of the short message is kept.
template <typename F> auto callReader(const std::string& context, F&& call) -> decltype(call()) {
    try {
        return call();
    } catch (const CheckpointError&) {
        throw;
    } catch (const c10::Error& e) {
        throw CheckpointError(context + " (" + firstLine(e.what_without_backtrace()) + ")");
    } catch (const std::exception& e) { // e.g. std::stoull on a bad version
        throw CheckpointError(context + " (" + firstLine(e.what()) + ")");
    }
}

// torch.save's zip files start with a local file header; anything else
// (legacy torch.save, random data) is refused before miniz sees it.  Returns
// the archive's top folder, taken from the first record's name like LibTorch
// does ("archive", or the saved file's base name), for error messages.
std::string checkZipSignature(const std::string& path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) {
        throw CheckpointError("cannot open: no such file");
    }
    if (std::filesystem::is_directory(status)) {
        throw CheckpointError("cannot open: it is a directory");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw CheckpointError("cannot open the file for reading");
    constexpr size_t kHeader = 30; // zip local file header before the name
    char header[kHeader + 256] = {};
    in.read(header, sizeof header);
    const auto got = static_cast<size_t>(in.gcount());
    if (got == 0) {
        throw CheckpointError("not a PyTorch checkpoint (torch.save zip): the file is empty");
    }
    if (got < 4 || std::memcmp(header, "PK\x03\x04", 4) != 0) {
        throw CheckpointError("not a PyTorch checkpoint (torch.save zip); legacy non-zip "
                              "checkpoints from torch < 1.6 are not supported: re-save with "
                              "torch >= 1.6");
    }
    const size_t nameLength = static_cast<uint8_t>(header[26]) | static_cast<size_t>(static_cast<uint8_t>(header[27]))
                                                                     << 8;
    const std::string name(header + kHeader, std::min(nameLength, got > kHeader ? got - kHeader : 0));
    const size_t slash = name.find('/');
    return slash == std::string::npos ? "archive" : name.substr(0, slash);
}

// The zip archive.  Record names are relative to its top folder, which is
// "archive" or the saved file's base name ("checkpoint_final/data.pkl").
class Archive {
public:
    Archive(const std::string& path, std::string name) : m_name(std::move(name)) {
        m_reader = callReader("damaged checkpoint: cannot open the zip archive, the file is "
                              "truncated or corrupt",
                              [&] { return std::make_unique<PyTorchStreamReader>(path); });
    }

    const std::string& name() const { return m_name; }

    bool has(const std::string& record) {
        return callReader(error(record), [&] { return m_reader->hasRecord(record); });
    }

    Record read(const std::string& record) {
        auto [data, size] = callReader(error(record), [&] { return m_reader->getRecord(record); });
        return Record{std::move(data), size};
    }

private:
    std::string error(const std::string& record) const {
        return "damaged checkpoint: cannot read record '" + m_name + "/" + record + "'";
    }

    std::string m_name;
    std::unique_ptr<PyTorchStreamReader> m_reader;
};

std::string recordText(const Record& record) {
    return std::string(static_cast<const char*>(record.data.get()), record.size);
}

// torch >= 2.1 writes a "byteorder" record; older files are little-endian.
void checkByteOrder(Archive& archive) {
    if (!archive.has("byteorder")) return;
    const std::string order = recordText(archive.read("byteorder"));
    if (order == "little") return;
    if (order == "big") {
        throw CheckpointError("the checkpoint was saved on a big-endian machine; only "
                              "little-endian checkpoints are supported: re-save it on x86 or ARM");
    }
    throw CheckpointError("damaged checkpoint: unknown byte order record");
}

PickleValue readArchive(const std::string& path) {
    Archive archive(path, checkZipSignature(path));
    checkByteOrder(archive);
    if (!archive.has("data.pkl")) {
        throw CheckpointError("damaged checkpoint: record '" + archive.name() + "/data.pkl' is missing");
    }
    const Record pickle = archive.read("data.pkl");
    torchload::TorchResolver resolver(
        [&archive](const std::string& name) -> std::optional<Record> {
            if (!archive.has(name)) return std::nullopt;
            return archive.read(name);
        },
        archive.name());
    return pickle::unpickle(static_cast<const uint8_t*>(pickle.data.get()), pickle.size, resolver);
}

std::string keyList(const PickleValue& dict) {
    std::string out;
    for (const auto& [key, value] : dict.entries()) {
        if (!key.is(PickleValue::Kind::String)) continue;
        out += (out.empty() ? "" : ", ") + key.asString();
    }
    return out.empty() ? "no string keys" : "keys: " + out;
}

} // namespace

PickleValue readTorchCheckpoint(const std::string& path) {
    try {
        return readArchive(path);
    } catch (const CheckpointError& e) {
        throw CheckpointError(path + ": " + e.what());
    } catch (const c10::Error& e) { // from ATen while building a tensor
        throw CheckpointError(path + ": damaged checkpoint (" + firstLine(e.what_without_backtrace()) + ")");
    } catch (const std::bad_alloc&) {
        throw CheckpointError(path + ": out of memory while reading the "
                                     "checkpoint (is the file damaged?)");
    }
}

NamedTensors stateDict(const PickleValue& root, const std::string& key) {
    const PickleValue* dict = &root;
    const std::string what = key.empty() ? "the checkpoint" : "entry '" + key + "'";
    if (!key.empty()) {
        if (!root.is(PickleValue::Kind::Dict)) {
            throw CheckpointError("the checkpoint is a " + root.describe() + ", not a dict with an entry '" + key +
                                  "'");
        }
        dict = find(root, key);
        if (!dict) {
            throw CheckpointError("the checkpoint has no entry '" + key + "' (" + keyList(root) + ")");
        }
    }
    if (!dict->is(PickleValue::Kind::Dict)) {
        throw CheckpointError(what + " is a " + dict->describe() + ", not a dict of tensors");
    }
    NamedTensors out;
    for (const auto& [name, value] : dict->entries()) {
        if (!name.is(PickleValue::Kind::String)) {
            throw CheckpointError(what + " has a " + name.describe() + " key; a state dict has str keys");
        }
        if (!value.is(PickleValue::Kind::Tensor)) {
            throw CheckpointError(what + ": '" + name.asString() + "' is a " + value.describe() + ", not a tensor");
        }
        out.emplace_back(name.asString(), value.asTensor());
    }
    return out;
}

} // namespace segxai
