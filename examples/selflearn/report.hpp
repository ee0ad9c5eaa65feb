#pragma once
// Outputs of `selflearn pipeline`: training.jsonl, rewrites.jsonl, report.md, report.json and the SVG
// histograms the report shows.

#include "pipeline.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pipeline {

/// Headline quality numbers derived from the counts (NaN when not measurable).
struct headline {
    double slot_precision, slot_recall, slot_f1, exact_match, intent_accuracy;
    double paraphrase_precision, paraphrase_recall;
    double win_loss;  // wins / losses; +inf with wins and no loss
};

/// Computes the headline numbers of a run.
headline headline_of(const results& r);

/// An SVG bar chart of labelled counts, with a title and axis captions.
std::string svg_histogram(const std::string& title, const std::string& x_caption,
                          const std::vector<std::pair<std::string, std::uint64_t>>& bars);

/// The report.md section "Where defects come from": defects per stage (a table and failure_points.svg) and
/// the `top` requests with most defects at each stage. O(r log top), r the requests.
std::string failure_point_section(const failure_points& f, std::size_t top);

/// Writes every output of a run into `dir` (created if missing): training.jsonl, rewrites.jsonl,
/// report.md, report.json, support.svg, rewrite_probability.svg. Throws cli::usage_error when a file
/// cannot be written.
/// `model_text`, when not empty, is written to paraphrase_model.txt (the paraphrase model the run learned).
void write_outputs(const results& r, const settings& s, const std::string& log, const std::string& dir,
                   const std::string& model_text = {});

/// The few lines printed at the end of a run: where the outputs are and the headline numbers.
std::string summary(const results& r, const std::string& dir);

}  // namespace pipeline
