#pragma once
#include "engine/io/study.h"

#include <cstdint>
#include <string>
#include <vector>

namespace segxai {

// One seeded change of a study's intensities, a test-time augmentation whose prediction needs no
// mapping back (no voxel moves). Per channel, with [lo, hi] its range: u = (v - lo) / (hi - lo),
// v' = lo + gain x (hi - lo) x u^gamma, then Gaussian noise of standard deviation
// noise x (hi - lo) (docs/methods.md#uncertainty).
struct IntensityJitter {
    double gain = 1.0;
    double gamma = 1.0;
    double noise = 0.0;
    uint64_t seed = 0;        // the noise's, per channel its own stream sample
    std::string name() const; // "gain 1.04, gamma 0.93, noise 0.020"
};

// `passes` jitters drawn from `seed`: gain and gamma uniform in [1 - strength, 1 + strength],
// noise strength / 5. Throws segxai::Error for a negative count or a strength outside [0, 0.5].
std::vector<IntensityJitter> intensityJitters(int passes, double strength, uint64_t seed);

// The study's channels jittered (geometry, names and paths kept; no ground truth).
Study jitteredStudy(const Study& study, const IntensityJitter& jitter);

} // namespace segxai
