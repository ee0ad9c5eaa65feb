// `selflearn mine`: rewrite mining from a session log with an absorbing Markov chain, in one process or
// map/reduce-style (--emit-counts on slices of the log split by session, --from-counts to merge and solve).

#include "cli.hpp"
#include "paraphrase_choice.hpp"
#include "session_log.hpp"

#include <selflearn/rewrite.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace {

std::vector<selflearn::turn> turns_of(std::vector<cli::log_turn>& session) {
    std::vector<selflearn::turn> turns;
    turns.reserve(session.size());
    for (auto& t : session) turns.push_back(std::move(t.turn));
    return turns;
}

selflearn::rewrite_target parse_kind(const std::string& kind) {
    if (kind == "utterance") return selflearn::rewrite_target::utterance;
    if (kind == "success") return selflearn::rewrite_target::success;
    if (kind == "failure") return selflearn::rewrite_target::failure;
    throw cli::input_error(fmt::format("\"kind\" must be \"utterance\", \"success\" or \"failure\", got \"{}\"", kind));
}

void read_counts(cli::input& in, selflearn::rewrite_counts& counts) {
    in.for_each([&](const cli::json& line, const cli::location&) {
        const std::string& type = cli::require_string(line, "type");
        if (type == "transition") {
            const auto kind = parse_kind(cli::require_string(line, "kind"));
            const std::string& from = cli::require_string(line, "from");
            const cli::json* to = cli::optional_field(line, "to", cli::json::value_t::string);
            if (kind != selflearn::rewrite_target::failure && to == nullptr) {
                throw cli::input_error("missing field \"to\"");
            }
            const double count = cli::require(line, "count", cli::json::value_t::number_float).get<double>();
            counts.add_transition(from, kind, to == nullptr ? std::string() : to->get<std::string>(), count);
        } else if (type == "support") {
            const auto& sessions = cli::require(line, "sessions", cli::json::value_t::number_integer);
            if (!sessions.is_number_unsigned()) throw cli::input_error("\"sessions\" must be a non-negative integer");
            counts.add_support(cli::require_string(line, "request"), cli::require_string(line, "rewrite"),
                               sessions.get<std::uint64_t>());
        } else if (type == "surface") {
            const auto& count = cli::require(line, "count", cli::json::value_t::number_integer);
            if (!count.is_number_unsigned()) throw cli::input_error("\"count\" must be a non-negative integer");
            counts.add_surface(cli::require_string(line, "utterance"), cli::require_string(line, "text"),
                               count.get<std::uint64_t>());
        } else if (type == "served") {
            const auto count = [&](const char* field) {
                const auto& value = cli::require(line, field, cli::json::value_t::number_integer);
                if (!value.is_number_unsigned()) {
                    throw cli::input_error(fmt::format("\"{}\" must be a non-negative integer", field));
                }
                return value.get<std::uint64_t>();
            };
            counts.add_served(cli::require_string(line, "request"), cli::require_string(line, "rewrite"),
                              count("successes"), count("failures"));
        } else {
            throw cli::input_error(fmt::format(
                "\"type\" must be \"transition\", \"support\", \"served\" or \"surface\", got \"{}\"", type));
        }
    });
}

void write_counts(cli::output& out, const selflearn::rewrite_counts& counts) {
    counts.for_each_transition([&](std::string_view from, selflearn::rewrite_target kind, std::string_view to, double count) {
        cli::json line = {{"type", "transition"}, {"from", from}, {"kind", selflearn::to_string(kind)}, {"count", count}};
        if (kind != selflearn::rewrite_target::failure) line["to"] = to;
        out.write(line);
    });
    counts.for_each_support([&](std::string_view request, std::string_view rewrite, std::uint64_t sessions) {
        out.write({{"type", "support"}, {"request", request}, {"rewrite", rewrite}, {"sessions", sessions}});
    });
    counts.for_each_served([&](std::string_view request, std::string_view rewrite, selflearn::served_counts c) {
        out.write({{"type", "served"},
                   {"request", request},
                   {"rewrite", rewrite},
                   {"successes", c.successes},
                   {"failures", c.failures}});
    });
    counts.for_each_surface([&](std::string_view utterance, std::string_view text, std::uint64_t count) {
        out.write({{"type", "surface"}, {"utterance", utterance}, {"text", text}, {"count", count}});
    });
}

