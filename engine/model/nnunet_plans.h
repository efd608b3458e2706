#pragma once
// nnU-Net v2 trained-model folders (tests/data/nnunet/PIPELINE.md, section 1): what dataset.json
// and plans.json say about the network, its input and its labels, read without Python.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace segxai {

// The network nnU-Net builds from a configuration's architecture (dynamic_network_architectures'
// PlainConvUNet or ResidualEncoderUNet), in nnU-Net's internal axis order.
struct NnunetNetwork {
    enum class Kind { PlainConvUNet, ResidualEncoderUNet };
    Kind kind = Kind::PlainConvUNet;
    std::vector<int64_t> features;               // per encoder stage
    std::vector<std::array<int64_t, 3>> kernels; // per encoder stage
    std::vector<std::array<int64_t, 3>> strides; // per encoder stage
    std::vector<int> perStage;                   // convolutions (plain) or residual blocks per stage
    std::vector<int> perDecoderStage;            // convolutions per decoder stage (stages - 1)
    std::optional<int64_t> stemChannels;         // ResidualEncoderUNet: the stem's width, else features[0]
    bool convBias = true;
    double normEps = 1e-5;
    bool normAffine = true;
    double negativeSlope = 0.01; // LeakyReLU (0 for ReLU)
    int64_t inputChannels = 1;
    int64_t outputChannels = 2;

    size_t stages() const { return features.size(); }
    // The product of the strides per axis: input sizes must be multiples of it.
    std::array<int64_t, 3> totalStride() const;
    const char* kindName() const;
};

// How one input channel is normalised (nnU-Net's default_normalization_schemes.py).
struct NnunetNormalization {
    enum class Scheme { CT, ZScore, RescaleTo01, RgbTo01, None };
    Scheme scheme = Scheme::ZScore;
    bool useMask = false; // ZScore: statistics over the non-zero mask, outside left as it is
    // CT: clip to [lower, upper] (foreground percentiles 0.5 and 99.5), then (x - mean) / sd
    double mean = 0.0, sd = 1.0, lower = 0.0, upper = 0.0;
    std::string name; // as plans.json names it
};

// resample_data_or_seg_to_shape's arguments: spline order in-plane and along a separate
// (anisotropic) axis; `forceSeparateZ` as plans.json gives it (null: decided per case).
struct NnunetResampling {
    int order = 3;
    int orderZ = 0;
    std::optional<bool> forceSeparateZ;
};

// dataset.json's labels: plain labels (softmax, one output channel per label value) or
// regions (sigmoid per region, later regions overwrite earlier ones).
struct NnunetLabels {
    std::vector<std::string> names; // by label value, background first
    bool regions = false;
    std::vector<std::vector<int>> regionLabels; // region r: the label values it holds
    std::vector<int> regionOrder;               // regions_class_order: label written for region r
    int64_t heads = 0;                          // network output channels
};

struct NnunetFold {
    std::string name;       // "0", "1", ..., "all"
    std::string checkpoint; // path of its checkpoint file
};

// What the user may choose when opening a folder (CLI: --folds, --configuration, --checkpoint).
struct NnunetOptions {
    std::vector<std::string> folds;                      // empty: every fold with a checkpoint (not fold_all)
    std::string configuration;                           // empty: 3d_fullres, else the only one
    std::string checkpointName = "checkpoint_final.pth"; // or checkpoint_best.pth
    bool mirroring = true;                               // test-time mirroring where the checkpoint allows it
    double tileStep = 0.5;                               // sliding-window step, a fraction of the patch
};

// Everything inference needs from a trained-model folder but the weights.
struct NnunetPlan {
    std::string folder;                    // <Dataset>/<Trainer>__<Plans>__<configuration>
    std::string datasetName;               // plans.json's dataset_name (or the folder above)
    std::string trainer;                   // from the folder name (the checkpoint's trainer_name wins when read)
    std::string plansName;                 // plans.json's plans_name
    std::string configuration;             // the configuration used
    std::vector<std::string> channelNames; // dataset.json's channel_names, in channel order
    NnunetLabels labels;
    std::string reader;         // image_reader_writer
    bool reorientToRas = false; // NibabelIOWithReorient
    std::array<int, 3> transposeForward{0, 1, 2}, transposeBackward{0, 1, 2};
    std::array<int64_t, 3> patch{};                 // internal axis order
    std::array<double, 3> spacing{};                // target spacing, internal axis order
    std::vector<NnunetNormalization> normalization; // one per channel
    NnunetResampling dataResampling, probabilityResampling;
    NnunetNetwork network;
    std::vector<NnunetFold> folds;  // those chosen, in order
    std::vector<std::string> notes; // what was read and decided, for the log
};

// True when `path` is something readNnunetFolder() opens: a trained-model folder
// (plans.json, dataset.json, fold_*), a dataset folder holding such folders, one fold folder or
// a checkpoint file inside one.
bool isNnunetPath(const std::string& path);

// The trained-model folder `path` stands for, and the fold and checkpoint it names when it is a
// fold folder or a checkpoint file. Throws segxai::Error when a dataset folder holds several
// configurations and `options.configuration` picks none of them (the message lists them).
struct NnunetLocation {
    std::string folder;
    NnunetOptions options; // with the fold and checkpoint `path` named
    std::vector<std::string> notes;
};
NnunetLocation locateNnunetFolder(const std::string& path, const NnunetOptions& options);

// The configurations (<Trainer>__<Plans>__<configuration> folders) inside a dataset folder.
std::vector<std::string> nnunetConfigurationFolders(const std::string& datasetFolder);
// The configuration a <Trainer>__<Plans>__<configuration> folder (a path) is of; "" otherwise.
std::string nnunetConfigurationName(const std::string& folder);

// The folds of a trained-model folder that hold `checkpointName`, as nnU-Net's
// auto_detect_available_folds finds them (sorted, fold_all only when it is the only one).
std::vector<std::string> nnunetAvailableFolds(const std::string& folder, const std::string& checkpointName);

// The checkpoint file names found in any fold of a trained-model folder (checkpoint_final.pth
// first, then the others sorted).
std::vector<std::string> nnunetCheckpointNames(const std::string& folder);

// How an open nnU-Net model was chosen and what else its folder offers: what the viewer's
// fold, checkpoint, configuration and mirroring controls show.
struct NnunetSelection {
    std::string folder;                         // the trained-model folder
    std::string datasetFolder;                  // the folder holding it (its configurations)
    NnunetOptions options;                      // as loaded: folds named, the configuration set
    std::vector<std::string> availableFolds;    // folds with options.checkpointName
    std::vector<std::string> checkpointNames;   // checkpoint files found in the folds
    std::vector<std::string> configurations;    // configuration names beside it
    std::optional<std::vector<int>> mirrorAxes; // the checkpoint's allowed axes; nullopt: none
};

// Reads dataset.json and plans.json of a trained-model folder for `configuration` (empty: the
// one the folder name says) and finds the folds' checkpoints. Throws segxai::Error naming the
// file and the field: missing files, unknown architectures, 2D or cascade configurations,
// label sets nnU-Net would refuse, a fold without its checkpoint.
NnunetPlan readNnunetFolder(const std::string& folder, const NnunetOptions& options,
                            const std::string& configuration = {});

// The plan from the two files' text (tests); `origin` names the folder in messages.
NnunetPlan parseNnunetPlan(const std::string& datasetJson, const std::string& plansJson,
                           const std::string& configuration, const std::string& origin);

} // namespace segxai
