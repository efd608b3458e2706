#pragma once
#include <string>
#include <vector>

namespace segxai {

// What a batch folder holds, study by study, after merging.
struct MergeSummary {
    size_t studies = 0, done = 0, failed = 0, missing = 0;
    std::vector<std::string> tables; // written, relative to DIR
};

// Builds the cohort tables of a batch folder from its finished studies (those finished with
// DIR/batch.json's configuration), in the manifest's order, whichever shard computed them:
//   studies.csv               study, status (done / failed / missing), seconds, error
//   failures.csv              study, error
//   cohort_segmentation.csv   every study's segmentation.csv
//   cohort_explanations.csv   every study's explanations.csv
//   cohort_lesions.csv        every study's lesions/instances.csv, with a study column
//   cohort_lesion_studies.csv per study: lesions, TP, FP, FN, sensitivity, precision, F1, voxel Dice
//   cohort_aggregation_<method>.csv and cohort_aggregation_<method>_mean.csv
//   cohort_metrics.csv        every study's evaluations.csv
//   cohort_benchmark.csv      method x metric mean and sd over targets and studies
//   cohort_benchmark.json     the most faithful method and the ranking
//   cohort_uncertainty.csv    every study's uncertainty/instances.csv, with a study column
//   cohort_model_comparison.csv  every study's model_comparison/structures.csv, with a study column
// Every table is written atomically; a table no study has is not written. Throws
// segxai::Error when DIR has no batch.json or two studies' tables disagree on their columns.
MergeSummary mergeBatch(const std::string& dir);

} // namespace segxai
