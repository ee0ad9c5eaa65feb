#include "report.hpp"

#include "cli.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

namespace pipeline {

namespace {

double ratio(double a, double b) { return b > 0 ? a / b : std::numeric_limits<double>::quiet_NaN(); }

std::string number(double x, int digits = 3) {
    if (std::isnan(x)) return "n/a";
    if (std::isinf(x)) return "inf";
    return fmt::format("{:.{}f}", x, digits);
}

cli::json json_number(double x) { return std::isfinite(x) ? cli::json(x) : cli::json(nullptr); }

std::string escape_xml(const std::string& s) {
    std::string r;
    for (char c : s) {
        switch (c) {
            case '&': r += "&amp;"; break;
            case '<': r += "&lt;"; break;
            case '>': r += "&gt;"; break;
            case '"': r += "&quot;"; break;
            default: r += c;
        }
    }
    return r;
}

// Markdown table cells: pipes escaped, the markup's brackets kept.
std::string cell(const std::string& s) {
    std::string r;
    for (char c : s) {
        if (c == '|') r += "\\|";
        else r += c;
    }
    return r;
}

void write_file(const std::filesystem::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw cli::output_error(fmt::format("cannot open '{}' for writing", path.string()));
    out << content;
    out.flush();
    if (!out) throw cli::output_error(fmt::format("write error on '{}'", path.string()));
}

// Support buckets: 1, 2, ..., 9, 10-19, 20-49, 50-99, 100+, with a bucket starting at `kept` (the training
// threshold) so that the threshold falls between two bars. The index of the bar where `kept` starts goes to
// `kept_bar`.
std::vector<std::pair<std::string, std::uint64_t>> support_bars(const std::map<std::size_t, std::uint64_t>& histogram,
                                                                std::size_t kept, std::size_t& kept_bar) {
    std::vector<std::size_t> edges{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 50, 100};
    if (kept >= 1) edges.push_back(kept);
    std::sort(edges.begin(), edges.end());
    edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
    std::vector<std::pair<std::string, std::uint64_t>> bars;
    for (std::size_t i = 0; i < edges.size(); ++i) {
        if (i + 1 == edges.size()) bars.emplace_back(fmt::format("{}+", edges[i]), 0);
        else if (edges[i + 1] == edges[i] + 1) bars.emplace_back(std::to_string(edges[i]), 0);
        else bars.emplace_back(fmt::format("{}-{}", edges[i], edges[i + 1] - 1), 0);
    }
    const auto bar_of = [&](std::size_t support) {
        const auto it = std::upper_bound(edges.begin(), edges.end(), support);
        return static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, it - edges.begin() - 1));
    };
    for (const auto& [support, count] : histogram) bars[bar_of(support)].second += count;
    kept_bar = bar_of(std::max<std::size_t>(kept, 1));
    return bars;
}

// Probability buckets of width 0.1, from the first one that can hold a probability >= min_probability (the
// rewrites kept): the bins below the threshold would always be empty.
std::vector<std::pair<std::string, std::uint64_t>> probability_bars(const std::vector<rewrite_row>& rewrites,
                                                                    double min_probability) {
    const auto bin = [](double p) { return std::min<std::size_t>(9, static_cast<std::size_t>(std::max(0.0, p) * 10.0)); };
    const std::size_t first = bin(min_probability);
    std::vector<std::pair<std::string, std::uint64_t>> bars;
    for (std::size_t b = first; b < 10; ++b) {
        bars.emplace_back(fmt::format("{:.1f}-{:.1f}", static_cast<double>(b) / 10.0, static_cast<double>(b + 1) / 10.0), 0);
    }
    for (const auto& r : rewrites) ++bars[std::max(bin(r.probability), first) - first].second;
    return bars;
}

// Defects per stage, undetermined last.
std::vector<std::pair<std::string, std::uint64_t>> stage_bars(const failure_points& f) {
    const auto totals = f.blame.totals();
    std::vector<std::pair<std::string, std::uint64_t>> bars;
    for (std::size_t i = 0; i < totals.size(); ++i) {
        bars.emplace_back(i < selflearn::failure_stage_count
                              ? std::string(selflearn::to_string(static_cast<selflearn::failure_stage>(i)))
                              : std::string("undetermined"),
                          totals[i]);
    }
    return bars;
}

