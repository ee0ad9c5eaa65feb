#pragma once
/// \file selflearn/paraphrase.hpp
/// Paraphrase scoring and the paraphrase detector: is a later turn a rephrase of a failed one? One
/// concept (paraphrase_scorer), built-in scorers (character_similarity_scorer, word_similarity_scorer),
/// slot-aware features (paraphrase_features), and a trained detector (paraphrase_model, logistic.hpp)
/// learnt from log-shaped pairs of an annotated corpus (train_paraphrase_model); see docs/paraphrase.md.
///
/// Synthetic paraphrase pairs from an annotated corpus, built the way the paraphrase-annotation paper
/// (COLING 2020) built training data for its paraphrase detector:
///
/// - a *carrier phrase* is an utterance with its slot values taken out (`play [artist] by [album]`);
///   carriers are grouped by *signature*: the intent and the multiset of slot labels;
/// - a **positive** takes two different carriers of one signature and fills both with the same slot
///   values (those of one corpus utterance of that signature);
/// - a **slot negative** is a positive whose second utterance has one slot changed to another slot type
///   seen in the data (a label seen with the same intent when there is one, else any other label of the
///   corpus), with a value of that type from the corpus;
/// - an **intent negative** fills a carrier of the signature and a carrier of *another intent* with the
///   same slot labels with the same values (neither carrier bare slot values: saying only the values of a
///   request is shortening it, not asking for another intent).
///
/// Generation is seeded and deterministic: the same corpus (same order), options and seed give the same
/// pairs on every platform.

#include <selflearn/align.hpp>
#include <selflearn/annotation.hpp>
#include <selflearn/detail/project_random.hpp>
#include <selflearn/error.hpp>
#include <selflearn/logistic.hpp>
#include <selflearn/session.hpp>
#include <selflearn/tokenize.hpp>
#include <selflearn/utf8.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <map>
#include <istream>
#include <optional>
#include <ostream>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/core.h>

namespace selflearn {

/// An annotated utterance with its intent: one line of a corpus such as SNIPS.
struct labelled_utterance {
    annotated_text annotation;  ///< the text and its slots as byte spans
    std::string intent;         ///< the intent label, non-empty

    friend bool operator==(const labelled_utterance&, const labelled_utterance&) = default;
};

/// What a generated pair is.
enum class pair_kind {
    positive,         ///< the same request in two carrier phrases: a paraphrase
    slot_negative,    ///< one slot changed to another type and value: not a paraphrase
    intent_negative,  ///< the same slots in a carrier of another intent: not a paraphrase
};

/// The name of a pair kind: "positive", "slot_negative", "intent_negative". O(1); never throws.
[[nodiscard]] constexpr std::string_view to_string(pair_kind kind) noexcept {
    switch (kind) {
        case pair_kind::positive: return "positive";
        case pair_kind::slot_negative: return "slot_negative";
        case pair_kind::intent_negative: return "intent_negative";
    }
    return "unknown";
}

/// One generated pair. `first` is a filled carrier of the signature; `second` the other utterance.
struct paraphrase_pair {
    labelled_utterance first;   ///< a filled carrier phrase of the signature
    labelled_utterance second;  ///< the other utterance (same request, or changed as `kind` says)
    pair_kind kind;             ///< positive or which kind of negative

    /// True for a positive (the two utterances are paraphrases). O(1).
    [[nodiscard]] bool is_paraphrase() const noexcept { return kind == pair_kind::positive; }

    friend bool operator==(const paraphrase_pair&, const paraphrase_pair&) = default;
};

/// How many pairs of each kind to generate, and the seed.
struct paraphrase_options {
    std::uint64_t seed = 1;                ///< seed of the generator (SplitMix64)
    std::size_t positives = 1000;          ///< positives wanted
    std::size_t slot_negatives = 1000;     ///< slot negatives wanted
    std::size_t intent_negatives = 1000;   ///< intent negatives wanted
};

namespace detail {

/// An utterance with its slot values taken out: literal pieces around the slots, and the slot labels.
struct carrier_phrase {
    std::vector<std::string> pieces;  // labels.size() + 1 literal pieces
    std::vector<std::string> labels;  // in order of appearance
    std::string intent;

    friend auto operator<=>(const carrier_phrase&, const carrier_phrase&) = default;
    friend bool operator==(const carrier_phrase&, const carrier_phrase&) = default;
};

/// Slot values of one utterance, by label, in order of appearance.
using slot_values = std::map<std::string, std::vector<std::string>, std::less<>>;

inline void split_carrier(const labelled_utterance& u, carrier_phrase& carrier, slot_values& values) {
    const auto& a = u.annotation;
    std::size_t at = 0;
    carrier.intent = u.intent;
    for (const auto& s : a.slots) {
        carrier.pieces.push_back(a.text.substr(at, s.begin - at));
        carrier.labels.push_back(s.label);
        values[s.label].push_back(a.text.substr(s.begin, s.end - s.begin));
        at = s.end;
    }
    carrier.pieces.push_back(a.text.substr(at));
}

/// Fills a carrier: the t-th slot labelled L gets values[L][t]. `replace`, when below the slot count,
/// is a slot whose label and value become `new_label` and `new_value`.
inline labelled_utterance fill_carrier(const carrier_phrase& carrier, const slot_values& values,
                                       std::size_t replace = static_cast<std::size_t>(-1),
                                       std::string_view new_label = {}, std::string_view new_value = {}) {
    labelled_utterance u{{}, carrier.intent};
    std::map<std::string_view, std::size_t> used;
    for (std::size_t k = 0; k < carrier.labels.size(); ++k) {
        u.annotation.text += carrier.pieces[k];
        const std::string& label = carrier.labels[k];
        const std::string& value = values.find(label)->second[used[label]++];
        const std::size_t begin = u.annotation.text.size();
        if (k == replace) {
            u.annotation.text += new_value;
            u.annotation.slots.push_back({std::string(new_label), begin, u.annotation.text.size()});
        } else {
            u.annotation.text += value;
            u.annotation.slots.push_back({label, begin, u.annotation.text.size()});
        }
    }
    u.annotation.text += carrier.pieces.back();
    return u;
}

/// Whether a carrier is nothing but its slots: every literal piece is blank.
inline bool bare_values(const carrier_phrase& carrier) {
    return std::all_of(carrier.pieces.begin(), carrier.pieces.end(), [](const std::string& piece) {
        return piece.find_first_not_of(" \t\r\n") == std::string::npos;
    });
}

}  // namespace detail

/// Generates paraphrase pairs from a corpus (see the header's description). Build it once; generate()
/// many times with different seeds. Construction is O(corpus size * log).
class paraphrase_generator {
public:
    /// Indexes the corpus by signature and distinct carrier phrase, and the slot values by label.
    /// \throws invalid_argument naming the utterance's index when an intent is empty; annotation_error
    ///         (from validate()) when an annotation is malformed.
    explicit paraphrase_generator(std::span<const labelled_utterance> corpus) {
        std::map<std::pair<std::string, std::vector<std::string>>, std::size_t> group_of;
        std::map<std::string, std::set<std::string>, std::less<>> labels_of_intent;
        std::map<std::string, std::set<std::string>, std::less<>> values_of_label;
        for (std::size_t n = 0; n < corpus.size(); ++n) {
            const auto& u = corpus[n];
            if (u.intent.empty()) {
                throw invalid_argument(fmt::format("paraphrase_generator: utterance {} ('{}') has an empty intent",
                                                   n, u.annotation.text));
            }
            validate(u.annotation);
            detail::carrier_phrase carrier;
            detail::slot_values values;
            detail::split_carrier(u, carrier, values);
            auto signature_labels = carrier.labels;
            std::sort(signature_labels.begin(), signature_labels.end());
            auto [it, fresh] = group_of.try_emplace({u.intent, signature_labels}, groups_.size());
            if (fresh) groups_.push_back({u.intent, signature_labels, {}, {}, {}, {}});
            auto& g = groups_[it->second];
            g.carrier_set.insert(carrier);
            g.values.push_back(std::move(values));
            for (const auto& s : u.annotation.slots) {
                labels_of_intent[u.intent].insert(s.label);
                values_of_label[s.label].insert(u.annotation.text.substr(s.begin, s.end - s.begin));
            }
        }
        for (auto& g : groups_) g.carriers.assign(g.carrier_set.begin(), g.carrier_set.end());
        for (auto& [label, values] : values_of_label) {
            labels_.push_back(label);
            label_values_.emplace_back(values.begin(), values.end());
        }
        for (auto& [intent, labels] : labels_of_intent) {
            auto& ids = intent_labels_[intent];
            for (const auto& l : labels) ids.push_back(label_index(l));
        }
        // Positives need two carriers; intent negatives a group of another intent with the same labels.
        for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
            auto& g = groups_[gi];
            for (std::size_t gj = 0; gj < groups_.size(); ++gj) {
                if (groups_[gj].labels == g.labels && groups_[gj].intent != g.intent) g.partners.push_back(gj);
            }
            for (std::size_t v = 0; v < g.values.size(); ++v) {
                if (g.carriers.size() >= 2) positive_pool_.push_back({gi, v});
                if (!g.partners.empty()) intent_pool_.push_back({gi, v});
                if (g.carriers.size() >= 2 && !g.labels.empty()) slot_pool_.push_back({gi, v});
            }
        }
    }

