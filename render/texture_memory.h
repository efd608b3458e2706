#pragma once
// Memory for large textures under a software OpenGL renderer. Mesa's llvmpipe allocates a
// texture's storage from the process heap and zero-fills it when the texture is created: for a
// 512 x 512 x 400 CT's 420 MB that is 1.1 s of page faults, in whichever frame creates it.
// With the same amount of heap touched first on another thread and handed back (SegXAI keeps
// freed heap memory for reuse: engine/core/memory_budget.cpp), the creation took 15 ms
// (docs/performance.md#the-frames-that-take-a-volume-over-2026-12-03).
#include <cstddef>
#include <future>

namespace segxai::render {

// Whether the current context renders in software (llvmpipe, softpipe, swrast): its textures
// live in this process's memory. Needs a current context.
bool softwareRenderer();

// Under a software renderer, faults in `bytes` of heap (and a margin) on a thread of its own,
// on 2 MiB pages where the system allows, and frees them for the next texture to take; the
// future is ready then (dropping it does not wait). An empty future elsewhere (a GPU's
// textures live in its own memory), or with SEGXAI_TEXTURE_MEMORY=0 in the environment (to
// compare).
std::future<void> prepareTextureMemory(size_t bytes);

} // namespace segxai::render
