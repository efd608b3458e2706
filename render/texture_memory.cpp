#include "render/texture_memory.h"

#include "render/gl.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/mman.h>
#include <thread>

namespace segxai::render {

bool softwareRenderer() {
    const auto* renderer = reinterpret_cast<const char*>(glGetString(GL_RENDERER));
    if (!renderer) return false;
    for (const char* name : {"llvmpipe", "softpipe", "swrast"}) {
        if (std::strstr(renderer, name)) return true;
    }
    return false;
}

std::future<void> prepareTextureMemory(size_t bytes) {
    static const bool software = softwareRenderer();
    static const char* setting = std::getenv("SEGXAI_TEXTURE_MEMORY"); // "0": not prepared (to compare)
    // Smaller textures fault in within a frame's upload budget (8192 pages: tens of ms).
    constexpr size_t kWorthIt = size_t(32) << 20;
    if (!software || bytes < kWorthIt || (setting && std::string(setting) == "0")) return {};
    // A thread of its own rather than std::async, whose future would wait for it when a
    // texture is replaced or dropped before its memory is ready.
    std::promise<void> done;
    std::future<void> ready = done.get_future();
    std::thread([bytes, done = std::move(done)]() mutable {
        // The margin covers what other threads take from the same heap meanwhile.
        const size_t total = bytes + (size_t(64) << 20);
        auto* memory = static_cast<volatile char*>(std::malloc(total));
        if (!memory) {
            done.set_value();
            return;
        }
        constexpr uintptr_t kPage = 4096;
        const uintptr_t begin = (uintptr_t(memory) + kPage - 1) & ~(kPage - 1);
        const uintptr_t end = (uintptr_t(memory) + total) & ~(kPage - 1);
        // Advice only: 2 MiB pages fault in about 3 times faster here (0.6-0.8 s for 420 MB
        // against 1.5-1.9 s).
        if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
        for (size_t i = 0; i < total; i += kPage)
            memory[i] = 0;
        std::free(const_cast<char*>(memory));
        done.set_value();
    }).detach();
    return ready;
}

} // namespace segxai::render
