#pragma once
// Reading an annotated corpus ({"text", "annotation", "intent"} lines, as the SNIPS files) for the
// subcommands that generate paraphrase pairs from it.

#include "cli.hpp"

#include <selflearn/paraphrase.hpp>

#include <vector>

namespace cli {

/// Every line of `in` as a labelled utterance; a line whose "text" is not the plain text of its
/// "annotation" is an input_error (subject to --skip-invalid like any bad line).
std::vector<selflearn::labelled_utterance> read_labelled_corpus(input& in);

}  // namespace cli
