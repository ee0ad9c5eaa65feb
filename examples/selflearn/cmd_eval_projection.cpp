// `selflearn eval-projection`: scores label projection (greedy vs optimal vs monotone) on synthetic
// paraphrase pairs built from an annotated corpus, clean and with misrecognition noise on the target.

#include "cli.hpp"
#include "corpus.hpp"

#include <selflearn/annotation.hpp>
#include <selflearn/detail/project_random.hpp>
#include <selflearn/paraphrase.hpp>
#include <selflearn/project.hpp>
#include <selflearn/tokenize.hpp>
#include <selflearn/utf8.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using selflearn::detail::splitmix64;

// One target word with the gold slot it belongs to (or none).
struct word {
    std::u32string text;
    std::size_t slot;  // index into labels, or npos
};

constexpr std::size_t none = static_cast<std::size_t>(-1);

const char* const noise_names[] = {"clean", "chars", "drop", "split", "all"};
constexpr std::size_t noise_count = 5;

char32_t random_letter(splitmix64& rng) { return static_cast<char32_t>(U'a' + rng.below(26)); }

// One character edit (substitution, deletion or insertion) inside a word of at least two code points.
void edit_characters(std::u32string& w, splitmix64& rng) {
    const std::size_t at = rng.below(w.size());
    switch (rng.below(3)) {
        case 0: {
            char32_t c = random_letter(rng);
            while (c == w[at]) c = random_letter(rng);
            w[at] = c;
            break;
        }
        case 1:
            if (w.size() >= 2) {
                w.erase(at, 1);
            } else {
                w.insert(w.begin() + static_cast<std::ptrdiff_t>(at), random_letter(rng));
            }
            break;
        default: w.insert(w.begin() + static_cast<std::ptrdiff_t>(at + 1), random_letter(rng)); break;
    }
}

// Applies noise of the given kind to the gold target and rebuilds its text (words joined by one space).
selflearn::annotated_text add_noise(const selflearn::annotated_text& clean, std::size_t kind, splitmix64& rng) {
    if (kind == 0) return clean;
    const auto tokens = selflearn::tokenize_annotated(clean);
    std::vector<std::string> labels;
    std::vector<word> words;
    for (const auto& t : tokens.tokens) words.push_back({selflearn::decode_utf8(t.text), none});
    for (std::size_t k = 0; k < tokens.slots.size(); ++k) {
        labels.push_back(tokens.slots[k].label);
        for (std::size_t t = tokens.slots[k].begin; t < tokens.slots[k].end; ++t) words[t].slot = k;
    }
    const bool chars = kind == 1 || kind == 4;
    const bool drop = kind == 2 || kind == 4;
    const bool split = kind == 3 || kind == 4;
    if (chars) {  // one character edit in one word of every slot
        for (std::size_t k = 0; k < labels.size(); ++k) {
            std::vector<std::size_t> in_slot;
            for (std::size_t t = 0; t < words.size(); ++t) {
                if (words[t].slot == k) in_slot.push_back(t);
            }
            edit_characters(words[in_slot[rng.below(in_slot.size())]].text, rng);
        }
    }
    if (drop && words.size() >= 2) {  // one word dropped, anywhere
        words.erase(words.begin() + static_cast<std::ptrdiff_t>(rng.below(words.size())));
    }
    if (split) {  // one word of at least four code points split in two
        std::vector<std::size_t> long_words;
        for (std::size_t t = 0; t < words.size(); ++t) {
            if (words[t].text.size() >= 4) long_words.push_back(t);
        }
        if (!long_words.empty()) {
            const std::size_t t = long_words[rng.below(long_words.size())];
            const std::size_t cut = 1 + rng.below(words[t].text.size() - 1);
            word tail{words[t].text.substr(cut), words[t].slot};
            words[t].text.resize(cut);
            words.insert(words.begin() + static_cast<std::ptrdiff_t>(t + 1), std::move(tail));
        }
    }
    selflearn::annotated_text noisy;
    for (std::size_t t = 0; t < words.size(); ++t) {
        if (t > 0) noisy.text += ' ';
        const std::size_t begin = noisy.text.size();
        noisy.text += selflearn::encode_utf8(words[t].text);
        if (words[t].slot == none) continue;
        if (t > 0 && words[t - 1].slot == words[t].slot) {
            noisy.slots.back().end = noisy.text.size();
        } else {
            noisy.slots.push_back({labels[words[t].slot], begin, noisy.text.size()});
        }
    }
    return noisy;
}

struct score {
    std::size_t pairs = 0, rejected = 0;
    std::size_t predicted = 0, gold_accepted = 0, gold_all = 0, correct = 0;
};

double ratio(std::size_t a, std::size_t b) { return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b); }

