#include "paraphrase_choice.hpp"

#include "session_log.hpp"

#include <selflearn/paraphrase.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>

namespace cli {

namespace {

// Fewer distinct annotated utterances than this, and the synthetic pairs are too few to learn from.
constexpr std::size_t min_learning_utterances = 30;

// The log's successful annotated turns, for learning. Lines that do not parse are left to the main pass,
// which reports them under the command's --skip-invalid rule.
selflearn::log_paraphrase_corpus read_learning_corpus(const std::vector<std::string>& logs) {
    selflearn::log_paraphrase_corpus corpus;
    input in(logs, /*skip_invalid=*/true, "paraphrase learning");
    in.for_each_line([&](std::string_view text, const location&) {
        const json line = json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (line.is_discarded() || !line.is_object()) return;
        try {
            corpus.add(parse_turn(line).turn);
        } catch (const std::exception&) {
            // reported by the main pass
        }
    });
    return corpus;
}

void use_lexical(paraphrase_decision& d, const std::string& kind) {
    if (kind == "chars") {
        d.score = selflearn::character_similarity_scorer{};
        d.description = "chars: Levenshtein similarity of the normalised texts' code points";
    } else {
        d.score = selflearn::word_similarity_scorer{};
        d.description = "words: 1 - D / max(m, n), D the word-level edit distance with soft substitution costs";
    }
}

}  // namespace

std::vector<option> with_paraphrase_options(std::vector<option> own) {
    own.insert(own.end(), {{"scorer", "KIND",
             "paraphrase decision: 'learned' (a detector learned from the log's own annotated successes),\n"
             "                           'model' (--model FILE), 'words', 'chars' (lexical similarity) or 'log' (each\n"
             "                           turn's rephrase_score field)",
             "learned"},
            {"model", "FILE", "with --scorer model: a paraphrase model from selflearn train-paraphrase"},
            {"threshold", "X", "a candidate is a rephrase when the paraphrase score is >= X", "0.5"}});
    return own;
}

paraphrase_decision choose_paraphrase_scorer(const arguments& args, const std::vector<std::string>& logs,
                                             const learning_rules& rules) {
    const std::string kind = args.string("scorer");
    const auto model_file = args.value("model");
    if (model_file && kind != "model") throw usage_error("option '--model' needs '--scorer model'");
    paraphrase_decision d;
    const auto use_model = [&](selflearn::paraphrase_model model, std::string description) {
        auto shared = std::make_shared<const selflearn::paraphrase_model>(std::move(model));
        d.score = [shared](const selflearn::turn& a, const selflearn::turn& b) { return (*shared)(a, b); };
        d.description = std::move(description);
        std::ostringstream text;
        shared->save(text);
        d.model_text = text.str();
    };
    if (kind == "learned") {
        const bool from_stdin = logs.empty() || std::find(logs.begin(), logs.end(), "-") != logs.end();
        const std::string fallback = fmt::format("the {}-similarity scorer decided instead", rules.fallback == "chars" ? "character" : "word");
        if (!rules.cannot_learn.empty()) {
            d.notes.push_back(fmt::format("no paraphrase detector was learned ({}); {}", rules.cannot_learn, fallback));
        } else if (from_stdin) {
            d.notes.push_back(fmt::format("no paraphrase detector was learned (the log comes on standard input, which "
                                          "cannot be read twice); {}",
                                          fallback));
        } else {
            const auto corpus = read_learning_corpus(logs);
            if (corpus.size() >= min_learning_utterances && corpus.intents() >= 2) {
                use_model(selflearn::train_paraphrase_model(corpus.corpus()),
                          fmt::format("learned: logistic paraphrase detector trained on synthetic pairs from the log's {} "
                                      "distinct annotated successful utterances of {} intents",
                                      corpus.size(), corpus.intents()));
                return d;
            }
            d.notes.push_back(fmt::format("the log has {} distinct annotated successful utterances of {} intents, too few "
                                          "to learn a paraphrase detector from (at least {} of 2 intents); {}",
                                          corpus.size(), corpus.intents(), min_learning_utterances, fallback));
        }
        use_lexical(d, rules.fallback);
    } else if (kind == "words" || kind == "chars") {
        use_lexical(d, kind);
    } else if (kind == "log") {
        d.description = "log: the paraphrase model's rephrase_score carried by each turn (adjacent turns only)";
    } else if (kind == "model") {
        if (!model_file) throw usage_error("'--scorer model' needs '--model FILE'");
        std::ifstream in(*model_file, std::ios::binary);
        if (!in) throw input_error(fmt::format("{}: cannot open the paraphrase model", *model_file));
        try {
            use_model(selflearn::paraphrase_model::load(in, *model_file), fmt::format("model: {}", *model_file));
        } catch (const selflearn::error& e) {
            throw located_input_error(e.what());
        }
        d.model_text.clear();  // the user has the file already
    } else {
        throw usage_error(fmt::format(
            "option '--scorer' must be 'learned', 'model', 'words', 'chars' or 'log', got '{}'", kind));
    }
    return d;
}

}  // namespace cli
