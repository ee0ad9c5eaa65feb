// `selflearn failure-points`: the component that caused each defect of a session log (failure_point.hpp):
// the successful rephrase compared stage by stage where there is one, the stage signals otherwise, with
// the signal floors calibrated on the defects that the rephrase comparison labelled (per downstream outcome).

#include "cli.hpp"
#include "paraphrase_choice.hpp"
#include "session_log.hpp"

#include <selflearn/failure_point.hpp>

#include <array>
#include <cstddef>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace {

// A defect of the log, its successful rephrase when the user gave one, and what comparing the two found.
struct defect_record {
    selflearn::turn defect;
    std::optional<std::string> rephrase;
    selflearn::failure_point by_rephrase;
};

// The successful rephrase of session[i] (a defect): the later turns within `window` seconds of the one
// before them that paraphrase it, up to the first success; none when a turn that does not paraphrase it
// comes first, or the window closes.
std::optional<selflearn::turn> successful_rephrase(const std::vector<cli::log_turn>& session, std::size_t i,
                                                   const cli::paraphrase_decision& paraphrase, double threshold,
                                                   double window) {
    const auto& failed = session[i].turn;
    for (std::size_t j = i + 1; j < session.size(); ++j) {
        const auto& later = session[j].turn;
        if (later.time - session[j - 1].turn.time > window) return std::nullopt;
        if (paraphrase.score(failed, later) < threshold) return std::nullopt;
        if (later.outcome == selflearn::turn_outcome::success) return later;
    }
    return std::nullopt;
}

int run_failure_points(const cli::arguments& args) {
    const double window = args.number("window", 0.0, std::numeric_limits<double>::max());
    const double threshold = args.number("threshold", 0.0, 1.0);
    const double session_timeout = cli::session_timeout_option(args, "session-timeout", window);
    selflearn::rephrase_isolation_options options;
    options.near_match = args.number("near-match", 0.0, 1.0);
    if (!(options.near_match > 0.0)) throw cli::usage_error("option '--near-match' must be in (0, 1]");
    const auto paraphrase = cli::choose_paraphrase_scorer(args, args.positional(), {.fallback = "words"});
    if (!paraphrase.score) throw cli::usage_error("failure-points needs a paraphrase scorer; --scorer log is not supported");
    for (const auto& note : paraphrase.notes) std::cerr << "selflearn failure-points: " << note << '\n';

    // Defects, in the order sessions close (deterministic), with their rephrases.
    std::vector<defect_record> defects;
    cli::input in(args, "failure-points");
    cli::for_each_session(
        in,
        [&](std::vector<cli::log_turn>& session) {
            for (std::size_t i = 0; i < session.size(); ++i) {
                if (session[i].turn.outcome != selflearn::turn_outcome::defect) continue;
                defect_record d{session[i].turn, std::nullopt, {}};
                // Here, so that malformed markup makes a bad session named by file:line.
                if (const auto r = successful_rephrase(session, i, paraphrase, threshold, window)) {
                    d.rephrase = r->text;
                    d.by_rephrase = selflearn::isolate_by_rephrase(d.defect, *r, options);
                }
                defects.push_back(std::move(d));
            }
        },
        {.timeout = session_timeout});

    // Weak supervision: the rephrase comparison labels defects; the signal floors are fitted to them.
    std::vector<selflearn::labelled_defect> labelled;
    for (const auto& d : defects) {
        if (d.by_rephrase.stage) labelled.push_back(selflearn::label_defect(d.defect, *d.by_rephrase.stage));
    }
    const selflearn::conditional_thresholds thresholds = selflearn::calibrate_conditional_thresholds(labelled);
    std::cerr << "selflearn failure-points: " << defects.size() << " defect(s), " << labelled.size()
              << " labelled by their rephrase; signal floors (asr, nlu)";
    const std::array<const char*, 3> outcome{"downstream fine", "entity not resolved", "handler error"};
    for (std::size_t i = 0; i < 3; ++i) {
        const auto& f = thresholds.by_downstream[i];
        std::cerr << (i ? "; " : " ") << outcome[i] << ' ' << f.asr_floor << ", " << f.nlu_floor;
    }
    std::cerr << '\n';

    cli::output out(args);
    for (const auto& d : defects) {
        // rephrase_then_signals, with the comparison already made.
        const bool by_rephrase = d.by_rephrase.stage.has_value();
        const selflearn::failure_point p = by_rephrase ? d.by_rephrase : selflearn::isolate_by_conditional_signals(d.defect, thresholds);
        cli::json evidence = {{"method", by_rephrase ? "rephrase" : "signals"}, {"reason", p.evidence}};
        if (d.rephrase) evidence["rephrase"] = *d.rephrase;
        out.write({{"session", d.defect.session},
                   {"time", d.defect.time},
                   {"text", d.defect.text},
                   {"failure_point", p.stage ? cli::json(std::string(selflearn::to_string(*p.stage))) : cli::json(nullptr)},
                   {"evidence", evidence}});
    }
    out.flush();
    return 0;
}

const cli::registration failure_points_command{cli::command{
    .name = "failure-points",
    .summary = "name the component (asr, nlu, resolution, skill) that caused each defect of a session log",
    .usage = "[options] [FILE...]",
    .description =
        "Reads a session log (JSON Lines, see docs/session.md; the optional stage signals asr_confidence,\n"
        "confidence, intent, annotation, resolution and status are used when present) and writes one line\n"
        "per defect turn, in the order its session closes:\n"
        "{\"session\": \"s1\", \"time\": 0.0, \"text\": \"play blinding lites\", \"failure_point\": \"asr\",\n"
        " \"evidence\": {\"method\": \"rephrase\", \"reason\": \"...\", \"rephrase\": \"play blinding lights\"}}\n"
        "failure_point is null when undetermined. A defect's rephrase is the first successful later turn,\n"
        "each turn within --window seconds of the one before, all paraphrasing the defect (score >=\n"
        "--threshold); the two are compared stage by stage. Defects without one get the first stage whose\n"
        "signal is bad, with floors calibrated on the defects the rephrases labelled, one pair per\n"
        "downstream outcome (entity resolved and handler fine, entity not resolved, handler error). See\n"
        "docs/failure-points.md for the rules.",
    .options = cli::with_paraphrase_options(
        {{"window", "SECONDS", "maximum gap between a turn and the next turn of its rephrase chain (inclusive)", "60"},
         {"near-match", "X", "largest word cost (0, 1] at which a rephrase word repairs a misheard one", "0.5"},
         {"session-timeout", "SECONDS", "a session closes after this many seconds without a turn (at least --window)",
          cli::default_session_timeout}}),
    .run = run_failure_points,
}};

}  // namespace
