#include "session_log.hpp"

#include <selflearn/error.hpp>
#include <selflearn/tokenize.hpp>

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <iostream>
#include <iterator>
#include <map>
#include <unordered_map>
#include <utility>

namespace cli {

namespace {
// Whether a text has a token as the library's tokenizer (and so the paraphrase scorers and the rewrite
// miner) sees it: Unicode spaces alone, e.g. "\u00a0", have none. An ASCII letter or digit always starts
// a word, so only texts without one are tokenised here.
bool has_words(const std::string& text) {
    for (const char c : text) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    }
    return !selflearn::tokenize(text).empty();
}
}  // namespace

log_turn parse_turn(const json& line) {
    log_turn result;
    auto& t = result.turn;
    t.session = require_string(line, "session");
    if (t.session.empty()) throw input_error("field \"session\" is empty");
    t.time = require(line, "time", json::value_t::number_float).get<double>();
    if (!std::isfinite(t.time)) throw input_error("field \"time\" is not a finite number");
    t.text = require_string(line, "text");
    if (!has_words(t.text)) throw input_error("field \"text\" is empty or only spaces");
    const std::string& outcome = require_string(line, "outcome");
    if (outcome == "success") {
        t.outcome = selflearn::turn_outcome::success;
    } else if (outcome == "defect") {
        t.outcome = selflearn::turn_outcome::defect;
    } else {
        throw input_error(fmt::format("field \"outcome\" must be \"success\" or \"defect\", got \"{}\"", outcome));
    }
    if (const json* a = optional_field(line, "annotation", json::value_t::string)) t.annotation = a->get<std::string>();
    if (const json* i = optional_field(line, "intent", json::value_t::string)) t.intent = i->get<std::string>();
    if (const json* c = optional_field(line, "confidence", json::value_t::number_float)) {
        const double confidence = c->get<double>();
        if (!(confidence >= 0.0 && confidence <= 1.0)) {
            throw input_error(fmt::format("field \"confidence\" must be in [0, 1], got {}", confidence));
        }
        t.confidence = confidence;
    }
    if (const json* c = optional_field(line, "asr_confidence", json::value_t::number_float)) {
        const double confidence = c->get<double>();
        if (!(confidence >= 0.0 && confidence <= 1.0)) {
            throw input_error(fmt::format("field \"asr_confidence\" must be in [0, 1], got {}", confidence));
        }
        t.asr_confidence = confidence;
    }
    if (const json* st = optional_field(line, "status", json::value_t::string)) {
        t.status = st->get<std::string>();
        if (t.status->empty()) throw input_error("field \"status\" is empty (use \"ok\" or an error code)");
    }
    if (const json* b = optional_field(line, "barge_in", json::value_t::boolean)) t.barge_in = b->get<bool>();
    if (const json* r = optional_field(line, "resolution", json::value_t::string)) {
        const std::string& resolution = r->get_ref<const std::string&>();
        if (resolution == "resolved") {
            t.resolution = selflearn::entity_resolution::resolved;
        } else if (resolution == "unresolved") {
            t.resolution = selflearn::entity_resolution::unresolved;
        } else if (resolution == "ambiguous") {
            t.resolution = selflearn::entity_resolution::ambiguous;
        } else {
            throw input_error(fmt::format(
                "field \"resolution\" must be \"resolved\", \"unresolved\" or \"ambiguous\", got \"{}\"", resolution));
        }
    }
    if (const json* r = optional_field(line, "served_rewrite", json::value_t::string)) {
        t.served_rewrite = r->get<std::string>();
        if (!has_words(*t.served_rewrite)) throw input_error("field \"served_rewrite\" is empty or only spaces");
    }
    if (const json* r = optional_field(line, "rephrase_score", json::value_t::number_float)) {
        const double score = r->get<double>();
        if (!(score >= 0.0 && score <= 1.0)) {
            throw input_error(fmt::format("field \"rephrase_score\" must be in [0, 1], got {}", score));
        }
        result.rephrase_score = score;
    }
    if (const json* g = optional_field(line, "gold_goal", json::value_t::string)) result.gold_goal = g->get<std::string>();
    if (const json* g = optional_field(line, "gold_annotation", json::value_t::string)) {
        result.gold_annotation = g->get<std::string>();
    }
    return result;
}

json to_json(const log_turn& lt) {
    const auto& t = lt.turn;
    json j = {{"session", t.session},
              {"time", t.time},
              {"text", t.text},
              {"outcome", t.outcome == selflearn::turn_outcome::success ? "success" : "defect"}};
    if (t.annotation) j["annotation"] = *t.annotation;
    if (t.intent) j["intent"] = *t.intent;
    if (t.confidence) j["confidence"] = *t.confidence;
    if (t.asr_confidence) j["asr_confidence"] = *t.asr_confidence;
    if (t.status) j["status"] = *t.status;
    if (t.barge_in) j["barge_in"] = *t.barge_in;
    if (t.resolution) {
        j["resolution"] = *t.resolution == selflearn::entity_resolution::resolved     ? "resolved"
                          : *t.resolution == selflearn::entity_resolution::unresolved ? "unresolved"
                                                                                      : "ambiguous";
    }
    if (t.served_rewrite) j["served_rewrite"] = *t.served_rewrite;
    if (lt.rephrase_score) j["rephrase_score"] = *lt.rephrase_score;
    if (lt.gold_goal) j["gold_goal"] = *lt.gold_goal;
    if (lt.gold_annotation) j["gold_annotation"] = *lt.gold_annotation;
    return j;
}

