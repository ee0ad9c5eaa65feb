#pragma once
// Reading and writing the JSON Lines session log (format in docs/pipeline.md):
// {"session": "s17", "time": 12.5, "text": "play maj and dragons", "outcome": "defect"}
// with optional "annotation", "intent", "confidence", "rephrase_score" (a paraphrase model's score that the
// turn rephrases the turn before it), and the simulator's gold fields "gold_goal" and "gold_annotation".

#include "cli.hpp"

#include <selflearn/session.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cli {

/// One line of a session log: the library's turn plus the gold fields a simulated log carries.
struct log_turn {
    selflearn::turn turn;
    std::optional<std::string> gold_goal;        // id of the user's goal (simulated logs)
    std::optional<std::string> gold_annotation;  // the correct markup of the turn (simulated logs)
    std::optional<double> rephrase_score;        // a model's score, in [0, 1], that this turn rephrases the one before
    std::optional<double> score;                 // the value of session_rules::score_field, when one is named
    location where;                              // file and line it came from
};

/// How for_each_session cuts a log into sessions, and what it reads besides the turn.
struct session_rules {
    /// A session closes when it has been idle longer than this many seconds: a later turn with the same
    /// session id starts a new session. Must be positive and finite.
    double timeout = 1800.0;
    /// When not empty, each turn's `score` is read from this optional numeric field (finite).
    std::string score_field = {};
};

/// The default session timeout in seconds (30 minutes), as a --session-timeout default value.
inline constexpr const char* default_session_timeout = "1800";

/// Parses one log line; throws input_error naming the field that is missing or wrong.
log_turn parse_turn(const json& line);

/// The JSON object of a turn (gold fields included when present).
json to_json(const log_turn& t);

/// Streams the sessions of a log, sorted by time (sessions interleaved) or grouped by session, and calls
/// `handle` once per session with its turns in time order. Sessions are cut as follows:
/// - a turn joins the open session of its session id; a session id with no open session opens one;
/// - a session closes when a line comes more than `rules.timeout` seconds after its last turn (it has been
///   idle longer than the timeout), when a line comes more than the timeout before its last turn (a log
///   grouped by session jumping back in time), and at the end of the input. A session id seen again
///   after its session closed starts a new session;
/// - the turns of an open session must come in non-decreasing time; a turn earlier than the last one of
///   its open session is a bad line (input_error, or skipped with --skip-invalid).
/// So a session is a session id's turns in time order, cut wherever two consecutive turns are more than
/// the timeout apart, whenever the lines between two consecutive turns of a session lie within the
/// timeout of the earlier one: true of a log grouped by session (no lines between), of a log sorted by
/// time and of one nearly sorted (delays shorter than the timeout). The order in which sessions are
/// handed over is deterministic (a session is handed over when the line that closes it is read; among
/// sessions closed by one line, by their last turn's time, then by their last line) but differs between
/// such orderings of a log: consumers must not depend on it.
/// Memory: the turns of the open sessions only (the sessions active within one timeout of the current
/// line), nothing per closed session. O(log s) per line for s open sessions.
/// Bad lines follow the input's --skip-invalid rule. When `handle` throws (a selflearn::error or an
/// input_error), the error names the session and its lines; with --skip-invalid the whole session is
/// reported and skipped instead. \throws input_error (located) on a bad line or session.
void for_each_session(input& in, const std::function<void(std::vector<log_turn>&)>& handle,
                      const session_rules& rules = {});

/// The session timeout given by option `name` (seconds, positive). \throws usage_error when it is not a
/// positive number or is shorter than `window` (a rephrase window longer than the timeout would be cut).
double session_timeout_option(const arguments& args, const std::string& name, double window);

}  // namespace cli
