// `selflearn pipeline`: the end-to-end self-learning job on a session log.

#include "cli.hpp"
#include "paraphrase_choice.hpp"
#include "pipeline.hpp"
#include "report.hpp"
#include "session_log.hpp"

#include <selflearn/friction.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include <unistd.h>

namespace {

using clock_type = std::chrono::steady_clock;

double since(clock_type::time_point start) { return std::chrono::duration<double>(clock_type::now() - start).count(); }

int run_pipeline(const cli::arguments& args) {
    const auto log = args.value("log");
    if (!log) throw cli::usage_error("option '--log' is required");
    const auto out = args.value("out");
    if (!out) throw cli::usage_error("option '--out' is required");

    const auto start = clock_type::now();
    pipeline::settings s;
    s.window.max_seconds = args.number("window", 0.0, 1e9);
    s.window.max_turns = static_cast<std::size_t>(args.integer("window-turns", 1, 1000));
    s.paraphrase_threshold = args.number("threshold", 0.0, 1.0);
    try {
        s.projection.method = selflearn::parse_projection_method(args.string("projection"));
    } catch (const selflearn::error& e) {
        throw cli::usage_error(fmt::format("option '--projection': {}", e.what()));
    }
    s.projection.threshold = args.number("projection-threshold", 0.0, 1.0);
    s.min_support = static_cast<std::size_t>(args.integer("min-support", 1, 1'000'000'000));
    s.rewrite.window = s.window.max_seconds;
    s.rewrite.threshold = s.paraphrase_threshold;
    s.rewrite.min_support = static_cast<std::uint64_t>(args.integer("rewrite-min-support", 1, 1'000'000'000));
    s.rewrite.min_probability = args.number("rewrite-min-probability", 0.0, 1.0);
    s.rewrite.confidence = args.number("rewrite-confidence", 0.0, 1.0);
    s.rewrite.threads = static_cast<unsigned>(args.integer("threads", 0, 1024));
    s.top = static_cast<std::size_t>(args.integer("top", 0, 1'000'000));
    const cli::session_rules rules{.timeout = cli::session_timeout_option(args, "session-timeout", s.window.max_seconds)};

    pipeline::friction_choice detector;
    const std::string friction = args.string("friction");
    const auto as_choice = [](auto d, std::string description) {
        return pipeline::friction_choice{[d](const selflearn::turn& t) { return selflearn::is_friction(d, t); },
                                         std::move(description)};
    };
    if (friction == "outcome") {
        detector = as_choice(selflearn::outcome_detector{}, "outcome: a turn with outcome \"defect\"");
    } else if (friction == "confidence") {
        const double floor = args.number("min-confidence", 0.0, 1.0);
        detector = as_choice(selflearn::any_of(selflearn::outcome_detector{}, selflearn::confidence_floor_detector(floor)),
                             fmt::format("confidence: a turn with outcome \"defect\" or NLU confidence below {}", floor));
    } else if (friction == "signals") {
        detector = as_choice(selflearn::any_of(selflearn::outcome_detector{}, selflearn::status_detector{},
                                               selflearn::barge_in_detector{}),
                             "signals: a turn with outcome \"defect\", a handler status other than \"ok\", or a barge-in");
    } else {
        throw cli::usage_error(
            fmt::format("option '--friction' must be 'outcome', 'confidence' or 'signals', got '{}'", friction));
    }

    const bool progress = !args.flag("quiet") && isatty(fileno(stderr)) != 0;
    const std::string scorer_name = args.string("scorer");
    cli::paraphrase_decision paraphrase = cli::choose_paraphrase_scorer(args, {*log});
    pipeline::runner runner(s, {paraphrase.score, paraphrase.description}, std::move(detector));
    cli::input in({*log}, args.flag("skip-invalid"), "pipeline");
    double processing = 0;
    auto last_report = start;
    bool any_rephrase_score = false;  // --scorer log on a log without the field would silently find nothing
    cli::for_each_session(in, [&](std::vector<cli::log_turn>& turns) {
        for (const auto& t : turns) any_rephrase_score = any_rephrase_score || t.rephrase_score.has_value();
        const auto before = clock_type::now();
        runner.add_session(turns);
        const auto after = clock_type::now();
        processing += std::chrono::duration<double>(after - before).count();
        if (progress && after - last_report > std::chrono::milliseconds(500)) {
            last_report = after;
            const double elapsed = std::chrono::duration<double>(after - start).count();
            std::cerr << fmt::format("\rselflearn pipeline: {} sessions, {} turns, {:.0f} turns/s   ",
                                     runner.counts().sessions, runner.counts().turns,
                                     static_cast<double>(runner.counts().turns) / elapsed)
                      << std::flush;
        }
    }, rules);
    if (scorer_name == "log" && !any_rephrase_score && runner.counts().turns > 0) {
        throw cli::input_error(fmt::format("{}: --scorer log needs each turn's \"rephrase_score\" field, and no turn of the "
                                           "log has one (use --scorer words or chars)",
                                           *log == "-" ? std::string("<stdin>") : *log));
    }
    if (progress) std::cerr << "\rselflearn pipeline: log read; corroborating and solving the rewrite chain...   " << std::flush;
    const double read_and_process = since(start);
    pipeline::results r = runner.finish();
    r.notes = paraphrase.notes;
    r.time.candidates = processing - r.time.rewrite_counting;
    r.time.read = read_and_process - processing;
    r.time.total = since(start);
    pipeline::write_outputs(r, s, *log, *out, paraphrase.model_text);
    if (progress) std::cerr << "\r" << std::string(80, ' ') << "\r" << std::flush;
    std::cout << pipeline::summary(r, *out) << std::flush;
    return 0;
}

const cli::registration pipeline_command{cli::command{
    .name = "pipeline",
    .summary = "the end-to-end self-learning job: training examples and rewrites from a session log",
    .usage = "--log FILE --out DIR [options]",
    .description =
        "Streams a session log (JSON Lines, one turn per line, sorted by time or grouped by session; a session\n"
        "closes after --session-timeout seconds without a turn), finds failed requests that users rephrased\n"
        "inside the time window, projects the labels of\n"
        "each successful rephrase onto the failed request, keeps the examples that enough distinct sessions\n"
        "corroborate, and mines a rewrite table with an absorbing Markov chain. Writes DIR/training.jsonl,\n"
        "DIR/rewrites.jsonl, DIR/report.md, DIR/report.json and SVG histograms; with gold fields in the log\n"
        "(\"gold_goal\", \"gold_annotation\", as `selflearn simulate` writes them) the report measures quality.\n"
        "A bad line stops the run naming file and line (exit 1) unless --skip-invalid is given.",
    .options = cli::with_paraphrase_options({{"log", "FILE", "the session log (\"-\" for standard input)"},
                {"out", "DIR", "folder for the outputs (created when missing)"},
                {"window", "S", "rephrase candidates: at most S seconds after the turn", "60", {"window-seconds"}},
                {"window-turns", "K", "rephrase candidates: at most K turns after the turn", "3"},
                {"friction", "KIND",
                 "friction detector: 'outcome' (defect), 'confidence' (or NLU confidence below --min-confidence)\n"
                 "                           or 'signals' (or a handler status other than \"ok\", or a barge-in)",
                 "outcome"},
                {"min-confidence", "P", "with --friction confidence: friction below this NLU confidence", "0.5"},
                {"projection", "METHOD", "label projection: greedy, optimal or monotone", "optimal"},
                {"projection-threshold", "X", "largest word cost at which projection maps two words", "0.5"},
                {"min-support", "K", "training examples need K distinct sessions", "2"},
                {"rewrite-min-support", "K", "rewrites need K distinct sessions", "2"},
                {"rewrite-min-probability", "P", "rewrites need an absorption probability >= P into success at them",
                 "0.2"},
                {"rewrite-confidence", "P",
                 "rewrites need posterior probability >= P of beating the request alone (0: point estimates only)", "0"},
                {"threads", "N", "threads for solving the rewrite chain (0: one per core)", "0"},
                {"top", "N", "rows in the report's tables", "20"},
                {"session-timeout", "S", "a session closes after S seconds without a turn (at least --window)",
                 cli::default_session_timeout},
                {"quiet", "", "no progress display on stderr"},
                {"skip-invalid", "", "count, report on stderr and skip malformed log lines instead of stopping"}}),
    .run = run_pipeline,
    .reads_input = false,
}};

}  // namespace
