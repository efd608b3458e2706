#include "engine/demo/demo_random.h"

#include <algorithm>

namespace segxai {

SmoothNoise::SmoothNoise(const WorldBox& box, double cellMm, DemoRandom& random) : m_origin(box.min), m_cell(cellMm) {
    for (int a = 0; a < 3; ++a)
        m_n[a] = int64_t(std::ceil((box.max[a] - box.min[a]) / cellMm)) + 2;
    m_values.resize(size_t(m_n[0] * m_n[1] * m_n[2]));
    for (double& v : m_values)
        v = random.normal();
}

double SmoothNoise::at(const glm::dvec3& world) const {
    int64_t base[3];
    double frac[3];
    for (int a = 0; a < 3; ++a) {
        const double c = std::clamp((world[a] - m_origin[a]) / m_cell, 0.0, double(m_n[a] - 1) - 1e-9);
        base[a] = int64_t(c);
        frac[a] = c - double(base[a]);
    }
    auto v = [&](int dx, int dy, int dz) {
        return m_values[size_t(base[0] + dx + m_n[0] * (base[1] + dy + m_n[1] * (base[2] + dz)))];
    };
    const double c00 = v(0, 0, 0) * (1 - frac[0]) + v(1, 0, 0) * frac[0];
    const double c10 = v(0, 1, 0) * (1 - frac[0]) + v(1, 1, 0) * frac[0];
    const double c01 = v(0, 0, 1) * (1 - frac[0]) + v(1, 0, 1) * frac[0];
    const double c11 = v(0, 1, 1) * (1 - frac[0]) + v(1, 1, 1) * frac[0];
    const double c0 = c00 * (1 - frac[1]) + c10 * frac[1];
    const double c1 = c01 * (1 - frac[1]) + c11 * frac[1];
    return c0 * (1 - frac[2]) + c1 * frac[2];
}

} // namespace segxai
