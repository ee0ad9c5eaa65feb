#pragma once
/// \file selflearn/project.hpp
/// Label projection: carries the slot labels (and the intent) of a successful rephrase onto the failed
/// request that preceded it, as in the paraphrase-annotation system of "Leveraging user paraphrasing behavior
/// in dialog systems to automatically collect annotations for long-tail utterances" (COLING 2020).
///
/// Each word of the source (the successful, annotated utterance) maps onto one word of the target (the
/// failed utterance) or onto nothing, each target word receiving at most one source word. The mapping
/// minimises, exactly or approximately depending on the method,
///
///     sum over mapped pairs (i, j) of pair_cost(i, j)  +  (threshold + context_weight) * unmapped source words
///
/// with pair_cost(i, j) = word_cost(i, j) + context_weight * context(i, j), where word_cost is the pluggable
/// word-to-word cost (default: normalised code-point Levenshtein distance, case-folded), a pair whose word
/// cost is above `threshold` is never mapped, and context(i, j) in [0, 1] is the mean of the word costs of
/// the left neighbours (i-1, j-1) and of the right neighbours (i+1, j+1), each capped at 1 (a pair above the
/// threshold counts 1; two sequence edges count 0, an edge against a word counts 1). The context term breaks
/// ties between equal words (`the`, `to`, ...) toward the copy whose neighbours also match.
///
/// Methods: `greedy` (the paper's: source words in order, each takes the free target word of least pair
/// cost), `optimal` (the exact minimum over all one-to-one mappings, order-free: Hungarian method) and
/// `monotone` (the exact minimum over mappings that keep the word order: dynamic programming). Then each
/// source slot lands on the target words of its words; see slot_status and slot_policy for what happens
/// when they are not one contiguous run. The intent needs no mapping: the rephrase's intent is the failed
/// request's intent, so callers carry it over unchanged for every accepted projection.

#include <selflearn/align.hpp>
#include <selflearn/annotation.hpp>
#include <selflearn/detail/project_assign.hpp>
#include <selflearn/error.hpp>
#include <selflearn/tokenize.hpp>
#include <selflearn/utf8.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/core.h>

namespace selflearn {

/// How source words are mapped onto target words.
enum class projection_method {
    greedy,   ///< the paper's: words in order, each to the free word of least cost. O(n * m)
    optimal,  ///< minimum total cost over all one-to-one mappings (Hungarian). O(n^2 * (n + m))
    monotone, ///< minimum total cost over order-preserving mappings (dynamic programming). O(n * m)
};

/// "greedy", "optimal" or "monotone". O(1); never throws.
[[nodiscard]] constexpr std::string_view to_string(projection_method method) noexcept {
    switch (method) {
        case projection_method::greedy: return "greedy";
        case projection_method::optimal: return "optimal";
        case projection_method::monotone: return "monotone";
    }
    return "unknown";
}

/// Parses "greedy", "optimal" or "monotone". O(1).
/// \throws invalid_argument naming the text for anything else.
[[nodiscard]] inline projection_method parse_projection_method(std::string_view name) {
    if (name == "greedy") return projection_method::greedy;
    if (name == "optimal") return projection_method::optimal;
    if (name == "monotone") return projection_method::monotone;
    throw invalid_argument(
        fmt::format("unknown projection method '{}': expected greedy, optimal or monotone", name));
}

/// What happens to a slot (or to the example) in a given situation.
enum class slot_policy {
    keep,            ///< keep the slot (for a split slot: the span from its first to its last target word)
    drop_slot,       ///< leave the slot out and keep the rest of the example
    reject_example,  ///< reject the whole example (the projection gives no annotation)
};

/// What happened to the words of one source slot.
enum class slot_status {
    mapped,    ///< every word mapped; they form one contiguous run of target words
    partial,   ///< some words mapped to nothing; the others form one contiguous run
    split,     ///< the words landed on target words separated by a word mapped from outside the slot
    unmapped,  ///< no word of the slot maps onto the target
};

/// "mapped", "partial", "split" or "unmapped". O(1); never throws.
[[nodiscard]] constexpr std::string_view to_string(slot_status status) noexcept {
    switch (status) {
        case slot_status::mapped: return "mapped";
        case slot_status::partial: return "partial";
        case slot_status::split: return "split";
        case slot_status::unmapped: return "unmapped";
    }
    return "unknown";
}

/// Options of project() and projector.
struct projection_options {
    /// How words are mapped. Default: `optimal`, the exact minimum (see docs/projection.md for the evaluation).
    projection_method method = projection_method::optimal;
    /// Largest word cost at which a source word may map onto a target word; above it the pair is never
    /// used. With the default cost: at most half of the longer word's code points edited. Finite, >= 0.
    double threshold = 0.5;
    /// Weight of the neighbour-context term in a pair's cost (see the header's description). Finite, >= 0;
    /// 0 gives the paper's plain word costs.
    double context_weight = 0.01;
    /// A slot of which only some words mapped (the rest forming one run): keep it on those words.
    slot_policy on_partial = slot_policy::keep;
    /// A slot whose words are not one run of target words: reject the example by default.
    slot_policy on_split = slot_policy::reject_example;
    /// A slot none of whose words maps: reject the example by default (`keep` is not allowed here).
    slot_policy on_unmapped = slot_policy::reject_example;
    /// Undo a word split by misrecognition (`weekend` heard as `week end`): a target word next to a slot's
    /// first or last target word, mapped from nothing, joins the slot when the source word mapped there
    /// costs less against the two target words written together than against its own word alone.
    bool join_split_words = true;
};

/// The outcome for one source slot.
struct slot_projection {
    token_span source;                 ///< the slot in the source tokens (with its label)
    slot_status status;                ///< what happened to its words
    bool kept;                         ///< whether the slot is in projection_result::slots
    std::optional<token_span> target;  ///< where it landed in the target tokens (when kept)
    std::size_t mapped_words;          ///< how many of its source words mapped onto a target word
    double cost;                       ///< the sum of the word costs of its mapped words

