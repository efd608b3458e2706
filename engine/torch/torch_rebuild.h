// Turns the objects that torch.save pickles (tensors, storages, parameters,
// OrderedDicts, numpy scalars, ...) into PickleValues.  Internal header of
// the checkpoint reader; everything it reads is untrusted.
#pragma once

#include "engine/torch/pickle_machine.h"

#include <c10/core/ScalarType.h>
#include <c10/core/Storage.h>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace segxai::torchload {

struct Record {
    at::DataPtr data; // owns the bytes (malloc'd by the zip reader)
    size_t size = 0;
};

// Reads a record of the archive by its name inside the archive folder
// ("data/0"); std::nullopt when there is no such record.
using RecordLoader = std::function<std::optional<Record>(const std::string&)>;

class TorchResolver final : public pickle::PickleResolver {
public:
    // archiveName: the folder of the records inside the zip ("archive"), used
    // in error messages.
    TorchResolver(RecordLoader loader, std::string archiveName);

    PickleValue persistentLoad(const PickleValue& pid) override;
    PickleValue construct(Opaque object) override;

private:
    struct LoadedStorage {
        c10::Storage storage;
        c10::ScalarType dtype;
        int64_t numel;
    };

    std::string recordName(const std::string& key) const;
    const LoadedStorage& loadStorage(const std::string& key, c10::ScalarType dtype, int64_t numel);
    const LoadedStorage& storageOf(const PickleValue& handle) const;
    PickleValue rebuildTensor(const Opaque& call) const;
    PickleValue rebuildFromType(const Opaque& call);

    RecordLoader m_loader;
    std::string m_archiveName;
    std::map<std::string, LoadedStorage> m_storages; // by storage key
};

// numpy.core.multiarray.scalar(dtype, bytes) as a Bool, Int or Double value;
// None when the dtype is not a plain little-endian bool/int/float.
PickleValue decodeNumpyScalar(const Opaque& call);

} // namespace segxai::torchload
