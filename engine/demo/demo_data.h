#pragma once
#include "engine/core/volume.h"

#include <cstdint>
#include <string>
#include <vector>

namespace segxai {

// Demo studies synthesised from real data in Debian's mricron-data (Colin27 T1 `ch2`, its
// brain mask `ch2bet`, the AAL and JHU white-matter atlases, all in one MNI grid). The same
// code makes the training cases (seeds below kFirstHeldOutSeed) and the held-out demo
// studies (seeds from kFirstHeldOutSeed), so both come from one distribution.
enum class DemoTask { Lesions, Anatomy };

constexpr uint64_t kFirstHeldOutSeed = 1'000'000;
constexpr const char* kTemplateFolder = "/usr/share/mricron/templates";

struct DemoTemplates {
    Volume t1;                              // ch2, 181 x 217 x 181, 1 mm
    LabelVolume brain;                      // ch2bet > 0
    LabelVolume anatomy;                    // classes of demoClassNames(Anatomy), merged from AAL + brain mask
    std::vector<int64_t> whiteMatterVoxels; // deep white matter (JHU tracts) where lesions grow

    // Throws segxai::Error naming the missing file (install mricron-data).
    static DemoTemplates load(const std::string& folder = kTemplateFolder);
};

struct DemoCase {
    std::vector<Volume> channels; // lesions: t1, flair; anatomy: t1
    LabelVolume groundTruth;      // lesions: 0/1; anatomy: demoClassNames indices
    int lesionCount = 0;
};

std::vector<std::string> demoClassNames(DemoTask task);
std::vector<std::string> demoChannelNames(DemoTask task);
const char* demoTaskName(DemoTask task);

// Writes a case as NIfTI: <folder>/{t1,flair,gt}.nii.gz (lesions) or {t1,gt}.nii.gz,
// resampled to an isotropic `spacingMm` when it is positive (linear; nearest for labels).
void writeDemoCase(const DemoCase& demoCase, const std::string& folder, double spacingMm = 0.0);

// The held-out demo study of a task in `folder` (written on first use): channel files and
// ground truth, ready to open.
struct DemoStudyFiles {
    std::vector<std::string> channels;
    std::string groundTruth;
};
DemoStudyFiles ensureDemoStudy(DemoTask task, const std::string& folder);

// One synthetic case: lesions inserted (lesion task), then a random smooth deformation and
// intensity changes (gain, gamma, bias field, noise). Deterministic in `seed`.
DemoCase makeDemoCase(const DemoTemplates& templates, DemoTask task, uint64_t seed);

} // namespace segxai
