#pragma once
#include <string>
#include <vector>

namespace segxai {

// Which study channel feeds which model input, decided from their names: a study opened as
// [flair, t1] for a model that takes [t1, flair] must be reordered, not segmented as it is.
//
// A channel's name is its file stem (DICOM: the folder name and the series description) or
// its manifest column. Names are compared as modality words, case and separators ignored,
// with common synonyms ("T1w", "MPRAGE" = t1; "T2-FLAIR" = flair; "t1ce", "T1Gd" = t1c), and
// nnU-Net's file suffix _0000, _0001... names the input by index.
struct ChannelMatch {
    enum class Outcome {
        NotApplicable, // the model names no inputs, or the counts differ: order kept
        InOrder,       // every channel matches the input at its position
        Reordered,     // every channel matches one input, in another order
        Unrecognised,  // no channel name says which input it is: order kept
        Ambiguous      // some names match several inputs, or several channels one input
    };
    Outcome outcome = Outcome::NotApplicable;
    // order[i]: the index of the given channel that feeds model input i (the given order when
    // not InOrder or Reordered).
    std::vector<size_t> order;
    // Channels whose name is a modality the model does not take, or that were assigned by
    // elimination against what their name says.
    std::vector<std::string> warnings;
    // "t1 <- t1.nii.gz, flair <- flair.nii.gz" (what the user is told).
    std::string mapping;
    // Why the match is ambiguous or unrecognised (empty otherwise).
    std::string reason;

    bool reorders() const;
};

// Matches `channelNames` (as given) to `modelInputs` (the card's input_channels, in tensor
// order). `displayNames` (same length as channelNames, optional) are what the mapping text
// shows for each channel, e.g. file names.
ChannelMatch matchChannels(const std::vector<std::string>& channelNames, const std::vector<std::string>& modelInputs,
                           const std::vector<std::string>& displayNames = {});

// The modality words a name stands for ("sub-01_T2-FLAIR_0001" -> {flair, #1}); exposed for
// tests and for the UI's tooltips.
std::vector<std::string> channelConcepts(const std::string& name);

// `items` in the order `order` gives (order[i] = index into items).
template <typename T> std::vector<T> reordered(const std::vector<T>& items, const std::vector<size_t>& order) {
    std::vector<T> out;
    out.reserve(order.size());
    for (size_t index : order)
        out.push_back(items.at(index));
    return out;
}

} // namespace segxai
