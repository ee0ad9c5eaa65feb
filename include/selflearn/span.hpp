#pragma once
/// \file selflearn/span.hpp
/// Rephrase span scoring: given, for each position of a dialogue context, a score for starting and a score
/// for ending the span that the current request rephrases (EMNLP 2021, "Contextual rephrase detection for
/// reducing friction in dialogue systems"), find the best span, or the k best, under a maximum length,
/// against a null score; numerically stable softmax helpers; mapping spans of a multi-turn context back to
/// turns and words.
///
/// Order of spans (every result follows it, ties included): higher score first, then smaller start, then
/// smaller end. The score of span [i, j] is `start[i] + end[j]` for log_scores and `start[i] * end[j]` for
/// probabilities, computed in double; two spans tie when these computed values are equal.

#include <selflearn/detail/span_engine.hpp>
#include <selflearn/error.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace selflearn {

/// A span [start, end] (both inclusive, positions of the context) and its score.
struct scored_span {
    std::size_t start = 0;  ///< first position of the span
    std::size_t end = 0;    ///< last position of the span (inclusive)
    double score = 0;       ///< start[start] + end[end] (log_scores) or start[start] * end[end] (probabilities)

    /// Number of positions covered: end - start + 1. O(1), noexcept.
    [[nodiscard]] std::size_t length() const noexcept { return end - start + 1; }
    /// Memberwise equality (scores compared exactly).
    friend bool operator==(const scored_span&, const scored_span&) = default;
};

/// Largest magnitude a log-score may have: half the largest double, so that start[i] + end[j] is always a
/// finite double (a sum that overflowed to -infinity or +infinity would have no representable score).
inline constexpr double max_abs_log_score = std::numeric_limits<double>::max() / 2;

namespace detail {
inline void check_scores(std::span<const double> start, std::span<const double> end, const char* kind,
                         bool probability) {
    if (start.size() != end.size()) {
        throw invalid_argument(fmt::format("selflearn::{}: start has {} positions but end has {}", kind,
                                           start.size(), end.size()));
    }
    auto check = [&](std::span<const double> values, const char* which) {
        // Fast path without branches (vectorisable): v - v is 0 exactly when v is finite; comparisons with
        // NaN are false. Only a bad array is scanned again to name the first bad position.
        bool all_ok = true;
        if (probability) {
            for (double v : values) all_ok &= (v >= 0.0) & (v <= 1.0);
        } else {
            for (double v : values) all_ok &= (v >= -max_abs_log_score) & (v <= max_abs_log_score);
        }
        if (all_ok) return;
        for (std::size_t i = 0; i < values.size(); ++i) {
            const double v = values[i];
            if (std::isnan(v)) {
                throw invalid_argument(fmt::format("selflearn::{}: {} score at position {} is NaN", kind, which, i));
            }
            if (std::isinf(v)) {
                throw invalid_argument(
                    fmt::format("selflearn::{}: {} score at position {} is infinite ({})", kind, which, i, v));
            }
            if (!probability && !(std::abs(v) <= max_abs_log_score)) {
                throw invalid_argument(fmt::format(
                    "selflearn::{}: {} score at position {} is {}, beyond +-{} (max_abs_log_score); a span's "
                    "score start + end would overflow",
                    kind, which, i, v, max_abs_log_score));
            }
            if (probability && (v < 0.0 || v > 1.0)) {
                throw invalid_argument(fmt::format(
                    "selflearn::{}: {} probability at position {} is {}, outside [0, 1]", kind, which, i, v));
            }
        }
    };
    check(start, "start");
    check(end, "end");
}
}  // namespace detail

/// Per-position start and end log-scores (log-probabilities or logits): a span scores start[i] + end[j].
/// A view: the two arrays must outlive it. Distinct from `probabilities` so the two cannot be confused.
class log_scores {
public:
    /// Wraps and validates the two arrays. O(n).
    /// \throws invalid_argument if the sizes differ or a value is NaN, infinite or larger in magnitude than
    ///         max_abs_log_score (the message names the array and position).
    log_scores(std::span<const double> start, std::span<const double> end) : start_(start), end_(end) {
        detail::check_scores(start, end, "log_scores", false);
    }
    /// The start scores. O(1).
    [[nodiscard]] std::span<const double> start() const noexcept { return start_; }
    /// The end scores. O(1).
    [[nodiscard]] std::span<const double> end() const noexcept { return end_; }
    /// Number of positions. O(1).
    [[nodiscard]] std::size_t size() const noexcept { return start_.size(); }

private:
    std::span<const double> start_;
    std::span<const double> end_;
};