int run_eval(const cli::arguments& args) {
    const auto pair_count = static_cast<std::size_t>(args.integer("pairs", 1, 10'000'000));
    const auto seed = static_cast<std::uint64_t>(args.integer("seed", 0, std::int64_t{1} << 62));
    selflearn::projection_options base;
    base.threshold = args.number("threshold", 0, 1e9);
    base.context_weight = args.number("context-weight", 0, 1e9);
    const bool markdown = args.flag("markdown");

    cli::input in(args, "eval-projection");
    const auto corpus = cli::read_labelled_corpus(in);
    const auto pairs = selflearn::generate_paraphrase_pairs(
        corpus, {.seed = seed, .positives = pair_count, .slot_negatives = 0, .intent_negatives = 0});
    if (pairs.empty()) throw cli::input_error("the corpus gives no paraphrase pairs (no signature has two carriers)");

    const selflearn::projection_method methods[] = {selflearn::projection_method::greedy,
                                                    selflearn::projection_method::optimal,
                                                    selflearn::projection_method::monotone};
    std::vector<selflearn::projector<>> projectors;
    for (auto m : methods) {
        auto o = base;
        o.method = m;
        projectors.emplace_back(o);
    }
    std::vector<score> scores(noise_count * 3);
    splitmix64 rng(seed ^ 0x6E6F697365ull);
    for (const auto& pair : pairs) {
        const auto source = selflearn::tokenize_annotated(pair.first.annotation);
        for (std::size_t kind = 0; kind < noise_count; ++kind) {
            const auto gold = add_noise(pair.second.annotation, kind, rng);
            const auto target = selflearn::tokenize(gold.text);
            for (std::size_t m = 0; m < 3; ++m) {
                auto& s = scores[kind * 3 + m];
                const auto r = projectors[m].project(source, target);
                ++s.pairs;
                s.gold_all += gold.slots.size();
                if (!r.accepted) {
                    ++s.rejected;
                    continue;
                }
                s.gold_accepted += gold.slots.size();
                const auto predicted = selflearn::to_annotated_text(gold.text, target, r.slots);
                s.predicted += predicted.slots.size();
                for (const auto& p : predicted.slots) {
                    s.correct += static_cast<std::size_t>(
                        std::find(gold.slots.begin(), gold.slots.end(), p) != gold.slots.end());
                }
            }
        }
    }

    cli::output out(args);
    if (markdown) {
        out.write_raw(fmt::format("{} positive pairs, seed {}, threshold {}, context weight {}", pairs.size(), seed,
                                  base.threshold, base.context_weight));
        out.write_raw("");
        out.write_raw("| target | method | rejected | precision | recall | F1 | recall, all pairs |");
        out.write_raw("|---|---|---:|---:|---:|---:|---:|");
    }
    for (std::size_t kind = 0; kind < noise_count; ++kind) {
        for (std::size_t m = 0; m < 3; ++m) {
            const auto& s = scores[kind * 3 + m];
            const double precision = ratio(s.correct, s.predicted);
            const double recall = ratio(s.correct, s.gold_accepted);
            const double f1 = precision + recall == 0 ? 0.0 : 2 * precision * recall / (precision + recall);
            const double rejected = ratio(s.rejected, s.pairs);
            const double recall_all = ratio(s.correct, s.gold_all);
            if (markdown) {
                out.write_raw(fmt::format("| {} | {} | {:.2f}% | {:.4f} | {:.4f} | {:.4f} | {:.4f} |", noise_names[kind],
                                          selflearn::to_string(methods[m]), 100 * rejected, precision, recall, f1,
                                          recall_all));
            } else {
                out.write({{"target", noise_names[kind]},
                           {"method", std::string(selflearn::to_string(methods[m]))},
                           {"pairs", s.pairs},
                           {"rejected", rejected},
                           {"precision", precision},
                           {"recall", recall},
                           {"f1", f1},
                           {"recall_all", recall_all}});
            }
        }
    }
    out.flush();
    return 0;
}

const cli::registration eval_projection_command{cli::command{
    .name = "eval-projection",
    .summary = "score greedy, optimal and monotone label projection on synthetic paraphrase pairs",
    .usage = "[options] [CORPUS.jsonl...]",
    .description =
        "Reads an annotated corpus (lines {\"text\", \"annotation\", \"intent\"}, e.g. SNIPS), generates positive\n"
        "paraphrase pairs (two carrier phrases of one intent and slot set with the same values), projects the\n"
        "first utterance's slots onto the second and scores them against its gold markup: slot precision,\n"
        "recall and F1 (exact byte span and label) over the accepted pairs, the share of rejected pairs, and\n"
        "recall over all pairs. Each pair is scored clean and with noise on the target that imitates\n"
        "misrecognition: 'chars' (one character edit in one word of every slot), 'drop' (one word dropped),\n"
        "'split' (one word of four or more code points split in two) and 'all' (the three together); noisy\n"
        "targets are rebuilt with single spaces between tokens. Writes one JSON line per target and method,\n"
        "or a Markdown table with --markdown.",
    .options = {{"pairs", "N", "number of positive pairs to generate", "5000"},
                {"seed", "S", "seed of the pair generator and of the noise", "1"},
                {"threshold", "T", "largest word cost at which a word maps", "0.5"},
                {"context-weight", "W", "weight of the neighbour-context term", "0.01"},
                {"markdown", "", "write a Markdown table instead of JSON lines"}},
    .run = run_eval,
}};

}  // namespace
