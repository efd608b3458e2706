#pragma once
#include "engine/io/channel_matching.h"
#include "engine/io/manifest.h"
#include "engine/io/study.h"

#include <string>
#include <vector>

namespace segxai {

// The names a study's channels go by: file stems ("sub-01_FLAIR"); a DICOM folder adds its
// series description ("t1_mprage_sag") when it has one.
std::vector<std::string> channelNamesOf(const StudyRequest& request);

// Matches a request's channels to a model's inputs (engine/channel_matching.h) and puts them
// in the model's order. A request with keepChannelOrder set, an ambiguous or unrecognised
// match are left as given (the outcome says which).
// `names`: the channels' names when known (channelNamesOf(request) otherwise).
ChannelMatch matchStudyRequest(StudyRequest& request, const std::vector<std::string>& modelInputs,
                               const std::vector<std::string>& names = {});

// As matchStudyRequest, for the command line: an ambiguous match throws segxai::Error saying
// how to resolve it (rename the files, or --no-channel-matching to keep the given order).
ChannelMatch matchStudyRequestOrThrow(StudyRequest& request, const std::vector<std::string>& modelInputs);

// Matches a manifest's channel columns (its header) to the model's inputs and reorders every
// study's channels. Throws segxai::Error when the header is ambiguous or names a modality the
// model does not take (a batch has nobody to ask). `keepOrder`: leave it as given.
ChannelMatch matchManifest(Manifest& manifest, const std::vector<std::string>& modelInputs, bool keepOrder,
                           const std::string& origin);

} // namespace segxai