/// Per-position start and end probabilities in [0, 1]: a span scores start[i] * end[j].
/// A view: the two arrays must outlive it.
class probabilities {
public:
    /// Wraps and validates the two arrays. O(n).
    /// \throws invalid_argument if the sizes differ or a value is NaN, infinite or outside [0, 1].
    probabilities(std::span<const double> start, std::span<const double> end) : start_(start), end_(end) {
        detail::check_scores(start, end, "probabilities", true);
    }
    /// The start probabilities. O(1).
    [[nodiscard]] std::span<const double> start() const noexcept { return start_; }
    /// The end probabilities. O(1).
    [[nodiscard]] std::span<const double> end() const noexcept { return end_; }
    /// Number of positions. O(1).
    [[nodiscard]] std::size_t size() const noexcept { return start_.size(); }

private:
    std::span<const double> start_;
    std::span<const double> end_;
};

/// How "no rephrase" is decided. A span is reported only when `score - null >= threshold`; spans are
/// reported best first, so the list stops at the first span below the bar, and is empty when the null wins.
class null_rule {
public:
    /// What the null score is.
    enum class kind {
        none,           ///< no null: every span is reported
        value,          ///< a given null score, in the units of the scores
        position_zero,  ///< the score of span [0, 0]; position 0 is then reserved and starts or ends no span
    };
    /// No null score (the default). O(1).
    static null_rule none() noexcept { return null_rule(kind::none, 0.0, 0.0); }
    /// A given null score: spans are reported when `score - null_score >= threshold`. O(1).
    /// \throws invalid_argument if either number is NaN or infinite.
    static null_rule value(double null_score, double threshold = 0.0) {
        check("null score", null_score);
        check("threshold", threshold);
        return null_rule(kind::value, null_score, threshold);
    }
    /// The null score is the score of span [0, 0] (a [CLS]-style null position, as in SQuAD 2.0 decoders);
    /// spans are reported when `score - null >= threshold` and never use position 0. O(1).
    /// \throws invalid_argument if threshold is NaN or infinite.
    static null_rule position_zero(double threshold = 0.0) {
        check("threshold", threshold);
        return null_rule(kind::position_zero, 0.0, threshold);
    }
    /// Which rule this is. O(1).
    [[nodiscard]] kind type() const noexcept { return kind_; }
    /// The given null score (meaningful for kind::value). O(1).
    [[nodiscard]] double null_value() const noexcept { return value_; }
    /// The margin a span needs over the null. O(1).
    [[nodiscard]] double threshold() const noexcept { return threshold_; }

private:
    null_rule(kind k, double v, double t) noexcept : kind_(k), value_(v), threshold_(t) {}
    static void check(const char* what, double v) {
        if (!std::isfinite(v)) throw invalid_argument(fmt::format("selflearn::null_rule: {} is {}", what, v));
    }
    kind kind_;
    double value_;
    double threshold_;
};

/// Default maximum span length (positions), as in the usual SQuAD span decoders.
inline constexpr std::size_t default_max_span_length = 30;

/// Options shared by the span decoders.
struct span_options {
    /// Longest span allowed, in positions: end - start + 1 <= max_length. Must be at least 1.
    std::size_t max_length = default_max_span_length;
    /// Positions allowed to start a span: empty (all allowed) or one entry per position, 1 allowed, 0 not.
    /// Owned (a copy), so `start_mask = ctx.mask_excluding_turn(i)` is safe.
    std::vector<std::uint8_t> start_mask = {};
    /// Positions allowed to end a span: empty (all allowed) or one entry per position, 1 allowed, 0 not.
    /// Owned, as start_mask.
    std::vector<std::uint8_t> end_mask = {};
    /// The null score and threshold deciding "no rephrase".
    null_rule null = null_rule::none();
};

/// Whether the k best spans may share positions.
enum class overlap {
    allowed,    ///< the k first spans in the documented order
    forbidden,  ///< greedy: walk spans in order, keep those sharing no position with a kept one
};

