// The drop and open logic of the viewer, without a window: what dropped paths become.
#include "app/gui/state/document.h"
#include "app/gui/state/session.h"
#include "engine/io/image_io.h"
#include "tests/app/run_jobs.h"
#include "tests/support/dicom_writer.h"
#include "tests/support/nnunet_refs.h"
#include "tests/support/temp_dir.h"
#include "tests/support/volumes.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace segxai;
using namespace segxai::app;

namespace {

void settle(Document& document) {
    for (int n = 0; n < 2000 && document.workspace.loading(); ++n) {
        document.workspace.jobs().waitIdle();
        document.update();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

} // namespace

TEST_CASE("dropped files open as a study and a label-like name becomes the ground truth", "[workspace]") {
    test::TempDir dir;
    Geometry g;
    g.dims = {6, 7, 8};
    writeVolume(test::makeVolume(g, [](auto i, auto, auto) { return float(i); }), dir.file("t1.nii.gz"));
    writeVolume(test::makeVolume(g, [](auto, auto j, auto) { return float(j); }), dir.file("flair.nii.gz"));
    writeLabelVolume(LabelVolume(g, "x"), dir.file("lesion_seg.nii.gz"));
    JobRunner jobs;
    Document document(jobs);
    Workspace& workspace = document.workspace;
    workspace.openPaths({dir.file("t1.nii.gz"), dir.file("lesion_seg.nii.gz"), dir.file("flair.nii.gz")});
    settle(document);
    REQUIRE(workspace.study());
    const Study& study = *workspace.study()->study;
    REQUIRE(study.channels.size() == 2);
    CHECK(study.channels[0].name == "t1");
    CHECK(study.channels[1].name == "flair");
    CHECK(study.groundTruth);
    // The crosshair starts in the middle; windows come from the engine.
    CHECK(workspace.viewer().crosshair == Index3{3, 3, 4});
    CHECK(workspace.viewer().windows.size() == 2);

    SECTION("a drop on an open study asks what to do, and adding a channel keeps the view") {
        workspace.viewer().crosshair = {1, 2, 3};
        workspace.openPaths({dir.file("t1.nii.gz")});
        REQUIRE(workspace.pendingDrop());
        workspace.pendingDrop().reset();
        workspace.addChannels({dir.file("t1.nii.gz")});
        settle(document);
        CHECK(workspace.study()->study->channels.size() == 3);
        CHECK(workspace.study()->study->channels[2].name == "t1_2");
        CHECK(workspace.viewer().crosshair == Index3{1, 2, 3});
    }
    SECTION("a file that fails to load leaves the study open and reports the error") {
        workspace.loadGroundTruth(dir.file("missing.nii.gz"));
        settle(document);
        CHECK(workspace.study()->study->channels.size() == 2);
        const auto errors = document.messages().take();
        REQUIRE(errors.size() == 1);
        CHECK_THAT(errors[0], Catch::Contains("missing.nii.gz"));
    }
    SECTION("an unsupported dropped file is refused with a message") {
        workspace.openPaths({dir.file("notes.txt")});
        CHECK_FALSE(workspace.pendingDrop());
        CHECK(document.messages().take().size() == 1);
    }
    SECTION("hostile input: a damaged study, a damaged model, a model for other channels") {
        const auto before = workspace.study();
        auto finish = [&] { // the model slot is not a load: wait for it and whatever it starts
            for (int n = 0; n < 3; ++n) {
                workspace.jobs().waitIdle();
                document.update();
            }
        };
        std::ofstream(dir.file("damaged.nii.gz"), std::ios::binary) << "\x1f\x8b\x08 cut short";
        workspace.openStudy(StudyRequest{{dir.file("damaged.nii.gz")}, {}, {}});
        settle(document);
        std::ofstream(dir.file("garbage.pt"), std::ios::binary) << "PK not a model";
        workspace.openModel(dir.file("garbage.pt"));
        finish();
        workspace.openModel(SEGXAI_TEST_DATA "/models/axis_probe.pt"); // throws inside forward on this grid
        finish();
        // Each gives its message; the study that was open is still open, untouched.
        CHECK(workspace.study() == before);
        CHECK(workspace.study()->study->channels.size() == 2);
        const auto errors = document.messages().take();
        std::string all;
        for (const auto& e : errors)
            all += e + "\n";
        INFO(all);
        CHECK_THAT(all, Catch::Contains("damaged.nii.gz") && Catch::Contains("garbage.pt") &&
                            Catch::Contains("forward failed"));
    }
}

TEST_CASE("a dropped DICOM folder with two series asks which to load", "[workspace]") {
    test::TempDir dir;
    Geometry g;
    g.dims = {5, 5, 6};
    test::writeDicomSeries(test::makeVolume(g, [](auto, auto, auto) { return 1.0f; }), dir.file("d"),
                           "1.2.826.0.1.3680043.2.1125.30", "a", "a");
    g.dims = {5, 5, 3};
    test::writeDicomSeries(test::makeVolume(g, [](auto, auto, auto) { return 2.0f; }), dir.file("d"),
                           "1.2.826.0.1.3680043.2.1125.40", "b", "b");
    JobRunner jobs;
    Document document(jobs);
    Workspace& workspace = document.workspace;
    workspace.openPaths({dir.file("d")});
    REQUIRE(workspace.pendingSeriesChoice());
    CHECK(workspace.pendingSeriesChoice()->series.size() == 2);
    StudyRequest request = workspace.pendingSeriesChoice()->request;
    request.dicomSeries = {workspace.pendingSeriesChoice()->series[1].uid};
    workspace.pendingSeriesChoice().reset();
    workspace.openStudy(request);
    settle(document);
    REQUIRE(workspace.study());
    CHECK(workspace.study()->study->geometry.dims[2] == 3);
}

TEST_CASE("a study opened as [flair, t1] is reloaded in the model's order [t1, flair] before it is segmented",
          "[workspace][channels]") {
    test::TempDir dir;
    Geometry g;
    g.dims = {16, 20, 12};
    writeVolume(test::makeVolume(g, [](auto i, auto, auto) { return float(i); }), dir.file("t1.nii.gz"));
    writeVolume(test::makeVolume(g, [](auto, auto j, auto) { return float(j); }), dir.file("flair.nii.gz"));
    JobRunner jobs;
    Document document(jobs);
    Workspace& workspace = document.workspace;
    auto finish = [&] { test::runJobsToEnd(jobs, document); };
    workspace.openModel(SEGXAI_TEST_DATA "/models/tiny_unet_traced.pt"); // card: t1, flair
    finish();
    workspace.openStudy(StudyRequest{{dir.file("flair.nii.gz"), dir.file("t1.nii.gz")}, {}, {}});
    finish();
    REQUIRE(workspace.study());
    REQUIRE(workspace.segmentation());
    const Study& study = *workspace.study()->study;
    CHECK(study.channels[0].name == "t1");
    CHECK(study.channels[1].name == "flair");
    CHECK(workspace.studyRequest().channelPaths[0] == dir.file("t1.nii.gz"));
    REQUIRE(workspace.channelMatch());
    CHECK(workspace.channelMatch()->mapping == "t1 <- t1.nii.gz, flair <- flair.nii.gz");
    CHECK(document.messages().take().empty());

    SECTION("the user's own order turns matching off and is kept") {
        workspace.setChannelOrder({1, 0});
        finish();
        CHECK(workspace.study()->study->channels[0].name == "flair");
        CHECK_FALSE(workspace.channelMatching());
        CHECK(workspace.segmentation());
        workspace.setChannelMatching(true); // back to the model's order
        finish();
        CHECK(workspace.study()->study->channels[0].name == "t1");
        CHECK(workspace.segmentation());
    }
    SECTION("ambiguous names are asked about and not segmented until answered") {
        std::filesystem::copy_file(dir.file("t1.nii.gz"), dir.file("t1_flair_a.nii.gz"));
        std::filesystem::copy_file(dir.file("flair.nii.gz"), dir.file("t1_flair_b.nii.gz"));
        workspace.openStudy(StudyRequest{{dir.file("t1_flair_b.nii.gz"), dir.file("t1_flair_a.nii.gz")}, {}, {}});
        finish();
        REQUIRE(workspace.pendingChannelChoice());
        CHECK(workspace.pendingChannelChoice()->inputs == std::vector<std::string>{"t1", "flair"});
        CHECK_FALSE(workspace.segmentation());
        workspace.pendingChannelChoice().reset();
        workspace.setChannelOrder({1, 0});
        finish();
        CHECK(workspace.study()->study->channels[0].name == "t1_flair_a");
        CHECK(workspace.segmentation());
    }
}

TEST_CASE(
    "an nnU-Net folder opens with every fold and mirroring, the Model tab's choices reload it and a session keeps "
    "them",
    "[workspace][nnunet]") {
    JobRunner jobs;
    Document document(jobs);
    Workspace& workspace = document.workspace;
    auto finish = [&] { test::runJobsToEnd(jobs, document); };
    const std::string folder = test::nnunetModelFolder("Dataset901_PlainCTAniso");
    // Dropped as the dataset folder, as a user would drop it.
    workspace.openModel(std::filesystem::path(folder).parent_path().string());
    finish();
    REQUIRE(workspace.model());
    const NnunetSelection* opened = workspace.model()->model->nnunetSelection();
    REQUIRE(opened);
    CHECK(opened->folder == folder);
    CHECK(opened->availableFolds == std::vector<std::string>{"0", "1"});
    CHECK(opened->options.folds == std::vector<std::string>{"0", "1"});
    CHECK(opened->options.configuration == "3d_fullres");
    CHECK(opened->configurations == std::vector<std::string>{"3d_fullres"});
    CHECK(opened->checkpointNames == std::vector<std::string>{"checkpoint_final.pth"});
    CHECK(opened->options.mirroring);
    REQUIRE(opened->mirrorAxes);
    CHECK(*opened->mirrorAxes == std::vector<int>{0, 1, 2});

    NnunetOptions chosen = opened->options;
    chosen.folds = {"1"};
    chosen.mirroring = false;
    workspace.openModel(opened->folder, chosen);
    finish();
    REQUIRE(workspace.model());
    const NnunetSelection* reloaded = workspace.model()->model->nnunetSelection();
    REQUIRE(reloaded);
    CHECK(reloaded->options.folds == std::vector<std::string>{"1"});
    CHECK_FALSE(reloaded->options.mirroring);
    CHECK(reloaded->availableFolds == std::vector<std::string>{"0", "1"});
    const auto notes = workspace.model()->model->predictionNotes();
    CHECK(std::any_of(notes.begin(), notes.end(),
                      [](const std::string& n) { return n.find("mirroring: off") != std::string::npos; }));

    // The session records the choice and reads it back.
    nlohmann::json saved = sessionToJson(document);
    REQUIRE(saved.contains("nnunet"));
    CHECK(saved["nnunet"]["folds"] == nlohmann::json::array({"1"}));
    CHECK(saved["nnunet"]["mirroring"] == false);
    saved["study"]["channels"] = nlohmann::json::array({"ct.nii.gz"}); // no study is open here
    const Session session = sessionFromJson(saved, "session");
    CHECK(session.nnunet.folds == std::vector<std::string>{"1"});
    CHECK_FALSE(session.nnunet.mirroring);
    CHECK(session.nnunet.checkpointName == "checkpoint_final.pth");
    saved["nnunet"]["step"] = 3.0;
    CHECK_THROWS_WITH(sessionFromJson(saved, "s.segxai"), Catch::Contains("s.segxai: nnunet: 'step' must be in"));
}
