#include "engine/explain/target.h"

#include "engine/analysis/connected_components.h"
#include "engine/core/error.h"
#include "engine/core/resample.h"
#include "engine/io/image_io.h"

#include <algorithm>
#include <fmt/format.h>
#include <sstream>

namespace segxai {
namespace {

const char* kGrammar = "targets: class:C, class:C:P, instance:I,J,K, gt-instance:I,J,K, mask:FILE, "
                       "box:I0,J0,K0,I1,J1,K1, voxel:I,J,K, channel:C (optionally @CLASS after mask, box, voxel)";

std::vector<int64_t> parseIntegers(const std::string& text, size_t count, const std::string& spec) {
    std::vector<int64_t> values;
    std::stringstream in(text);
    std::string part;
    while (std::getline(in, part, ',')) {
        try {
            size_t used = 0;
            values.push_back(std::stoll(part, &used));
            if (used != part.size()) throw std::invalid_argument(part);
        } catch (const std::exception&) {
            throw Error(fmt::format("target '{}': '{}' is not a whole number; {}", spec, part, kGrammar));
        }
    }
    if (values.size() != count) {
        throw Error(fmt::format("target '{}': expected {} comma-separated voxel indices; {}", spec, count, kGrammar));
    }
    return values;
}

int classIndexOf(const std::string& text, const Segmentation& s, const std::string& spec) {
    for (size_t c = 0; c < s.classNames.size(); ++c) {
        if (s.classNames[c] == text) return int(c);
    }
    try {
        size_t used = 0;
        const int index = std::stoi(text, &used);
        if (used == text.size() && index >= 0 && size_t(index) < s.classNames.size()) return index;
    } catch (const std::exception&) {
    }
    std::string names;
    for (size_t c = 0; c < s.classNames.size(); ++c)
        names += (c ? ", " : "") + fmt::format("{} ({})", c, s.classNames[c]);
    throw Error(fmt::format("target '{}': the model has no class '{}'; classes: {}", spec, text, names));
}

void checkVoxel(const Geometry& g, const Index3& v, const std::string& spec) {
    if (!g.contains(v[0], v[1], v[2])) {
        throw Error(fmt::format("target '{}': voxel ({}, {}, {}) is outside the study ({}x{}x{})", spec, v[0], v[1],
                                v[2], g.dims[0], g.dims[1], g.dims[2]));
    }
}

// The most frequent foreground label inside a mask, or 1.
int majorityClass(const std::vector<uint8_t>& mask, const LabelVolume& labels, size_t classes) {
    std::vector<size_t> counts(classes, 0);
    for (size_t n = 0; n < mask.size(); ++n) {
        if (mask[n] && labels.labels[n] < classes) ++counts[labels.labels[n]];
    }
    size_t best = classes > 1 ? 1 : 0;
    for (size_t c = 1; c < classes; ++c) {
        if (counts[c] > counts[best]) best = c;
    }
    return int(best);
}

std::vector<uint8_t> componentAt(const Geometry& g, const std::vector<uint8_t>& region, const Index3& v,
                                 const InstanceOptions& options, const std::string& spec, size_t* size) {
    const Components c = connectedComponents(g, region, options.connectivity);
    const int32_t id = c.labels[g.linearIndex(v[0], v[1], v[2])];
    *size = size_t(c.sizes[size_t(id)]);
    if (int64_t(*size) < options.minimumSize) {
        throw Error(fmt::format("target '{}': the component there has {} voxels, fewer than the minimum size {}", spec,
                                *size, options.minimumSize));
    }
    std::vector<uint8_t> mask(region.size(), 0);
    for (size_t n = 0; n < mask.size(); ++n)
        mask[n] = c.labels[n] == id;
    return mask;
}

} // namespace

TargetSpec parseTargetSpec(const std::string& text) {
    TargetSpec spec;
    spec.text = text;
    const auto colon = text.find(':');
    if (colon == std::string::npos) throw Error(fmt::format("target '{}': missing ':'; {}", text, kGrammar));
    const std::string kind = text.substr(0, colon);
    std::string rest = text.substr(colon + 1);
    auto takeClassSuffix = [&] {
        if (const auto at = rest.rfind('@'); at != std::string::npos) {
            spec.classText = rest.substr(at + 1);
            rest = rest.substr(0, at);
        }
    };
    auto voxel = [&](const std::string& s) {
        const auto v = parseIntegers(s, 3, text);
        return Index3{v[0], v[1], v[2]};
    };
    if (kind == "class") {
        spec.kind = TargetSpec::Kind::ClassRegion;
        const auto second = rest.find(':');
        spec.classText = rest.substr(0, second);
        if (second != std::string::npos) {
            try {
                size_t used = 0;
                const std::string p = rest.substr(second + 1);
                spec.probabilityAbove = std::stod(p, &used);
                if (used != p.size() || *spec.probabilityAbove < 0.0 || *spec.probabilityAbove >= 1.0)
                    throw std::invalid_argument(p);
            } catch (const std::exception&) {
                throw Error(
                    fmt::format("target '{}': the probability threshold must be a number from 0 to below 1", text));
            }
        }
    } else if (kind == "instance") {
        spec.kind = TargetSpec::Kind::Instance;
        spec.voxel = voxel(rest);
    } else if (kind == "gt-instance") {
        spec.kind = TargetSpec::Kind::GroundTruthInstance;
        spec.voxel = voxel(rest);
    } else if (kind == "mask") {
        spec.kind = TargetSpec::Kind::Mask;
        takeClassSuffix();
        spec.maskPath = rest;
    } else if (kind == "box") {
        spec.kind = TargetSpec::Kind::Box;
        takeClassSuffix();
        const auto v = parseIntegers(rest, 6, text);
        spec.voxel = {std::min(v[0], v[3]), std::min(v[1], v[4]), std::min(v[2], v[5])};
        spec.boxEnd = {std::max(v[0], v[3]), std::max(v[1], v[4]), std::max(v[2], v[5])};
    } else if (kind == "voxel") {
        spec.kind = TargetSpec::Kind::Voxel;
        takeClassSuffix();
        spec.voxel = voxel(rest);
    } else if (kind == "channel") {
        spec.kind = TargetSpec::Kind::Channel;
        spec.classText = rest;
    } else {
        throw Error(fmt::format("target '{}': unknown kind '{}'; {}", text, kind, kGrammar));
    }
    if ((spec.kind == TargetSpec::Kind::ClassRegion || spec.kind == TargetSpec::Kind::Channel) &&
        spec.classText.empty()) {
        throw Error(fmt::format("target '{}': no class given; {}", text, kGrammar));
    }
    if (spec.kind == TargetSpec::Kind::Mask && spec.maskPath.empty()) {
        throw Error(fmt::format("target '{}': no mask file given", text));
    }
    return spec;
}

std::string formatTargetSpec(const TargetSpec& spec) {
    const auto voxel = [](const Index3& v) { return fmt::format("{},{},{}", v[0], v[1], v[2]); };
    const std::string at = spec.classText.empty() ? "" : "@" + spec.classText;
    switch (spec.kind) {
    case TargetSpec::Kind::ClassRegion:
        return "class:" + spec.classText + (spec.probabilityAbove ? fmt::format(":{:g}", *spec.probabilityAbove) : "");
    case TargetSpec::Kind::Instance:
        return "instance:" + voxel(spec.voxel);
    case TargetSpec::Kind::GroundTruthInstance:
        return "gt-instance:" + voxel(spec.voxel);
    case TargetSpec::Kind::Mask:
        return "mask:" + spec.maskPath + at;
    case TargetSpec::Kind::Box:
        return "box:" + voxel(spec.voxel) + "," + voxel(spec.boxEnd) + at;
    case TargetSpec::Kind::Voxel:
        return "voxel:" + voxel(spec.voxel) + at;
    case TargetSpec::Kind::Channel:
        return "channel:" + spec.classText;
    }
    return "class:" + spec.classText;
}

TargetSpec withText(TargetSpec spec) {
    spec.text = formatTargetSpec(spec);
    return spec;
}

Target resolveTarget(const TargetSpec& spec, const Study& study, const Segmentation& s,
                     const InstanceOptions& instances) {
    const Geometry& g = study.geometry;
    if (!s.labels.geometry.sameGrid(g)) throw Error("the segmentation is not in the study's grid");
    Target t;
    t.mask.assign(g.voxelCount(), 0);
    const std::string& text = spec.text;
    const size_t classes = s.classNames.size();
    auto setClass = [&](int c) {
        t.classIndex = c;
        t.className = s.classNames[size_t(c)];
    };
    switch (spec.kind) {
    case TargetSpec::Kind::ClassRegion: {
        setClass(classIndexOf(spec.classText, s, text));
        for (size_t n = 0; n < t.mask.size(); ++n) {
            t.mask[n] =
                s.labels.labels[n] == t.classIndex &&
                (!spec.probabilityAbove || s.probabilities.at(size_t(t.classIndex), n) > *spec.probabilityAbove);
        }
        t.description = spec.probabilityAbove
                            ? fmt::format("class {} where p > {}", t.className, *spec.probabilityAbove)
                            : fmt::format("class {}", t.className);
        break;
    }
    case TargetSpec::Kind::Instance: {
        checkVoxel(g, spec.voxel, text);
        const uint16_t label = s.labels.at(spec.voxel[0], spec.voxel[1], spec.voxel[2]);
        if (label == 0) {
            throw Error(fmt::format("target '{}': voxel ({}, {}, {}) is background; pick a voxel inside a segmented "
                                    "structure",
                                    text, spec.voxel[0], spec.voxel[1], spec.voxel[2]));
        }
        setClass(label);
        size_t size = 0;
        t.mask = componentAt(g, labelMask(s.labels, label), spec.voxel, instances, text, &size);
        t.description =
            fmt::format("{} instance at ({}, {}, {})", t.className, spec.voxel[0], spec.voxel[1], spec.voxel[2]);
        break;
    }
    case TargetSpec::Kind::GroundTruthInstance: {
        if (!study.groundTruth)
            throw Error(fmt::format("target '{}': the study has no ground truth (--gt FILE)", text));
        checkVoxel(g, spec.voxel, text);
        const uint16_t label = study.groundTruth->at(spec.voxel[0], spec.voxel[1], spec.voxel[2]);
        if (label == 0) {
            throw Error(fmt::format("target '{}': voxel ({}, {}, {}) is outside every ground-truth structure", text,
                                    spec.voxel[0], spec.voxel[1], spec.voxel[2]));
        }
        if (label >= classes) {
            throw Error(fmt::format("target '{}': ground-truth label {} is not a class of the model", text, label));
        }
        setClass(label);
        size_t size = 0;
        t.mask = componentAt(g, labelMask(*study.groundTruth, label), spec.voxel, instances, text, &size);
        t.description =
            fmt::format("ground-truth {} at ({}, {}, {})", t.className, spec.voxel[0], spec.voxel[1], spec.voxel[2]);
        break;
    }
    case TargetSpec::Kind::Mask: {
        LabelVolume mask = readLabelVolume(spec.maskPath);
        if (!mask.geometry.sameGrid(g)) {
            if (!mask.geometry.worldBounds().intersects(g.worldBounds())) {
                throw Error(fmt::format("target '{}': the mask does not overlap the study", text));
            }
            mask = resampleNearest(mask, g);
        }
        for (size_t n = 0; n < t.mask.size(); ++n)
            t.mask[n] = mask.labels[n] != 0;
        setClass(spec.classText.empty() ? majorityClass(t.mask, s.labels, classes)
                                        : classIndexOf(spec.classText, s, text));
        t.description = fmt::format("{} in mask {}", t.className, volumeNameFromPath(spec.maskPath));
        break;
    }
    case TargetSpec::Kind::Box: {
        checkVoxel(g, spec.voxel, text);
        checkVoxel(g, spec.boxEnd, text);
        for (int64_t k = spec.voxel[2]; k <= spec.boxEnd[2]; ++k)
            for (int64_t j = spec.voxel[1]; j <= spec.boxEnd[1]; ++j)
                for (int64_t i = spec.voxel[0]; i <= spec.boxEnd[0]; ++i)
                    t.mask[g.linearIndex(i, j, k)] = 1;
        setClass(spec.classText.empty() ? majorityClass(t.mask, s.labels, classes)
                                        : classIndexOf(spec.classText, s, text));
        t.description = fmt::format("{} in box ({}, {}, {})-({}, {}, {})", t.className, spec.voxel[0], spec.voxel[1],
                                    spec.voxel[2], spec.boxEnd[0], spec.boxEnd[1], spec.boxEnd[2]);
        break;
    }
    case TargetSpec::Kind::Voxel: {
        checkVoxel(g, spec.voxel, text);
        t.mask[g.linearIndex(spec.voxel[0], spec.voxel[1], spec.voxel[2])] = 1;
        const int label = s.labels.at(spec.voxel[0], spec.voxel[1], spec.voxel[2]);
        setClass(spec.classText.empty() ? label : classIndexOf(spec.classText, s, text));
        t.description =
            fmt::format("{} at voxel ({}, {}, {})", t.className, spec.voxel[0], spec.voxel[1], spec.voxel[2]);
        break;
    }
    case TargetSpec::Kind::Channel:
        setClass(classIndexOf(spec.classText, s, text));
        std::fill(t.mask.begin(), t.mask.end(), uint8_t(1));
        t.description = fmt::format("whole {} channel", t.className);
        break;
    }
    t.voxelCount = size_t(std::count(t.mask.begin(), t.mask.end(), uint8_t(1)));
    t.description += fmt::format(", {} voxels", t.voxelCount);
    if (t.voxelCount == 0) t.warnings.push_back(fmt::format("target '{}' is empty: the maps are zero", text));
    return t;
}

std::vector<Target> classTargets(const Study& study, const Segmentation& segmentation, std::vector<int> classes) {
    if (classes.empty()) {
        for (int c = 1; c < int(segmentation.classNames.size()); ++c)
            classes.push_back(c);
    }
    std::vector<Target> targets;
    for (int c : classes) {
        Target t = resolveTarget(parseTargetSpec(fmt::format("class:{}", c)), study, segmentation);
        t.description = segmentation.classNames[size_t(c)];
        if (t.voxelCount > 0) targets.push_back(std::move(t));
    }
    return targets;
}

} // namespace segxai
