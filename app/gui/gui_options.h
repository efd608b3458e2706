#pragma once
#include "engine/model/nnunet_plans.h"

#include <optional>
#include <string>
#include <vector>

namespace segxai::app {

struct GuiOptions {
    std::vector<std::string> files;          // study channels (or a DICOM folder)
    std::optional<std::string> groundTruth;  // label map
    bool keepChannelOrder = false;           // files in the model's input order: no matching by name
    std::string model;                       // TorchScript file, MONAI bundle or nnU-Net folder
    NnunetOptions nnunet;                    // ... its folds, checkpoint, configuration, mirroring
    bool demo = false;                       // open the lesion demo (study and model)
    std::vector<std::string> explainMethods; // explain once segmented: a panel per method id (or all-gradient)
    std::string explainTarget = "class:1";   // ... this target
    std::string explainLayer;                // ... with this CAM layer
    std::string crosshair;                   // initial crosshair voxel "I,J,K"
    std::string session;                     // a saved session to open
    std::string script;                      // commands to run (app/gui/script.h)
    std::vector<std::string> scriptLines;    // ... or these (segxai render)
    bool hidden = false;                     // no window on screen (segxai render)
    int benchmarkFrames = 0;                 // draw this many frames, print median and p99 time
    std::string benchmarkLayout = "tri";     // ... of this layout: tri, compare, axial, coronal, sagittal, volume
    bool benchmarkBusy = false;              // ... while an explanation runs on the engine thread
    std::string screenshotPath;              // save a window screenshot once the study shows
    bool screenshotViews = false;            // also save each view as <stem>_<view>.png
    std::string panel = "study";             // side panel tab shown first: study or model
    bool quit = false;                       // exit after the study shows (and screenshots)
    int width = 1600;
    int height = 900;
    std::string shaderFolder; // development: read shaders here, reload on change
};

// Opens the window and runs until it closes. Returns the exit status.
int runGui(const GuiOptions& options);

} // namespace segxai::app
