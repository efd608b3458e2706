#pragma once
#include "engine/core/geometry.h"
#include "engine/core/seed_streams.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace segxai {

// Seeded random numbers that come out the same on every platform (the standard library's
// distributions are implementation-defined; only the engine's raw output is specified).
class DemoRandom {
public:
    explicit DemoRandom(uint64_t seed) : m_engine(streamEngine(seed, SeedStream::DemoCase)) {}
    double uniform() { return double(m_engine() >> 11) * 0x1.0p-53; }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    int64_t integer(int64_t lo, int64_t hi) { return lo + int64_t(uniform() * double(hi - lo + 1)); }
    double normal() {
        const double u1 = std::max(uniform(), 1e-300), u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }
    uint64_t next() { return m_engine(); }

private:
    std::mt19937_64 m_engine;
};

// A smooth random field over a world box: normal values on a coarse lattice (one node every
// `cellMm`), interpolated trilinearly. Cheap smoothness for bias fields, deformations and
// irregular lesion edges.
class SmoothNoise {
public:
    SmoothNoise(const WorldBox& box, double cellMm, DemoRandom& random);
    double at(const glm::dvec3& world) const;

private:
    glm::dvec3 m_origin;
    double m_cell;
    int64_t m_n[3];
    std::vector<double> m_values;
};

} // namespace segxai