namespace {

// The sessions open while streaming a log, indexed by id and by (last turn's time, sequence number of
// the line that last extended them): the second index finds the idle sessions in O(log s).
class open_sessions {
public:
    using key = std::pair<double, std::uint64_t>;
    struct session {
        std::vector<log_turn> turns;
        key position;
    };

    session* find(const std::string& id) {
        auto it = by_id_.find(id);
        return it == by_id_.end() ? nullptr : &it->second;
    }
    void add(log_turn t) {
        const key k{t.turn.time, ++sequence_};
        auto [it, inserted] = by_id_.try_emplace(t.turn.session);
        if (!inserted) by_time_.erase(it->second.position);
        it->second.position = k;
        by_time_.emplace(k, &it->first);
        it->second.turns.push_back(std::move(t));
    }
    // Removes and returns the open session with the smallest (or largest) key, if `idle` says so.
    template <class Idle>
    std::optional<std::vector<log_turn>> take_front_if(Idle idle) {
        if (by_time_.empty() || !idle(by_time_.begin()->first.first)) return std::nullopt;
        return take(by_time_.begin());
    }
    template <class Idle>
    std::optional<std::vector<log_turn>> take_back_if(Idle idle) {
        if (by_time_.empty() || !idle(std::prev(by_time_.end())->first.first)) return std::nullopt;
        return take(std::prev(by_time_.end()));
    }
    [[nodiscard]] bool empty() const { return by_time_.empty(); }

private:
    std::optional<std::vector<log_turn>> take(std::map<key, const std::string*>::iterator it) {
        const std::string* id = it->second;
        by_time_.erase(it);
        auto node = by_id_.extract(*id);
        return std::move(node.mapped().turns);
    }
    std::unordered_map<std::string, session> by_id_;
    std::map<key, const std::string*> by_time_;
    std::uint64_t sequence_ = 0;
};

}  // namespace

double session_timeout_option(const arguments& args, const std::string& name, double window) {
    const double timeout = args.number(name, 0.0, 1e12);
    if (!(timeout > 0.0)) throw usage_error(fmt::format("option '--{}' must be positive, got {}", name, timeout));
    if (timeout < window) {
        throw usage_error(fmt::format("option '--{}' ({} s) is shorter than the rephrase window ({} s): a session "
                                      "would be cut between a request and its rephrase",
                                      name, timeout, window));
    }
    return timeout;
}

void for_each_session(input& in, const std::function<void(std::vector<log_turn>&)>& handle,
                      const session_rules& rules) {
    if (!(rules.timeout > 0.0) || !std::isfinite(rules.timeout)) {
        throw usage_error(fmt::format("the session timeout must be a positive number of seconds, got {}", rules.timeout));
    }
    const double timeout = rules.timeout;
    open_sessions sessions;
    std::size_t sessions_skipped = 0;
    const auto close = [&](std::vector<log_turn>& turns) {
        // Copied before `handle` runs: it may move the turns away.
        const std::string id = turns.front().turn.session;
        const location first = turns.front().where;
        const std::size_t last_line = turns.back().where.line;
        const std::size_t count = turns.size();
        std::string problem;
        try {
            handle(turns);
        } catch (const input_error& e) {
            problem = e.what();
        } catch (const selflearn::error& e) {
            problem = e.what();
        }
        if (problem.empty()) return;
        const auto message = fmt::format("{}:{}{}: session \"{}\" ({} turn{}): {}", first.file, first.line,
                                         last_line == first.line ? std::string() : fmt::format("-{}", last_line), id,
                                         count, count == 1 ? "" : "s", problem);
        if (!in.skip_invalid()) throw located_input_error(message);
        ++sessions_skipped;
        std::cerr << "selflearn " << in.command_name() << ": skipped " << message << '\n';
    };
    in.for_each([&](const json& line, const location& where) {
        log_turn t = parse_turn(line);
        t.where = where;
        if (!rules.score_field.empty()) {
            if (const json* s = optional_field(line, rules.score_field.c_str(), json::value_t::number_float)) {
                const double score = s->get<double>();
                if (!std::isfinite(score)) {
                    throw input_error(fmt::format("field \"{}\" is not a finite number", rules.score_field));
                }
                t.score = score;
            }
        }
        const double time = t.turn.time;
        if (const auto* open = sessions.find(t.turn.session)) {
            const auto& last = open->turns.back();
            if (time < last.turn.time) {
                throw input_error(fmt::format("turn of session \"{}\" at time {} comes after a turn at time {} "
                                              "(line {}); the turns of a session must be in time order",
                                              t.turn.session, time, last.turn.time, last.where.line));
            }
        }
        // Close the sessions idle for longer than the timeout (and, in a log that jumps back in time,
        // those more than the timeout ahead of this line), oldest first.
        while (auto idle = sessions.take_front_if([&](double last) { return time - last > timeout; })) close(*idle);
        while (auto ahead = sessions.take_back_if([&](double last) { return last - time > timeout; })) close(*ahead);
        sessions.add(std::move(t));
    });
    while (auto rest = sessions.take_front_if([](double) { return true; })) close(*rest);
    if (sessions_skipped > 0) {
        std::cerr << "selflearn " << in.command_name() << ": skipped " << sessions_skipped << " session(s)\n";
    }
}

}  // namespace cli