    friend bool operator==(const slot_projection&, const slot_projection&) = default;
};

/// Sentinel of projection_result::word_map and word_mapping::target: the word maps onto nothing.
inline constexpr std::size_t no_word = detail::unmapped_word;

/// The result of projecting one source utterance onto one target.
struct projection_result {
    bool accepted = true;                  ///< false when a slot policy rejected the example
    std::string reason;                    ///< why it was rejected (empty when accepted)
    std::vector<token_span> slots;         ///< projected slots over the target tokens, sorted (empty if rejected)
    std::vector<slot_projection> details;  ///< one per source slot, in source order
    std::vector<std::size_t> word_map;     ///< target token of each source token, or no_word
    double cost = 0;  ///< sum of the word costs of mapped words + threshold per unmapped source word

    friend bool operator==(const projection_result&, const projection_result&) = default;
};

/// A word-to-word cost: non-negative, finite or +inf (never mapped). Called with the two tokens' texts.
template <class C>
concept word_cost_function = std::copy_constructible<C> && requires(const C& c, std::string_view a, std::string_view b) {
    { c(a, b) } -> std::convertible_to<double>;
};

/// The default word cost: Levenshtein distance over code points divided by the longer word's length in
/// code points (0 for two empty words), after folding case (tokenize.hpp's fold_case rule) unless
/// `fold_case` is false. In [0, 1]. O(|a| + |b| + ceil(|a|/64) * |b|).
struct levenshtein_word_cost {
    bool fold_case = true;  ///< compare case-folded code points (tokenize.hpp's rule)

    /// The cost of mapping word `a` onto word `b`.
    /// \throws invalid_utf8 when a word is not valid UTF-8.
    [[nodiscard]] double operator()(std::string_view a, std::string_view b) const {
        std::u32string x = decode_utf8(a);
        std::u32string y = decode_utf8(b);
        if (fold_case) {
            for (auto& c : x) c = detail::fold_case(c);
            for (auto& c : y) c = detail::fold_case(c);
        }
        return levenshtein_normalized_distance(x, y);
    }
};

/// A word mapping computed on a cost matrix.
struct word_mapping {
    std::vector<std::size_t> target;  ///< for each row (source word) its column (target word), or no_word
    double cost = 0;                  ///< the objective: mapped pair costs + unmatched_cost per unmapped row

