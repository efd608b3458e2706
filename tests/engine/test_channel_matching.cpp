// Study channels matched to a model's inputs by name (engine/channel_matching.h,
// engine/study_channels.h).
#include "engine/core/error.h"
#include "engine/io/channel_matching.h"
#include "engine/io/image_io.h"
#include "engine/io/study_channels.h"
#include "engine/io/study_loader.h"
#include "tests/support/temp_dir.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>

using namespace segxai;
using Outcome = ChannelMatch::Outcome;

TEST_CASE("channels given as [flair, t1] are put in the model's order [t1, flair]", "[channels]") {
    const ChannelMatch m = matchChannels({"flair", "t1"}, {"t1", "flair"}, {"flair.nii.gz", "t1.nii.gz"});
    CHECK(m.outcome == Outcome::Reordered);
    CHECK(m.order == std::vector<size_t>{1, 0});
    CHECK(m.mapping == "t1 <- t1.nii.gz, flair <- flair.nii.gz");
    CHECK(m.warnings.empty());
    CHECK(reordered(std::vector<std::string>{"flair", "t1"}, m.order) == std::vector<std::string>{"t1", "flair"});
}

TEST_CASE("channel names are modality words, whatever the case, separators and synonyms", "[channels]") {
    CHECK(matchChannels({"sub-01_T1w", "sub-01_FLAIR"}, {"t1", "flair"}).outcome == Outcome::InOrder);
    CHECK(matchChannels({"sub-01_FLAIR", "sub-01_MPRAGE"}, {"t1", "flair"}).order == std::vector<size_t>{1, 0});
    // The longest spelling wins: T2-FLAIR is flair, not t2 and flair.
    CHECK(channelConcepts("case7_T2-FLAIR") == std::vector<std::string>{"flair", "case7", "case7t2flair"});
    CHECK(matchChannels({"T2-FLAIR", "T2w"}, {"t2", "flair"}).order == std::vector<size_t>{1, 0});
    // t1 and t1ce are different inputs.
    CHECK(matchChannels({"t1ce", "t1"}, {"t1", "t1c"}).order == std::vector<size_t>{1, 0});
    // A card naming its inputs by other words matches files of those names.
    CHECK(matchChannels({"b_map", "a_map"}, {"a map", "b map"}).order == std::vector<size_t>{1, 0});
}

TEST_CASE("nnU-Net's _0000 suffix names the input by its index", "[channels]") {
    const ChannelMatch m = matchChannels({"case_0001", "case_0000"}, {"CT", "PET"});
    CHECK(m.outcome == Outcome::Reordered);
    CHECK(m.order == std::vector<size_t>{1, 0});
}

TEST_CASE("a channel that matches no input takes the one left over", "[channels]") {
    const ChannelMatch m = matchChannels({"flair", "image"}, {"t1", "flair"});
    CHECK(m.outcome == Outcome::Reordered);
    CHECK(m.order == std::vector<size_t>{1, 0});
    CHECK(m.warnings.empty());
}

TEST_CASE("names that fit several inputs are ambiguous, names that fit none leave the order", "[channels]") {
    const ChannelMatch both = matchChannels({"t1_to_flair", "other"}, {"t1", "flair"});
    CHECK(both.outcome == Outcome::Ambiguous);
    CHECK_THAT(both.reason, Catch::Contains("'t1_to_flair' could be t1 or flair"));
    CHECK(both.order == std::vector<size_t>{0, 1}); // left as given

    const ChannelMatch twice = matchChannels({"t1_a", "t1_b"}, {"t1", "flair"});
    CHECK(twice.outcome == Outcome::Ambiguous);
    CHECK(twice.reason == "both 't1_a' and 't1_b' look like t1");

    const ChannelMatch none = matchChannels({"scan_a", "scan_b"}, {"t1", "flair"});
    CHECK(none.outcome == Outcome::Unrecognised);
    CHECK(none.order == std::vector<size_t>{0, 1});

    const ChannelMatch three = matchChannels({"x", "y", "flair"}, {"t1", "t2", "flair"});
    CHECK(three.outcome == Outcome::Ambiguous); // two left over: no guess
}

TEST_CASE("a name that contradicts the card is warned about", "[channels]") {
    const ChannelMatch m = matchChannels({"t2", "flair"}, {"t1", "flair"}, {"t2.nii.gz", "flair.nii.gz"});
    CHECK(m.outcome == Outcome::InOrder); // t2 took the t1 input by elimination
    REQUIRE(m.warnings.size() == 1);
    CHECK(m.warnings[0] == "'t2.nii.gz' looks like t2, which the model does not take (it takes t1, flair)");
}

