#include "render/transfer_function.h"

#include <algorithm>
#include <cmath>

namespace segxai::render {

TransferFunction TransferFunction::preset(Preset preset) {
    TransferFunction f;
    switch (preset) {
    case Preset::MrBrain: // background out, tissue faint, bright tissue (white matter) visible
        f.points = {{0.0f, 0.0f, {0.0f, 0.0f, 0.0f}},
                    {0.18f, 0.0f, {0.45f, 0.35f, 0.3f}},
                    {0.45f, 0.02f, {0.75f, 0.62f, 0.55f}},
                    {0.75f, 0.06f, {0.95f, 0.88f, 0.82f}},
                    {1.0f, 0.12f, {1.0f, 1.0f, 1.0f}}};
        break;
    case Preset::MrSoft:
        f.points = {{0.0f, 0.0f, {0.0f, 0.0f, 0.0f}},
                    {0.1f, 0.0f, {0.3f, 0.3f, 0.35f}},
                    {0.5f, 0.015f, {0.7f, 0.7f, 0.75f}},
                    {1.0f, 0.05f, {1.0f, 1.0f, 1.0f}}};
        break;
    case Preset::CtBone:
        f.points = {{0.0f, 0.0f, {0.0f, 0.0f, 0.0f}},
                    {0.55f, 0.0f, {0.8f, 0.6f, 0.4f}},
                    {0.65f, 0.15f, {0.95f, 0.9f, 0.8f}},
                    {1.0f, 0.6f, {1.0f, 1.0f, 1.0f}}};
        break;
    case Preset::CtSoftTissue:
        f.points = {{0.0f, 0.0f, {0.0f, 0.0f, 0.0f}},    {0.35f, 0.0f, {0.6f, 0.25f, 0.2f}},
                    {0.45f, 0.04f, {0.85f, 0.5f, 0.4f}}, {0.6f, 0.02f, {0.9f, 0.75f, 0.65f}},
                    {0.7f, 0.3f, {1.0f, 1.0f, 0.95f}},   {1.0f, 0.5f, {1.0f, 1.0f, 1.0f}}};
        break;
    }
    return f;
}

const char* TransferFunction::presetName(Preset preset) {
    switch (preset) {
    case Preset::MrBrain:
        return "MR brain";
    case Preset::MrSoft:
        return "MR soft";
    case Preset::CtBone:
        return "CT bone";
    case Preset::CtSoftTissue:
        return "CT soft tissue";
    }
    return "";
}

void TransferFunction::sortPoints() {
    std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) { return a.value < b.value; });
}

std::vector<glm::u8vec4> TransferFunction::table() const {
    std::vector<glm::u8vec4> out(256, glm::u8vec4(0));
    if (points.empty()) return out;
    for (int n = 0; n < 256; ++n) {
        const float v = float(n) / 255.0f;
        if (v < points.front().value) continue;
        const Point* a = &points.front();
        const Point* b = &points.front();
        for (const Point& p : points) {
            if (p.value <= v) a = &p;
            if (p.value >= v) {
                b = &p;
                break;
            }
            b = &p;
        }
        const float span = b->value - a->value;
        const float t = span > 0.0f ? std::clamp((v - a->value) / span, 0.0f, 1.0f) : 0.0f;
        const glm::vec3 color = glm::mix(a->color, b->color, t);
        const float opacity = std::clamp(a->opacity + (b->opacity - a->opacity) * t, 0.0f, 1.0f);
        out[size_t(n)] = glm::u8vec4(glm::round(glm::clamp(color, 0.0f, 1.0f) * 255.0f), std::round(opacity * 255.0f));
    }
    return out;
}

void TransferTexture::update(const TransferFunction& function) {
    const auto table = function.table();
    if (m_texture && table == m_uploaded) return;
    if (!m_texture) m_texture = createTexture();
    glBindTexture(GL_TEXTURE_2D, m_texture.get());
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, 256, 1, 0, GL_RGBA, GL_UNSIGNED_BYTE, table.data());
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    m_uploaded = table;
}

} // namespace segxai::render
