#pragma once
#include "engine/analysis/lesion_analysis.h"
#include "engine/analysis/lesion_maps.h"

#include <imgui.h>
#include <map>
#include <string>
#include <vector>

namespace segxai::app::plots {

// Small plots drawn with ImGui's draw list at the cursor, `size` pixels, for the Lesions
// panel. Each returns the rectangle it covers (for a PNG of it).
struct Rect {
    ImVec2 min, max;
};

// The signed distribution of a map inside a lesion and in each ring: a row per region,
// its histogram as shades (darkest = the row's most frequent bin; blue bins negative, red
// positive), with the shares of positive and negative voxels as bars beside it.
Rect rings(const char* id, const RingProfile& profile, ImVec2 size);

// A lesion's mean probability against the context kept around it (mm); filled dots where it
// is detected, the detection threshold dashed, the smallest sufficient context marked.
Rect contextCurve(const char* id, const ContextCurve& curve, double threshold, ImVec2 size);

// Box plots of values per group (median, quartiles, whiskers at 1.5 IQR, every value as a dot).
Rect boxPlot(const char* id, const std::map<std::string, std::vector<double>>& groups, const char* label, ImVec2 size);

// Bars with error bars (mean +- sd) per label, zero marked.
Rect bars(const char* id, const std::vector<std::string>& labels, const std::vector<double>& means,
          const std::vector<double>& sds, const char* label, ImVec2 size);

// Lines of y against x, one per named series, with a legend; y from 0 unless values go below.
struct Series {
    std::string name;
    std::vector<double> x, y;
};
Rect lines(const char* id, const std::vector<Series>& series, const char* label, ImVec2 size);

// A colour for the n-th series (distinct, readable on dark).
ImU32 seriesColour(size_t n);

// Quartiles by linear interpolation (numpy's default), for box plots and their CSV.
struct Quartiles {
    double q1 = 0.0, median = 0.0, q3 = 0.0, low = 0.0, high = 0.0; // whiskers: extremes within 1.5 IQR
};
Quartiles quartiles(std::vector<double> values);

} // namespace segxai::app::plots