namespace detail {
template <class Scores>
span_problem make_problem(const Scores& scores, const span_options& options, const char* where) {
    if (options.max_length == 0) {
        throw invalid_argument(fmt::format("selflearn::{}: max_length is 0; a span has at least 1 position", where));
    }
    const std::size_t n = scores.size();
    auto check_mask = [&](const std::vector<std::uint8_t>& mask, const char* name) {
        if (mask.empty()) return;
        if (mask.size() != n) {
            throw invalid_argument(fmt::format("selflearn::{}: {} has {} entries for {} positions", where, name,
                                               mask.size(), n));
        }
        for (std::size_t i = 0; i < n; ++i) {
            if (mask[i] > 1) {
                throw invalid_argument(fmt::format("selflearn::{}: {} entry {} is {}; expected 0 or 1", where,
                                                   name, i, static_cast<unsigned>(mask[i])));
            }
        }
    };
    check_mask(options.start_mask, "start_mask");
    check_mask(options.end_mask, "end_mask");
    if (options.null.type() == null_rule::kind::position_zero && n == 0) {
        throw invalid_argument(
            fmt::format("selflearn::{}: null_rule::position_zero needs at least one position; got none", where));
    }
    span_problem p;
    p.start = scores.start().data();
    p.end = scores.end().data();
    p.size = n;
    p.start_mask = options.start_mask.empty() ? nullptr : options.start_mask.data();
    p.end_mask = options.end_mask.empty() ? nullptr : options.end_mask.data();
    p.max_length = options.max_length;
    p.first = options.null.type() == null_rule::kind::position_zero ? 1 : 0;
    return p;
}

template <class Combine, class Scores>
std::optional<double> null_of(const Scores& scores, const null_rule& rule) {
    switch (rule.type()) {
    case null_rule::kind::none: return std::nullopt;
    case null_rule::kind::value: return rule.null_value();
    case null_rule::kind::position_zero: return Combine::combine(scores.start()[0], scores.end()[0]);
    }
    return std::nullopt;
}
}  // namespace detail

/// Decodes spans with reusable buffers: after warm-up, decoding allocates nothing unless a larger problem
/// comes. Not thread-safe; use one decoder per thread. The free functions below create one per call.
class span_decoder {
public:
    /// The best span [i, j], i <= j < i + max_length, both positions allowed by the masks, in the
    /// documented order; std::nullopt when no span is allowed or when the null wins
    /// (`score - null < threshold`). O(n) for any max_length (van Herk / Gil-Werman sliding-window maximum).
    /// \throws invalid_argument on max_length 0, a mask of the wrong size or with an entry other than 0/1,
    ///         or null_rule::position_zero on an empty context.
    std::optional<scored_span> best(const log_scores& scores, const span_options& options = {}) {
        return best_impl<detail::span_add>(scores, options, "best_span");
    }
    /// The best span of probabilities (score start[i] * end[j]); as the log_scores overload. O(n).
    std::optional<scored_span> best(const probabilities& scores, const span_options& options = {}) {
        return best_impl<detail::span_multiply>(scores, options, "best_span");
    }
    /// The k best spans in the documented order, written to `out` (cleared first); with overlap::forbidden,
    /// the greedy non-overlapping selection. Stops early at the first span below the null bar, or when no
    /// span is left. With overlaps O(n + k (L + log n)) time, L = min(max_length, n), and O(n + k) memory
    /// however many scores tie; O(n k) worst case without.
    /// \throws invalid_argument on k == 0 and as best().
    void top(const log_scores& scores, std::size_t k, std::vector<scored_span>& out,
             const span_options& options = {}, overlap mode = overlap::allowed) {
        top_impl<detail::span_add>(scores, k, out, options, mode);
    }
    /// The k best spans of probabilities; as the log_scores overload.
    void top(const probabilities& scores, std::size_t k, std::vector<scored_span>& out,
             const span_options& options = {}, overlap mode = overlap::allowed) {
        top_impl<detail::span_multiply>(scores, k, out, options, mode);
    }

private:
    template <class Combine, class Scores>
    std::optional<scored_span> best_impl(const Scores& scores, const span_options& options, const char* where) {
        const detail::span_problem p = detail::make_problem(scores, options, where);
        if (p.size <= p.first) return std::nullopt;
        auto hit = detail::best_in_range<Combine>(p, p.first, p.size - 1, ws_);
        if (!hit) return std::nullopt;
        if (auto null = detail::null_of<Combine>(scores, options.null)) {
            if (!(hit->score - *null >= options.null.threshold())) return std::nullopt;
        }
        return scored_span{hit->start, hit->end, hit->score};
    }

