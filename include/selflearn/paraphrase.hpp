#pragma once
/// \file selflearn/paraphrase.hpp
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

#include <selflearn/annotation.hpp>
#include <selflearn/detail/project_random.hpp>
#include <selflearn/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
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

}  // namespace selflearn