    /// Number of distinct signatures (intent + slot label multiset). O(1).
    [[nodiscard]] std::size_t signature_count() const noexcept { return groups_.size(); }

    /// Number of corpus utterances that can seed a positive (their signature has >= 2 carriers). O(1).
    [[nodiscard]] std::size_t positive_seed_count() const noexcept { return positive_pool_.size(); }

    /// Number of corpus utterances that can seed an intent negative. O(1).
    [[nodiscard]] std::size_t intent_negative_seed_count() const noexcept { return intent_pool_.size(); }

    /// Generates up to options.positives positives, then options.slot_negatives slot negatives, then
    /// options.intent_negatives intent negatives, without repeating a pair. Each pair is drawn by picking a
    /// seed utterance uniformly among those that can make that kind (so signatures weigh as in the corpus),
    /// then carriers and replacements uniformly. When the corpus cannot make enough distinct pairs of a kind
    /// (after 20 draws per requested pair plus 100), fewer are returned. O(pairs * utterance length * log).
    [[nodiscard]] std::vector<paraphrase_pair> generate(const paraphrase_options& options) const {
        detail::splitmix64 rng(options.seed);
        std::vector<paraphrase_pair> pairs;
        std::set<std::pair<std::string, std::string>> seen;
        auto produce = [&](std::size_t wanted, const std::vector<std::pair<std::size_t, std::size_t>>& pool,
                           pair_kind kind) {
            if (pool.empty()) return;
            std::size_t made = 0;
            for (std::size_t attempt = 0; made < wanted && attempt < 20 * wanted + 100; ++attempt) {
                const auto [gi, vi] = pool[rng.below(pool.size())];
                auto pair = draw(gi, vi, kind, rng);
                if (!pair) continue;
                if (!seen.emplace(to_markup(pair->first.annotation) + '\n' + pair->first.intent,
                                  to_markup(pair->second.annotation) + '\n' + pair->second.intent)
                         .second) {
                    continue;
                }
                pairs.push_back(std::move(*pair));
                ++made;
            }
        };
        produce(options.positives, positive_pool_, pair_kind::positive);
        produce(options.slot_negatives, slot_pool_, pair_kind::slot_negative);
        produce(options.intent_negatives, intent_pool_, pair_kind::intent_negative);
        return pairs;
    }

private:
    struct group {
        std::string intent;
        std::vector<std::string> labels;  // sorted
        std::set<detail::carrier_phrase> carrier_set;
        std::vector<detail::carrier_phrase> carriers;
        std::vector<detail::slot_values> values;  // one per corpus utterance of the signature
        std::vector<std::size_t> partners;        // groups of other intents with the same labels
    };

    [[nodiscard]] std::size_t label_index(std::string_view label) const {
        return static_cast<std::size_t>(std::lower_bound(labels_.begin(), labels_.end(), label) - labels_.begin());
    }

    std::optional<paraphrase_pair> draw(std::size_t gi, std::size_t vi, pair_kind kind, detail::splitmix64& rng) const {
        const auto& g = groups_[gi];
        const auto& values = g.values[vi];
        const std::size_t a = rng.below(g.carriers.size());
        if (kind == pair_kind::intent_negative) {
            const auto& other = groups_[g.partners[rng.below(g.partners.size())]];
            const auto& b = other.carriers[rng.below(other.carriers.size())];
            // Bare slot values ("myspace") carry no intent of their own: saying just the values of a
            // failed request is shortening it, a rephrase, so such a carrier makes no intent negative.
            if (detail::bare_values(g.carriers[a]) || detail::bare_values(b)) return std::nullopt;
            return paraphrase_pair{detail::fill_carrier(g.carriers[a], values), detail::fill_carrier(b, values), kind};
        }
        std::size_t b = rng.below(g.carriers.size() - 1);
        if (b >= a) ++b;
        auto first = detail::fill_carrier(g.carriers[a], values);
        if (kind == pair_kind::positive) {
            auto second = detail::fill_carrier(g.carriers[b], values);
            if (second.annotation.text == first.annotation.text) return std::nullopt;
            return paraphrase_pair{std::move(first), std::move(second), kind};
        }
        // Slot negative: change one slot of the second utterance to another type seen in the data.
        const auto& carrier = g.carriers[b];
        const std::size_t slot = rng.below(carrier.labels.size());
        const std::size_t old_label = label_index(carrier.labels[slot]);
        std::vector<std::size_t> candidates;
        if (auto it = intent_labels_.find(g.intent); it != intent_labels_.end()) {
            for (std::size_t l : it->second) {
                if (l != old_label) candidates.push_back(l);
            }
        }
        if (candidates.empty()) {
            for (std::size_t l = 0; l < labels_.size(); ++l) {
                if (l != old_label) candidates.push_back(l);
            }
        }
        if (candidates.empty()) return std::nullopt;
        const std::size_t new_label = candidates[rng.below(candidates.size())];
        const auto& pool = label_values_[new_label];
        const auto& new_value = pool[rng.below(pool.size())];
        return paraphrase_pair{std::move(first), detail::fill_carrier(carrier, values, slot, labels_[new_label], new_value),
                               kind};
    }

    std::vector<group> groups_;
    std::vector<std::string> labels_;                    // every slot label of the corpus, sorted
    std::vector<std::vector<std::string>> label_values_;  // distinct values of each label, sorted
    std::map<std::string, std::vector<std::size_t>, std::less<>> intent_labels_;
    std::vector<std::pair<std::size_t, std::size_t>> positive_pool_, slot_pool_, intent_pool_;
};

/// Convenience: paraphrase_generator(corpus).generate(options). O(corpus * log + pairs).
/// \throws as paraphrase_generator's constructor.
[[nodiscard]] inline std::vector<paraphrase_pair> generate_paraphrase_pairs(std::span<const labelled_utterance> corpus,
                                                                            const paraphrase_options& options) {
    return paraphrase_generator(corpus).generate(options);
}

// ---------------------------------------------------------------------------------------------------
// Paraphrase scoring: is a later turn of a session a rephrase of a failed one?
// ---------------------------------------------------------------------------------------------------

/// A paraphrase scorer: called as `scorer(failed, later)` with a turn the assistant failed and a later
/// turn of the same session, it returns a score in [0, 1], higher meaning more likely that `later`
/// rephrases `failed`. The rewrite miner (rewrite.hpp) and the `selflearn` pipeline take any type that
/// models it: the built-in character_similarity_scorer, word_similarity_scorer, a trained
/// paraphrase_model, or a model of your own.
template <class S>
concept paraphrase_scorer = requires(const S& s, const turn& failed, const turn& later) {
    { s(failed, later) } -> std::convertible_to<double>;
};