int run_mine(const cli::arguments& args) {
    selflearn::rewrite_options options;
    options.window = args.number("window", 0.0, std::numeric_limits<double>::max());
    options.threshold = args.number("threshold", -std::numeric_limits<double>::max(), std::numeric_limits<double>::max());
    const bool emit = args.flag("emit-counts");
    const bool from_counts = args.flag("from-counts");
    options.min_support = static_cast<std::uint64_t>(args.integer("min-support", 0, std::numeric_limits<long long>::max()));
    options.min_probability = args.number("min-probability", 0.0, 1.0);
    options.confidence = args.number("confidence", 0.0, 1.0);
    options.threads = static_cast<unsigned>(args.integer("threads", 0, 1024));
    const auto score_field = args.value("score-field");
    if (from_counts && score_field) throw cli::usage_error("--score-field applies to session logs, not to --from-counts");
    const double session_timeout = cli::session_timeout_option(args, "session-timeout", options.window);

    if (score_field && args.string("scorer") != "learned") {
        throw cli::usage_error("--score-field takes the rephrase scores from the log; it cannot be combined with --scorer");
    }
    // The paraphrase decision (not needed to merge counts, nor with scores from the log).
    cli::paraphrase_decision paraphrase;
    if (!from_counts && !score_field) {
        paraphrase = cli::choose_paraphrase_scorer(
            args, args.positional(),
            {.fallback = "chars",
             .cannot_learn = emit ? "--emit-counts: each shard would learn a detector of its own; train one with selflearn "
                                    "train-paraphrase and give every shard --scorer model --model FILE"
                                  : ""});
        if (!paraphrase.score) throw cli::usage_error("mine takes rephrase scores from the log with --score-field NAME");
        for (const auto& note : paraphrase.notes) std::cerr << "selflearn mine: " << note << '\n';
    }

    cli::input in(args, "mine");
    cli::output out(args);
    selflearn::rewrite_miner miner(options);
    if (from_counts) {
        read_counts(in, miner.counts());
    } else {
        // One reader for both paths; with --score-field, each turn's score is the named field's value.
        cli::session_rules rules{.timeout = session_timeout, .score_field = score_field.value_or("")};
        std::vector<std::optional<double>> scores;
        cli::for_each_session(
            in,
            [&](std::vector<cli::log_turn>& session) {
                if (!score_field) {
                    miner.add_session(turns_of(session), paraphrase.score);
                    return;
                }
                scores.clear();
                for (const auto& t : session) scores.push_back(t.score);
                miner.add_session(turns_of(session), std::span<const std::optional<double>>(scores));
            },
            rules);
    }
    if (emit) {
        write_counts(out, miner.counts());
    } else {
        for (const auto& r : miner.rewrites()) {
            out.write({{"request", r.request_text},
                       {"rewrite", r.rewrite_text},
                       {"request_key", r.request},
                       {"rewrite_key", r.rewrite},
                       {"probability", r.probability},
                       {"support", r.support},
                       {"success_probability", r.success_probability},
                       {"expected_steps", r.expected_steps},
                       {"confidence", r.confidence},
                       {"lower_bound", r.lower_bound},
                       {"served_successes", r.served_successes},
                       {"served_failures", r.served_failures}});
        }
    }
    out.flush();
    return 0;
}

const cli::registration mine_command{cli::command{
    .name = "mine",
    .summary = "mine query rewrites from a session log with an absorbing Markov chain",
    .usage = "[options] [FILE...]",
    .description =
        "Reads a session log (JSON Lines, one turn per line, sorted by time or grouped by session; a session\n"
        "closes after --session-timeout seconds without a turn, see docs/session.md)\n"
        "and writes the rewrite table, one line per request seen to fail, sorted by request_key:\n"
        "{\"request\": \"Play maj and dragons\", \"rewrite\": \"play Imagine Dragons\", \"request_key\":\n"
        " \"play maj and dragons\", \"rewrite_key\": \"play imagine dragons\", \"probability\": 0.82,\n"
        " \"support\": 14, \"success_probability\": 0.9, \"expected_steps\": 1.4, \"confidence\": 0.99,\n"
        " \"lower_bound\": 0.61, \"served_successes\": 0, \"served_failures\": 0}\n"
        "request and rewrite are what users said most often; look requests up by request_key, the text after\n"
        "selflearn::normalize_utterance. A turn rephrases the turn before it when that one was a defect, it\n"
        "comes within --window seconds and the paraphrase score (--scorer, or the log's --score-field) is at\n"
        "least --threshold. By default the paraphrase detector is learned from the log's own annotated\n"
        "successful turns (character similarity when it cannot be: standard input, --emit-counts, too few\n"
        "annotated turns; a note on stderr says so). A rewrite is kept when it beats leaving the request\n"
        "alone with posterior probability >= --confidence (confidence; lower_bound is the rewrite's lower\n"
        "credible bound). Turns with \"served_rewrite\" (a deployed rewrite was served) count for or against\n"
        "their rule (served_successes, served_failures). See docs/rewrite.md for the method.\n\n"
        "Map/reduce: --emit-counts writes mergeable count lines ({\"type\": \"transition\", ...},\n"
        "{\"type\": \"support\", ...}, {\"type\": \"served\", ...} and {\"type\": \"surface\", ...}) for any slice of the log split by session; --from-counts reads any number\n"
        "of such files (concatenated or as several FILEs), adds them up and solves. The result equals the\n"
        "single run on the whole log, bit for bit. Both together merge count files into one (a combiner).",
    .options = cli::with_paraphrase_options({{"window", "SECONDS", "maximum gap between a defect turn and its rephrase (inclusive)", "60"},
                {"min-support", "N", "minimum distinct sessions supporting a kept rewrite", "2"},
                {"min-probability", "P", "minimum absorption probability of a kept rewrite", "0.2"},
                {"confidence", "P", "minimum posterior probability that a kept rewrite beats the request alone", "0.95"},
                {"score-field", "NAME", "take each turn's rephrase score (versus the turn before) from field NAME"},
                {"emit-counts", "", "write mergeable count lines instead of rewrites (the map step)"},
                {"from-counts", "", "read count lines from --emit-counts runs, merge and solve (the reduce step)"},
                {"threads", "N", "threads solving independent components (0: one per core)", "0"},
                {"session-timeout", "SECONDS",
                 "a session closes after this many seconds without a turn (at least --window)",
                 cli::default_session_timeout}}),
    .run = run_mine,
}};

}  // namespace