// The `top` requests with most defects at stage index i, most first, ties by request.
std::vector<std::pair<std::string, std::size_t>> top_requests(const failure_points& f, std::size_t i, std::size_t top) {
    std::vector<std::pair<std::string, std::size_t>> rows;
    for (const auto& [request, counts] : f.blame.requests()) {
        if (counts[i] > 0) rows.emplace_back(request, counts[i]);
    }
    const auto order = [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; };
    const std::size_t k = std::min(top, rows.size());
    std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(k), rows.end(), order);
    rows.resize(k);
    return rows;
}

}  // namespace

std::string failure_point_section(const failure_points& f, std::size_t top) {
    const auto bars = stage_bars(f);
    std::uint64_t total = 0;
    for (const auto& b : bars) total += b.second;
    std::string md = fmt::format(
        "\n## Where defects come from\n\n![failure points](failure_points.svg)\n\nThe failure point of each "
        "friction turn (docs/failure-points.md): {} by comparing it with its successful rephrase, {} by its "
        "stage signals, with floors calibrated on the former.\n\n| stage | defects | share |\n|---|---:|---:|\n",
        f.by_rephrase, f.by_signals);
    for (const auto& [stage, n] : bars) {
        md += fmt::format("| {} | {} | {} |\n", stage, n,
                          number(ratio(static_cast<double>(n), static_cast<double>(total))));
    }
    for (std::size_t i = 0; i < selflearn::failure_stage_count; ++i) {
        const auto rows = top_requests(f, i, top);
        if (rows.empty()) continue;
        md += fmt::format("\nTop requests failing at {}:\n\n| request | defects |\n|---|---:|\n", bars[i].first);
        for (const auto& [request, n] : rows) md += fmt::format("| {} | {} |\n", cell(request), n);
    }
    return md;
}

headline headline_of(const results& r) {
    const auto& g = r.gold;
    headline h{};
    h.slot_precision = ratio(static_cast<double>(g.slots_correct), static_cast<double>(g.slots_predicted));
    h.slot_recall = ratio(static_cast<double>(g.slots_correct), static_cast<double>(g.slots_gold));
    h.slot_f1 = ratio(2.0 * static_cast<double>(g.slots_correct), static_cast<double>(g.slots_predicted + g.slots_gold));
    h.exact_match = ratio(static_cast<double>(g.examples_exact), static_cast<double>(g.examples_scored));
    h.intent_accuracy = ratio(static_cast<double>(g.intents_correct), static_cast<double>(g.intents_scored));
    h.paraphrase_precision = ratio(static_cast<double>(g.pairs_true_positive),
                                   static_cast<double>(g.pairs_true_positive + g.pairs_false_positive));
    h.paraphrase_recall = ratio(static_cast<double>(g.pairs_true_positive),
                                static_cast<double>(g.pairs_true_positive + g.pairs_false_negative));
    h.win_loss = g.rewrite_losses > 0 ? static_cast<double>(g.rewrite_wins) / static_cast<double>(g.rewrite_losses)
                 : g.rewrite_wins > 0 ? std::numeric_limits<double>::infinity()
                                      : std::numeric_limits<double>::quiet_NaN();
    return h;
}

double tick_step(double highest, int ticks) {
    const double raw = std::max(1.0, highest) / std::max(1, ticks);
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double n = raw / magnitude;
    const double step = (n <= 1.0 ? 1.0 : n <= 2.0 ? 2.0 : n <= 5.0 ? 5.0 : 10.0) * magnitude;
    return std::max(1.0, step);
}

std::string win_loss_words(std::uint64_t wins, std::uint64_t losses) {
    if (wins + losses == 0) return "no rewrite has a known goal, so win/loss is not measured";
    if (losses == 0) return fmt::format("all {} rewrites with a known goal keep the request's goal (no loss)", wins);
    return fmt::format("{} rewrites keep the request's goal for each one that changes it ({} wins, {} losses)",
                       number(static_cast<double>(wins) / static_cast<double>(losses), 1), wins, losses);
}

