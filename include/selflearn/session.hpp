#pragma once
/// \file selflearn/session.hpp
/// One turn of an assistant session: what the user said, when, and whether the assistant succeeded.
/// The JSON Lines log format is in docs/pipeline.md; parsing it is the application's business (the
/// `selflearn` program uses nlohmann/json), so this header has no JSON dependency.

#include <optional>
#include <string>

namespace selflearn {

/// Whether a turn was served well (`success`) or caused friction (`defect`).
enum class turn_outcome { success, defect };

/// How the assistant resolved the entities of a turn's interpretation (e.g. a song name to a catalogue
/// entry): all of them (`resolved`), some not at all (`unresolved`), or some to several candidates
/// (`ambiguous`).
enum class entity_resolution { resolved, unresolved, ambiguous };

/// One user turn of a session. The NLU fields (`annotation`, `intent`, `confidence`) and the stage
/// signals may be present on a failed turn as well as on a successful one.
struct turn {
    std::string session;                    ///< session id; the turns of a session share it
    double time = 0;                        ///< seconds, non-decreasing within a session
    std::string text;                       ///< the utterance, UTF-8
    turn_outcome outcome = turn_outcome::success;
    std::optional<std::string> annotation;  ///< the NLU's `[slot : value]` markup, when it understood the turn
    std::optional<std::string> intent;      ///< the NLU's intent, when known
    std::optional<double> confidence;       ///< the NLU's confidence in [0, 1], when known
    std::optional<double> asr_confidence;   ///< the speech recogniser's confidence in [0, 1], when known
    std::optional<std::string> status;      ///< the handler's status code: "ok", or an error code, when known
    std::optional<bool> barge_in;           ///< whether the user interrupted the assistant's answer, when known
    std::optional<entity_resolution> resolution;  ///< how the turn's entities resolved, when known
    /// The text the assistant acted on instead of `text` (a deployed rewrite), when it served one; `outcome`
    /// is then the outcome of the served rewrite.
    std::optional<std::string> served_rewrite;

    friend bool operator==(const turn&, const turn&) = default;
};

}  // namespace selflearn