    template <class Combine, class Scores>
    void top_impl(const Scores& scores, std::size_t k, std::vector<scored_span>& out, const span_options& options,
                  overlap mode) {
        out.clear();
        if (k == 0) throw invalid_argument("selflearn::top_spans: k is 0; ask for at least one span");
        const detail::span_problem p = detail::make_problem(scores, options, "top_spans");
        hits_.clear();
        if (mode == overlap::allowed) {
            detail::top_k_overlapping<Combine>(p, k, ws_, hits_);
        } else {
            detail::top_k_disjoint<Combine>(p, k, ws_, hits_);
        }
        const auto null = detail::null_of<Combine>(scores, options.null);
        for (const auto& h : hits_) {
            if (null && !(h.score - *null >= options.null.threshold())) break;
            out.push_back(scored_span{h.start, h.end, h.score});
        }
    }

    detail::span_workspace ws_;
    std::vector<detail::span_hit> hits_;
};

/// The best span of log-scores; see span_decoder::best. O(n). Allocates a workspace per call.
/// \throws invalid_argument as span_decoder::best.
inline std::optional<scored_span> best_span(const log_scores& scores, const span_options& options = {}) {
    return span_decoder{}.best(scores, options);
}
/// The best span of probabilities; see span_decoder::best. O(n).
/// \throws invalid_argument as span_decoder::best.
inline std::optional<scored_span> best_span(const probabilities& scores, const span_options& options = {}) {
    return span_decoder{}.best(scores, options);
}
/// The k best spans of log-scores, best first; see span_decoder::top. O(n + k (L + log n)), O(n + k) memory.
/// \throws invalid_argument on k == 0 and as span_decoder::best.
inline std::vector<scored_span> top_spans(const log_scores& scores, std::size_t k, const span_options& options = {},
                                          overlap mode = overlap::allowed) {
    std::vector<scored_span> out;
    span_decoder{}.top(scores, k, out, options, mode);
    return out;
}
/// The k best spans of probabilities, best first; see span_decoder::top.
/// \throws invalid_argument on k == 0 and as span_decoder::best.
inline std::vector<scored_span> top_spans(const probabilities& scores, std::size_t k,
                                          const span_options& options = {}, overlap mode = overlap::allowed) {
    std::vector<scored_span> out;
    span_decoder{}.top(scores, k, out, options, mode);
    return out;
}

/// The null score a null_rule gives for these log-scores: std::nullopt for null_rule::none, the value, or
/// start[0] + end[0]. O(1).
/// \throws invalid_argument for null_rule::position_zero on an empty context.
inline std::optional<double> null_score(const log_scores& scores, const null_rule& rule) {
    if (rule.type() == null_rule::kind::position_zero && scores.size() == 0) {
        throw invalid_argument("selflearn::null_score: null_rule::position_zero needs at least one position");
    }
    return detail::null_of<detail::span_add>(scores, rule);
}
/// The null score a null_rule gives for these probabilities (start[0] * end[0] for position_zero). O(1).
/// \throws invalid_argument for null_rule::position_zero on an empty context.
inline std::optional<double> null_score(const probabilities& scores, const null_rule& rule) {
    if (rule.type() == null_rule::kind::position_zero && scores.size() == 0) {
        throw invalid_argument("selflearn::null_score: null_rule::position_zero needs at least one position");
    }
    return detail::null_of<detail::span_multiply>(scores, rule);
}

namespace detail {
inline void check_logits(std::span<const double> logits, std::size_t out_size, const char* where) {
    if (logits.empty()) throw invalid_argument(fmt::format("selflearn::{}: no values; need at least one", where));
    if (out_size != logits.size()) {
        throw invalid_argument(fmt::format("selflearn::{}: output has {} entries for {} inputs", where, out_size,
                                           logits.size()));
    }
    for (std::size_t i = 0; i < logits.size(); ++i) {
        if (!std::isfinite(logits[i])) {
            throw invalid_argument(fmt::format("selflearn::{}: input at position {} is {}", where, i, logits[i]));
        }
    }
}
// Shift by the maximum so every exponent is <= 0 (no overflow; the largest term is exactly 1).
inline double max_and_log_sum_exp(std::span<const double> logits, double& max) {
    max = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (double x : logits) sum += std::exp(x - max);
    return std::log(sum);
}
}  // namespace detail