    friend bool operator==(const word_mapping&, const word_mapping&) = default;
};

/// Maps rows (source words) onto columns (target words) of a row-major `rows` x `cols` cost matrix with the
/// given method: one-to-one, a pair of cost above `unmatched_cost` (or +inf) never used, each unmapped row
/// costing `unmatched_cost`, unmapped columns free. `optimal` and `monotone` return a minimum of that
/// objective over all one-to-one, respectively order-preserving, mappings; `greedy` the paper's
/// approximation (rows in order, each to the free column of least cost, lowest index on ties).
/// Time: see projection_method. Allocates its result and, per call, small buffers.
/// \throws invalid_argument when costs.size() != rows * cols, a cost is negative or NaN, or
///         `unmatched_cost` is negative or not finite.
[[nodiscard]] inline word_mapping map_words(std::span<const double> costs, std::size_t rows, std::size_t cols,
                                            double unmatched_cost, projection_method method) {
    detail::check_cost_matrix(costs, rows, cols, unmatched_cost);
    detail::assignment_workspace ws;
    word_mapping result;
    switch (method) {
        case projection_method::greedy: detail::map_greedy(costs, rows, cols, unmatched_cost, ws, result.target); break;
        case projection_method::optimal: detail::map_optimal(costs, rows, cols, unmatched_cost, ws, result.target); break;
        case projection_method::monotone: detail::map_monotone(costs, rows, cols, unmatched_cost, ws, result.target); break;
    }
    result.cost = detail::mapping_cost(costs, cols, unmatched_cost, result.target);
    return result;
}

/// Projects annotated source utterances onto target token sequences, reusing its buffers so that a loop
/// over many pairs allocates only the results. One per thread (not thread-safe).
template <word_cost_function Cost = levenshtein_word_cost>
class projector {
public:
    /// \throws invalid_argument when the options are invalid (see set_options()).
    explicit projector(const projection_options& options = {}, Cost cost = Cost{}) : cost_(std::move(cost)) {
        set_options(options);
    }

    /// Replaces the options. O(1).
    /// \throws invalid_argument when `threshold` or `context_weight` is negative or not finite, or
    ///         `on_unmapped` is slot_policy::keep.
    void set_options(const projection_options& options) {
        if (!std::isfinite(options.threshold) || options.threshold < 0) {
            throw invalid_argument(
                fmt::format("projection: threshold must be finite and >= 0, got {}", options.threshold));
        }
        if (!std::isfinite(options.context_weight) || options.context_weight < 0) {
            throw invalid_argument(
                fmt::format("projection: context_weight must be finite and >= 0, got {}", options.context_weight));
        }
        if (options.on_unmapped == slot_policy::keep) {
            throw invalid_argument("projection: on_unmapped cannot be 'keep' (an unmapped slot lands nowhere); "
                                   "use drop_slot or reject_example");
        }
        options_ = options;
        limits_.clear();
    }

    /// The current options. O(1).
    [[nodiscard]] const projection_options& options() const noexcept { return options_; }

    /// Projects the slots of `source` onto `target` (see the header's description). An empty target (or
    /// source) is allowed: every source slot is then unmapped. Time: n * m word costs plus the method's
    /// time (n source, m target tokens).
    /// \throws annotation_error when a source slot is empty, out of range, unsorted or overlapping, or has
    ///         an invalid label; invalid_argument when the word cost returns a negative or NaN value (naming
    ///         the two words); invalid_utf8 (default cost) for a token that is not valid UTF-8.
    [[nodiscard]] projection_result project(const annotated_tokens& source, std::span<const token> target) {
        check_source(source);
        const std::size_t n = source.tokens.size();
        const std::size_t m = target.size();
        fill_word_costs(source.tokens, target);
        fill_pair_costs(n, m);
        const double unmatched = options_.threshold + options_.context_weight;
        projection_result result;
        switch (options_.method) {
            case projection_method::greedy: detail::map_greedy(pair_, n, m, unmatched, ws_, result.word_map); break;
            case projection_method::optimal: detail::map_optimal(pair_, n, m, unmatched, ws_, result.word_map); break;
            case projection_method::monotone:
                detail::map_monotone(pair_, n, m, unmatched, ws_, result.word_map);
                break;
        }
        for (std::size_t i = 0; i < n; ++i) {
            result.cost += result.word_map[i] == no_word ? options_.threshold : word_[i * m + result.word_map[i]];
        }
        place_slots(source, target, result);
        return result;
    }

private:
    static void check_source(const annotated_tokens& source) {
        std::size_t previous_end = 0;
        for (std::size_t k = 0; k < source.slots.size(); ++k) {
            const auto& s = source.slots[k];
            if (s.begin >= s.end || s.end > source.tokens.size() || s.begin < previous_end) {
                throw annotation_error(fmt::format("projection: source slot {} ('{}') [{}, {}) is empty, overlaps the "
                                                   "previous one or lies outside the {} source tokens",
                                                   k, s.label, s.begin, s.end, source.tokens.size()),
                                       k);
            }
            detail::check_label(s.label, k);
            previous_end = s.end;
        }
    }

