// `selflearn pairs`: synthetic paraphrase pairs (positives and hard negatives) from an annotated corpus.

#include "cli.hpp"
#include "corpus.hpp"

#include <selflearn/annotation.hpp>
#include <selflearn/paraphrase.hpp>

#include <cstddef>
#include <cstdint>
#include <iostream>
#include <vector>

namespace {

cli::json record(const selflearn::labelled_utterance& u) {
    return {{"text", u.annotation.text}, {"annotation", selflearn::to_markup(u.annotation)}, {"intent", u.intent}};
}

int run_pairs(const cli::arguments& args) {
    selflearn::paraphrase_options options;
    options.seed = static_cast<std::uint64_t>(args.integer("seed", 0, std::int64_t{1} << 62));
    options.positives = static_cast<std::size_t>(args.integer("positives", 0, 100'000'000));
    options.slot_negatives = static_cast<std::size_t>(args.integer("slot-negatives", 0, 100'000'000));
    options.intent_negatives = static_cast<std::size_t>(args.integer("intent-negatives", 0, 100'000'000));

    cli::input in(args, "pairs");
    const auto corpus = cli::read_labelled_corpus(in);
    const auto pairs = selflearn::generate_paraphrase_pairs(corpus, options);
    cli::output out(args);
    std::size_t counts[3] = {0, 0, 0};
    for (const auto& p : pairs) {
        ++counts[static_cast<std::size_t>(p.kind)];
        out.write({{"kind", std::string(selflearn::to_string(p.kind))},
                   {"paraphrase", p.is_paraphrase()},
                   {"first", record(p.first)},
                   {"second", record(p.second)}});
    }
    out.flush();
    const std::size_t wanted[3] = {options.positives, options.slot_negatives, options.intent_negatives};
    for (std::size_t k = 0; k < 3; ++k) {
        if (counts[k] < wanted[k]) {
            std::cerr << "selflearn pairs: the corpus gave " << counts[k] << " distinct "
                      << selflearn::to_string(static_cast<selflearn::pair_kind>(k)) << " pair(s) of the " << wanted[k]
                      << " asked for\n";
        }
    }
    return 0;
}

const cli::registration pairs_command{cli::command{
    .name = "pairs",
    .summary = "generate paraphrase pairs (positives and hard negatives) from an annotated corpus",
    .usage = "[options] [CORPUS.jsonl...]",
    .description =
        "Reads corpus lines {\"text\", \"annotation\", \"intent\"} (e.g. SNIPS) and writes lines\n"
        "{\"kind\": \"positive\", \"paraphrase\": true, \"first\": {...}, \"second\": {...}}, each side a corpus record.\n"
        "Positives fill two carrier phrases of one intent and slot set with the same values; slot negatives\n"
        "change one slot of the second to another slot type seen in the data; intent negatives put the same\n"
        "values in a carrier of another intent with the same slots. Seeded and deterministic; positives come\n"
        "first, then slot negatives, then intent negatives, without repeats.",
    .options = {{"positives", "N", "number of positive pairs", "1000"},
                {"slot-negatives", "N", "number of slot-changed negatives", "1000"},
                {"intent-negatives", "N", "number of intent-changed negatives", "1000"},
                {"seed", "S", "seed of the generator", "1"}},
    .run = run_pairs,
}};

}  // namespace
