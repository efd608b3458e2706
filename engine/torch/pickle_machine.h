// A pickle virtual machine (protocols 2-5) that never executes anything:
// every class or function reference becomes a generic object description
// (segxai::Opaque) that a PickleResolver may turn into a concrete value.
//
// Internal header of the checkpoint reader; the input is untrusted.
#pragma once

#include "engine/torch/pickle_value.h"

#include <cstddef>
#include <cstdint>

namespace segxai::pickle {

class PickleResolver {
public:
    virtual ~PickleResolver() = default;
    // BINPERSID: `pid` is the (already decoded) persistent id.
    virtual PickleValue persistentLoad(const PickleValue& pid) = 0;
    // Every object created by REDUCE, NEWOBJ, EMPTY_SET, ... and every bare
    // global, once fully built.  Returning PickleValue::opaque(object) keeps it
    // unknown.  Called at most once per pickled object.
    virtual PickleValue construct(Opaque object) = 0;
};

struct PickleLimits {
    size_t maxDepth = 200;            // nesting of the resulting value tree
    size_t maxObjects = 2'000'000;    // objects the VM may create (~300 B each)
    size_t maxOutputBytes = 1u << 30; // rough size of the resulting tree
};

// Runs the pickle in [data, data + size).  Throws CheckpointError.
PickleValue unpickle(const uint8_t* data, size_t size, PickleResolver& resolver, const PickleLimits& limits = {});

} // namespace segxai::pickle
