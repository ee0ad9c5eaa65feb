#include "corpus.hpp"

#include <selflearn/annotation.hpp>

namespace cli {

std::vector<selflearn::labelled_utterance> read_labelled_corpus(input& in) {
    std::vector<selflearn::labelled_utterance> corpus;
    in.for_each([&](const json& line, const location&) {
        const auto& text = require_string(line, "text");
        auto parsed = selflearn::parse_markup(require_string(line, "annotation"));
        if (parsed.text != text) throw input_error("field \"text\" is not the plain text of field \"annotation\"");
        corpus.push_back({std::move(parsed), require_string(line, "intent")});
    });
    return corpus;
}

}  // namespace cli
