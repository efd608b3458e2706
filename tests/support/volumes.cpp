#include "tests/support/volumes.h"

#include <cmath>
#include <glm/gtc/matrix_transform.hpp>

namespace segxai::test {

Volume makeVolume(const Geometry& geometry, const std::function<float(int64_t, int64_t, int64_t)>& value,
                  const std::string& name) {
    Volume volume(geometry, name);
    for (int64_t k = 0; k < geometry.dims[2]; ++k) {
        for (int64_t j = 0; j < geometry.dims[1]; ++j) {
            for (int64_t i = 0; i < geometry.dims[0]; ++i)
                volume.at(i, j, k) = value(i, j, k);
        }
    }
    return volume;
}

Study twoChannelStudy(Index3 dims) {
    Geometry g;
    g.dims = dims;
    Study study;
    study.geometry = g;
    study.channels = {makeVolume(
                          g, [](auto i, auto j, auto k) { return float(std::sin(0.3 * i + 0.2 * j + 0.1 * k)); }, "a"),
                      makeVolume(
                          g, [](auto i, auto j, auto k) { return float(std::cos(0.2 * i + 0.3 * j + 0.1 * k)); }, "b")};
    return study;
}

glm::dmat3 rotation(const glm::dvec3& axis, double degrees) {
    return glm::dmat3(glm::rotate(glm::dmat4(1.0), glm::radians(degrees), glm::normalize(axis)));
}

Geometry obliqueGeometry(Index3 dims) {
    Geometry g;
    g.dims = dims;
    g.spacing = {0.8, 1.25, 3.0};
    g.origin = {-12.5, 30.25, 7.0};
    g.direction = rotation({1.0, 2.0, 0.5}, 27.0);
    return g;
}

} // namespace segxai::test
