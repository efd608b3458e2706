#pragma once
#include "engine/model/model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace segxai {

// The dropout layers of a model and whether inference can switch them on (Monte Carlo
// dropout): a scripted model's dropout reads its module's `training` flag; a traced model's
// was fixed when it was traced.
struct DropoutLayers {
    std::vector<std::string> paths; // dotted submodule paths of Dropout, Dropout2d, Dropout3d, AlphaDropout ...
    bool switchable = false;
    std::string reason; // why not, when not
};
DropoutLayers dropoutLayers(const Model& model);

// While alive, the model's dropout layers drop as in training (every other layer stays in
// eval mode) and LibTorch's generator is seeded; the destructor switches them off again. The
// model must not run other jobs meanwhile. Throws segxai::Error with dropoutLayers().reason
// when the model has no dropout it can switch on.
class McDropout {
public:
    McDropout(const Model& model, uint64_t seed);
    ~McDropout();
    McDropout(const McDropout&) = delete;
    McDropout& operator=(const McDropout&) = delete;
    // A new seed for the next pass.
    void reseed(uint64_t seed);

private:
    const Model& m_model;
    std::vector<std::string> m_paths;
};

} // namespace segxai