/// The normal form in which utterances are compared and counted: the tokens of tokenize() with case
/// folding, joined by single spaces ("Play  Imagine Dragons!" -> "play imagine dragons !"). O(n).
/// \throws invalid_utf8 when the text is not valid UTF-8.
[[nodiscard]] inline std::string normalize_utterance(std::string_view text) {
    std::string result;
    for (const auto& t : tokenize(text, {.fold_case = true})) {
        if (!result.empty()) result += ' ';
        result += t.text;
    }
    return result;
}

/// Character similarity: Levenshtein similarity (align.hpp) between the code points of the two turns'
/// normalised texts, 1 - distance / longer length, in [0, 1] (1 when both are empty). The rewrite
/// miner's default scorer. O(n m / 64) for texts of n and m code points. \throws invalid_utf8.
struct character_similarity_scorer {
    /// Similarity of normalize_utterance(failed.text) and normalize_utterance(later.text).
    /// O(n m / 64). \throws invalid_utf8 on invalid text.
    [[nodiscard]] double operator()(const turn& failed, const turn& later) const {
        return similarity(normalize_utterance(failed.text), normalize_utterance(later.text));
    }
    /// Similarity of two already normalised utterances (code points). O(n m / 64). \throws invalid_utf8.
    [[nodiscard]] static double similarity(std::string_view a, std::string_view b) {
        return levenshtein_similarity(decode_utf8(a), decode_utf8(b));
    }
};

/// The words of a text as the paraphrase scorers see them: the case-folded tokens of tokenize(). O(n).
/// \throws invalid_utf8.
[[nodiscard]] inline std::vector<std::string> paraphrase_words(std::string_view text) {
    std::vector<std::string> words;
    for (auto& t : tokenize(text, {.fold_case = true})) words.push_back(std::move(t.text));
    return words;
}

/// Word similarity: 1 - D / max(m, n) for word sequences of m and n words, where D is the word-level
/// weighted edit distance with insertion and deletion 1 and substitution the normalised Levenshtein
/// distance of the two words' code points (so a misheard word costs little); 1 when both are empty.
/// In [0, 1]. O(m n * word length^2). \throws invalid_utf8.
struct word_similarity_scorer {
    /// similarity(paraphrase_words(failed.text), paraphrase_words(later.text)). \throws invalid_utf8.
    [[nodiscard]] double operator()(const turn& failed, const turn& later) const {
        return similarity(paraphrase_words(failed.text), paraphrase_words(later.text));
    }
    /// The similarity of two word sequences (each word valid UTF-8). O(m n * word length^2).
    /// \throws invalid_utf8.
    [[nodiscard]] static double similarity(std::span<const std::string> a, std::span<const std::string> b) {
        const std::size_t longest = std::max(a.size(), b.size());
        if (longest == 0) return 1.0;
        std::vector<std::u32string> x, y;
        for (const auto& w : a) x.push_back(decode_utf8(w));
        for (const auto& w : b) y.push_back(decode_utf8(w));
        const double d = weighted_distance(x, y, 1.0, 1.0, [](const std::u32string& p, const std::u32string& q) {
            return levenshtein_normalized_distance(p, q);
        });
        return std::clamp(1.0 - d / static_cast<double>(longest), 0.0, 1.0);
    }
};

namespace detail {

/// The carrier words of an annotated utterance: its case-folded tokens outside its slots, in order.
/// \throws annotation_error when the annotation is malformed; invalid_utf8.
inline std::vector<std::string> carrier_words(const annotated_text& a) {
    const auto tokens = tokenize_annotated(a, {.fold_case = true});
    std::vector<char> in_slot(tokens.tokens.size(), 0);
    for (const auto& s : tokens.slots) {
        for (std::size_t k = s.begin; k < s.end; ++k) in_slot[k] = 1;
    }
    std::vector<std::string> words;
    for (std::size_t k = 0; k < tokens.tokens.size(); ++k) {
        if (in_slot[k] == 0) words.push_back(tokens.tokens[k].text);
    }
    return words;
}

class lexicon_leave_out;

}  // namespace detail

/// How well the words of a request fit each intent: for every intent of an annotated corpus, how often each
/// word occurs in its distinct *carrier phrases* (an utterance's words outside its slots, case-folded). It
/// gives the paraphrase detector its `carrier_intent` feature: a failed request said in a carrier phrase far
/// from the successful rephrase's ("tell me when it is six am" before "wake me up at six am") is still a
/// rephrase when its carrier words belong to the rephrase's intent, and a follow-up of another intent is not.
/// A multinomial naive Bayes model (add-one smoothing, a uniform prior over intents, so a frequent intent
/// does not win by frequency alone). Immutable once built; safe to share between threads.
class carrier_lexicon {
public:
    /// An empty lexicon: no intent is known. O(1).
    carrier_lexicon() = default;

    /// Counts the carrier words of each distinct (intent, carrier phrase) of the corpus once, so a carrier
    /// filled with many values does not outweigh the others. O(corpus words * log).
    /// \throws invalid_argument naming the utterance's index when an intent is empty; annotation_error when
    ///         an annotation is malformed; invalid_utf8.
    explicit carrier_lexicon(std::span<const labelled_utterance> corpus) {
        std::set<std::pair<std::string_view, std::vector<std::string>>> carriers;
        for (std::size_t n = 0; n < corpus.size(); ++n) {
            const auto& u = corpus[n];
            if (u.intent.empty()) {
                throw invalid_argument(fmt::format("carrier_lexicon: utterance {} ('{}') has an empty intent", n,
                                                   u.annotation.text));
            }
            carriers.emplace(u.intent, detail::carrier_words(u.annotation));
        }
        for (const auto& [intent, words] : carriers) intents_.emplace_back(intent);
        intents_.erase(std::unique(intents_.begin(), intents_.end()), intents_.end());
        for (const auto& [intent, words] : carriers) {
            const auto k = static_cast<std::uint32_t>(intent_index(intent));
            for (const auto& w : words) {
                auto& row = counts_[w];
                if (row.empty() || row.back().first != k) row.emplace_back(k, 0);
                ++row.back().second;  // carriers come sorted by intent, so each row stays sorted by intent
            }
        }
        finish();
    }

    /// The intents, sorted. O(1).
    [[nodiscard]] const std::vector<std::string>& intents() const noexcept { return intents_; }
    /// Distinct carrier words. O(1).
    [[nodiscard]] std::size_t vocabulary_size() const noexcept { return counts_.size(); }
    /// Whether `intent` is one of the lexicon's intents. O(log intents).
    [[nodiscard]] bool knows(std::string_view intent) const { return intent_index(intent) < intents_.size(); }

    /// P(intent | words): the naive Bayes posterior of `intent` among the lexicon's intents. Words the
    /// lexicon never saw are left out; with none left it is 1 / intents. std::nullopt when `intent` is not known (the
    /// detector then has no evidence either way). O(words * (log vocabulary + intents)). Never throws
    /// except std::bad_alloc.
    [[nodiscard]] std::optional<double> intent_probability(std::span<const std::string> words,
                                                           std::string_view intent) const {
        const std::size_t target = intent_index(intent);
        if (target >= intents_.size()) return std::nullopt;
        const std::size_t k_count = intents_.size();
        std::vector<double> log_likelihood(k_count, 0.0);
        std::size_t known = 0;
        for (const auto& w : words) {
            const auto it = counts_.find(w);
            if (it == counts_.end() || !live(it->second)) continue;
            ++known;
            for (std::size_t k = 0; k < k_count; ++k) log_likelihood[k] -= log_denominator_[k];
            for (const auto& [k, c] : it->second) log_likelihood[k] += std::log1p(static_cast<double>(c));
        }
        if (known == 0) return 1.0 / static_cast<double>(k_count);
        const double top = *std::max_element(log_likelihood.begin(), log_likelihood.end());
        double sum = 0.0;
        for (auto& l : log_likelihood) sum += (l = std::exp(l - top));
        return log_likelihood[target] / sum;
    }

