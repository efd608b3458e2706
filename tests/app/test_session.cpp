// Session files: what they hold, how relative paths resolve, and how malformed ones are
// refused with a message naming the field (or, for view settings, ignored field by field).
#include "app/gui/state/session.h"
#include "engine/core/error.h"

#include <catch2/catch.hpp>

using namespace segxai;
using namespace segxai::app;
using nlohmann::json;

namespace {

json minimalSession() {
    return {{"segxai_session", 1},
            {"study", {{"channels", {"t1.nii.gz", "/data/flair.nii.gz"}}, {"ground_truth", "gt.nii.gz"}}}};
}

std::string errorOf(const json& j) {
    try {
        sessionFromJson(j, "s.segxai", "/sessions");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("a session's relative paths are taken from its own folder", "[session]") {
    const Session s = sessionFromJson(minimalSession(), "s.segxai", "/sessions/a");
    CHECK(s.study.channelPaths == std::vector<std::string>{"/sessions/a/t1.nii.gz", "/data/flair.nii.gz"});
    REQUIRE(s.study.groundTruthPath);
    CHECK(*s.study.groundTruthPath == "/sessions/a/gt.nii.gz");
    CHECK(s.model.empty());
    CHECK(s.panels.empty());
    CHECK(s.targetSpec.empty());
    CHECK(!s.selectedVoxel);
}

TEST_CASE("malformed sessions are refused with the field that is wrong", "[session]") {
    CHECK_THAT(errorOf(json::object()), Catch::Contains("not a SegXAI session"));
    json j = minimalSession();
    j["segxai_session"] = 2;
    CHECK_THAT(errorOf(j), Catch::Contains("session version 2"));
    j = minimalSession();
    j["study"]["channels"] = json::array();
    CHECK_THAT(errorOf(j), Catch::Contains("'study.channels' must list"));
    j = minimalSession();
    j["study"]["channels"] = {7};
    CHECK_THAT(errorOf(j), Catch::Contains("must be file paths"));
    j = minimalSession();
    j["model"] = 3;
    CHECK_THAT(errorOf(j), Catch::Contains("'model' must be a path"));
    j = minimalSession();
    j["panels"] = json::array({json::object(), json::object(), json::object(), json::object(), json::object()});
    CHECK_THAT(errorOf(j), Catch::Contains("1 to 4 panels"));
    j = minimalSession();
    j["panels"] = {{{"methods", {"grad-magic"}}}};
    CHECK_THAT(errorOf(j), Catch::Contains("panels[0]"));
    j = minimalSession();
    j["panels"] = {{{"methods", {"saliency"}}, {"parameters", {{"samples", "many"}}}}};
    CHECK_THAT(errorOf(j), Catch::Contains("panels[0]") && Catch::Contains("samples"));
    j = minimalSession();
    j["target"] = "instance:1,2";
    CHECK(!errorOf(j).empty());
}

TEST_CASE("a view state survives the round trip - wrong or absurd values are ignored or clamped", "[session]") {
    ViewerState original;
    original.crosshair = {3, 4, 5};
    original.convention = render::Convention::Neurological;
    original.cameras[1].zoom = 2.5;
    original.layout = Layout::Compare;
    original.compareView = kVolumeView;
    original.displays[1].signedColormap = 3;
    original.displays[1].separateNegative = true;
    original.displays[1].negativeGain = 2.0f;
    original.camera.azimuth = 75.0;
    original.mip = true;
    original.clip = {true, false, true};
    original.box = std::make_pair(Index3{1, 2, 3}, Index3{4, 5, 6});
    ViewerState restored;
    applyViewState(viewStateToJson(original), restored);
    CHECK(restored.crosshair == original.crosshair);
    CHECK(restored.convention == render::Convention::Neurological);
    CHECK(restored.cameras[1].zoom == 2.5);
    CHECK(restored.layout == Layout::Compare);
    CHECK(restored.compareView == kVolumeView);
    CHECK(restored.displays[1].signedColormap == 3);
    CHECK(restored.displays[1].separateNegative);
    CHECK(restored.displays[1].negativeGain == 2.0f);
    CHECK(restored.camera.azimuth == 75.0);
    CHECK(restored.mip);
    CHECK(restored.clip == original.clip);
    REQUIRE(restored.box);
    CHECK(restored.box->second == Index3{4, 5, 6});

    json hostile = {{"crosshair", "centre"},
                    {"cameras", {{{"zoom", 1e9}}}},
                    {"maximised", 99},
                    {"displays", {{{"unsigned_colormap", 1000}, {"gain", -5}, {"opacity", "high"}}}},
                    {"camera", {{"distance", -1}, {"field_of_view", 1000}}},
                    {"transfer", {{2, 0.5, 1, 1, 1}, "x"}}};
    ViewerState state;
    applyViewState(hostile, state);
    CHECK(state.crosshair == Index3{0, 0, 0});
    CHECK(state.cameras[0].zoom == 100.0);
    CHECK(state.maximised == kVolumeView);
    CHECK(state.displays[0].unsignedColormap == render::kColormapCount - 1);
    CHECK(state.displays[0].gain == 0.01f);
    CHECK(state.displays[0].opacity == MapDisplay{}.opacity);
    CHECK(state.camera.distance == 1.0);
    CHECK(state.camera.fieldOfView == 120.0);
    REQUIRE(state.transfer.points.size() == 1);
    CHECK(state.transfer.points[0].value == 1.0f);
}
