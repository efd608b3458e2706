#pragma once
// One derivation of every seed the engine draws random numbers from: the user's seed spread
// by the golden-ratio constant, plus a fixed offset per stream (and a sample index for
// streams with one generator per sample). The offsets are those the engine has always used:
// stored results, the tests' expected values and the figures of docs/ were made with them,
// so they never change (SmoothGrad's samples 1, 5, 11, ... share their seeds with the other
// streams; they are different computations, so that is harmless and kept).
#include <cstdint>
#include <random>

namespace segxai {

// 2^64 / golden ratio: consecutive user seeds land far apart in the generators' seed space.
constexpr uint64_t kSeedSpread = 0x9E3779B97F4A7C15ull;

// The random streams, by their offset.
enum class SeedStream : uint64_t {
    SmoothGradNoise = 0,        // one generator per sample: offset + sample index
    DemoCase = 1,               // the synthetic demo studies (DemoRandom)
    CorrelationSubsets = 5,     // faithfulness correlation: the random voxel subsets
    SensitivityNoise = 11,      // average sensitivity: the uniform input noise
    KernelShapCoalitions = 17,  // KernelSHAP: the sampled coalitions
    RandomisedWeights = 23,     // cascading randomisation: the redrawn weights
    IntensityAugmentation = 29, // test-time intensity jitter: its draws, then each pass's noise
    SpatialAugmentation = 37,   // test-time rotations and shifts: their draws
};

// The seed of `stream` (and of its sample `sample`, for per-sample streams) for the user's
// `seed`. Unsigned arithmetic: wraps modulo 2^64 by definition.
constexpr uint64_t streamSeed(uint64_t seed, SeedStream stream, uint64_t sample = 0) {
    return seed * kSeedSpread + uint64_t(stream) + sample;
}

// A standard-library engine on `stream` (its raw output is specified on every platform).
inline std::mt19937_64 streamEngine(uint64_t seed, SeedStream stream) {
    return std::mt19937_64(streamSeed(seed, stream));
}

} // namespace segxai
