#pragma once
#include "engine/batch/batch_config.h"
#include "engine/core/job_runner.h"
#include "engine/io/study.h"
#include "engine/model/model.h"

#include <map>
#include <string>
#include <vector>

namespace segxai {

// Everything batch.json asks of one study, written into `folder` (which exists):
//   segmentation.csv        per class: voxels, volume (ml), mean probability, Dice with the ground truth
//   labels.nii.gz, probabilities/probs_<class>.nii.gz
//   explanations.csv        per method and target: class, target voxels, score S, map files
//   maps/<method>_<target>[_<channel>].nii.gz
//   lesions/                segxai lesions' files (instances.csv, summary.json, ...)
//   aggregation_<method>.csv  the Agg2Exp row of this study
//   evaluations.csv, curves.csv  the faithfulness metrics per method, target and metric
//   uncertainty/            segxai uncertainty's files (maps, instances.csv, summary.json)
//   model_comparison/       segxai compare-models' files (structures.csv, summary.json, maps)
// Tables hold results only (no timings), so a study computed twice gives the same bytes.
// Returns the seconds spent per stage ("segment", "explain", "lesions", "aggregation",
// "metrics", "uncertainty", "compare_models"). `protectedPaths` are never overwritten. Throws segxai::Error or
// JobCancelled.
std::map<std::string, double> runBatchStudy(const Model& model, const Study& study, const std::string& id,
                                            const BatchConfig& config, const std::string& folder,
                                            const std::vector<std::string>& protectedPaths, JobContext* job = nullptr);

// File-name part from a target or class name: letters, digits, '-' and '_' kept, the rest '_'.
std::string fileNamePart(const std::string& text);

} // namespace segxai
