#include "render/slice_view.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace segxai::render {

const char* sliceAxisName(SliceAxis axis) {
    switch (axis) {
    case SliceAxis::Axial:
        return "axial";
    case SliceAxis::Coronal:
        return "coronal";
    case SliceAxis::Sagittal:
        return "sagittal";
    }
    return "";
}

SliceFrame sliceFrame(SliceAxis axis, Convention convention) {
    // World is LPS: +x left, +y posterior, +z superior.
    const double lr = convention == Convention::Radiological ? 1.0 : -1.0;
    switch (axis) {
    case SliceAxis::Axial:
        return {{lr, 0, 0}, {0, -1, 0}, {0, 0, 1}};
    case SliceAxis::Coronal:
        return {{lr, 0, 0}, {0, 0, 1}, {0, 1, 0}};
    case SliceAxis::Sagittal:
        return {{0, 1, 0}, {0, 0, 1}, {1, 0, 0}}; // anterior on the left
    }
    return {};
}

char orientationLetter(const glm::dvec3& d) {
    const glm::dvec3 a = glm::abs(d);
    if (a.x >= a.y && a.x >= a.z) return d.x > 0 ? 'L' : 'R';
    if (a.y >= a.z) return d.y > 0 ? 'P' : 'A';
    return d.z > 0 ? 'S' : 'I';
}

glm::dvec3 SliceViewport::pixelToWorld(const glm::dvec2& pixel) const {
    const double dx = (pixel.x - width * 0.5) * mmPerPixel;
    const double dy = (height * 0.5 - pixel.y) * mmPerPixel;
    return center + dx * frame.right + dy * frame.up;
}

glm::dvec2 SliceViewport::worldToPixel(const glm::dvec3& world) const {
    const glm::dvec3 d = world - center;
    return {width * 0.5 + glm::dot(d, frame.right) / mmPerPixel, height * 0.5 - glm::dot(d, frame.up) / mmPerPixel};
}

glm::dmat4 SliceViewport::fragCoordToWorld() const {
    // world = center + (fx - w/2) s right + (fy - h/2) s up, with fy counted from the bottom.
    glm::dmat4 m(0.0);
    m[0] = glm::dvec4(frame.right * mmPerPixel, 0.0);
    m[1] = glm::dvec4(frame.up * mmPerPixel, 0.0);
    m[2] = glm::dvec4(frame.normal, 0.0);
    m[3] = glm::dvec4(center - (width * 0.5 * mmPerPixel) * frame.right - (height * 0.5 * mmPerPixel) * frame.up, 1.0);
    return m;
}

SliceViewport fitViewport(const SliceFrame& frame, const glm::dvec3 corners[8], int width, int height, double margin) {
    glm::dvec2 lo(std::numeric_limits<double>::infinity());
    glm::dvec2 hi(-std::numeric_limits<double>::infinity());
    glm::dvec3 mid(0.0);
    for (int c = 0; c < 8; ++c) {
        const glm::dvec2 p(glm::dot(corners[c], frame.right), glm::dot(corners[c], frame.up));
        lo = glm::min(lo, p);
        hi = glm::max(hi, p);
        mid += corners[c] / 8.0;
    }
    SliceViewport v;
    v.frame = frame;
    v.width = std::max(1, width);
    v.height = std::max(1, height);
    const glm::dvec2 extent = glm::max(hi - lo, glm::dvec2(1e-6));
    v.mmPerPixel = std::max(extent.x / v.width, extent.y / v.height) * (1.0 + 2.0 * margin);
    const glm::dvec2 c2 = (lo + hi) * 0.5;
    const double n = glm::dot(mid, frame.normal);
    v.center = c2.x * frame.right + c2.y * frame.up + n * frame.normal;
    return v;
}

} // namespace segxai::render