    // distance_limit(length), from a table for short words.
    [[nodiscard]] std::size_t cached_limit(std::size_t length) {
        if (length >= 64) return distance_limit(length);
        if (limits_.empty()) {
            for (std::size_t l = 0; l < 64; ++l) limits_.push_back(distance_limit(l));
        }
        return limits_[length];
    }

    // The largest edit distance d with d / length <= threshold, computed with the same division.
    [[nodiscard]] std::size_t distance_limit(std::size_t length) const {
        const double l = static_cast<double>(length);
        auto d = static_cast<std::size_t>(std::min(options_.threshold, 1.0) * l);
        while (d < length && static_cast<double>(d + 1) / l <= options_.threshold) ++d;
        while (d > 0 && static_cast<double>(d) / l > options_.threshold) --d;
        return d;
    }

    // Code points of every token, back to back (case-folded as the cost says), where each starts, and a
    // 64-bit mask of the code points each contains (bit cp % 64) for a quick lower bound on distances.
    void decode_tokens(std::span<const token> tokens, std::vector<char32_t>& units, std::vector<std::size_t>& start,
                       std::vector<std::uint64_t>& masks) {
        std::size_t bytes = 0;
        for (const auto& t : tokens) bytes += t.text.size();
        units.resize(bytes);  // a code point takes at least one byte
        start.resize(tokens.size() + 1);
        masks.resize(tokens.size());
        const bool fold = cost_.fold_case;
        std::size_t at = 0;
        for (std::size_t k = 0; k < tokens.size(); ++k) {
            const std::string& text = tokens[k].text;
            start[k] = at;
            std::uint64_t mask = 0;
            std::size_t pos = 0;
            while (pos < text.size()) {
                char32_t u = static_cast<unsigned char>(text[pos]);
                if (u < 0x80) {
                    ++pos;
                    if (fold && u >= U'A' && u <= U'Z') u += 0x20;
                } else {
                    auto cp = detail::decode_one(text, pos);
                    if (!cp) validate_utf8(text, "token");  // throws with the offset
                    u = fold ? detail::fold_case(*cp) : *cp;
                }
                units[at++] = u;
                mask |= std::uint64_t{1} << (u % 64);
            }
            masks[k] = mask;
        }
        start[tokens.size()] = at;
    }

    // word_[i * m + j]: the word cost when at most the threshold, +inf otherwise.
    void fill_word_costs(std::span<const token> source, std::span<const token> target) {
        const std::size_t n = source.size();
        const std::size_t m = target.size();
        const double inf = std::numeric_limits<double>::infinity();
        word_.assign(n * m, inf);
        if constexpr (std::is_same_v<Cost, levenshtein_word_cost>) {
            decode_tokens(source, source_units_, source_start_, source_mask_);
            decode_tokens(target, target_units_, target_start_, target_mask_);
            for (std::size_t i = 0; i < n; ++i) {
                const std::u32string_view a(source_units_.data() + source_start_[i], source_start_[i + 1] - source_start_[i]);
                for (std::size_t j = 0; j < m; ++j) {
                    const std::u32string_view b(target_units_.data() + target_start_[j],
                                                target_start_[j + 1] - target_start_[j]);
                    const std::size_t longest = std::max(a.size(), b.size());
                    if (a.size() == b.size() && source_mask_[i] == target_mask_[j] && a == b) {
                        word_[i * m + j] = 0;
                        continue;
                    }
                    const std::size_t limit = cached_limit(longest);
                    const std::size_t gap = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
                    if (gap > limit) continue;
                    // Each code point of one word that the other lacks needs an edit of its own; masks that
                    // share a bit only weaken this bound, never break it.
                    const auto only_a = static_cast<std::size_t>(std::popcount(source_mask_[i] & ~target_mask_[j]));
                    const auto only_b = static_cast<std::size_t>(std::popcount(target_mask_[j] & ~source_mask_[i]));
                    if (std::max(only_a, only_b) > limit) continue;
                    if (auto d = levenshtein_distance(a, b, limit, align_ws_)) {
                        word_[i * m + j] = static_cast<double>(*d) / static_cast<double>(longest);
                    }
                }
            }
        } else {
            for (std::size_t i = 0; i < n; ++i) {
                for (std::size_t j = 0; j < m; ++j) {
                    const double c = static_cast<double>(cost_(source[i].text, target[j].text));
                    if (std::isnan(c) || c < 0) {
                        throw invalid_argument(fmt::format("projection: the word cost of '{}' -> '{}' is {}; "
                                                           "costs must be >= 0 (or +inf)",
                                                           source[i].text, target[j].text, c));
                    }
                    if (c <= options_.threshold) word_[i * m + j] = c;
                }
            }
        }
    }