    /// The largest P(intent | w) over the known words w taken one at a time (naive Bayes with one word);
    /// 1 / intents when no word is known; std::nullopt when `intent` is not known.
    /// O(words * (log vocabulary + intents)). Never throws except std::bad_alloc.
    [[nodiscard]] std::optional<double> word_intent_probability(std::span<const std::string> words,
                                                                std::string_view intent) const {
        const std::size_t target = intent_index(intent);
        if (target >= intents_.size()) return std::nullopt;
        double best = 1.0 / static_cast<double>(intents_.size());
        bool any = false;
        for (const auto& w : words) {
            const auto it = counts_.find(w);
            if (it == counts_.end() || !live(it->second)) continue;
            const double p = *intent_probability(std::span<const std::string>(&it->first, 1), intent);
            best = any ? std::max(best, p) : p;
            any = true;
        }
        return best;
    }

    /// Writes the lexicon as text, after a paraphrase model's logistic part (see docs/paraphrase.md):
    /// `carrier-lexicon <version> <intents> <words>`, `intent <name>` lines, `word <word> <k>:<count>...`
    /// lines sorted by word, `end`. Names are escaped (`\\`, `\s` for a space, `\t`, `\n`, `\r`).
    /// O(size).
    void save(std::ostream& out) const {
        out << "carrier-lexicon " << format_version << ' ' << intents_.size() << ' ' << counts_.size() << '\n';
        for (const auto& i : intents_) out << "intent " << escape(i) << '\n';
        for (const auto& [w, row] : counts_) {
            out << "word " << escape(w);
            for (const auto& [k, c] : row) out << ' ' << k << ':' << c;
            out << '\n';
        }
        out << "end\n";
    }

    /// Reads a lexicon written by save(). `source` names the input and `line_no` is the number of lines
    /// already read from it, for error messages. O(size * log).
    /// \throws model_format_error naming source:line and the field for a malformed section, another
    ///         version, unsorted or repeated names, or a count that is zero or out of range.
    [[nodiscard]] static carrier_lexicon load(std::istream& in, std::string_view source, std::size_t line_no) {
        std::string line;
        auto fail = [&](const std::string& what) {
            return model_format_error(fmt::format("{}:{}: {}", source, line_no, what), line_no);
        };
        auto next = [&](std::string_view key) {
            ++line_no;
            if (!std::getline(in, line)) throw fail(fmt::format("the file ends where the field '{}' was expected", key));
            if (!line.empty() && line.back() == '\r') line.pop_back();
            std::vector<std::string_view> fields;
            std::string_view rest = line;
            while (!rest.empty()) {
                const auto stop = std::min(rest.find(' '), rest.size());
                fields.push_back(rest.substr(0, stop));
                rest.remove_prefix(std::min(stop + 1, rest.size()));
            }
            if (fields.empty() || fields[0] != key) {
                throw fail(fmt::format("expected the field '{}', found '{}'", key, line.substr(0, 60)));
            }
            return fields;
        };
        auto count = [&](std::string_view text, std::string_view field, std::size_t limit) {
            std::size_t v = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            if (ec != std::errc{} || end != text.data() + text.size() || v > limit) {
                throw fail(fmt::format("field '{}': '{}' is not a count up to {}", field, text, limit));
            }
            return v;
        };
        const auto header = next("carrier-lexicon");
        if (header.size() != 4) throw fail("the lexicon starts with 'carrier-lexicon <version> <intents> <words>'");
        if (header[1] != std::to_string(format_version)) {
            throw fail(fmt::format("carrier lexicon version '{}', this library reads version {}", header[1], format_version));
        }
        constexpr std::size_t limit = 100'000'000;
        const std::size_t k_count = count(header[2], "carrier-lexicon", limit);
        const std::size_t v_count = count(header[3], "carrier-lexicon", limit);
        carrier_lexicon lexicon;
        for (std::size_t k = 0; k < k_count; ++k) {
            const auto f = next("intent");
            if (f.size() != 2 || f[1].empty()) throw fail("field 'intent' takes one non-empty name");
            lexicon.intents_.push_back(unescape(f[1], fail));
            if (k > 0 && !(lexicon.intents_[k - 1] < lexicon.intents_[k])) {
                throw fail("field 'intent': intents must be sorted and distinct");
            }
        }
        std::string previous;
        for (std::size_t v = 0; v < v_count; ++v) {
            const auto f = next("word");
            if (f.size() < 3 || f[1].empty()) throw fail("field 'word' takes a word and at least one <intent>:<count>");
            std::string w = unescape(f[1], fail);
            if (v > 0 && !(previous < w)) throw fail("field 'word': words must be sorted and distinct");
            std::vector<std::pair<std::uint32_t, std::uint32_t>> row;
            for (std::size_t i = 2; i < f.size(); ++i) {
                const auto colon = f[i].find(':');
                if (colon == std::string_view::npos) throw fail(fmt::format("field 'word': '{}' is not <intent>:<count>", f[i]));
                const auto k = count(f[i].substr(0, colon), "word", k_count == 0 ? 0 : k_count - 1);
                const auto c = count(f[i].substr(colon + 1), "word", 0xffffffffu);
                if (c == 0 || k_count == 0 || (!row.empty() && row.back().first >= k)) {
                    throw fail(fmt::format("field 'word': '{}': intents must be increasing, counts positive", f[i]));
                }
                row.emplace_back(static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(c));
            }
            previous = w;
            lexicon.counts_.emplace_hint(lexicon.counts_.end(), std::move(w), std::move(row));
        }
        if (next("end").size() != 1) throw fail("field 'end' takes no value");
        lexicon.finish();
        return lexicon;
    }

    /// Equal intents and counts. O(size).
    friend bool operator==(const carrier_lexicon& a, const carrier_lexicon& b) {
        return a.intents_ == b.intents_ && a.counts_ == b.counts_;
    }

    /// The version of the lexicon section that save() writes and load() reads.
    static constexpr int format_version = 1;

private:
    friend class detail::lexicon_leave_out;
    using row_type = std::vector<std::pair<std::uint32_t, std::uint32_t>>;

    [[nodiscard]] std::size_t intent_index(std::string_view intent) const {
        const auto it = std::lower_bound(intents_.begin(), intents_.end(), intent);
        return it != intents_.end() && *it == intent ? static_cast<std::size_t>(it - intents_.begin()) : intents_.size();
    }
    // A word whose counts were all left out (detail::lexicon_leave_out) is not known.
    static bool live(const row_type& row) noexcept {
        return std::any_of(row.begin(), row.end(), [](const auto& e) { return e.second > 0; });
    }
    // log(T_k + V): the add-one denominator of P(w | k), T_k the carrier words counted for intent k and V
    // the known words.
    void finish() {
        total_.assign(intents_.size(), 0.0);
        live_words_ = 0;
        for (const auto& [w, row] : counts_) {
            for (const auto& [k, c] : row) total_[k] += c;
            if (live(row)) ++live_words_;
        }
        log_denominator_.assign(intents_.size(), 0.0);
        for (std::size_t k = 0; k < total_.size(); ++k) {
            log_denominator_[k] = std::log(total_[k] + static_cast<double>(live_words_));
        }
    }
    // Adds `delta` (+1 or -1) to the counts of one carrier of intent k; the words must be counted already.
    void adjust(std::size_t k, std::span<const std::string> words, int delta) {
        for (const auto& w : words) {
            auto& row = counts_.find(w)->second;
            const auto at = std::lower_bound(row.begin(), row.end(), std::pair<std::uint32_t, std::uint32_t>(
                                                                         static_cast<std::uint32_t>(k), 0));
            const bool was_live = live(row);
            at->second = static_cast<std::uint32_t>(static_cast<std::int64_t>(at->second) + delta);
            total_[k] += delta;
            if (was_live != live(row)) live_words_ = was_live ? live_words_ - 1 : live_words_ + 1;
        }
        for (std::size_t i = 0; i < total_.size(); ++i) {
            log_denominator_[i] = std::log(total_[i] + static_cast<double>(live_words_));
        }
    }
    static std::string escape(std::string_view s) {
        std::string out;
        for (const char c : s) {
            switch (c) {
                case '\\': out += "\\\\"; break;
                case ' ': out += "\\s"; break;
                case '\t': out += "\\t"; break;
                case '\n': out += "\\n"; break;
                case '\r': out += "\\r"; break;
                default: out += c;
            }
        }
        return out;
    }
    template <class Fail>
    static std::string unescape(std::string_view s, const Fail& fail) {
        std::string out;
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (s[i] != '\\') {
                out += s[i];
                continue;
            }
            const char e = i + 1 < s.size() ? s[++i] : '\0';
            switch (e) {
                case '\\': out += '\\'; break;
                case 's': out += ' '; break;
                case 't': out += '\t'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                default: throw fail(fmt::format("'{}' has an unknown escape", s));
            }
        }
        return out;
    }

    std::vector<std::string> intents_;
    std::map<std::string, row_type, std::less<>> counts_;
    std::vector<double> total_;
    std::size_t live_words_ = 0;
    std::vector<double> log_denominator_;
};

