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

/// How svg_histogram draws its count axis and an optional threshold line.
struct histogram_style {
    bool log_scale = false;          ///< counts on a log axis (ticks 1, 10, 100, ...); else linear, round ticks
    std::size_t threshold_bar = 0;   ///< a dashed line at the left edge of this bar, when threshold_label is set
    std::string threshold_label;     ///< the line's label, e.g. "kept: support >= 2"; empty: no line
};

/// The step between round tick values (1, 2 or 5 times a power of ten) for a linear axis from 0 to at least
/// `highest` with about `ticks` intervals; at least 1 (counts are whole).
double tick_step(double highest, int ticks = 4);

/// An SVG bar chart of labelled counts, with a title and axis captions.
std::string svg_histogram(const std::string& title, const std::string& x_caption,
                          const std::vector<std::pair<std::string, std::uint64_t>>& bars,
                          const histogram_style& style = {});

/// "win/loss" in words: how many rewrites keep the request's goal for each that changes it.
std::string win_loss_words(std::uint64_t wins, std::uint64_t losses);

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
