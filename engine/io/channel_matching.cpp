#include "engine/io/channel_matching.h"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <numeric>
#include <set>

namespace segxai {
namespace {

// Modality words and the spellings that mean them (separators removed, lower case).
struct Modality {
    const char* word;
    std::vector<const char*> spellings;
};
const std::vector<Modality>& modalities() {
    static const std::vector<Modality> table{
        {"t1", {"t1", "t1w", "t1weighted", "mprage", "mp2rage", "spgr", "t1native"}},
        {"t1c", {"t1c", "t1ce", "t1gd", "t1post", "t1wce", "t1contrast", "t1wpost"}},
        {"t2", {"t2", "t2w", "t2weighted"}},
        {"flair", {"flair", "t2flair", "t2wflair"}},
        {"pd", {"pd", "pdw"}},
        {"dwi", {"dwi", "dw"}},
        {"adc", {"adc"}},
        {"ct", {"ct"}},
        {"pet", {"pet"}},
    };
    return table;
}

const char* modalityOf(const std::string& spelling) {
    for (const Modality& m : modalities()) {
        for (const char* s : m.spellings) {
            if (spelling == s) return m.word;
        }
    }
    return nullptr;
}

std::vector<std::string> tokensOf(const std::string& name) {
    std::vector<std::string> tokens;
    std::string current;
    for (char c : name) {
        if (std::isalnum(static_cast<unsigned char>(c))) {
            current += char(std::tolower(static_cast<unsigned char>(c)));
        } else if (!current.empty()) {
            tokens.push_back(std::move(current));
            current.clear();
        }
    }
    if (!current.empty()) tokens.push_back(std::move(current));
    return tokens;
}

std::string joined(const std::vector<std::string>& tokens, size_t from, size_t count) {
    std::string s;
    for (size_t n = from; n < from + count; ++n)
        s += tokens[n];
    return s;
}

bool isKnownModality(const std::string& word) {
    return std::any_of(modalities().begin(), modalities().end(), [&](const Modality& m) { return word == m.word; });
}

// What a model input name stands for: its modality, else the whole name; and its index.
std::set<std::string> inputKeys(const std::string& name, size_t index) {
    std::set<std::string> keys{fmt::format("#{}", index)};
    const std::vector<std::string> tokens = tokensOf(name);
    if (tokens.empty()) return keys;
    const std::string whole = joined(tokens, 0, tokens.size());
    const char* modality = modalityOf(whole);
    keys.insert(modality ? modality : whole);
    return keys;
}

std::vector<std::string> knownModalities(const std::vector<std::string>& concepts) {
    std::vector<std::string> known;
    for (const auto& c : concepts) {
        if (isKnownModality(c)) known.push_back(c);
    }
    return known;
}

std::string listed(const std::vector<std::string>& names) {
    std::string s;
    for (size_t n = 0; n < names.size(); ++n)
        s += (n ? ", " : "") + names[n];
    return s;
}

} // namespace

bool ChannelMatch::reorders() const {
    for (size_t i = 0; i < order.size(); ++i) {
        if (order[i] != i) return true;
    }
    return false;
}

std::vector<std::string> channelConcepts(const std::string& name) {
    const std::vector<std::string> tokens = tokensOf(name);
    std::vector<std::string> concepts;
    auto add = [&](const std::string& c) {
        if (std::find(concepts.begin(), concepts.end(), c) == concepts.end()) concepts.push_back(c);
    };
    // Longest modality spelling first ("T2-FLAIR" is flair, not t2 and flair); every other
    // token and span stays a word of its own, so a card naming "channel_a" matches too.
    std::vector<bool> used(tokens.size(), false);
    for (size_t n = 0; n < tokens.size();) {
        size_t taken = 0;
        for (size_t len = std::min<size_t>(3, tokens.size() - n); len >= 1 && !taken; --len) {
            if (const char* m = modalityOf(joined(tokens, n, len))) {
                add(m);
                taken = len;
            }
        }
        for (size_t k = n; k < n + taken; ++k)
            used[k] = true;
        n += std::max<size_t>(taken, 1);
    }
    for (size_t n = 0; n < tokens.size(); ++n) {
        for (size_t len = 1; len <= 3 && n + len <= tokens.size(); ++len) {
            bool free = true;
            for (size_t k = n; k < n + len; ++k)
                free = free && !used[k];
            if (free) add(joined(tokens, n, len));
        }
    }
    if (!tokens.empty()) add(joined(tokens, 0, tokens.size()));
    // nnU-Net's channel suffix: case_0000, case_0001, ...
    const size_t cut = name.find_last_of('_');
    if (cut != std::string::npos && name.size() - cut == 5 &&
        std::all_of(name.begin() + long(cut) + 1, name.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        add(fmt::format("#{}", std::stoi(name.substr(cut + 1))));
    }
    return concepts;
}

ChannelMatch matchChannels(const std::vector<std::string>& channelNames, const std::vector<std::string>& modelInputs,
                           const std::vector<std::string>& displayNames) {
    ChannelMatch match;
    const size_t n = channelNames.size();
    match.order.resize(n);
    std::iota(match.order.begin(), match.order.end(), size_t(0));
    const auto shown = [&](size_t c) { return c < displayNames.size() ? displayNames[c] : channelNames[c]; };
    auto describe = [&] {
        std::vector<std::string> parts;
        for (size_t i = 0; i < match.order.size(); ++i) {
            const std::string input = i < modelInputs.size() ? modelInputs[i] : fmt::format("input {}", i + 1);
            parts.push_back(input + " <- " + shown(match.order[i]));
        }
        match.mapping = listed(parts);
    };
    if (modelInputs.empty() || modelInputs.size() != n) {
        describe();
        return match;
    }
    std::vector<std::vector<std::string>> concepts(n);
    std::vector<std::set<std::string>> keys(n);
    std::set<std::string> modelModalities;
    for (size_t c = 0; c < n; ++c)
        concepts[c] = channelConcepts(channelNames[c]);
    for (size_t i = 0; i < n; ++i) {
        keys[i] = inputKeys(modelInputs[i], i);
        for (const auto& k : keys[i]) {
            if (isKnownModality(k)) modelModalities.insert(k);
        }
    }
    auto matches = [&](size_t c, size_t i) {
        return std::any_of(concepts[c].begin(), concepts[c].end(),
                           [&](const std::string& x) { return keys[i].count(x) > 0; });
    };
    // Names that say a modality the model does not take.
    for (size_t c = 0; c < n; ++c) {
        for (const auto& m : knownModalities(concepts[c])) {
            if (!modelModalities.empty() && !modelModalities.count(m)) {
                match.warnings.push_back(fmt::format("'{}' looks like {}, which the model does not take (it takes {})",
                                                     shown(c), m, listed(modelInputs)));
            }
        }
    }
    std::vector<int> inputOf(n, -1), channelOf(n, -1);
    for (size_t c = 0; c < n; ++c) {
        for (size_t i = 0; i < n; ++i) {
            if (!matches(c, i)) continue;
            if (inputOf[c] >= 0 || channelOf[i] >= 0) {
                match.outcome = ChannelMatch::Outcome::Ambiguous;
                match.reason = inputOf[c] >= 0 ? fmt::format("'{}' could be {} or {}", shown(c),
                                                             modelInputs[size_t(inputOf[c])], modelInputs[i])
                                               : fmt::format("both '{}' and '{}' look like {}",
                                                             shown(size_t(channelOf[i])), shown(c), modelInputs[i]);
                describe();
                return match;
            }
            inputOf[c] = int(i);
            channelOf[i] = int(c);
        }
    }
    const auto unmatched = size_t(std::count(inputOf.begin(), inputOf.end(), -1));
    if (unmatched == n) {
        match.outcome = ChannelMatch::Outcome::Unrecognised;
        match.reason = fmt::format("the channel names ({}) do not say which of the model's inputs ({}) they are",
                                   listed(displayNames.empty() ? channelNames : displayNames), listed(modelInputs));
        describe();
        return match;
    }
    if (unmatched > 1) {
        match.outcome = ChannelMatch::Outcome::Ambiguous;
        match.reason = fmt::format("{} channels do not say which of the model's inputs they are", unmatched);
        describe();
        return match;
    }
    if (unmatched == 1) { // the one left over takes the input left over
        const size_t c = size_t(std::find(inputOf.begin(), inputOf.end(), -1) - inputOf.begin());
        const size_t i = size_t(std::find(channelOf.begin(), channelOf.end(), -1) - channelOf.begin());
        inputOf[c] = int(i);
        channelOf[i] = int(c);
    }
    for (size_t i = 0; i < n; ++i)
        match.order[i] = size_t(channelOf[i]);
    match.outcome = match.reorders() ? ChannelMatch::Outcome::Reordered : ChannelMatch::Outcome::InOrder;
    describe();
    return match;
}

} // namespace segxai
