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
///   same slot labels with the same values.
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
#include <utility>
#include <vector>

#include <fmt/format.h>

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

/// Number of features of paraphrase_features().
inline constexpr std::size_t paraphrase_feature_count = 12;

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
///    against any word of the failed turn (a misheard slot word counts partially); 0 without annotation
///    or slots;
///  8 `slot_exact`: fraction of the slot-value words found verbatim among the failed turn's words;
///  9 `slot_min_coverage`: the smallest per-slot coverage (mean over the slot's words), so one changed
///    slot shows; 0 without annotation or slots;
/// 10 `carrier_similarity`: word similarity of the carrier phrases: the later turn's words outside its
///    slots against the failed turn's words minus those that best match a slot-value word with
///    similarity >= 0.5; 0 without annotation;
/// 11 `slot_fraction`: the later turn's slot-value words / its words; 0 without annotation.
inline constexpr std::array<std::string_view, paraphrase_feature_count> paraphrase_feature_names = {
    "char_similarity", "word_similarity", "length_ratio",      "jaccard",          "prefix_kept",   "suffix_kept",
    "has_annotation",  "slot_coverage",   "slot_exact",        "slot_min_coverage", "carrier_similarity",
    "slot_fraction"};

/// The features of one pair, in the order of paraphrase_feature_names.
using paraphrase_feature_vector = std::array<double, paraphrase_feature_count>;

/// Slot-aware features of (failed text, later turn's words and slots); see paraphrase_feature_names.
/// `later_annotation` is the later turn's `[slot : value]` markup when it has one (its text is used for
/// the later side then, else `later_text`). Every feature is in [0, 1]. Time O(m n * word length^2) for
/// m and n words.
/// \throws invalid_utf8 on invalid text; annotation_error (naming the markup) when the markup is malformed.
[[nodiscard]] inline paraphrase_feature_vector paraphrase_features(std::string_view failed_text,
                                                                   std::string_view later_text,
                                                                   const std::optional<std::string>& later_annotation) {
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
    if (!later_annotation) return f;
    f[6] = 1.0;
    std::vector<std::u32string> ca;
    for (const auto& w : a) ca.push_back(decode_utf8(w));
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
    }
    std::vector<std::string> carrier_a, carrier_b;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (taken[i] == 0) carrier_a.push_back(a[i]);
    }
    for (std::size_t k = 0; k < b.size(); ++k) {
        if (in_slot[k] == 0) carrier_b.push_back(b[k]);
    }
    f[10] = word_similarity_scorer::similarity(carrier_a, carrier_b);
    f[11] = b.empty() ? 0.0 : static_cast<double>(value_words) / static_cast<double>(b.size());
    return f;
}

/// paraphrase_features(failed.text, later.text, later.annotation). \throws as the other overload.
[[nodiscard]] inline paraphrase_feature_vector paraphrase_features(const turn& failed, const turn& later) {
    return paraphrase_features(failed.text, later.text, later.annotation);
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
    bool paraphrase = false;       ///< whether `later` rephrases `failed`
    std::string kind;              ///< how it was made: positive, repeat, slot_negative, intent_negative, unrelated

    friend bool operator==(const paraphrase_example&, const paraphrase_example&) = default;
};

/// Options of paraphrase_training_examples() and train_paraphrase_model(). Defaults in brackets.
struct paraphrase_training_options {
    std::uint64_t seed = 1;                 ///< seed of every random choice [1]
    std::size_t positives = 2000;           ///< generator positives: two carriers, same values [2000]
    std::size_t repeats = 1000;             ///< positives repeating one utterance, the failed side noisy [1000]
    std::size_t slot_negatives = 1000;      ///< generator slot negatives [1000]
    std::size_t intent_negatives = 1000;    ///< generator intent negatives [1000]
    std::size_t unrelated_negatives = 3000; ///< an utterance followed by one of another intent [3000]
    /// Share of examples whose later turn carries no annotation, as in a log where the rephrase failed too
    /// or the NLU gave no markup [0.25]; their slot features are 0 and has_annotation tells the model.
    double unannotated = 0.25;
    /// Probability that the failed side of an example gets recognition noise [0.7], whatever its label,
    /// so that noise says nothing about the label (hard negatives keep the exact slot values otherwise,
    /// and the model would learn that exact values mean "not a rephrase"). Noise, each part
    /// drawn on its own: one or two character edits on each slot word (probability 0.5 per word), one
    /// dropped word (0.25), the last one or two words cut off (0.15), when the text has words to spare.
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

/// The text of `u` with recognition noise (see paraphrase_training_options::noise), words joined by
/// single spaces.
inline std::string noisy_text(const annotated_text& u, splitmix64& rng) {
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
    std::string text;
    for (const auto& w : words) text += (text.empty() ? "" : " ") + w;
    return text;
}

}  // namespace detail