    void fill_pair_costs(std::size_t n, std::size_t m) {
        pair_ = word_;
        const double weight = options_.context_weight;
        if (weight == 0) return;
        auto capped = [&](std::size_t i, std::size_t j) { return std::min(1.0, word_[i * m + j]); };
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = 0; j < m; ++j) {
                double& c = pair_[i * m + j];
                if (!std::isfinite(c)) continue;
                const double left = (i > 0 && j > 0) ? capped(i - 1, j - 1) : (i == 0 && j == 0 ? 0.0 : 1.0);
                const double right = (i + 1 < n && j + 1 < m) ? capped(i + 1, j + 1)
                                                              : (i + 1 == n && j + 1 == m ? 0.0 : 1.0);
                c += weight * 0.5 * (left + right);
            }
        }
    }

    // The cost of source word i against target words a and a + 1 written together, when at most the threshold.
    [[nodiscard]] double joined_cost(std::size_t i, std::span<const token> target, std::size_t a,
                                     std::span<const token> source) {
        double c = 0;
        if constexpr (std::is_same_v<Cost, levenshtein_word_cost>) {
            joined_.assign(target_units_.begin() + static_cast<std::ptrdiff_t>(target_start_[a]),
                           target_units_.begin() + static_cast<std::ptrdiff_t>(target_start_[a + 2]));
            const std::u32string_view w(source_units_.data() + source_start_[i], source_start_[i + 1] - source_start_[i]);
            c = levenshtein_normalized_distance(w, std::u32string_view(joined_));
        } else {
            c = static_cast<double>(cost_(source[i].text, target[a].text + target[a + 1].text));
        }
        return c;
    }

    void place_slots(const annotated_tokens& source, std::span<const token> target, projection_result& result) {
        const std::size_t m = target.size();
        auto& source_of = source_of_;
        source_of.assign(m, no_word);
        for (std::size_t i = 0; i < result.word_map.size(); ++i) {
            if (result.word_map[i] != no_word) source_of[result.word_map[i]] = i;
        }
        auto reject = [&](std::string reason) {
            if (result.accepted) {
                result.accepted = false;
                result.reason = std::move(reason);
            }
        };
        for (std::size_t k = 0; k < source.slots.size(); ++k) {
            const auto& s = source.slots[k];
            slot_projection p{s, slot_status::unmapped, false, std::nullopt, 0, 0.0};
            std::size_t lo = no_word;
            std::size_t hi = 0;
            for (std::size_t t = s.begin; t < s.end; ++t) {
                const std::size_t j = result.word_map[t];
                if (j == no_word) continue;
                ++p.mapped_words;
                p.cost += word_[t * m + j];
                lo = std::min(lo, j);
                hi = std::max(hi, j);
            }
            auto where = [&] { return fmt::format("slot {} '{}' (source tokens {}-{})", k, s.label, s.begin, s.end); };
            slot_policy policy = slot_policy::keep;
            if (p.mapped_words == 0) {
                policy = options_.on_unmapped;
                if (policy == slot_policy::reject_example) reject(where() + ": no word maps onto the target");
            } else {
                bool crossed = false;
                for (std::size_t j = lo; j <= hi && !crossed; ++j) {
                    crossed = source_of[j] != no_word && (source_of[j] < s.begin || source_of[j] >= s.end);
                }
                if (crossed) {
                    p.status = slot_status::split;
                    policy = options_.on_split;
                    if (policy == slot_policy::reject_example) {
                        reject(where() + fmt::format(": its words land on target tokens {}-{} around words from "
                                                   "outside the slot",
                                                   lo, hi + 1));
                    }
                } else if (p.mapped_words < s.end - s.begin) {
                    p.status = slot_status::partial;
                    policy = options_.on_partial;
                    if (policy == slot_policy::reject_example) {
                        reject(where() + fmt::format(": only {} of its {} words map onto the target", p.mapped_words,
                                                   s.end - s.begin));
                    }
                } else {
                    p.status = slot_status::mapped;
                }
                if (options_.join_split_words && !crossed) join_split(source, target, source_of, p, lo, hi);
            }
            if (policy == slot_policy::keep) {
                p.kept = true;
                p.target = token_span{s.label, lo, hi + 1};
                result.slots.push_back(*p.target);
            }
            result.details.push_back(std::move(p));
        }
        std::sort(result.slots.begin(), result.slots.end(),
                  [](const token_span& x, const token_span& y) { return x.begin < y.begin; });
        for (std::size_t k = 1; k < result.slots.size() && result.accepted; ++k) {
            if (result.slots[k].begin < result.slots[k - 1].end) {
                reject(fmt::format("kept slots '{}' (target tokens {}-{}) and '{}' (target tokens {}-{}) overlap",
                                   result.slots[k - 1].label, result.slots[k - 1].begin, result.slots[k - 1].end,
                                   result.slots[k].label, result.slots[k].begin, result.slots[k].end));
            }
        }
        if (!result.accepted) {
            result.slots.clear();
            for (auto& d : result.details) {
                d.kept = false;
                d.target.reset();
            }
        }
    }

    // Extends [lo, hi] by one free target word on either side when it is the other half of a split word.
    void join_split(const annotated_tokens& source, std::span<const token> target, std::vector<std::size_t>& source_of,
                    slot_projection& p, std::size_t& lo, std::size_t& hi) {
        const std::size_t m = target.size();
        if (lo > 0 && source_of[lo - 1] == no_word) {
            const std::size_t i = source_of[lo];
            const double joined = joined_cost(i, target, lo - 1, source.tokens);
            if (joined < word_[i * m + lo]) {
                p.cost += joined - word_[i * m + lo];
                source_of[--lo] = i;
            }
        }
        if (hi + 1 < m && source_of[hi + 1] == no_word) {
            const std::size_t i = source_of[hi];
            const double joined = joined_cost(i, target, hi, source.tokens);
            if (joined < word_[i * m + hi]) {
                p.cost += joined - word_[i * m + hi];
                source_of[++hi] = i;
            }
        }
    }

    projection_options options_;
    Cost cost_;
    detail::assignment_workspace ws_;
    levenshtein_workspace align_ws_;
    std::vector<double> word_, pair_;
    std::vector<char32_t> source_units_, target_units_;
    std::u32string joined_;
    std::vector<std::size_t> source_of_, limits_;
    std::vector<std::size_t> source_start_, target_start_;
    std::vector<std::uint64_t> source_mask_, target_mask_;
};