std::string svg_histogram(const std::string& title, const std::string& x_caption,
                          const std::vector<std::pair<std::string, std::uint64_t>>& bars, const histogram_style& style) {
    constexpr double width = 640, height = 320, left = 60, right = 20, top = 40, bottom = 60;
    std::uint64_t highest = 1;
    for (const auto& b : bars) highest = std::max(highest, b.second);
    const double plot_w = width - left - right, plot_h = height - top - bottom;
    const double slot = plot_w / static_cast<double>(std::max<std::size_t>(1, bars.size()));
    // The height of a count: linear from 0 to a round axis top, or log10 from 0.5 (so that a count of 1
    // shows) to the next power of ten.
    std::vector<double> ticks;
    double axis_top = 0, log_low = std::log10(0.5), log_high = 1;
    if (style.log_scale) {
        double power = 1;
        ticks.push_back(power);
        while (power < static_cast<double>(highest)) ticks.push_back(power *= 10);
        if (ticks.size() == 1) ticks.push_back(10);
        log_high = std::log10(ticks.back());
    } else {
        const double step = tick_step(static_cast<double>(highest));
        axis_top = std::ceil(static_cast<double>(highest) / step) * step;
        for (double v = 0; v <= axis_top + step / 2; v += step) ticks.push_back(v);
    }
    const auto height_of = [&](double count) {
        if (!style.log_scale) return plot_h * count / axis_top;
        if (count <= 0) return 0.0;
        return plot_h * (std::log10(count) - log_low) / (log_high - log_low);
    };
    std::string svg = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "font-family=\"sans-serif\" font-size=\"11\">\n"
        "<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n"
        "<text x=\"{2}\" y=\"22\" font-size=\"14\" text-anchor=\"middle\">{3}</text>\n",
        width, height, width / 2, escape_xml(title));
    svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"black\"/>\n", left, top + plot_h,
                       left + plot_w);
    svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"black\"/>\n", left, top, top + plot_h);
    for (const double value : ticks) {
        const double y = top + plot_h - height_of(value);
        svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:.0f}</text>\n", left - 6, y + 4, value);
    }
    if (style.log_scale) {
        svg += fmt::format("<text x=\"12\" y=\"{:.1f}\" text-anchor=\"middle\" transform=\"rotate(-90 12 {:.1f})\">"
                           "count (log scale)</text>\n",
                           top + plot_h / 2, top + plot_h / 2);
    }
    for (std::size_t i = 0; i < bars.size(); ++i) {
        const double h = height_of(static_cast<double>(bars[i].second));
        const double x = left + slot * static_cast<double>(i);
        svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#4472c4\">"
                           "<title>{}: {}</title></rect>\n",
                           x + slot * 0.1, top + plot_h - h, slot * 0.8, h, escape_xml(bars[i].first), bars[i].second);
        if (bars[i].second > 0) {
            svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"9\">{}</text>\n",
                               x + slot / 2, top + plot_h - h - 3, bars[i].second);
        }
        svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", x + slot / 2,
                           top + plot_h + 16, escape_xml(bars[i].first));
    }
    if (!style.threshold_label.empty() && style.threshold_bar < bars.size()) {
        const double x = left + slot * static_cast<double>(style.threshold_bar);
        svg += fmt::format("<line class=\"threshold\" x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#c00000\" "
                           "stroke-dasharray=\"4 3\"/>\n<text x=\"{3:.1f}\" y=\"{4}\" fill=\"#c00000\">{5}</text>\n",
                           x, top - 4, top + plot_h, x + 3, top + 8, escape_xml(style.threshold_label));
    }
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n</svg>\n", left + plot_w / 2,
                       height - 16, escape_xml(x_caption));
    return svg;
}