namespace detail {

/// Leaves one carrier of the lexicon's corpus out for as long as it lives (leave-one-out), so that the
/// intent features of a training pair do not see the pair's own failed carrier: a log's failed request is
/// often phrased in a way its successes never were. Does nothing when the intent or a word is not counted.
class lexicon_leave_out {
public:
    lexicon_leave_out(carrier_lexicon& lexicon, std::string_view intent, std::vector<std::string> words)
        : lexicon_(lexicon), k_(lexicon.intent_index(intent)), words_(std::move(words)) {
        if (k_ >= lexicon_.intents_.size()) return;
        for (const auto& w : words_) {
            const auto it = lexicon_.counts_.find(w);
            if (it == lexicon_.counts_.end()) return;
            const auto& row = it->second;
            const auto at = std::find_if(row.begin(), row.end(), [&](const auto& e) { return e.first == k_; });
            if (at == row.end() || at->second == 0) return;
        }
        // A word repeated in the carrier is counted once per occurrence, so each occurrence must be there.
        std::map<std::string_view, std::uint32_t> needed;
        for (const auto& w : words_) ++needed[w];
        for (const auto& [w, n] : needed) {
            const auto& row = lexicon_.counts_.find(w)->second;
            if (std::find_if(row.begin(), row.end(), [&](const auto& e) { return e.first == k_; })->second < n) return;
        }
        lexicon_.adjust(k_, words_, -1);
        active_ = true;
    }
    ~lexicon_leave_out() {
        if (active_) lexicon_.adjust(k_, words_, +1);
    }
    lexicon_leave_out(const lexicon_leave_out&) = delete;
    lexicon_leave_out& operator=(const lexicon_leave_out&) = delete;

private:
    carrier_lexicon& lexicon_;
    std::size_t k_;
    std::vector<std::string> words_;
    bool active_ = false;
};

}  // namespace detail

/// Number of features of paraphrase_features().
inline constexpr std::size_t paraphrase_feature_count = 15;

/// The names of the features of paraphrase_features(), in their fixed order (also the names written in
/// a paraphrase model file):
///  0 `char_similarity`: character_similarity_scorer of the two texts;
///  1 `word_similarity`: word_similarity_scorer of the two texts;
///  2 `length_ratio`: shorter / longer word count (1 when both are empty);
///  3 `jaccard`: shared distinct words / distinct words of either (1 when both are empty);
///  4 `prefix_kept`: common leading words / shorter word count (0 when one is empty);
///  5 `suffix_kept`: common trailing words / shorter word count (0 when one is empty);
///  6 `has_annotation`: 1 when the later turn carries an `annotation` markup, else 0;
///  7 `slot_coverage`: mean over the later turn's slot-value words of the best code-point similarity
///    against any word of the failed turn (a misheard slot word counts partially); 0 without annotation,
///    1 for an annotation without slots (nothing of it is missing from the failed turn);
///  8 `slot_exact`: fraction of the slot-value words found verbatim among the failed turn's words (0
///    without annotation, 1 without slots);
///  9 `slot_min_coverage`: the smallest per-slot coverage (mean over the slot's words), so one changed
///    slot shows; 0 without annotation, 1 without slots;
/// 10 `carrier_similarity`: word similarity of the carrier phrases: the later turn's words outside its
///    slots against the failed turn's words minus those that best match a slot-value word with
///    similarity >= 0.5; 0 without annotation;
/// 11 `intent_known`: 1 when the later turn has an intent that the detector's carrier_lexicon knows;
/// 12 `carrier_intent`: then the lexicon's probability of that intent given the failed turn's carrier
///    words (its words outside those taken by slot values, as in `carrier_similarity`; all its words
///    without annotation), else 0. A request said in another carrier phrase of the same intent scores high
///    here although its carrier similarity is low;
/// 13 `carrier_intent_word`: the largest probability of that intent given one of those carrier words alone
///    (carrier_lexicon::word_intent_probability), else 0: one telling word ("alarm") among filler words
///    ("would you mind to ... thanks") still shows;
/// 14 `later_coverage`: mean over the later turn's words of the best code-point similarity against any
///    word of the failed turn (1 when the later turn has no words): a rephrase that strips a request down
///    to its core is covered by it.
inline constexpr std::array<std::string_view, paraphrase_feature_count> paraphrase_feature_names = {
    "char_similarity", "word_similarity", "length_ratio",      "jaccard",          "prefix_kept",   "suffix_kept",
    "has_annotation",  "slot_coverage",   "slot_exact",        "slot_min_coverage", "carrier_similarity",
    "intent_known",    "carrier_intent",    "carrier_intent_word", "later_coverage"};

/// The features of one pair, in the order of paraphrase_feature_names.
using paraphrase_feature_vector = std::array<double, paraphrase_feature_count>;

