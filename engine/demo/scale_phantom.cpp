#include "engine/demo/scale_phantom.h"

#include "engine/core/parallel.h"
#include "engine/demo/demo_random.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <functional>

namespace segxai {
namespace {

// World millimetres: x towards the patient's left, y posterior, z superior; the volume's centre
// is the origin, so the field of view runs +-205 mm across and +-300 mm along the body.
const glm::dvec3 kFieldOfViewMm{409.6, 409.6, 600.0};

struct Painter {
    ScalePhantom& p;

    // Sets label and density wherever `inside` holds within the world box [lo, hi].
    void paint(glm::dvec3 lo, glm::dvec3 hi, uint16_t label, int16_t hu,
               const std::function<bool(const glm::dvec3&)>& inside) {
        const Geometry& g = p.grid;
        const glm::dvec3 a = g.worldToVoxel(lo), b = g.worldToVoxel(hi);
        Index3 from{}, to{};
        for (int d = 0; d < 3; ++d) {
            from[size_t(d)] = std::clamp<int64_t>(int64_t(std::floor(std::min(a[d], b[d]))), 0, g.dims[size_t(d)]);
            to[size_t(d)] = std::clamp<int64_t>(int64_t(std::ceil(std::max(a[d], b[d]))) + 1, 0, g.dims[size_t(d)]);
        }
        parallelFor(to[2] - from[2], [&](int64_t k0, int64_t k1) {
            for (int64_t k = from[2] + k0; k < from[2] + k1; ++k)
                for (int64_t j = from[1]; j < to[1]; ++j)
                    for (int64_t i = from[0]; i < to[0]; ++i) {
                        if (!inside(g.voxelToWorld(glm::dvec3(double(i), double(j), double(k))))) continue;
                        const size_t v = g.linearIndex(i, j, k);
                        p.labels.labels[v] = label;
                        p.hounsfield[v] = hu;
                    }
        });
    }

    void ellipsoid(uint16_t label, int16_t hu, glm::dvec3 centre, glm::dvec3 radii) {
        paint(centre - radii, centre + radii, label, hu, [=](const glm::dvec3& w) {
            const glm::dvec3 d = (w - centre) / radii;
            return glm::dot(d, d) <= 1.0;
        });
    }