/// Writes log_softmax(logits) to out: x_i - max - log(sum_j exp(x_j - max)), stable for any finite input.
/// `out` may alias `logits`. O(n).
/// \throws invalid_argument if logits is empty, out has another size, or an input is NaN or infinite.
inline void log_softmax(std::span<const double> logits, std::span<double> out) {
    detail::check_logits(logits, out.size(), "log_softmax");
    double max = 0;
    const double lse = detail::max_and_log_sum_exp(logits, max);
    for (std::size_t i = 0; i < logits.size(); ++i) out[i] = (logits[i] - max) - lse;
}
/// log_softmax into a new vector. O(n).
/// \throws invalid_argument if logits is empty or an input is NaN or infinite.
inline std::vector<double> log_softmax(std::span<const double> logits) {
    std::vector<double> out(logits.size());
    log_softmax(logits, out);
    return out;
}
/// Writes softmax(logits) to out: exp(x_i - max) / sum_j exp(x_j - max); the outputs are in [0, 1] and sum
/// to 1 up to rounding. `out` may alias `logits`. O(n).
/// \throws invalid_argument if logits is empty, out has another size, or an input is NaN or infinite.
inline void softmax(std::span<const double> logits, std::span<double> out) {
    detail::check_logits(logits, out.size(), "softmax");
    const double max = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (std::size_t i = 0; i < logits.size(); ++i) {
        out[i] = std::exp(logits[i] - max);
        sum += out[i];
    }
    for (auto& v : out) v /= sum;
}
/// softmax into a new vector. O(n).
/// \throws invalid_argument if logits is empty or an input is NaN or infinite.
inline std::vector<double> softmax(std::span<const double> logits) {
    std::vector<double> out(logits.size());
    softmax(logits, out);
    return out;
}

/// Where a position of a span_context comes from.
struct token_origin {
    /// Turn index, or span_context::no_turn for a special token ([CLS], [SEP], ...).
    std::size_t turn = 0;
    /// Word index within the turn (meaningless for a special token).
    std::size_t word = 0;
    /// Whether the position is a special token rather than (a piece of) a word.
    [[nodiscard]] bool special() const noexcept;
    /// Memberwise equality.
    friend bool operator==(const token_origin&, const token_origin&) = default;
};

/// The words a span covers: from (first_turn, first_word) to (last_turn, last_word), inclusive.
struct word_range {
    std::size_t first_turn = 0;  ///< turn of the first word
    std::size_t first_word = 0;  ///< index of the first word within its turn
    std::size_t last_turn = 0;   ///< turn of the last word
    std::size_t last_word = 0;   ///< index of the last word within its turn
    /// Memberwise equality.
    friend bool operator==(const word_range&, const word_range&) = default;
};

/// A multi-turn model input: the positions built from several turns' words (each word one or more
/// positions, e.g. subword pieces) and special tokens, remembering for each position its turn and word,
/// so a decoded span maps back to turns, words and text.
class span_context {
public:
    /// The turn of a special token.
    static constexpr std::size_t no_turn = std::numeric_limits<std::size_t>::max();