/// Slot-aware features of (failed text, later turn's words and slots); see paraphrase_feature_names.
/// `later_annotation` is the later turn's `[slot : value]` markup when it has one (its text is used for
/// the later side then, else `later_text`); `later_intent` its intent, and `lexicon` the carrier words of
/// the intents (no lexicon, or no intent: features 11 to 13 are 0). Every feature is in [0, 1].
/// Time O(m n * word length^2 + m * intents) for m and n words.
/// \throws invalid_utf8 on invalid text; annotation_error (naming the markup) when the markup is malformed.
[[nodiscard]] inline paraphrase_feature_vector paraphrase_features(std::string_view failed_text,
                                                                   std::string_view later_text,
                                                                   const std::optional<std::string>& later_annotation,
                                                                   const std::optional<std::string>& later_intent = {},
                                                                   const carrier_lexicon* lexicon = nullptr) {
    paraphrase_feature_vector f{};
    std::vector<std::string> a = paraphrase_words(failed_text);
    std::vector<std::string> b;
    std::vector<char> in_slot;
    std::vector<std::pair<std::size_t, std::size_t>> slots;  // word ranges of the later turn's slots
    if (later_annotation) {
        annotated_tokens parsed;
        try {
            parsed = parse_markup_tokens(*later_annotation, {.fold_case = true});
        } catch (const annotation_error& e) {
            throw annotation_error(fmt::format("paraphrase features: annotation '{}': {}", *later_annotation, e.what()),
                                   e.position());
        }
        for (auto& t : parsed.tokens) b.push_back(std::move(t.text));
        in_slot.assign(b.size(), 0);
        for (const auto& s : parsed.slots) {
            slots.emplace_back(s.begin, s.end);
            for (std::size_t k = s.begin; k < s.end; ++k) in_slot[k] = 1;
        }
    } else {
        b = paraphrase_words(later_text);
    }
    std::string na, nb;
    for (const auto& w : a) na += (na.empty() ? "" : " ") + w;
    for (const auto& w : b) nb += (nb.empty() ? "" : " ") + w;
    f[0] = character_similarity_scorer::similarity(na, nb);
    f[1] = word_similarity_scorer::similarity(a, b);
    const std::size_t shorter = std::min(a.size(), b.size()), longer = std::max(a.size(), b.size());
    f[2] = longer == 0 ? 1.0 : static_cast<double>(shorter) / static_cast<double>(longer);
    {
        std::set<std::string_view> sa(a.begin(), a.end()), sb(b.begin(), b.end()), all = sa;
        all.insert(sb.begin(), sb.end());
        std::size_t shared = 0;
        for (const auto& w : sa) shared += sb.count(w);
        f[3] = all.empty() ? 1.0 : static_cast<double>(shared) / static_cast<double>(all.size());
    }
    if (shorter > 0) {
        std::size_t p = 0;
        while (p < shorter && a[p] == b[p]) ++p;
        std::size_t s = 0;
        while (s < shorter && a[a.size() - 1 - s] == b[b.size() - 1 - s]) ++s;
        f[4] = static_cast<double>(p) / static_cast<double>(shorter);
        f[5] = static_cast<double>(s) / static_cast<double>(shorter);
    }
    const auto intent_features = [&](std::span<const std::string> carrier) {
        if (lexicon == nullptr || !later_intent) return;
        if (const auto p = lexicon->intent_probability(carrier, *later_intent)) {
            f[11] = 1.0;
            f[12] = *p;
            f[13] = *lexicon->word_intent_probability(carrier, *later_intent);
        }
    };
    std::vector<std::u32string> ca;
    for (const auto& w : a) ca.push_back(decode_utf8(w));
    {
        double sum = 0.0;
        for (const auto& w : b) {
            const std::u32string v = decode_utf8(w);
            double best = 0.0;
            for (const auto& x : ca) best = std::max(best, levenshtein_similarity(x, v));
            sum += best;
        }
        f[14] = b.empty() ? 1.0 : sum / static_cast<double>(b.size());
    }
    if (!later_annotation) {
        intent_features(a);
        return f;
    }
    f[6] = 1.0;
    std::vector<char> taken(a.size(), 0);  // failed words that match a slot-value word
    std::size_t value_words = 0, exact = 0;
    double coverage = 0.0, min_coverage = 1.0;
    for (const auto& [begin, end] : slots) {
        double slot_sum = 0.0;
        for (std::size_t k = begin; k < end; ++k) {
            const std::u32string v = decode_utf8(b[k]);
            double best = 0.0;
            std::size_t best_at = a.size();
            for (std::size_t i = 0; i < ca.size(); ++i) {
                const double s = levenshtein_similarity(ca[i], v);
                if (s > best) {
                    best = s;
                    best_at = i;
                }
            }
            if (best == 1.0) ++exact;
            if (best >= 0.5 && best_at < a.size()) taken[best_at] = 1;
            slot_sum += best;
            ++value_words;
        }
        coverage += slot_sum;
        if (end > begin) min_coverage = std::min(min_coverage, slot_sum / static_cast<double>(end - begin));
    }
    if (value_words > 0) {
        f[7] = coverage / static_cast<double>(value_words);
        f[8] = static_cast<double>(exact) / static_cast<double>(value_words);
        f[9] = min_coverage;
    } else {  // nothing to find: every slot value of the later turn (none) is in the failed turn
        f[7] = f[8] = f[9] = 1.0;
    }
    std::vector<std::string> carrier_a, carrier_b;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (taken[i] == 0) carrier_a.push_back(a[i]);
    }
    for (std::size_t k = 0; k < b.size(); ++k) {
        if (in_slot[k] == 0) carrier_b.push_back(b[k]);
    }
    f[10] = word_similarity_scorer::similarity(carrier_a, carrier_b);
    intent_features(carrier_a);
    return f;
}

/// paraphrase_features(failed.text, later.text, later.annotation, later.intent, lexicon).
/// \throws as the other overload.
[[nodiscard]] inline paraphrase_feature_vector paraphrase_features(const turn& failed, const turn& later,
                                                                   const carrier_lexicon* lexicon = nullptr) {
    return paraphrase_features(failed.text, later.text, later.annotation, later.intent, lexicon);
}

// ---------------------------------------------------------------------------------------------------
// The trained paraphrase detector.
// ---------------------------------------------------------------------------------------------------

/// One training example of the paraphrase detector, shaped like a pair of a session log: a failed turn's
/// text and a later turn with its annotation markup.
struct paraphrase_example {
    std::string failed;            ///< the failed turn's text (possibly with simulated recognition noise)
    std::string later;             ///< the later turn's text
    std::string later_annotation;  ///< the later turn's `[slot : value]` markup; empty when it has none
    std::string later_intent;      ///< the later turn's intent; empty when it has none
    /// The failed side as the corpus had it, before noise (`[slot : value]` markup), and its intent; the
    /// training leaves its carrier out of the lexicon (see paraphrase_feature_matrix). Empty when unknown.
    std::string failed_annotation;
    std::string failed_intent;  ///< see failed_annotation
    bool paraphrase = false;       ///< whether `later` rephrases `failed`
    std::string kind;              ///< how it was made: positive, repeat, slot_negative, intent_negative, unrelated, related

    friend bool operator==(const paraphrase_example&, const paraphrase_example&) = default;
};

/// Options of paraphrase_training_examples() and train_paraphrase_model(). Defaults in brackets.
struct paraphrase_training_options {
    std::uint64_t seed = 1;                 ///< seed of every random choice [1]
    std::size_t positives = 2000;           ///< generator positives: two carriers, same values [2000]
    std::size_t repeats = 1000;             ///< positives repeating one utterance, the failed side noisy [1000]
    // As many negatives as positives, so the detector decides on the evidence with even odds: how often a
    // turn after a failure rephrases it is the log's own, unknown to the generator.
    std::size_t slot_negatives = 750;       ///< generator slot negatives [750]
    std::size_t intent_negatives = 750;     ///< generator intent negatives [750]
    std::size_t unrelated_negatives = 750;  ///< an utterance followed by one of another intent [750]
    /// An utterance followed by another request of the same intent: one with slots whose values differ
    /// (a user who gives up often asks for something related at once) [750].
    std::size_t related_negatives = 750;
    /// Share of examples whose later turn carries no annotation, as in a log where the rephrase failed too
    /// or the NLU gave no markup [0.25]; their slot features are 0 and has_annotation tells the model.
    double unannotated = 0.25;
    /// Share of the annotated examples whose later turn's intent is withheld [0.15], so that the detector
    /// also decides well when a log's intent is one its carrier_lexicon never saw (a saved model used on
    /// another log): the `intent_known` feature tells the model.
    double unknown_intent = 0.15;
    /// Probability that the failed side of an example gets recognition noise [0.7], whatever its label,
    /// so that noise says nothing about the label (hard negatives keep the exact slot values otherwise,
    /// and the model would learn that exact values mean "not a rephrase"). Noise, each part
    /// drawn on its own: one or two character edits on each slot word (probability 0.5 per word), one
    /// dropped word (0.25), the last one or two words cut off (0.15), when the text has words to spare;
    /// one to three intent-neutral words put in front (0.25) and one or two after (0.15), as users wrap a
    /// request in words of their own ("so can you ... please"). Intent-neutral words are the corpus's
    /// carrier words found in the carriers of at least half of its intents (and of two).
    double noise = 0.7;
    double c = 1.0;                         ///< C of the logistic regression [1]
};