TEST_CASE("channel matching does not apply without input names or to another channel count", "[channels]") {
    CHECK(matchChannels({"flair", "t1"}, {}).outcome == Outcome::NotApplicable);
    CHECK(matchChannels({"flair", "t1"}, {"t1", "flair", "t2"}).outcome == Outcome::NotApplicable);
    CHECK(matchChannels({"flair", "t1"}, {"t1", "flair", "t2"}).order == std::vector<size_t>{0, 1});
}

TEST_CASE("a study request is reordered and keeps the first file's grid as the study's", "[channels]") {
    test::TempDir dir;
    Geometry a;
    a.dims = {6, 7, 8};
    Geometry b = a;
    b.spacing = {2.0, 2.0, 2.0};
    b.dims = {3, 4, 4};
    writeVolume(test::makeVolume(a, [](auto i, auto, auto) { return float(i); }), dir.file("sub_FLAIR.nii.gz"));
    writeVolume(test::makeVolume(b, [](auto, auto j, auto) { return float(j); }), dir.file("sub_T1w.nii.gz"));
    StudyRequest request;
    request.channelPaths = {dir.file("sub_FLAIR.nii.gz"), dir.file("sub_T1w.nii.gz")};
    const ChannelMatch m = matchStudyRequest(request, {"t1", "flair"});
    CHECK(m.outcome == Outcome::Reordered);
    CHECK(request.channelPaths == std::vector<std::string>{dir.file("sub_T1w.nii.gz"), dir.file("sub_FLAIR.nii.gz")});
    CHECK(request.referenceChannel == 1);
    const Study study = loadStudy(request);
    CHECK(study.channels[0].name == "sub_T1w");
    CHECK(study.channels[1].name == "sub_FLAIR");
    CHECK(study.geometry.sameGrid(a)); // the FLAIR the user gave first
    CHECK(study.channels[0].geometry.sameGrid(a));

    SECTION("kept as given on request") {
        StudyRequest kept;
        kept.channelPaths = {dir.file("sub_FLAIR.nii.gz"), dir.file("sub_T1w.nii.gz")};
        kept.keepChannelOrder = true;
        CHECK_FALSE(matchStudyRequest(kept, {"t1", "flair"}).reorders());
        CHECK(kept.channelPaths[0] == dir.file("sub_FLAIR.nii.gz"));
    }
    SECTION("ambiguous names are refused on the command line, with the way out") {
        StudyRequest ambiguous;
        ambiguous.channelPaths = {dir.file("sub_FLAIR.nii.gz"), dir.file("sub_T1w.nii.gz")};
        CHECK_THROWS_WITH(matchStudyRequestOrThrow(ambiguous, {"t1", "t1w"}), Catch::Contains("--no-channel-matching"));
    }
}

TEST_CASE("a manifest's columns are matched to the model, or refused when they contradict it", "[channels]") {
    Manifest m =
        parseManifest("id,flair,t1,gt\ncase1,c1/flair.nii.gz,c1/t1.nii.gz,c1/gt.nii.gz\n", "studies.csv", "/data");
    const ChannelMatch match = matchManifest(m, {"t1", "flair"}, false, "studies.csv");
    CHECK(match.reorders());
    CHECK(m.channelNames == std::vector<std::string>{"t1", "flair"});
    CHECK(m.studies[0].request.channelPaths == std::vector<std::string>{"/data/c1/t1.nii.gz", "/data/c1/flair.nii.gz"});
    CHECK(m.studies[0].request.referenceChannel == 1);

    Manifest kept = parseManifest("id,flair,t1\ncase1,f.nii.gz,t.nii.gz\n", "studies.csv", "/data");
    CHECK_FALSE(matchManifest(kept, {"t1", "flair"}, true, "studies.csv").reorders());
    CHECK(kept.channelNames == std::vector<std::string>{"flair", "t1"});

    Manifest wrong = parseManifest("id,t2,flair\ncase1,a.nii.gz,b.nii.gz\n", "studies.csv", "/data");
    CHECK_THROWS_WITH(matchManifest(wrong, {"t1", "flair"}, false, "studies.csv"),
                      Catch::Contains("studies.csv: 't2' looks like t2, which the model does not take"));
}