    /// Appends one special-token position; returns its position. O(1) amortised.
    std::size_t add_special() {
        origins_.push_back(token_origin{no_turn, 0});
        return origins_.size() - 1;
    }
    /// Appends a turn, one position per word; returns the turn's index. O(words).
    std::size_t add_turn(std::vector<std::string> words) {
        std::vector<std::size_t> pieces(words.size(), 1);
        return add_turn(std::move(words), pieces);
    }
    /// Appends a turn whose word w takes pieces[w] consecutive positions; returns the turn's index.
    /// O(total pieces).
    /// \throws invalid_argument if pieces has another size than words or a word has 0 pieces.
    std::size_t add_turn(std::vector<std::string> words, std::span<const std::size_t> pieces) {
        if (pieces.size() != words.size()) {
            throw invalid_argument(fmt::format("selflearn::span_context::add_turn: {} piece counts for {} words",
                                               pieces.size(), words.size()));
        }
        for (std::size_t w = 0; w < pieces.size(); ++w) {
            if (pieces[w] == 0) {
                throw invalid_argument(fmt::format(
                    "selflearn::span_context::add_turn: word {} ('{}') has 0 pieces; each word needs at least 1", w,
                    words[w]));
            }
        }
        const std::size_t turn = turns_.size();
        turn_first_.push_back(origins_.size());
        for (std::size_t w = 0; w < pieces.size(); ++w) {
            for (std::size_t k = 0; k < pieces[w]; ++k) origins_.push_back(token_origin{turn, w});
        }
        turn_last_.push_back(origins_.size());
        turns_.push_back(std::move(words));
        return turn;
    }
    /// Number of positions. O(1).
    [[nodiscard]] std::size_t size() const noexcept { return origins_.size(); }
    /// Number of turns. O(1).
    [[nodiscard]] std::size_t turn_count() const noexcept { return turns_.size(); }
    /// The words of a turn. O(1).
    /// \throws invalid_argument if turn is out of range.
    [[nodiscard]] const std::vector<std::string>& words(std::size_t turn) const {
        check_turn(turn, "words");
        return turns_[turn];
    }
    /// Where a position comes from. O(1).
    /// \throws invalid_argument if position is out of range.
    [[nodiscard]] token_origin origin(std::size_t position) const {
        if (position >= origins_.size()) {
            throw invalid_argument(fmt::format("selflearn::span_context::origin: position {} out of range (size {})",
                                               position, origins_.size()));
        }
        return origins_[position];
    }
    /// The positions [first, last) of a turn. O(1).
    /// \throws invalid_argument if turn is out of range.
    [[nodiscard]] std::pair<std::size_t, std::size_t> turn_positions(std::size_t turn) const {
        check_turn(turn, "turn_positions");
        return {turn_first_[turn], turn_last_[turn]};
    }
    /// A mask (for span_options) allowing exactly the positions of the given turns; special tokens are never
    /// allowed. O(size + turns).
    /// \throws invalid_argument if a turn is out of range.
    [[nodiscard]] std::vector<std::uint8_t> mask_of_turns(std::span<const std::size_t> turns) const {
        std::vector<std::uint8_t> mask(origins_.size(), 0);
        for (std::size_t t : turns) {
            check_turn(t, "mask_of_turns");
            std::fill(mask.begin() + static_cast<std::ptrdiff_t>(turn_first_[t]),
                      mask.begin() + static_cast<std::ptrdiff_t>(turn_last_[t]), std::uint8_t{1});
        }
        return mask;
    }
    /// A mask allowing every word position except those of one turn (typically the current request);
    /// special tokens are never allowed. O(size).
    /// \throws invalid_argument if turn is out of range.
    [[nodiscard]] std::vector<std::uint8_t> mask_excluding_turn(std::size_t turn) const {
        check_turn(turn, "mask_excluding_turn");
        std::vector<std::uint8_t> mask(origins_.size(), 0);
        for (std::size_t i = 0; i < origins_.size(); ++i) {
            mask[i] = origins_[i].turn != no_turn && origins_[i].turn != turn ? 1 : 0;
        }
        return mask;
    }
    /// The words a span covers, from the word of its first non-special position to the word of its last;
    /// std::nullopt when the span covers only special tokens. O(span length).
    /// \throws invalid_argument if the span is out of range or has start > end.
    [[nodiscard]] std::optional<word_range> words_of(const scored_span& span) const {
        check_span(span, "words_of");
        std::optional<word_range> range;
        for (std::size_t i = span.start; i <= span.end; ++i) {
            const token_origin& o = origins_[i];
            if (o.turn == no_turn) continue;
            if (!range) range = word_range{o.turn, o.word, o.turn, o.word};
            range->last_turn = o.turn;
            range->last_word = o.word;
        }
        return range;
    }
    /// The text of a span: every word any of its positions belongs to (a partly covered word counts
    /// whole), in order, separated by single spaces, special tokens left out; "" when the span covers
    /// only special tokens. O(span length + text length).
    /// \throws invalid_argument if the span is out of range or has start > end.
    [[nodiscard]] std::string text(const scored_span& span) const {
        check_span(span, "text");
        std::string out;
        bool any = false;
        token_origin previous{no_turn, 0};
        for (std::size_t i = span.start; i <= span.end; ++i) {
            const token_origin& o = origins_[i];
            if (o.turn == no_turn || (any && o == previous)) continue;
            if (any) out += ' ';
            out += turns_[o.turn][o.word];
            previous = o;
            any = true;
        }
        return out;
    }

private:
    void check_turn(std::size_t turn, const char* where) const {
        if (turn >= turns_.size()) {
            throw invalid_argument(fmt::format("selflearn::span_context::{}: turn {} out of range ({} turns)", where,
                                               turn, turns_.size()));
        }
    }
    void check_span(const scored_span& span, const char* where) const {
        if (span.start > span.end || span.end >= origins_.size()) {
            throw invalid_argument(fmt::format("selflearn::span_context::{}: span [{}, {}] is not within the {} "
                                               "positions of the context",
                                               where, span.start, span.end, origins_.size()));
        }
    }
    std::vector<token_origin> origins_;
    std::vector<std::vector<std::string>> turns_;
    std::vector<std::size_t> turn_first_;
    std::vector<std::size_t> turn_last_;
};

inline bool token_origin::special() const noexcept { return turn == span_context::no_turn; }

}  // namespace selflearn