namespace detail {

/// A misheard-like variant of a word: one substitution, deletion or insertion of a letter, or a
/// doubled letter. Code points; letters drawn from the word itself and a-z.
inline std::string mishear(std::string_view word, splitmix64& rng) {
    std::u32string w = decode_utf8(word);
    if (w.empty()) return std::string(word);
    const auto letter = [&]() -> char32_t {
        if (rng.below(2) == 0) return w[rng.below(w.size())];
        return static_cast<char32_t>(U'a' + rng.below(26));
    };
    const std::size_t at = rng.below(w.size());
    switch (rng.below(4)) {
        case 0: w[at] = letter(); break;
        case 1:
            if (w.size() > 1) w.erase(at, 1);
            else w[at] = letter();
            break;
        case 2: w.insert(w.begin() + static_cast<std::ptrdiff_t>(at), letter()); break;
        default: w.insert(w.begin() + static_cast<std::ptrdiff_t>(at), w[at]); break;
    }
    return encode_utf8(w);
}

/// The carrier words found in the carriers of at least half of the corpus's intents, and of two; sorted.
inline std::vector<std::string> intent_neutral_words(std::span<const labelled_utterance> corpus) {
    std::map<std::string, std::set<std::string_view>, std::less<>> intents_of;
    std::set<std::string_view> intents;
    for (const auto& u : corpus) {
        intents.insert(u.intent);
        for (auto& w : carrier_words(u.annotation)) intents_of[std::move(w)].insert(u.intent);
    }
    const std::size_t needed = std::max<std::size_t>(2, (intents.size() + 1) / 2);
    std::vector<std::string> neutral;
    for (const auto& [w, in] : intents_of) {
        if (in.size() >= needed) neutral.push_back(w);
    }
    return neutral;
}

/// The text of `u` with recognition noise (see paraphrase_training_options::noise), words joined by
/// single spaces.
inline std::string noisy_text(const annotated_text& u, std::span<const std::string> neutral, splitmix64& rng) {
    const auto tokens = tokenize_annotated(u, {.fold_case = true});
    std::vector<std::string> words;
    for (std::size_t k = 0; k < tokens.tokens.size(); ++k) {
        bool slot = false;
        for (const auto& s : tokens.slots) slot = slot || (k >= s.begin && k < s.end);
        std::string w = tokens.tokens[k].text;
        if (slot && rng.unit() < 0.5) {
            w = mishear(w, rng);
            if (rng.below(4) == 0) w = mishear(w, rng);
        }
        words.push_back(std::move(w));
    }
    if (words.size() > 2 && rng.unit() < 0.25) words.erase(words.begin() + static_cast<std::ptrdiff_t>(rng.below(words.size())));
    if (words.size() > 3 && rng.unit() < 0.15) words.resize(words.size() - 1 - rng.below(2));
    if (!neutral.empty() && rng.unit() < 0.25) {
        std::vector<std::string> front;
        for (std::size_t n = 1 + rng.below(3); n > 0; --n) front.push_back(neutral[rng.below(neutral.size())]);
        words.insert(words.begin(), front.begin(), front.end());
    }
    if (!neutral.empty() && rng.unit() < 0.15) {
        for (std::size_t n = 1 + rng.below(2); n > 0; --n) words.push_back(neutral[rng.below(neutral.size())]);
    }
    std::string text;
    for (const auto& w : words) text += (text.empty() ? "" : " ") + w;
    return text;
}

}  // namespace detail

/// Training examples for the paraphrase detector, shaped like the pairs of a session log (whose
/// negatives are mostly unrelated follow-ups and whose positives are often misheard): the pairs of
/// paraphrase_generator (positives, slot and intent negatives; `failed` is the first utterance,
/// `later` the second), `repeats` positives whose failed side is the same utterance, `unrelated`
/// negatives pairing an utterance with one of another intent, `related` negatives pairing it with another
/// request of its intent whose slot values differ, recognition noise on the failed side and, for a share
/// of examples, no annotation (or no intent) on the later side. Ordered by kind as listed, deterministic
/// for a corpus (same order), options and seed.
/// Time O(corpus * log + examples * text length).
/// \throws invalid_argument when the corpus has fewer than two intents, or as paraphrase_generator.
[[nodiscard]] inline std::vector<paraphrase_example> paraphrase_training_examples(
    std::span<const labelled_utterance> corpus, const paraphrase_training_options& options = {}) {
    std::set<std::string_view> intents;
    for (const auto& u : corpus) intents.insert(u.intent);
    if (intents.size() < 2) {
        throw invalid_argument(fmt::format("paraphrase training: the corpus has {} utterance{} of {} intent{}; it needs "
                                           "at least two intents (negatives pair requests of different intents)",
                                           corpus.size(), corpus.size() == 1 ? "" : "s", intents.size(),
                                           intents.size() == 1 ? "" : "s"));
    }
    if (!(options.noise >= 0.0 && options.noise <= 1.0)) {
        throw invalid_argument(fmt::format("paraphrase training: noise {} is outside [0, 1]", options.noise));
    }
    if (!(options.unannotated >= 0.0 && options.unannotated <= 1.0)) {
        throw invalid_argument(fmt::format("paraphrase training: unannotated {} is outside [0, 1]", options.unannotated));
    }
    if (!(options.unknown_intent >= 0.0 && options.unknown_intent <= 1.0)) {
        throw invalid_argument(
            fmt::format("paraphrase training: unknown_intent {} is outside [0, 1]", options.unknown_intent));
    }
    const auto pairs = generate_paraphrase_pairs(corpus, {.seed = options.seed,
                                                          .positives = options.positives,
                                                          .slot_negatives = options.slot_negatives,
                                                          .intent_negatives = options.intent_negatives});
    detail::splitmix64 rng(options.seed ^ 0x6a09e667f3bcc909ull);
    const std::vector<std::string> neutral = detail::intent_neutral_words(corpus);
    std::vector<paraphrase_example> out;
    auto add = [&](const labelled_utterance& failed_side, const labelled_utterance& later, bool positive,
                   std::string_view kind) {
        const annotated_text& failed = failed_side.annotation;
        std::string f = failed.text;
        if (rng.unit() < options.noise) {
            f = detail::noisy_text(failed, neutral, rng);
            if (f.empty()) f = failed.text;
        }
        std::string markup, intent;
        if (!(rng.unit() < options.unannotated)) {
            markup = to_markup(later.annotation);
            if (!(rng.unit() < options.unknown_intent)) intent = later.intent;
        }
        out.push_back({std::move(f), later.annotation.text, std::move(markup), std::move(intent),
                       to_markup(failed), failed_side.intent, positive, std::string(kind)});
    };
    for (const auto& p : pairs) {
        if (p.kind == pair_kind::positive) add(p.first, p.second, true, "positive");
    }
    for (std::size_t k = 0; k < options.repeats; ++k) {
        const auto& u = corpus[rng.below(corpus.size())];
        add(u, u, true, "repeat");
    }
    for (const auto& p : pairs) {
        if (p.kind != pair_kind::positive) add(p.first, p.second, false, to_string(p.kind));
    }
    for (std::size_t k = 0, attempts = 0; k < options.unrelated_negatives && attempts < 20 * options.unrelated_negatives;
         ++attempts) {
        const auto& a = corpus[rng.below(corpus.size())];
        const auto& b = corpus[rng.below(corpus.size())];
        if (a.intent == b.intent) continue;
        add(a, b, false, "unrelated");
        ++k;
    }
    {
        std::map<std::string_view, std::vector<std::size_t>> by_intent;
        for (std::size_t n = 0; n < corpus.size(); ++n) by_intent[corpus[n].intent].push_back(n);
        const auto values = [](const annotated_text& a) {
            std::set<std::pair<std::string, std::string>> v;
            for (const auto& s : a.slots) v.emplace(s.label, normalize_utterance(a.text.substr(s.begin, s.end - s.begin)));
            return v;
        };
        for (std::size_t k = 0, attempts = 0; k < options.related_negatives && attempts < 20 * options.related_negatives;
             ++attempts) {
            const auto& a = corpus[rng.below(corpus.size())];
            const auto& same = by_intent.at(a.intent);
            const auto& b = corpus[same[rng.below(same.size())]];
            if (b.annotation.slots.empty() || values(a.annotation) == values(b.annotation)) continue;
            add(a, b, false, "related");
            ++k;
        }
    }
    return out;
}

/// The features of training examples, one row per example in order, with labels (1 paraphrase), using
/// `lexicon` for the intent features. An example whose failed side's corpus utterance is known
/// (failed_annotation, failed_intent) is scored with that carrier left out of the lexicon (leave-one-out),
/// so that the detector learns what the intent features look like for a phrasing the lexicon never saw,
/// as a log's failed requests often are. O(examples * feature cost). \throws as paraphrase_features();
/// annotation_error for a malformed failed_annotation.
[[nodiscard]] inline std::pair<Eigen::MatrixXd, Eigen::VectorXd> paraphrase_feature_matrix(
    std::span<const paraphrase_example> examples, const carrier_lexicon& lexicon) {
    Eigen::MatrixXd x(static_cast<Eigen::Index>(examples.size()), static_cast<Eigen::Index>(paraphrase_feature_count));
    Eigen::VectorXd y(static_cast<Eigen::Index>(examples.size()));
    const auto optional = [](const std::string& s) { return s.empty() ? std::nullopt : std::optional<std::string>(s); };
    carrier_lexicon scratch = lexicon;
    for (std::size_t i = 0; i < examples.size(); ++i) {
        const auto& e = examples[i];
        std::optional<detail::lexicon_leave_out> left_out;
        if (!e.failed_annotation.empty() && !e.failed_intent.empty()) {
            left_out.emplace(scratch, e.failed_intent, detail::carrier_words(parse_markup(e.failed_annotation)));
        }
        const auto f = paraphrase_features(e.failed, e.later, optional(e.later_annotation), optional(e.later_intent),
                                           &scratch);
        for (std::size_t k = 0; k < f.size(); ++k) x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k)) = f[k];
        y[static_cast<Eigen::Index>(i)] = e.paraphrase ? 1.0 : 0.0;
    }
    return {std::move(x), std::move(y)};
}