/// Projects the slots of `source` onto the `target` tokens with the default word cost (see projector::
/// project()). Uses a projector kept per thread, so repeated calls do not reallocate their buffers.
/// \throws as projector's constructor and projector::project().
[[nodiscard]] inline projection_result project(const annotated_tokens& source, std::span<const token> target,
                                               const projection_options& options = {}) {
    thread_local projector<> reusable;
    reusable.set_options(options);
    return reusable.project(source, target);
}

/// Projects with a custom word cost (a fresh projector per call).
/// \throws as projector's constructor and projector::project().
template <word_cost_function Cost>
[[nodiscard]] projection_result project(const annotated_tokens& source, std::span<const token> target,
                                        const projection_options& options, Cost cost) {
    return projector<Cost>(options, std::move(cost)).project(source, target);
}

/// The projected markup of the target: its text with the projected slots written as `[label : value]`,
/// or std::nullopt when the projection was rejected. `target` must be the tokens of `target_text` that
/// were projected onto. O(text + slots).
/// \throws annotation_error when a slot lies outside `target` or the text contains `[` or `]` (reserved
///         by the markup).
[[nodiscard]] inline std::optional<std::string> projected_markup(std::string_view target_text,
                                                                 std::span<const token> target,
                                                                 const projection_result& result) {
    if (!result.accepted) return std::nullopt;
    return to_markup(to_annotated_text(target_text, target, result.slots));
}

}  // namespace selflearn