/// Training examples for the paraphrase detector, shaped like the pairs of a session log (whose
/// negatives are mostly unrelated follow-ups and whose positives are often misheard): the pairs of
/// paraphrase_generator (positives, slot and intent negatives; `failed` is the first utterance,
/// `later` the second), `repeats` positives whose failed side is the same utterance, `unrelated`
/// negatives pairing an utterance with one of another intent, recognition noise on the failed side and,
/// for a share of examples, no annotation on the later side. Ordered by kind as listed, deterministic for
/// a corpus (same order), options and seed.
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
    const auto pairs = generate_paraphrase_pairs(corpus, {.seed = options.seed,
                                                          .positives = options.positives,
                                                          .slot_negatives = options.slot_negatives,
                                                          .intent_negatives = options.intent_negatives});
    detail::splitmix64 rng(options.seed ^ 0x6a09e667f3bcc909ull);
    std::vector<paraphrase_example> out;
    auto add = [&](const annotated_text& failed, const annotated_text& later, bool positive, std::string_view kind) {
        std::string f = failed.text;
        if (rng.unit() < options.noise) {
            f = detail::noisy_text(failed, rng);
            if (f.empty()) f = failed.text;
        }
        std::string markup = rng.unit() < options.unannotated ? std::string() : to_markup(later);
        out.push_back({std::move(f), later.text, std::move(markup), positive, std::string(kind)});
    };
    for (const auto& p : pairs) {
        if (p.kind == pair_kind::positive) add(p.first.annotation, p.second.annotation, true, "positive");
    }
    for (std::size_t k = 0; k < options.repeats; ++k) {
        const auto& u = corpus[rng.below(corpus.size())];
        add(u.annotation, u.annotation, true, "repeat");
    }
    for (const auto& p : pairs) {
        if (p.kind != pair_kind::positive) add(p.first.annotation, p.second.annotation, false, to_string(p.kind));
    }
    for (std::size_t k = 0, attempts = 0; k < options.unrelated_negatives && attempts < 20 * options.unrelated_negatives;
         ++attempts) {
        const auto& a = corpus[rng.below(corpus.size())];
        const auto& b = corpus[rng.below(corpus.size())];
        if (a.intent == b.intent) continue;
        add(a.annotation, b.annotation, false, "unrelated");
        ++k;
    }
    return out;
}

/// The trained paraphrase detector: logistic regression over paraphrase_features(). It models
/// paraphrase_scorer: `model(failed, later)` is the probability that `later` rephrases `failed`.
class paraphrase_model {
public:
    /// The `kind` written in a paraphrase model file.
    static constexpr std::string_view kind = "paraphrase";

    /// Wraps a logistic model over the paraphrase features. O(d).
    /// \throws invalid_argument when its feature names are not paraphrase_feature_names, in order.
    explicit paraphrase_model(logistic_model model) : model_(std::move(model)) {
        if (const auto problem = check_names(model_.feature_names())) throw invalid_argument("paraphrase model: " + *problem);
    }

    /// The probability that `later` rephrases `failed`: the model's probability of
    /// paraphrase_features(failed, later). \throws as paraphrase_features().
    [[nodiscard]] double operator()(const turn& failed, const turn& later) const {
        return probability(paraphrase_features(failed, later));
    }
    /// The probability of given features. O(features). Never throws.
    [[nodiscard]] double probability(const paraphrase_feature_vector& features) const {
        return model_.probability(features);
    }
    /// The underlying logistic model. O(1).
    [[nodiscard]] const logistic_model& logistic() const noexcept { return model_; }

    /// Writes the model file (logistic.hpp's format, kind "paraphrase"). O(features).
    void save(std::ostream& out) const { model_.save(out, kind); }
    /// Reads a model file written by save(); `source` names it in errors. O(file size).
    /// \throws model_format_error naming the source, line and field for a malformed file, another format
    ///         version, another kind of model, or features other than paraphrase_feature_names.
    [[nodiscard]] static paraphrase_model load(std::istream& in, std::string_view source) {
        auto model = logistic_model::load(in, source, kind);
        if (const auto problem = check_names(model.feature_names())) {
            throw model_format_error(fmt::format("{}:4: field 'features': {}", source, *problem), 4);
        }
        return paraphrase_model(std::move(model));
    }

    /// Equal logistic models. O(features).
    friend bool operator==(const paraphrase_model&, const paraphrase_model&) = default;

private:
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
};

/// The features of training examples, one row per example in order, with labels (1 paraphrase).
/// O(examples * feature cost). \throws as paraphrase_features().
[[nodiscard]] inline std::pair<Eigen::MatrixXd, Eigen::VectorXd> paraphrase_feature_matrix(
    std::span<const paraphrase_example> examples) {
    Eigen::MatrixXd x(static_cast<Eigen::Index>(examples.size()), static_cast<Eigen::Index>(paraphrase_feature_count));
    Eigen::VectorXd y(static_cast<Eigen::Index>(examples.size()));
    for (std::size_t i = 0; i < examples.size(); ++i) {
        const auto& e = examples[i];
        const auto f = paraphrase_features(
            e.failed, e.later, e.later_annotation.empty() ? std::nullopt : std::optional<std::string>(e.later_annotation));
        for (std::size_t k = 0; k < f.size(); ++k) x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k)) = f[k];
        y[static_cast<Eigen::Index>(i)] = e.paraphrase ? 1.0 : 0.0;
    }
    return {std::move(x), std::move(y)};
}

/// Trains the paraphrase detector on paraphrase_training_examples(corpus, options) with
/// fit_logistic(C = options.c). Deterministic. Time O(corpus * log + examples * feature cost).
/// \throws invalid_argument when the corpus has fewer than two intents or gives no positive or no
///         negative example, or as paraphrase_training_examples().
[[nodiscard]] inline paraphrase_model train_paraphrase_model(std::span<const labelled_utterance> corpus,
                                                             const paraphrase_training_options& options = {}) {
    const auto examples = paraphrase_training_examples(corpus, options);
    const auto [x, y] = paraphrase_feature_matrix(examples);
    const double positives = y.sum();
    if (positives == 0.0 || positives == static_cast<double>(y.size())) {
        throw invalid_argument(fmt::format("paraphrase training: the corpus of {} utterances gave {} positive and {} "
                                           "negative examples; both are needed",
                                           corpus.size(), positives, static_cast<double>(y.size()) - positives));
    }
    std::vector<std::string> names(paraphrase_feature_names.begin(), paraphrase_feature_names.end());
    return paraphrase_model(fit_logistic(x, y, {.c = options.c}, std::move(names)));
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
