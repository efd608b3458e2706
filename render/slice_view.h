#pragma once
#include <glm/glm.hpp>
#include <string>

namespace segxai::render {

enum class SliceAxis { Axial, Coronal, Sagittal };
// Radiological: the patient's right on the screen's left (viewed from the feet / the front).
enum class Convention { Radiological, Neurological };

const char* sliceAxisName(SliceAxis axis);

// A view plane in world (LPS) coordinates: screen right and up, and the plane normal that
// slices step along.
struct SliceFrame {
    glm::dvec3 right{1, 0, 0};
    glm::dvec3 up{0, 1, 0};
    glm::dvec3 normal{0, 0, 1};
    bool operator==(const SliceFrame&) const = default;
};

SliceFrame sliceFrame(SliceAxis axis, Convention convention);

// Anatomical letter (L, R, P, A, S, I) of the world axis closest to `direction`.
char orientationLetter(const glm::dvec3& direction);

// Where a view's pixels are in the world. Pixels are counted from the top-left corner, x to
// the right, y down; pixel (x, y) covers [x, x+1) x [y, y+1).
struct SliceViewport {
    SliceFrame frame;
    glm::dvec3 center{0.0}; // world point at the viewport's centre, on the slice plane
    double mmPerPixel = 1.0;
    int width = 1;
    int height = 1;

    glm::dvec3 pixelToWorld(const glm::dvec2& pixel) const;
    glm::dvec2 worldToPixel(const glm::dvec3& world) const;
    // gl_FragCoord (x right, y up from the bottom-left corner) to world.
    glm::dmat4 fragCoordToWorld() const;
    bool operator==(const SliceViewport&) const = default;
};

// The viewport that fits a world box's projection with `margin` (fraction) around it.
SliceViewport fitViewport(const SliceFrame& frame, const glm::dvec3 corners[8], int width, int height,
                          double margin = 0.05);

} // namespace segxai::render