void write_outputs(const results& r, const settings& s, const std::string& log, const std::string& dir,
                   const std::string& model_text) {
    const std::filesystem::path out(dir);
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec) throw cli::output_error(fmt::format("cannot create the output folder '{}': {}", dir, ec.message()));
    const auto& c = r.counts;
    const auto& g = r.gold;
    const headline h = headline_of(r);

    std::string training;
    for (const auto& t : r.training) {
        training += cli::json{{"text", t.text}, {"annotation", t.annotation}, {"intent", t.intent}, {"support", t.support}}
                        .dump();
        training += '\n';
    }
    write_file(out / "training.jsonl", training);

    std::string rewrites;
    for (const auto& w : r.rewrites) {
        rewrites += cli::json{{"request", w.request},
                              {"rewrite", w.rewrite},
                              {"request_key", w.request_key},
                              {"rewrite_key", w.rewrite_key},
                              {"probability", w.probability},
                              {"support", w.support},
                              {"success_probability", w.success_probability},
                              {"expected_steps", w.expected_steps},
                              {"confidence", w.confidence},
                              {"lower_bound", w.lower_bound},
                              {"served_successes", w.served_successes},
                              {"served_failures", w.served_failures}}
                        .dump();
        rewrites += '\n';
    }
    write_file(out / "rewrites.jsonl", rewrites);
    if (!model_text.empty()) write_file(out / "paraphrase_model.txt", model_text);

    std::size_t kept_bar = 0;
    const auto support = support_bars(r.support_histogram, s.min_support, kept_bar);
    const auto probability = probability_bars(r.rewrites, s.rewrite.min_probability);
    write_file(out / "support.svg",
               svg_histogram("Projected examples by support (distinct sessions)",
                             fmt::format("support (training keeps >= {})", s.min_support), support,
                             {.log_scale = true,
                              .threshold_bar = kept_bar,
                              .threshold_label = fmt::format("kept: support >= {}", s.min_support)}));
    write_file(out / "rewrite_probability.svg",
               svg_histogram("Rewrites by probability of success through the rewrite",
                             fmt::format("probability (rewrites keep >= {})", s.rewrite.min_probability), probability));
    write_file(out / "failure_points.svg",
               svg_histogram("Where defects come from: friction turns by failure point", "stage", stage_bars(r.failures)));

    // report.json
    cli::json counts = {{"sessions", c.sessions},
                        {"turns", c.turns},
                        {"candidate_pairs", c.candidate_pairs},
                        {"friction_turns", c.friction_turns},
                        {"friction_candidate_pairs", c.friction_candidates},
                        {"paraphrase_pairs", c.paraphrase_pairs},
                        {"successful_paraphrases", c.successful_paraphrases},
                        {"projections", c.projections},
                        {"projections_accepted", c.projections_accepted},
                        {"projection_rejections", c.rejections},
                        {"distinct_examples", c.distinct_examples},
                        {"training_examples", c.training_examples},
                        {"rewrite_links", c.rewrite_links},
                        {"rewrite_chain_utterances", c.rewrite_states},
                        {"rewrites", c.rewrites}};
    cli::json coverage = {{"min_failures", s.frequent_failures},
                          {"requests", c.frequent_requests},
                          {"with_training_example", c.frequent_with_training},
                          {"with_rewrite", c.frequent_with_rewrite},
                          {"training_coverage", json_number(ratio(static_cast<double>(c.frequent_with_training),
                                                                  static_cast<double>(c.frequent_requests)))},
                          {"rewrite_coverage", json_number(ratio(static_cast<double>(c.frequent_with_rewrite),
                                                                 static_cast<double>(c.frequent_requests)))}};
    cli::json support_json = cli::json::object();
    for (const auto& [k, v] : r.support_histogram) support_json[std::to_string(k)] = v;
    cli::json probability_json = cli::json::object();
    for (const auto& [k, v] : probability) probability_json[k] = v;
    cli::json failure_points_json = {{"by_rephrase", r.failures.by_rephrase}, {"by_signals", r.failures.by_signals}};
    for (const auto& [stage, n] : stage_bars(r.failures)) failure_points_json["stages"][stage] = n;
    for (std::size_t i = 0; i < r.failures.floors.by_downstream.size(); ++i) {
        const auto& f = r.failures.floors.by_downstream[i];
        failure_points_json["signal_floors"].push_back({{"asr", f.asr_floor}, {"nlu", f.nlu_floor}});
    }
    cli::json report = {
        {"log", log},
        {"settings",
         {{"window_seconds", s.window.max_seconds},
          {"window_turns", s.window.max_turns},
          {"paraphrase_scorer", r.scorer},
          {"paraphrase_threshold", s.paraphrase_threshold},
          {"friction", r.detector},
          {"projection_method", std::string(selflearn::to_string(s.projection.method))},
          {"projection_threshold", s.projection.threshold},
          {"min_support", s.min_support},
          {"rewrite_window_seconds", s.rewrite.window},
          {"rewrite_min_support", s.rewrite.min_support},
          {"rewrite_min_probability", s.rewrite.min_probability}}},
        {"counts", counts},
        {"coverage", coverage},
        {"notes", r.notes},
        {"support_histogram", support_json},
        {"rewrite_probability_histogram", probability_json},
        {"failure_points", failure_points_json},
        {"seconds",
         {{"read_and_parse", r.time.read},
          {"candidates_and_projection", r.time.candidates},
          {"rewrite_counting", r.time.rewrite_counting},
          {"corroboration_and_gold", r.time.corroboration},
          {"rewrite_solve", r.time.rewrite_solve},
          {"total", r.time.total}}},
    };
    if (g.available) {
        report["quality"] = {
            {"paraphrase_precision", json_number(h.paraphrase_precision)},
            {"paraphrase_recall", json_number(h.paraphrase_recall)},
            {"slot_precision", json_number(h.slot_precision)},
            {"slot_recall", json_number(h.slot_recall)},
            {"slot_f1", json_number(h.slot_f1)},
            {"exact_match", json_number(h.exact_match)},
            {"intent_accuracy", json_number(h.intent_accuracy)},
            {"examples_scored", g.examples_scored},
            {"rewrite_wins", g.rewrite_wins},
            {"rewrite_losses", g.rewrite_losses},
            {"rewrite_unknown", g.rewrite_unknown},
            {"win_loss", json_number(h.win_loss)},
        };
    } else {
        report["quality"] = nullptr;
    }
    write_file(out / "report.json", report.dump(2) + "\n");

    // report.md
    std::string md = fmt::format("# Self-learning pipeline report\n\nLog: `{}`. Outputs: `training.jsonl` ({} examples), "
                                 "`rewrites.jsonl` ({} rewrites), `report.json`.\n\n",
                                 log, c.training_examples, c.rewrites);
    md += "## Headline\n\n";
    md += fmt::format("- {} sessions, {} turns; {} turns caused friction.\n", c.sessions, c.turns, c.friction_turns);
    md += fmt::format("- {} new training examples (support >= {} distinct sessions), from {} accepted projections.\n",
                      c.training_examples, s.min_support, c.projections_accepted);
    md += fmt::format("- {} rewrites, from a chain over {} distinct utterances with {} rephrase links.\n", c.rewrites,
                      c.rewrite_states, c.rewrite_links);
    if (g.available) {
        md += fmt::format("- Quality against gold: slot F1 {} of the training examples (precision {}: {} of {} slots "
                          "right; recall {}: {} of {} gold slots found); rewrite win/loss {}: {}.\n",
                          number(h.slot_f1), number(h.slot_precision), g.slots_correct, g.slots_predicted,
                          number(h.slot_recall), g.slots_correct, g.slots_gold, number(h.win_loss, 1),
                          win_loss_words(g.rewrite_wins, g.rewrite_losses));
    }
    md += fmt::format("- Of the {} requests that caused friction at least {} times (and more often than not), {} got a training example "
                      "({}) and {} a rewrite ({}).\n",
                      c.frequent_requests, s.frequent_failures, c.frequent_with_training,
                      number(ratio(static_cast<double>(c.frequent_with_training), static_cast<double>(c.frequent_requests))),
                      c.frequent_with_rewrite,
                      number(ratio(static_cast<double>(c.frequent_with_rewrite), static_cast<double>(c.frequent_requests))));
    for (const auto& note : r.notes) md += fmt::format("- Note: {}\n", note);
    md += fmt::format(
        "\n## What to do next\n\n"
        "1. Add the {} examples of `training.jsonl` to the NLU's training data (each line has the `text`, its "
        "`[slot : value]` `annotation` and the `intent`) and retrain it: the phrasings that failed are then "
        "understood.\n"
        "2. Load the {} rewrites of `rewrites.jsonl` where the application looks requests up, after "
        "`selflearn::normalize_utterance`: normalise each incoming request, look the result up by `request_key`, and "
        "on a hit send the row's `rewrite` (what users said when it worked) to the NLU instead.\n",
        c.training_examples, c.rewrites);
    if (g.available) {
        md += fmt::format(
            "3. {}A rewrite *wins* when users said its text for the same goal as the request, and *loses* when they "
            "said it for another goal: here {}.\n",
            g.rewrite_losses > 0 ? "Check the rewrites marked **loss** in the table of top rewrites (and the other "
                                   "losses in `rewrites.jsonl`) before loading them. "
                                 : "",
            win_loss_words(g.rewrite_wins, g.rewrite_losses));
    }
    md += "\n## Stages\n\n| stage | count | what it is |\n|---|---:|---|\n";
    const auto row = [&](const char* stage, std::uint64_t n, const char* what) {
        md += fmt::format("| {} | {} | {} |\n", stage, n, what);
    };
    row("sessions", c.sessions, "sessions read");
    row("turns", c.turns, "turns read");
    row("candidate pairs", c.candidate_pairs,
        "(turn, later turn) pairs inside the time window (rephrase candidates)");
    row("friction turns", c.friction_turns, "turns the friction detector flags");
    row("candidates of friction turns", c.friction_candidates, "candidate pairs whose first turn caused friction");
    row("paraphrase pairs", c.paraphrase_pairs, "of those, pairs the scorer calls a rephrase");
    row("successful paraphrases", c.successful_paraphrases,
        "friction turns whose first rephrase that succeeded carries an annotation");
    row("projections accepted", c.projections_accepted, "label projections that kept every slot policy");
    for (const auto& [reason, n] : c.rejections) {
        md += fmt::format("| projection rejected | {} | {} |\n", n, reason);
    }
    row("distinct projected examples", c.distinct_examples, "distinct (text, annotation, intent)");
    row("training examples", c.training_examples, "distinct examples with enough support (training.jsonl)");
    row("rephrase links", c.rewrite_links, "consecutive turns linked as a rephrase of a friction turn (rewrite chain)");
    row("chain utterances", c.rewrite_states, "distinct normalised utterances in the rewrite chain");
    row("rewrites", c.rewrites, "rewrites kept by support and probability (rewrites.jsonl)");
    md += fmt::format("\nSettings: window {} s and {} turns; paraphrase scorer `{}` at threshold {}; friction `{}`; "
                      "projection `{}` (word threshold {}); training support >= {}; rewrites support >= {} and "
                      "probability >= {}.\n",
                      s.window.max_seconds, s.window.max_turns, r.scorer, s.paraphrase_threshold, r.detector,
                      selflearn::to_string(s.projection.method), s.projection.threshold, s.min_support,
                      s.rewrite.min_support, s.rewrite.min_probability);

    md += "\n## Support of the projected examples\n\n![support](support.svg)\n\n| support | examples |\n|---|---:|\n";
    for (const auto& [label, n] : support) md += fmt::format("| {} | {} |\n", label, n);
    md += "\n## Rewrite probabilities\n\n![probability](rewrite_probability.svg)\n\n| probability | rewrites |\n|---|---:|\n";
    for (const auto& [label, n] : probability) md += fmt::format("| {} | {} |\n", label, n);

    md += failure_point_section(r.failures, std::min<std::size_t>(s.top, 5));

    md += fmt::format("\n## Top {} rewrites (by support)\n\n| request | rewrite | probability | support | success "
                      "probability | expected steps |{}\n|---|---|---:|---:|---:|---:|{}\n",
                      s.top, g.available ? " gold |" : "", g.available ? "---|" : "");
    std::vector<const rewrite_row*> top_rewrites;
    for (const auto& w : r.rewrites) top_rewrites.push_back(&w);
    std::stable_sort(top_rewrites.begin(), top_rewrites.end(),
                     [](const rewrite_row* a, const rewrite_row* b) { return a->support > b->support; });
    for (std::size_t i = 0; i < top_rewrites.size() && i < s.top; ++i) {
        const auto& w = *top_rewrites[i];
        md += fmt::format("| {} | {} | {:.3f} | {} | {:.3f} | {:.2f} |", cell(w.request), cell(w.rewrite), w.probability,
                          w.support, w.success_probability, w.expected_steps);
        if (g.available) md += w.wins ? (*w.wins ? " win |" : " **loss** |") : " ? |";
        md += '\n';
    }
    md += fmt::format("\n## Top {} training examples (by support)\n\n| annotation | intent | support |{}\n|---|---|---:|{}\n",
                      s.top, g.available ? " gold |" : "", g.available ? "---|" : "");
    std::vector<const training_example*> top_training;
    for (const auto& t : r.training) top_training.push_back(&t);
    std::stable_sort(top_training.begin(), top_training.end(),
                     [](const training_example* a, const training_example* b) { return a->support > b->support; });
    for (std::size_t i = 0; i < top_training.size() && i < s.top; ++i) {
        const auto& t = *top_training[i];
        md += fmt::format("| {} | {} | {} |", cell(t.annotation), t.intent, t.support);
        if (g.available) md += t.gold ? (*t.gold == t.annotation ? " exact |" : fmt::format(" {} |", cell(*t.gold))) : " ? |";
        md += '\n';
    }

    if (g.available) {
        md += "\n## Quality against the gold fields\n\n| measure | value | how |\n|---|---:|---|\n";
        md += fmt::format("| paraphrase precision | {} | candidate pairs of friction turns called a rephrase that share the "
                          "gold goal ({} of {}) |\n",
                          number(h.paraphrase_precision), g.pairs_true_positive,
                          g.pairs_true_positive + g.pairs_false_positive);
        md += fmt::format("| paraphrase recall | {} | candidate pairs sharing the gold goal that the scorer called a "
                          "rephrase ({} of {}) |\n",
                          number(h.paraphrase_recall), g.pairs_true_positive,
                          g.pairs_true_positive + g.pairs_false_negative);
        md += fmt::format("| slot precision | {} | slots of the training examples with the gold span and label ({} of "
                          "{}) |\n",
                          number(h.slot_precision), g.slots_correct, g.slots_predicted);
        md += fmt::format("| slot recall | {} | gold slots found ({} of {}) |\n", number(h.slot_recall), g.slots_correct,
                          g.slots_gold);
        md += fmt::format("| slot F1 | {} | each distinct training example counted once |\n", number(h.slot_f1));
        md += fmt::format("| exact examples | {} | training examples whose annotation equals the gold one ({} of {}) |\n",
                          number(h.exact_match), g.examples_exact, g.examples_scored);
        md += fmt::format("| intent accuracy | {} | training examples whose intent is the gold goal's ({} of {}) |\n",
                          number(h.intent_accuracy), g.intents_correct, g.intents_scored);
        md += fmt::format("| training coverage | {} | requests with >= {} friction turns that got a training example "
                          "({} of {}) |\n",
                          number(ratio(static_cast<double>(c.frequent_with_training), static_cast<double>(c.frequent_requests))),
                          s.frequent_failures, c.frequent_with_training, c.frequent_requests);
        md += fmt::format("| rewrite coverage | {} | requests with >= {} friction turns that got a rewrite ({} of {}) |\n",
                          number(ratio(static_cast<double>(c.frequent_with_rewrite), static_cast<double>(c.frequent_requests))),
                          s.frequent_failures, c.frequent_with_rewrite, c.frequent_requests);
        md += fmt::format("| rewrite win/loss | {} | {}: a rewrite wins when its text's gold goal is the request's "
                          "({} without a known goal) |\n",
                          number(h.win_loss, 1), win_loss_words(g.rewrite_wins, g.rewrite_losses), g.rewrite_unknown);
    }
    md += fmt::format("\n## Time\n\n| stage | seconds |\n|---|---:|\n| read and parse the log | {:.2f} |\n"
                      "| candidates, paraphrase scoring, projection | {:.2f} |\n| rewrite counting | {:.2f} |\n"
                      "| corroboration and gold scoring | {:.2f} |\n| rewrite chain solve | {:.2f} |\n"
                      "| total | {:.2f} |\n",
                      r.time.read, r.time.candidates, r.time.rewrite_counting, r.time.corroboration,
                      r.time.rewrite_solve, r.time.total);
    write_file(out / "report.md", md);
}

std::string summary(const results& r, const std::string& dir) {
    const auto& c = r.counts;
    const headline h = headline_of(r);
    const std::filesystem::path out(dir);
    std::string text = fmt::format(
        "selflearn pipeline: {} sessions, {} turns in {:.1f} s ({:.0f} turns/s)\n"
        "  training examples: {} -> {}\n  rewrites:          {} -> {}\n  report:            {} (and {})\n",
        c.sessions, c.turns, r.time.total, r.time.total > 0 ? static_cast<double>(c.turns) / r.time.total : 0.0,
        c.training_examples, (out / "training.jsonl").string(), c.rewrites, (out / "rewrites.jsonl").string(),
        (out / "report.md").string(), (out / "report.json").string());
    if (r.gold.available) {
        text += fmt::format("  quality vs gold:   slot F1 {}, rewrite win/loss {} ({} wins, {} losses)\n", number(h.slot_f1),
                            number(h.win_loss, 1), r.gold.rewrite_wins, r.gold.rewrite_losses);
    }
    text += "  next:              add training.jsonl to the NLU's training data; look requests up in rewrites.jsonl "
            "after selflearn::normalize_utterance (report.md says how)\n";
    return text;
}

}  // namespace pipeline
