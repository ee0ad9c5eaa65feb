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
    location where;                              // file and line it came from
};

/// Parses one log line; throws input_error naming the field that is missing or wrong.
log_turn parse_turn(const json& line);

/// The JSON object of a turn (gold fields included when present).
json to_json(const log_turn& t);

/// Streams the sessions of a log: calls `handle` once per session with its turns in order. Turns of a
/// session must be contiguous and in non-decreasing time; otherwise the run stops with an input_error
/// naming the file and line (a session seen again after another one started is detected through a hash
/// set of 64-bit hashes of finished session ids: about 40 bytes per session, nothing per turn).
/// Bad lines follow the input's --skip-invalid rule. When `handle` throws (a selflearn::error or an
/// input_error), the error names the session and its lines; with --skip-invalid the whole session is
/// reported and skipped instead.
void for_each_session(input& in, const std::function<void(std::vector<log_turn>&)>& handle);

}  // namespace cli
