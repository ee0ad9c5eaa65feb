#include "session_log.hpp"

#include <selflearn/error.hpp>

#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <unordered_set>

namespace cli {

log_turn parse_turn(const json& line) {
    log_turn result;
    auto& t = result.turn;
    t.session = require_string(line, "session");
    if (t.session.empty()) throw input_error("field \"session\" is empty");
    t.time = require(line, "time", json::value_t::number_float).get<double>();
    if (!std::isfinite(t.time)) throw input_error("field \"time\" is not a finite number");
    t.text = require_string(line, "text");
    if (t.text.find_first_not_of(" \t\r\n") == std::string::npos) throw input_error("field \"text\" is an empty utterance");
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
    if (lt.rephrase_score) j["rephrase_score"] = *lt.rephrase_score;
    if (lt.gold_goal) j["gold_goal"] = *lt.gold_goal;
    if (lt.gold_annotation) j["gold_annotation"] = *lt.gold_annotation;
    return j;
}

void for_each_session(input& in, const std::function<void(std::vector<log_turn>&)>& handle) {
    std::unordered_set<std::uint64_t> finished;
    std::vector<log_turn> current;
    std::size_t sessions_skipped = 0;
    const auto flush = [&] {
        if (current.empty()) return;
        finished.insert(std::hash<std::string>{}(current.front().turn.session));
        std::string problem;
        try {
            handle(current);
        } catch (const input_error& e) {
            problem = e.what();
        } catch (const selflearn::error& e) {
            problem = e.what();
        }
        if (!problem.empty()) {
            const auto message = fmt::format("{}:{}-{}: session \"{}\": {}", current.front().where.file,
                                             current.front().where.line, current.back().where.line,
                                             current.front().turn.session, problem);
            if (!in.skip_invalid()) throw located_input_error(message);
            ++sessions_skipped;
            std::cerr << "selflearn " << in.command_name() << ": skipped " << message << '\n';
        }
        current.clear();
    };
    in.for_each([&](const json& line, const location& where) {
        log_turn t = parse_turn(line);
        t.where = where;
        if (!current.empty() && current.front().turn.session == t.turn.session) {
            if (t.turn.time < current.back().turn.time) {
                throw input_error(fmt::format("turn of session \"{}\" at time {} comes after a turn at time {} "
                                              "(line {}); turns of a session must be in time order",
                                              t.turn.session, t.turn.time, current.back().turn.time,
                                              current.back().where.line));
            }
        } else {
            if (finished.contains(std::hash<std::string>{}(t.turn.session))) {
                throw input_error(fmt::format("session \"{}\" appears again after other sessions; the turns of a "
                                              "session must be together (sort the log by session, then time)",
                                              t.turn.session));
            }
            flush();
        }
        current.push_back(std::move(t));
    });
    flush();
    if (sessions_skipped > 0) {
        std::cerr << "selflearn " << in.command_name() << ": skipped " << sessions_skipped << " session(s)\n";
    }
}

}  // namespace cli
