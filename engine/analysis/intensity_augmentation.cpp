#include "engine/analysis/intensity_augmentation.h"

#include "engine/core/error.h"
#include "engine/core/seed_streams.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace segxai {

std::string IntensityJitter::name() const {
    return fmt::format("gain {:.3f}, gamma {:.3f}, noise {:.3f}", gain, gamma, noise);
}

std::vector<IntensityJitter> intensityJitters(int passes, double strength, uint64_t seed) {
    if (passes < 0) throw Error("intensity augmentation: the number of passes cannot be negative");
    if (!(strength >= 0.0 && strength <= 0.5))
        throw Error(fmt::format("intensity augmentation: strength {} is outside [0, 0.5]", strength));
    std::mt19937_64 engine = streamEngine(seed, SeedStream::IntensityAugmentation);
    std::uniform_real_distribution<double> around(1.0 - strength, 1.0 + strength);
    std::vector<IntensityJitter> out;
    for (int t = 0; t < passes; ++t) {
        IntensityJitter j;
        j.gain = around(engine);
        j.gamma = around(engine);
        j.noise = strength / 5.0;
        j.seed = streamSeed(seed, SeedStream::IntensityAugmentation, uint64_t(t) + 1);
        out.push_back(j);
    }
    return out;
}

Study jitteredStudy(const Study& study, const IntensityJitter& jitter) {
    return transformedStudy(study, [&](const Volume& channel, size_t c) {
        std::vector<float> voxels = channel.voxels;
        float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
        for (float x : voxels) {
            if (!std::isfinite(x)) continue;
            lo = std::min(lo, x);
            hi = std::max(hi, x);
        }
        const double range = double(hi) - double(lo);
        if (range > 0.0) {
            std::mt19937_64 engine(jitter.seed + c);
            std::normal_distribution<double> noise(0.0, jitter.noise * range);
            for (float& x : voxels) {
                if (!std::isfinite(x)) continue;
                const double u = std::clamp((double(x) - lo) / range, 0.0, 1.0);
                x = float(lo + jitter.gain * range * std::pow(u, jitter.gamma) +
                          (jitter.noise > 0.0 ? noise(engine) : 0.0));
            }
        }
        return voxels;
    });
}

} // namespace segxai
