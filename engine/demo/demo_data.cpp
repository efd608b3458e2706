#include "engine/demo/demo_data.h"

#include "engine/core/error.h"
#include "engine/core/grid.h"
#include "engine/core/parallel.h"
#include "engine/core/resample.h"
#include "engine/demo/demo_random.h"
#include "engine/io/image_io.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <glm/gtc/matrix_transform.hpp>
#include <glm/gtc/quaternion.hpp>

namespace segxai {
namespace {

// AAL label ranges merged into anatomy classes (aal.nii.txt numbering).
uint16_t anatomyClassOfAal(int aal) {
    if (aal >= 1 && aal <= 28) return 1;   // frontal
    if (aal >= 29 && aal <= 42) return 2;  // limbic: insula, cingulum, hippocampus, amygdala
    if (aal >= 43 && aal <= 56) return 3;  // occipital (with fusiform)
    if (aal >= 57 && aal <= 70) return 4;  // parietal
    if (aal >= 71 && aal <= 78) return 5;  // deep grey nuclei
    if (aal >= 79 && aal <= 90) return 6;  // temporal
    if (aal >= 91 && aal <= 116) return 7; // cerebellum
    return 0;
}
constexpr uint16_t kWhiteMatterClass = 8;
constexpr float kWhiteMatterT1 = 97.0f; // Colin27 T1: CSF < 55 < GM < 97 < WM

double sigmoid(double x) {
    return 1.0 / (1.0 + std::exp(-x));
}

// A FLAIR-like contrast from T1 tissue memberships: CSF dark, grey matter brighter than white.
Volume flairFromT1(const Volume& t1, const LabelVolume& brain) {
    Volume flair(t1.geometry, "flair");
    for (size_t n = 0; n < t1.voxels.size(); ++n) {
        const double t = t1.voxels[n];
        if (!brain.labels[n]) {
            flair.voxels[n] = float(0.45 * t); // scalp and skull: dimmer than on T1
            continue;
        }
        const double wm = sigmoid((t - kWhiteMatterT1) / 4.0);
        const double csf = sigmoid((55.0 - t) / 5.0);
        const double gm = std::max(0.0, 1.0 - wm - csf);
        flair.voxels[n] = float(255.0 * (0.10 * csf + 0.52 * gm + 0.42 * wm));
    }
    return flair;
}

glm::dmat3 randomRotation(DemoRandom& random) {
    glm::dquat q(random.normal(), random.normal(), random.normal(), random.normal());
    return glm::mat3_cast(glm::normalize(q));
}

// Ellipsoids with irregular edges inside deep white matter: hypointense on T1, hyperintense
// on FLAIR, partial volume at the edge; the ground truth is the inner part (membership > 0.5).
int insertLesions(Volume& t1, Volume& flair, LabelVolume& truth, const DemoTemplates& templates, DemoRandom& random) {
    const Geometry& g = t1.geometry;
    const int count = int(random.integer(3, 10));
    const SmoothNoise edge(g.worldBounds(), 3.0, random);
    for (int lesion = 0; lesion < count; ++lesion) {
        const auto& candidates = templates.whiteMatterVoxels;
        const int64_t n = candidates[size_t(random.integer(0, int64_t(candidates.size()) - 1))];
        const glm::dvec3 centre = g.voxelToWorld(
            glm::dvec3(double(n % g.dims[0]), double(n / g.dims[0] % g.dims[1]), double(n / (g.dims[0] * g.dims[1]))));
        const double radius = random.uniform(3.0, 7.5);
        const glm::dvec3 axes(radius * random.uniform(0.6, 1.4), radius * random.uniform(0.6, 1.4),
                              radius * random.uniform(0.6, 1.4));
        const glm::dmat3 toLocal = glm::transpose(randomRotation(random));
        const double flairGain = random.uniform(0.6, 1.2);
        const double t1Loss = random.uniform(0.1, 0.35);
        const double reach = std::max({axes.x, axes.y, axes.z}) * 1.6 + 2.0;
        const glm::dvec3 lo = g.worldToVoxel(centre) - reach, hi = g.worldToVoxel(centre) + reach;
        for (int64_t k = std::max<int64_t>(0, int64_t(lo.z)); k <= std::min(g.dims[2] - 1, int64_t(hi.z)); ++k)
            for (int64_t j = std::max<int64_t>(0, int64_t(lo.y)); j <= std::min(g.dims[1] - 1, int64_t(hi.y)); ++j)
                for (int64_t i = std::max<int64_t>(0, int64_t(lo.x)); i <= std::min(g.dims[0] - 1, int64_t(hi.x));
                     ++i) {
                    const size_t v = g.linearIndex(i, j, k);
                    if (!templates.brain.labels[v]) continue;
                    const glm::dvec3 w = g.voxelToWorld(glm::dvec3(double(i), double(j), double(k)));
                    const glm::dvec3 local = toLocal * (w - centre) / axes;
                    const double d = glm::length(local) * (1.0 + 0.15 * edge.at(w));
                    const double m = std::clamp((1.15 - d) / 0.3, 0.0, 1.0);
                    if (m <= 0.0) continue;
                    flair.voxels[v] = float(flair.voxels[v] * (1.0 + flairGain * m));
                    t1.voxels[v] = float(t1.voxels[v] * (1.0 - t1Loss * m));
                    if (d < 1.0) truth.labels[v] = 1;
                }
    }
    return count;
}

// Smooth random deformation (rotation, scaling, shift, elastic) resampling every channel
// (linear) and the ground truth (nearest) onto the template grid.
void deform(DemoCase& c, DemoRandom& random) {
    const Geometry g = c.groundTruth.geometry;
    const WorldBox box = g.worldBounds();
    const glm::dvec3 centre = (box.min + box.max) * 0.5;
    const glm::dmat3 rotation =
        glm::dmat3(glm::rotate(glm::dmat4(1.0), glm::radians(random.uniform(-6.0, 6.0)),
                               glm::normalize(glm::dvec3(random.normal(), random.normal(), random.normal()))));
    const glm::dvec3 scale(random.uniform(0.93, 1.07), random.uniform(0.93, 1.07), random.uniform(0.93, 1.07));
    const glm::dvec3 shift(random.uniform(-4, 4), random.uniform(-4, 4), random.uniform(-4, 4));
    const SmoothNoise dx(box, 24.0, random), dy(box, 24.0, random), dz(box, 24.0, random);
    const double elastic = 2.5;

    // Source position of every target voxel, shared by all channels.
    std::vector<glm::vec3> source(g.voxelCount());
    parallelFor(g.dims[2], [&](int64_t k0, int64_t k1) {
        for (int64_t k = k0; k < k1; ++k)
            for (int64_t j = 0; j < g.dims[1]; ++j)
                for (int64_t i = 0; i < g.dims[0]; ++i) {
                    const glm::dvec3 w = g.voxelToWorld(glm::dvec3(double(i), double(j), double(k)));
                    const glm::dvec3 q = centre + rotation * ((w - centre) * scale) + shift +
                                         elastic * glm::dvec3(dx.at(w), dy.at(w), dz.at(w));
                    source[g.linearIndex(i, j, k)] = glm::vec3(g.worldToVoxel(q));
                }
    });
    for (Volume& channel : c.channels) {
        Volume out(g, channel.name);
        parallelFor(int64_t(source.size()), [&](int64_t n0, int64_t n1) {
            for (int64_t n = n0; n < n1; ++n) {
                const glm::vec3 s = source[size_t(n)];
                glm::ivec3 b;
                glm::vec3 f;
                bool inside = true;
                for (int a = 0; a < 3; ++a) {
                    inside = inside && s[a] >= 0.0f && s[a] <= float(g.dims[a] - 1);
                    b[a] = std::clamp(int(std::floor(s[a])), 0, int(g.dims[a]) - 2);
                    f[a] = s[a] - float(b[a]);
                }
                if (!inside) continue;
                auto at = [&](int x, int y, int z) { return channel.at(b.x + x, b.y + y, b.z + z); };
                const float c00 = at(0, 0, 0) * (1 - f.x) + at(1, 0, 0) * f.x;
                const float c10 = at(0, 1, 0) * (1 - f.x) + at(1, 1, 0) * f.x;
                const float c01 = at(0, 0, 1) * (1 - f.x) + at(1, 0, 1) * f.x;
                const float c11 = at(0, 1, 1) * (1 - f.x) + at(1, 1, 1) * f.x;
                out.voxels[size_t(n)] = (c00 * (1 - f.y) + c10 * f.y) * (1 - f.z) + (c01 * (1 - f.y) + c11 * f.y) * f.z;
            }
        });
        channel = std::move(out);
    }
    LabelVolume labels(g, c.groundTruth.name);
    for (size_t n = 0; n < source.size(); ++n) {
        const glm::vec3 s = source[n];
        const int64_t i = std::lround(s.x), j = std::lround(s.y), k = std::lround(s.z);
        if (g.contains(i, j, k)) labels.labels[n] = c.groundTruth.at(i, j, k);
    }
    c.groundTruth = std::move(labels);
}

// Gain, gamma, smooth multiplicative bias and Rician-like noise, per channel.
void changeIntensities(Volume& channel, DemoRandom& random) {
    const Geometry& g = channel.geometry;
    const double gain = random.uniform(0.85, 1.15), gamma = random.uniform(0.85, 1.15);
    const double noise = random.uniform(1.5, 4.0);
    const SmoothNoise bias(g.worldBounds(), 60.0, random);
    const uint64_t noiseSeed = random.next();
    parallelFor(
        g.dims[2],
        [&](int64_t k0, int64_t k1) {
            for (int64_t k = k0; k < k1; ++k) {
                DemoRandom local(noiseSeed + uint64_t(k)); // per slice: independent of thread count
                for (int64_t j = 0; j < g.dims[1]; ++j)
                    for (int64_t i = 0; i < g.dims[0]; ++i) {
                        float& v = channel.at(i, j, k);
                        const glm::dvec3 w = g.voxelToWorld(glm::dvec3(double(i), double(j), double(k)));
                        const double b = 1.0 + 0.08 * bias.at(w);
                        const double x = 255.0 * std::pow(std::max(0.0, double(v)) / 255.0, gamma) * gain * b;
                        v = float(std::abs(x + noise * local.normal()));
                    }
            }
        },
        /*minChunk=*/8);
}

LabelVolume readMask(const std::string& path, const Geometry& grid) {
    LabelVolume labels = readLabelVolume(path);
    return labels.geometry.sameGrid(grid) ? labels : resampleNearest(labels, grid);
}

} // namespace

std::vector<std::string> demoClassNames(DemoTask task) {
    if (task == DemoTask::Lesions) return {"background", "lesion"};
    return {"background", "frontal",  "limbic",     "occipital",   "parietal",
            "deep grey",  "temporal", "cerebellum", "white matter"};
}

std::vector<std::string> demoChannelNames(DemoTask task) {
    if (task == DemoTask::Lesions) return {"t1", "flair"};
    return {"t1"};
}

const char* demoTaskName(DemoTask task) {
    return task == DemoTask::Lesions ? "lesions" : "anatomy";
}

DemoTemplates DemoTemplates::load(const std::string& folder) {
    for (const char* name : {"ch2.nii.gz", "ch2bet.nii.gz", "aal.nii.gz", "JHU-WhiteMatter-labels-1mm.nii.gz"}) {
        if (!std::filesystem::exists(std::filesystem::path(folder) / name)) {
            throw Error(folder + "/" + name +
                        ": not found; the demo data are made from Debian's "
                        "mricron-data package (apt-get install mricron-data)");
        }
    }
    DemoTemplates t;
    t.t1 = readVolume(folder + "/ch2.nii.gz");
    t.t1.name = "t1";
    const Geometry& g = t.t1.geometry;
    const Volume bet = readVolume(folder + "/ch2bet.nii.gz");
    t.brain = LabelVolume(g, "brain");
    for (size_t n = 0; n < bet.voxels.size(); ++n)
        t.brain.labels[n] = bet.voxels[n] > 0.0f;
    const LabelVolume aal = readMask(folder + "/aal.nii.gz", g);
    t.anatomy = LabelVolume(g, "anatomy");
    for (size_t n = 0; n < aal.labels.size(); ++n) {
        uint16_t c = anatomyClassOfAal(aal.labels[n]);
        if (c == 0 && t.brain.labels[n] && t.t1.voxels[n] > kWhiteMatterT1 - 7.0f) c = kWhiteMatterClass;
        t.anatomy.labels[n] = c;
    }
    const LabelVolume jhu = readMask(folder + "/JHU-WhiteMatter-labels-1mm.nii.gz", g);
    for (size_t n = 0; n < jhu.labels.size(); ++n) {
        if (jhu.labels[n] && t.brain.labels[n] && t.t1.voxels[n] > kWhiteMatterT1) {
            t.whiteMatterVoxels.push_back(int64_t(n));
        }
    }
    if (t.whiteMatterVoxels.empty()) throw Error(folder + ": no deep white matter found for the lesion demo");
    return t;
}

void writeDemoCase(const DemoCase& c, const std::string& folder, double spacingMm) {
    std::filesystem::create_directories(folder);
    const Geometry grid =
        spacingMm > 0.0 ? gridWithSpacing(c.groundTruth.geometry, glm::dvec3(spacingMm)) : c.groundTruth.geometry;
    for (const Volume& channel : c.channels) {
        writeVolume(spacingMm > 0.0 ? resampleLinear(channel, grid) : channel, folder + "/" + channel.name + ".nii.gz");
    }
    writeLabelVolume(spacingMm > 0.0 ? resampleNearest(c.groundTruth, grid) : c.groundTruth, folder + "/gt.nii.gz");
}

DemoStudyFiles ensureDemoStudy(DemoTask task, const std::string& folder) {
    DemoStudyFiles files;
    for (const auto& channel : demoChannelNames(task))
        files.channels.push_back(folder + "/" + channel + ".nii.gz");
    files.groundTruth = folder + "/gt.nii.gz";
    // The generator's version: a cached study from an older generator is made again.
    const std::string version = "segxai demo data 2\n";
    const std::string stamp = folder + "/version.txt";
    std::string found;
    if (std::ifstream in(stamp); in) std::getline(in, found, '\0');
    bool complete = found == version && std::filesystem::exists(files.groundTruth);
    for (const auto& path : files.channels)
        complete = complete && std::filesystem::exists(path);
    if (!complete) {
        writeDemoCase(makeDemoCase(DemoTemplates::load(), task, kFirstHeldOutSeed), folder);
        std::ofstream(stamp) << version;
    }
    return files;
}

DemoCase makeDemoCase(const DemoTemplates& templates, DemoTask task, uint64_t seed) {
    DemoRandom random(seed * 2 + (task == DemoTask::Lesions ? 0 : 1));
    DemoCase c;
    Volume t1 = templates.t1;
    if (task == DemoTask::Lesions) {
        Volume flair = flairFromT1(t1, templates.brain);
        c.groundTruth = LabelVolume(t1.geometry, "gt");
        c.lesionCount = insertLesions(t1, flair, c.groundTruth, templates, random);
        c.channels = {std::move(t1), std::move(flair)};
    } else {
        c.groundTruth = templates.anatomy;
        c.groundTruth.name = "gt";
        c.channels = {std::move(t1)};
    }
    deform(c, random);
    for (Volume& channel : c.channels)
        changeIntensities(channel, random);
    return c;
}

} // namespace segxai