/// The trained paraphrase detector: logistic regression over paraphrase_features(), with the
/// carrier_lexicon of its training corpus for the intent features. It models paraphrase_scorer:
/// `model(failed, later)` is the probability that `later` rephrases `failed`. Immutable; safe to share
/// between threads.
class paraphrase_model {
public:
    /// The `kind` written in a paraphrase model file.
    static constexpr std::string_view kind = "paraphrase";

    /// Wraps a logistic model over the paraphrase features and the lexicon it was trained with. O(d).
    /// \throws invalid_argument when its feature names are not paraphrase_feature_names, in order.
    paraphrase_model(logistic_model model, carrier_lexicon lexicon)
        : model_(std::move(model)), lexicon_(std::move(lexicon)) {
        if (const auto problem = check_names(model_.feature_names())) throw invalid_argument("paraphrase model: " + *problem);
    }

    /// The probability that `later` rephrases `failed`: the model's probability of
    /// paraphrase_features(failed, later, &lexicon()). \throws as paraphrase_features().
    [[nodiscard]] double operator()(const turn& failed, const turn& later) const {
        return probability(paraphrase_features(failed, later, &lexicon_));
    }
    /// The probability of given features. O(features). Never throws.
    [[nodiscard]] double probability(const paraphrase_feature_vector& features) const {
        return model_.probability(features);
    }
    /// The underlying logistic model. O(1).
    [[nodiscard]] const logistic_model& logistic() const noexcept { return model_; }
    /// The carrier lexicon of the intent features. O(1).
    [[nodiscard]] const carrier_lexicon& lexicon() const noexcept { return lexicon_; }

    /// Writes the model file: logistic.hpp's format with kind "paraphrase", then the lexicon
    /// (carrier_lexicon::save). O(features + lexicon size).
    void save(std::ostream& out) const {
        model_.save(out, kind);
        lexicon_.save(out);
    }
    /// Reads a model file written by save(); `source` names it in errors. O(file size).
    /// \throws model_format_error naming the source, line and field for a malformed file, another format
    ///         version, another kind of model, features other than paraphrase_feature_names, or a missing
    ///         or malformed lexicon.
    [[nodiscard]] static paraphrase_model load(std::istream& in, std::string_view source) {
        auto model = logistic_model::load(in, source, kind);
        if (const auto problem = check_names(model.feature_names())) {
            throw model_format_error(fmt::format("{}:4: field 'features': {}", source, *problem), 4);
        }
        auto lexicon = carrier_lexicon::load(in, source, logistic_lines);
        return paraphrase_model(std::move(model), std::move(lexicon));
    }

    /// Equal logistic models and lexicons. O(features + lexicon size).
    friend bool operator==(const paraphrase_model&, const paraphrase_model&) = default;

private:
    static constexpr std::size_t logistic_lines = 9;  // the lines of logistic_model::save

    static std::optional<std::string> check_names(const std::vector<std::string>& names) {
        bool same = names.size() == paraphrase_feature_count;
        for (std::size_t k = 0; same && k < names.size(); ++k) same = names[k] == paraphrase_feature_names[k];
        if (same) return std::nullopt;
        std::string expected;
        for (auto n : paraphrase_feature_names) expected += fmt::format("{}{}", expected.empty() ? "" : " ", n);
        return fmt::format("the features are not this library's paraphrase features ({} of them: {})",
                           paraphrase_feature_count, expected);
    }

    logistic_model model_;
    carrier_lexicon lexicon_;
};

/// Trains the paraphrase detector: a carrier_lexicon of the corpus, and fit_logistic(C = options.c) on
/// paraphrase_feature_matrix(paraphrase_training_examples(corpus, options), lexicon). Deterministic.
/// Time O(corpus * log + examples * feature cost).
/// \throws invalid_argument when the corpus has fewer than two intents or gives no positive or no
///         negative example, or as paraphrase_training_examples().
[[nodiscard]] inline paraphrase_model train_paraphrase_model(std::span<const labelled_utterance> corpus,
                                                             const paraphrase_training_options& options = {}) {
    const auto examples = paraphrase_training_examples(corpus, options);
    carrier_lexicon lexicon(corpus);
    const auto [x, y] = paraphrase_feature_matrix(examples, lexicon);
    const double positives = y.sum();
    if (positives == 0.0 || positives == static_cast<double>(y.size())) {
        throw invalid_argument(fmt::format("paraphrase training: the corpus of {} utterances gave {} positive and {} "
                                           "negative examples; both are needed",
                                           corpus.size(), positives, static_cast<double>(y.size()) - positives));
    }
    std::vector<std::string> names(paraphrase_feature_names.begin(), paraphrase_feature_names.end());
    return paraphrase_model(fit_logistic(x, y, {.c = options.c}, std::move(names)), std::move(lexicon));
}

/// The training corpus of the paraphrase detector, collected from a session log itself: its successful
/// turns that carry an annotation and an intent, each distinct (annotation, intent) once, so that a
/// pipeline needs no external corpus. Bounded and order-free: it keeps at most `capacity` utterances, those
/// whose (annotation, intent) hash smallest (FNV-1a, 64 bits), so the same log gives the same corpus whether
/// it comes grouped by session or sorted by time. Memory O(capacity).
class log_paraphrase_corpus {
public:
    /// Keeps at most `capacity` distinct utterances (0: no bound). O(1).
    explicit log_paraphrase_corpus(std::size_t capacity = 20000) : capacity_(capacity) {}

    /// Offers a turn: kept when its outcome is success and it has an annotation and an intent.
    /// O(|annotation| + log capacity).
    /// \throws annotation_error when the annotation markup is malformed.
    void add(const turn& t) {
        if (t.outcome != turn_outcome::success || !t.annotation || !t.intent || t.intent->empty()) return;
        const std::uint64_t h = fnv1a(*t.annotation, fnv1a(*t.intent, 0xcbf29ce484222325ull));
        key k{h, *t.annotation, *t.intent};
        if (capacity_ != 0 && kept_.size() >= capacity_ && !(k < std::prev(kept_.end())->first)) return;
        if (kept_.contains(k)) return;
        auto annotation = parse_markup(*t.annotation);
        kept_.emplace(std::move(k), labelled_utterance{std::move(annotation), *t.intent});
        if (capacity_ != 0 && kept_.size() > capacity_) kept_.erase(std::prev(kept_.end()));
    }

    /// The corpus, in hash order (independent of the order turns were offered). O(size).
    [[nodiscard]] std::vector<labelled_utterance> corpus() const {
        std::vector<labelled_utterance> result;
        result.reserve(kept_.size());
        for (const auto& [k, u] : kept_) result.push_back(u);
        return result;
    }
    /// Distinct utterances kept. O(1).
    [[nodiscard]] std::size_t size() const noexcept { return kept_.size(); }
    /// Distinct intents among them. O(size).
    [[nodiscard]] std::size_t intents() const {
        std::set<std::string_view> seen;
        for (const auto& [k, u] : kept_) seen.insert(u.intent);
        return seen.size();
    }

private:
    struct key {
        std::uint64_t hash;
        std::string annotation, intent;
        friend auto operator<=>(const key&, const key&) = default;
    };
    static std::uint64_t fnv1a(std::string_view bytes, std::uint64_t h) noexcept {
        for (const char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
        return (h ^ 0xffu) * 0x100000001b3ull;  // a separator, so ("ab", "c") and ("a", "bc") differ
    }

    std::size_t capacity_;
    std::map<key, labelled_utterance> kept_;
};

}  // namespace selflearn
