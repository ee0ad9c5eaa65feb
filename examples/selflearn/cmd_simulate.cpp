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

    const std::string gold = args.string("gold");
    if (gold != "full" && gold != "compact") {
        throw cli::usage_error(fmt::format("option '--gold' must be 'full' or 'compact', got '{}'", gold));
    }
    const bool compact = gold == "compact";

    const simulator::generator generator(simulator::load_corpus(*corpus), o);
    cli::output out(args.string("output"));
    for (std::uint64_t s = 0; s < sessions; ++s) {
        for (auto& t : generator.session(s)) {
            if (compact && t.turn.annotation == t.gold_annotation) t.gold_annotation.reset();
            out.write(cli::to_json(t));
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
        "carrier phrase, a truncated request); users rephrase after a few seconds until the assistant succeeds\n"
        "or they give up, and unrelated requests follow inside the rephrase window. Successful turns carry the\n"
        "NLU's \"annotation\" and \"intent\"; every turn carries \"gold_goal\" and \"gold_annotation\".\n"
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
                {"gold", "MODE",
                 "'full': every turn has \"gold_annotation\"; 'compact': omitted where \"annotation\" equals it",
                 "full"},
                {"output", "FILE", "write the log to FILE instead of standard output"}},
    .run = run_simulate,
    .reads_input = false,
}};

}  // namespace