    // A structure on each side: `left` at +x, `left + 1` mirrored at -x.
    void pair(uint16_t left, int16_t hu, glm::dvec3 centre, glm::dvec3 radii) {
        ellipsoid(left, hu, centre, radii);
        ellipsoid(uint16_t(left + 1), hu, {-centre.x, centre.y, centre.z}, radii);
    }
};

// Lung lobes: the lower lobe below an oblique plane, the right middle lobe in front.
void lungs(Painter& paint) {
    const glm::dvec3 radii{55, 75, 100};
    for (int side : {1, -1}) {
        const glm::dvec3 centre{75.0 * side, 10, 110};
        const uint16_t upper = side > 0 ? 13 : 15, lower = side > 0 ? 14 : 17;
        for (uint16_t label : {upper, lower, uint16_t(16)}) {
            if (side > 0 && label == 16) continue;
            paint.paint(centre - radii, centre + radii, label, -850, [=](const glm::dvec3& w) {
                const glm::dvec3 d = (w - centre) / radii;
                if (glm::dot(d, d) > 1.0) return false;
                const bool below = w.z < 110.0 + 0.6 * (w.y - 10.0); // the oblique fissure
                const bool middle = side < 0 && !below && w.z < 150.0 && w.y < 0.0;
                if (label == lower) return below;
                if (label == 16) return middle;
                return !below && !middle;
            });
        }
    }
}

// Vertebrae L5 (label 18) up to C1 (41), stacked 19 mm apart behind the organs, and the ribs
// of each thoracic level (left 58-69, right 70-81) as arcs 5 mm thick.
double vertebraZ(int level) {
    return -215.0 + 19.0 * level; // level 0 is L5, 23 is C1
}

void spine(Painter& paint) {
    for (int level = 0; level < 24; ++level) {
        const double r = level >= 17 ? 14.0 : 20.0;
        paint.ellipsoid(uint16_t(18 + level), int16_t(450 + 5 * level), {0, 60, vertebraZ(level)}, {r, 0.85 * r, 8.0});
    }
    for (int n = 1; n <= 12; ++n) {
        const double z = vertebraZ(17 - n); // rib n meets vertebra T n
        for (int side : {1, -1}) {
            const uint16_t label = uint16_t((side > 0 ? 57 : 69) + n);
            paint.paint({-150, -110, z - 6}, {150, 120, z + 6}, label, 600, [=](const glm::dvec3& w) {
                if (w.x * side < 8.0 || w.y < -70.0) return false;
                const double rho = std::hypot(w.x / 135.0, (w.y - 10.0) / 95.0);
                return std::abs(rho - 1.0) * 100.0 < 5.0 && std::abs(w.z - z) < 5.0;
            });
        }
    }
}

void organs(Painter& p) {
    p.ellipsoid(5, 60, {-60, -5, -40}, {80, 70, 65});   // liver
    p.ellipsoid(1, 45, {95, 40, -60}, {45, 30, 55});    // spleen
    p.ellipsoid(3, 35, {70, 55, -105}, {28, 22, 50});   // kidney_left
    p.ellipsoid(2, 35, {-70, 55, -110}, {28, 22, 50});  // kidney_right
    p.ellipsoid(4, 10, {-55, -40, -70}, {18, 18, 30});  // gallbladder
    p.ellipsoid(6, 25, {60, -30, -40}, {45, 35, 45});   // stomach
    p.ellipsoid(55, 20, {0, -50, -150}, {70, 35, 40});  // small bowel
    p.ellipsoid(57, -50, {0, -40, -195}, {95, 40, 20}); // colon
    p.ellipsoid(56, 22, {15, 0, -100}, {30, 12, 12});   // duodenum
    p.ellipsoid(10, 40, {10, 10, -80}, {45, 12, 12});   // pancreas
    p.ellipsoid(7, 180, {10, 30, -20}, {12, 12, 140});  // aorta
    p.ellipsoid(8, 160, {-20, 30, -60}, {11, 11, 110}); // inferior vena cava
    p.ellipsoid(9, 170, {0, 0, -60}, {30, 8, 8});       // portal and splenic vein
    p.ellipsoid(12, 30, {45, 45, -55}, {10, 8, 14});    // adrenal_gland_left
    p.ellipsoid(11, 30, {-45, 45, -55}, {10, 8, 14});   // adrenal_gland_right
    p.ellipsoid(42, 30, {5, 40, 110}, {8, 8, 110});     // esophagus
    p.ellipsoid(43, -950, {0, -10, 190}, {10, 10, 50}); // trachea
    p.ellipsoid(44, 55, {10, -30, 50}, {55, 45, 45});   // heart myocardium, chambers inside
    p.ellipsoid(45, 140, {20, -10, 70}, {18, 16, 16});  // atrium left
    p.ellipsoid(46, 150, {30, -45, 40}, {20, 18, 20});  // ventricle left
    p.ellipsoid(47, 145, {-15, -20, 75}, {18, 16, 16}); // atrium right
    p.ellipsoid(48, 155, {-10, -55, 40}, {20, 16, 20}); // ventricle right
    p.ellipsoid(49, 160, {0, -35, 105}, {25, 10, 10});  // pulmonary artery
    p.ellipsoid(50, 35, {0, 0, 275}, {65, 75, 45});     // brain
    p.ellipsoid(93, 30, {0, -70, 270}, {50, 15, 35});   // face
    p.pair(51, 180, {45, 20, -205}, {8, 8, 35});        // iliac arteries
    p.pair(53, 160, {55, 35, -205}, {9, 9, 35});        // iliac veins
    p.ellipsoid(104, 5, {0, -50, -255}, {40, 35, 30});  // urinary bladder
    p.pair(100, 55, {35, 85, 0}, {15, 15, 200});        // autochthon
    p.pair(102, 50, {55, 30, -180}, {20, 20, 60});      // iliopsoas
    p.pair(94, 50, {80, 100, -240}, {50, 20, 40});      // gluteus maximus
    p.pair(96, 52, {90, 80, -210}, {40, 15, 30});       // gluteus medius
    p.pair(98, 54, {95, 60, -225}, {25, 12, 20});       // gluteus minimus
    p.pair(82, 700, {160, 20, 170}, {14, 14, 60});      // humerus
    p.pair(84, 500, {100, 85, 160}, {40, 10, 50});      // scapula
    p.pair(86, 600, {70, -50, 205}, {55, 8, 8});        // clavicula
    p.pair(88, 700, {90, 10, -285}, {18, 18, 40});      // femur
    p.pair(90, 500, {85, 40, -240}, {35, 35, 30});      // hip
    p.ellipsoid(92, 550, {0, 65, -250}, {40, 25, 30});  // sacrum
}

} // namespace

std::vector<std::string> scalePhantomNames() {
    std::vector<std::string> names{"background",
                                   "spleen",
                                   "kidney_right",
                                   "kidney_left",
                                   "gallbladder",
                                   "liver",
                                   "stomach",
                                   "aorta",
                                   "inferior_vena_cava",
                                   "portal_vein_and_splenic_vein",
                                   "pancreas",
                                   "adrenal_gland_right",
                                   "adrenal_gland_left",
                                   "lung_upper_lobe_left",
                                   "lung_lower_lobe_left",
                                   "lung_upper_lobe_right",
                                   "lung_middle_lobe_right",
                                   "lung_lower_lobe_right"};
    for (int n = 5; n >= 1; --n)
        names.push_back(fmt::format("vertebrae_L{}", n));
    for (int n = 12; n >= 1; --n)
        names.push_back(fmt::format("vertebrae_T{}", n));
    for (int n = 7; n >= 1; --n)
        names.push_back(fmt::format("vertebrae_C{}", n));
    for (const char* name :
         {"esophagus", "trachea", "heart_myocardium", "heart_atrium_left", "heart_ventricle_left", "heart_atrium_right",
          "heart_ventricle_right", "pulmonary_artery", "brain", "iliac_artery_left", "iliac_artery_right",
          "iliac_vena_left", "iliac_vena_right", "small_bowel", "duodenum", "colon"})
        names.push_back(name);
    for (const char* side : {"left", "right"})
        for (int n = 1; n <= 12; ++n)
            names.push_back(fmt::format("rib_{}_{}", side, n));
    for (const char* bone : {"humerus", "scapula", "clavicula", "femur", "hip"})
        for (const char* side : {"left", "right"})
            names.push_back(fmt::format("{}_{}", bone, side));
    names.push_back("sacrum");
    names.push_back("face");
    for (const char* muscle : {"gluteus_maximus", "gluteus_medius", "gluteus_minimus", "autochthon", "iliopsoas"})
        for (const char* side : {"left", "right"})
            names.push_back(fmt::format("{}_{}", muscle, side));
    names.push_back("urinary_bladder");
    return names;
}

ScalePhantom makeScalePhantom(uint64_t seed, const Index3& dims) {
    ScalePhantom p;
    p.names = scalePhantomNames();
    for (int a = 0; a < 3; ++a) {
        p.grid.dims[size_t(a)] = dims[size_t(a)];
        p.grid.spacing[a] = kFieldOfViewMm[a] / double(dims[size_t(a)]);
        p.grid.origin[a] = -0.5 * double(dims[size_t(a)] - 1) * p.grid.spacing[a];
    }
    p.hounsfield.assign(p.grid.voxelCount(), -1000);
    p.labels = LabelVolume(p.grid, "gt");
    Painter paint{p};
    // The body: soft tissue under 15 mm of fat, an elliptic trunk and a round neck and head.
    auto body = [](const glm::dvec3& w, double inset) {
        if (w.z > 215.0) return std::hypot(w.x, w.y) < 85.0 - inset;
        return std::hypot(w.x / (170.0 - inset), w.y / (120.0 - inset)) < 1.0;
    };
    const glm::dvec3 half = kFieldOfViewMm * 0.5;
    paint.paint(-half, half, 0, -100, [&](const glm::dvec3& w) { return body(w, 0.0); });
    paint.paint(-half, half, 0, 40, [&](const glm::dvec3& w) { return body(w, 15.0); });
    lungs(paint);
    organs(paint);
    spine(paint);
    // Scanner noise, 12 HU, seeded per slice so slices can be made in parallel.
    const int64_t slice = p.grid.dims[0] * p.grid.dims[1];
    parallelFor(p.grid.dims[2], [&](int64_t k0, int64_t k1) {
        for (int64_t k = k0; k < k1; ++k) {
            DemoRandom random(seed * 100003 + uint64_t(k));
            for (int64_t n = k * slice; n < (k + 1) * slice; ++n) {
                const double value = double(p.hounsfield[size_t(n)]) + 12.0 * random.normal();
                p.hounsfield[size_t(n)] = int16_t(std::clamp(std::lround(value), -1024L, 3071L));
            }
        }
    });
    return p;
}

} // namespace segxai
