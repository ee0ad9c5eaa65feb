// `selflearn simulate`: session logs with gold fields, simulated from an annotated corpus.

#include "cli.hpp"
#include "session_log.hpp"
#include "simulator.hpp"

#include <selflearn/paraphrase.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace {

// A deployed rewrite table: normalised request -> (rewrite as served, normalised rewrite).
struct served_rule {
    std::string rewrite;
    std::string rewrite_key;
};

std::map<std::string, served_rule> read_served_table(const std::string& path) {
    std::map<std::string, served_rule> table;
    cli::input in(std::vector<std::string>{path}, false, "simulate");
    in.for_each([&](const cli::json& line, const cli::location&) {
        table[cli::require_string(line, "request_key")] = {cli::require_string(line, "rewrite"),
                                                           cli::require_string(line, "rewrite_key")};
    });
    return table;
}

// Serves the table's rewrites in one simulated session: a turn whose normalised text is a rule's request
// gets "served_rewrite"; its outcome is the rewrite's (a broken target fails, a working one succeeds unless
// the served turn fails at `served_failure_rate`). After a served success of a failed request the user's
// rephrases of the same goal are gone. A turn that says a broken target fails too.
void serve(std::vector<simulator::simulated_turn>& session, const std::map<std::string, served_rule>& table,
           const std::set<std::string>& broken, double served_failure_rate, simulator::prng& rng) {
    std::vector<simulator::simulated_turn> out;
    std::optional<std::string> skip_goal;
    for (auto& st : session) {
        auto& t = st.log.turn;
        if (skip_goal && st.log.gold_goal == skip_goal) continue;
        skip_goal.reset();
        const std::string key = selflearn::normalize_utterance(t.text);
        if (const auto rule = table.find(key); rule != table.end()) {
            const bool was_defect = t.outcome == selflearn::turn_outcome::defect;
            const bool works = !broken.contains(rule->second.rewrite_key) && !rng.chance(served_failure_rate);
            t.served_rewrite = rule->second.rewrite;
            t.outcome = works ? selflearn::turn_outcome::success : selflearn::turn_outcome::defect;
            if (works) {
                st.cause.clear();
                st.stage.clear();
                if (was_defect && st.log.gold_goal) skip_goal = st.log.gold_goal;
            }
        } else if (broken.contains(key) && t.outcome == selflearn::turn_outcome::success) {
            t.outcome = selflearn::turn_outcome::defect;
            st.friction.status = "handler_error";
        }
        out.push_back(std::move(st));
    }
    session = std::move(out);
}

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

    const auto serve_path = args.value("serve-rewrites");
    const double broken_share = args.number("broken-share", 0.0, 1.0);
    const double served_failure_rate = args.number("served-failure-rate", 0.0, 1.0);
    const auto broken_output = args.value("broken-output");
    if (!serve_path && broken_output) throw cli::usage_error("--broken-output needs --serve-rewrites TABLE");
    std::map<std::string, served_rule> table;
    std::set<std::string> broken;
    if (serve_path) {
        table = read_served_table(*serve_path);
        // Each distinct target breaks with probability --broken-share, drawn from the seed and its text alone.
        std::set<std::string> targets;
        for (const auto& [request, rule] : table) targets.insert(rule.rewrite_key);
        for (const auto& target : targets) {
            std::uint64_t hash = 14695981039346656037ull;  // FNV-1a: the same on every platform
            for (const char c : target) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
            simulator::prng rng(simulator::mix(o.seed, hash));
            if (rng.chance(broken_share)) broken.insert(target);
        }
        if (broken_output) {
            cli::output listing(*broken_output);
            for (const auto& target : broken) listing.write({{"rewrite_key", target}});
            listing.flush();
        }
    }
    const simulator::generator generator(simulator::load_corpus(*corpus, args.flag("skip-invalid")), o);
    cli::output out(args.string("output"));
    for (std::uint64_t s = 0; s < sessions; ++s) {
        auto session = generator.session(s);
        if (serve_path) {
            simulator::prng rng(simulator::mix(o.seed ^ 0x5e7edull, s));
            serve(session, table, broken, served_failure_rate, rng);
        }
        for (auto& [t, friction, cause, stage] : session) {
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
        "same log, and session k is the same whatever --sessions is.\n\n"
        "Served rounds: --serve-rewrites TABLE (a `selflearn mine` table) deploys its rewrites. A turn whose\n"
        "normalised text is a rule's request_key is served the rule's rewrite (field \"served_rewrite\") and\n"
        "gets the rewrite's outcome; after a served success the user's rephrases of that goal are gone. A\n"
        "--broken-share of the distinct targets (drawn from the seed and the target's text) stopped working:\n"
        "served turns and turns saying them fail. Working targets fail at --served-failure-rate.\n"
        "--broken-output FILE lists the broken targets ({\"rewrite_key\": ...} per line).",
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
                {"serve-rewrites", "TABLE", "serve the rewrites of a `selflearn mine` table (a round after deployment)"},
                {"broken-share", "P", "with --serve-rewrites: share of the table's targets that stopped working", "0"},
                {"served-failure-rate", "P", "with --serve-rewrites: probability that a working served rewrite fails",
                 "0.05"},
                {"broken-output", "FILE", "with --serve-rewrites: write the broken targets to FILE"},
                {"skip-invalid", "", "count, report on stderr and skip malformed corpus lines instead of stopping"}},
    .run = run_simulate,
    .reads_input = false,
}};

}  // namespace
