#pragma once
// The paraphrase decision of `selflearn pipeline` and `selflearn mine`, chosen on the command line: a
// paraphrase detector learned from the log's own annotated successes (the default), a saved model, a
// lexical scorer, or the scores a model left in the log. Both commands take the same options.

#include "cli.hpp"

#include <selflearn/session.hpp>

#include <functional>
#include <string>
#include <vector>

namespace cli {

/// A command's options followed by --scorer, --model and --threshold (the same in every command that
/// decides paraphrases).
std::vector<option> with_paraphrase_options(std::vector<option> own);

/// A paraphrase scorer chosen at run time.
struct paraphrase_decision {
    /// score(failed turn, later turn) in [0, 1]; empty for --scorer log (each turn's rephrase_score).
    std::function<double(const selflearn::turn&, const selflearn::turn&)> score;
    std::string description;         ///< one line for reports
    std::vector<std::string> notes;  ///< how it was chosen, when that is worth saying (a fallback)
    /// The model file to write beside the outputs (the learned model), empty when there is none.
    std::string model_text;
};

/// How a command lets --scorer learned learn.
struct learning_rules {
    /// The lexical scorer used when it cannot learn ("words" or "chars").
    std::string fallback = "words";
    /// Why it cannot learn at all, when it cannot (e.g. "--emit-counts: each shard would learn its own
    /// detector"); empty when it can.
    std::string cannot_learn = {};
};

/// Builds the scorer that --scorer names:
/// - "learned": learns the paraphrase detector from the log's successful annotated turns (the `logs`
///   are read once more for it). It falls back to `rules.fallback`, with a note, when they are too few
///   (fewer than two intents or 30 distinct utterances), when the log is standard input (it cannot be
///   read twice) or when `rules.cannot_learn` says why not;
/// - "model": loads --model FILE (written by `selflearn train-paraphrase` or by a pipeline run);
/// - "words", "chars": the lexical scorers; "log": the log's rephrase_score fields.
/// \throws usage_error for a bad option, input_error for an unreadable or malformed model file.
paraphrase_decision choose_paraphrase_scorer(const arguments& args, const std::vector<std::string>& logs,
                                             const learning_rules& rules = {});

}  // namespace cli
