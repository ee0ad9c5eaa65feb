// `selflearn simulate`: session logs with gold fields, simulated from an annotated corpus.

#include "cli.hpp"
#include "session_log.hpp"
#include "simulator.hpp"

#include <fmt/format.h>

#include <iostream>

namespace {

int run_simulate(const cli::arguments& args) {
    const auto corpus = args.value("corpus");
    if (!corpus) throw cli::usage_error("option '--corpus' is required");
    simulator::options o;
    const auto sessions = static_cast<std::uint64_t>(args.integer("sessions", 1, 1'000'000'000'000LL));
    o.seed = static_cast<std::uint64_t>(args.integer("seed", 0, INT64_MAX));
    o.zipf_exponent = args.number("zipf", 0.0, 4.0);
    o.failure_rate = args.number("failure-rate", 0.0, 1.0);
    o.retry_failure_rate = args.number("retry-failure-rate", 0.0, 1.0);
    o.abandon_rate = args.number("abandon-rate", 0.0, 1.0);
    o.max_attempts = static_cast<int>(args.integer("max-attempts", 1, 100));
    o.nlu_error_rate = args.number("nlu-error-rate", 0.0, 1.0);
    o.more_requests = args.number("more-requests", 0.0, 0.99);
    o.follow_up_rate = args.number("follow-up-rate", 0.0, 1.0);
    o.switch_rate = args.number("switch-rate", 0.0, 1.0);
    o.other_phrasing = args.number("other-phrasing", 0.0, 1.0);
    o.other_phrasing_max_similarity = args.number("other-phrasing-max-similarity", 0.0, 1.0);
    o.other_phrasing_misheard = args.number("other-phrasing-misheard", 0.0, 1.0);
    o.related_follow_up_rate = args.number("related-follow-up-rate", 0.0, 1.0);
    o.companion_rate = args.number("companion-rate", 0.0, 1.0);
    const std::string gold_failure = args.string("gold-failure");
    if (gold_failure != "on" && gold_failure != "off") {
        throw cli::usage_error(fmt::format("option '--gold-failure' must be 'on' or 'off', got '{}'", gold_failure));
    }
    const std::string stage_failures = args.string("stage-failures");
    if (stage_failures != "auto" && stage_failures != "on" && stage_failures != "off") {
        throw cli::usage_error(
            fmt::format("option '--stage-failures' must be 'auto', 'on' or 'off', got '{}'", stage_failures));
    }
    o.stage_failures = stage_failures == "on" || (stage_failures == "auto" && gold_failure == "on");
    const std::string signals = args.string("signals");
    if (signals != "on" && signals != "off") {
        throw cli::usage_error(fmt::format("option '--signals' must be 'on' or 'off', got '{}'", signals));
    }

    const std::string gold = args.string("gold");
    if (gold != "full" && gold != "compact") {
        throw cli::usage_error(fmt::format("option '--gold' must be 'full' or 'compact', got '{}'", gold));
    }
    const bool compact = gold == "compact";

    const simulator::generator generator(simulator::load_corpus(*corpus, args.flag("skip-invalid")), o);
    cli::output out(args.string("output"));
    for (std::uint64_t s = 0; s < sessions; ++s) {
        for (auto& [t, friction, cause, stage] : generator.session(s)) {
            if (compact && t.turn.annotation == t.gold_annotation) t.gold_annotation.reset();
            if (signals == "on") {  // the turn's own fields, and the same keys for a writer that does not know them
                t.turn.asr_confidence = friction.asr_confidence;
                t.turn.status = friction.status;
                t.turn.barge_in = friction.barge_in;
            } else {  // the stage signals are signals too
                t.turn.confidence.reset();
                t.turn.resolution.reset();
            }
            auto line = cli::to_json(t);
            if (signals == "on") {
                line["asr_confidence"] = friction.asr_confidence;
                line["status"] = friction.status;
                line["barge_in"] = friction.barge_in;
            }
            if (gold_failure == "on" && !cause.empty()) line["gold_failure"] = cause;
            if (gold_failure == "on" && !stage.empty()) line["gold_stage"] = stage;
            out.write(line);
        }
    }
    out.flush();
    return 0;
}

const cli::registration simulate_command{cli::command{
    .name = "simulate",
    .summary = "simulate assistant session logs with gold fields from an annotated corpus",
    .usage = "--corpus FILE --sessions N [options]",
    .description =
        "Users pursue goals drawn from the corpus (JSON Lines with \"text\", \"annotation\", \"intent\") with a\n"
        "Zipf-like popularity. A first attempt may fail for a reason (a misrecognised slot word, a long-tail\n"
        "carrier phrase, a truncated request, or with --other-phrasing the goal's slot values in another\n"
        "carrier phrase of the intent, lexically far from the request that works); users rephrase after a few\n"
        "seconds until the assistant succeeds or they give up, and unrelated requests follow inside the\n"
        "rephrase window. Successful turns carry the NLU's \"annotation\" and \"intent\"; every turn carries\n"
        "\"gold_goal\", \"gold_annotation\" and the friction signals \"asr_confidence\", \"status\", \"barge_in\".\n"
        "Writes the session log (JSON Lines, one turn per line, sessions in order). The same seed gives the\n"
        "same log, and session k is the same whatever --sessions is.",
    .options = {{"corpus", "FILE", "annotated corpus (SNIPS JSON Lines format)"},
                {"sessions", "N", "number of sessions to simulate"},
                {"seed", "S", "random seed", "1"},
                {"zipf", "X", "popularity exponent: the goal of rank r is drawn with weight r^-X", "1.0"},
                {"failure-rate", "P", "mean probability that a first attempt fails", "0.35"},
                {"retry-failure-rate", "P", "probability that a rephrase fails again", "0.2"},
                {"abandon-rate", "P", "probability of giving up after each failed attempt", "0.2"},
                {"max-attempts", "K", "attempts at a goal before giving up", "4"},
                {"nlu-error-rate", "P", "probability that a successful turn's NLU annotation is wrong", "0.03"},
                {"more-requests", "P", "probability of one more request in a session", "0.45"},
                {"follow-up-rate", "P", "probability that the next request comes within seconds", "0.5"},
                {"switch-rate", "P",
                 "after giving up, probability of asking at once for a related request (same intent)", "0.5"},
                {"other-phrasing", "P",
                 "target share of failed attempts said in another carrier phrase of the intent (0: none)", "0"},
                {"other-phrasing-max-similarity", "X",
                 "maximum lexical similarity of an other phrasing to the request that works", "0.4"},
                {"other-phrasing-misheard", "P", "probability that an other phrasing also has a misheard word",
                 "0.3"},
                {"related-follow-up-rate", "P",
                 "after a success, probability that a quick follow-up is another request of the same intent", "0"},
                {"companion-rate", "P",
                 "with --related-follow-up-rate: probability that such a request (or that of a user who gives up) "
                 "is the goal's fixed companion, a look-alike of the same intent",
                 "0.7"},
                {"signals", "MODE", "'on': friction signals on every turn; 'off': none", "on"},
                {"gold-failure", "MODE",
                 "'on': defects carry \"gold_failure\", why they failed (misrecognition, carrier, truncation, "
                 "other_phrasing, other_phrasing_misheard, with stage failures also unresolved_entity and "
                 "handler_error) and, with stage failures, \"gold_stage\" (asr, nlu, resolution, skill)", "off"},
                {"stage-failures", "MODE",
                 "'on': failures at all four stages (misheard slot words, misread phrasings, entities that do not "
                 "resolve, transient handler errors) with the turns' stage signals (NLU intent, annotation and "
                 "confidence on defects too, resolution); 'off': none; 'auto': on with --gold-failure on", "auto"},
                {"gold", "MODE",
                 "'full': every turn has \"gold_annotation\"; 'compact': omitted where \"annotation\" equals it",
                 "full"},
                {"output", "FILE", "write the log to FILE instead of standard output"},
                {"skip-invalid", "", "count, report on stderr and skip malformed corpus lines instead of stopping"}},
    .run = run_simulate,
    .reads_input = false,
}};

}  // namespace
