#pragma once
/// \file selflearn/failure_point.hpp
/// Failure-point isolation: which component of the assistant caused a defect. An error upstream
/// propagates (a misheard word is then misread and does not resolve), so the failure point is the first
/// stage, in pipeline order asr -> nlu -> resolution -> skill, that failed irrecoverably (the idea of the
/// FPI model, Khaziev et al., NAACL 2022 industry track, which is supervised on human labels; this header
/// offers the model-free part and the place to plug such a model in):
/// - isolate_by_rephrase(): a defect and its successful rephrase compared stage by stage; the first
///   stage whose output the rephrase changed for the better. Words are mapped with the projection's
///   word mapping (project.hpp's map_words over levenshtein_word_cost);
/// - isolate_by_signals(): the first stage whose own signal is bad (ASR confidence, NLU confidence,
///   entity resolution, handler status), for defects without a rephrase;
/// - calibrate_signal_thresholds(): the signal floors learned from the defects that the rephrase
///   comparison labelled (weak supervision: no human label is needed), exactly, in O(k log k);
/// - conditional_thresholds, isolate_by_conditional_signals(), calibrate_conditional_thresholds(): the
///   floors kept per downstream outcome (entity resolved and handler fine, entity not resolved, handler
///   error), since an error propagates;
/// - failure_point_model: the concept any isolator (a trained model too) satisfies;
/// - blame_counts: mergeable counts of defects per request and stage (map/reduce).

#include <selflearn/annotation.hpp>
#include <selflearn/error.hpp>
#include <selflearn/paraphrase.hpp>
#include <selflearn/project.hpp>
#include <selflearn/session.hpp>
#include <selflearn/tokenize.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace selflearn {

/// The components of an assistant, in pipeline order.
enum class failure_stage { asr, nlu, resolution, skill };

/// Number of failure stages (4).
inline constexpr std::size_t failure_stage_count = 4;

/// The name of a stage: "asr", "nlu", "resolution" or "skill". O(1); never throws.
[[nodiscard]] constexpr std::string_view to_string(failure_stage s) noexcept {
    switch (s) {
        case failure_stage::asr: return "asr";
        case failure_stage::nlu: return "nlu";
        case failure_stage::resolution: return "resolution";
        case failure_stage::skill: return "skill";
    }
    return "unknown";
}

/// The stage named `name` (as to_string writes it). O(1).
/// \throws invalid_argument naming the value when it is not a stage name.
[[nodiscard]] inline failure_stage parse_failure_stage(std::string_view name) {
    for (const auto s : {failure_stage::asr, failure_stage::nlu, failure_stage::resolution, failure_stage::skill}) {
        if (name == to_string(s)) return s;
    }
    throw invalid_argument(
        fmt::format("failure stage must be \"asr\", \"nlu\", \"resolution\" or \"skill\", got \"{}\"", name));
}

/// A failure point: the stage (std::nullopt: undetermined) and a short human-readable reason.
struct failure_point {
    std::optional<failure_stage> stage;
    std::string evidence;

    friend bool operator==(const failure_point&, const failure_point&) = default;
};

/// Options of isolate_by_rephrase().
struct rephrase_isolation_options {
    /// Largest word cost (levenshtein_word_cost, in [0, 1]) at which a rephrase word counts as a repaired
    /// form of a failed word (a near match); 0 < cost <= this is a repair, 0 the same word. In (0, 1].
    double near_match = 0.5;
};

namespace detail {

inline void check_rephrase_options(const rephrase_isolation_options& o) {
    if (!(o.near_match > 0.0 && o.near_match <= 1.0)) {
        throw invalid_argument(fmt::format("isolate_by_rephrase: near_match must be in (0, 1], got {}", o.near_match));
    }
}

// The (label, normalised value) pairs of a markup, sorted; nullopt when there is no markup.
inline std::optional<std::vector<std::pair<std::string, std::string>>> folded_slot_values(const std::optional<std::string>& m) {
    if (!m) return std::nullopt;
    const annotated_text a = parse_markup(*m);
    std::vector<std::pair<std::string, std::string>> result;
    for (const auto& s : a.slots) {
        result.emplace_back(s.label, normalize_utterance(std::string_view(a.text).substr(s.begin, s.end - s.begin)));
    }
    std::ranges::sort(result);
    return result;
}

// Whether token `i` of the annotated text lies inside a slot.
inline bool in_slot(const annotated_tokens& a, std::size_t i) {
    return std::ranges::any_of(a.slots, [&](const token_span& s) { return i >= s.begin && i < s.end; });
}

}  // namespace detail

/// The failure point of defect `failed` given `success`, a later turn that rephrased it successfully,
/// compared stage by stage (the first rule that holds wins):
/// 1. asr: a word of the rephrase (a slot word, when the rephrase has an annotation) maps, in the
///    minimum-cost one-to-one word mapping (map_words, optimal) from the rephrase's words onto the
///    failed turn's, onto a different failed word at cost <= near_match: the words were misheard and
///    the rephrase repaired one;
/// 2. nlu: the intents differ, or the slot (label, value) sets differ, both sides known; or the failed
///    turn has no interpretation (neither intent nor annotation) while the rephrase has one;
/// 3. resolution: the failed turn's entities did not resolve (unresolved or ambiguous) while the
///    rephrase's did or are unknown;
/// 4. skill: the failed turn's status is an error, or the interpretation and resolution are the same on
///    both sides (both known) so that only the handler can have failed;
/// otherwise undetermined. Time: O(n * m) word costs plus the optimal mapping, n and m the word counts.
/// \throws annotation_error for malformed markup in either turn; invalid_argument for bad options;
///         invalid_utf8 for text that is not valid UTF-8.
[[nodiscard]] inline failure_point isolate_by_rephrase(const turn& failed, const turn& success,
                                                       const rephrase_isolation_options& options = {}) {
    detail::check_rephrase_options(options);
    // Stage 1: words. The rephrase's words (annotated, when it has markup) map onto the failed words.
    annotated_tokens rephrase;
    if (success.annotation) {
        rephrase = parse_markup_tokens(*success.annotation);
    } else {
        rephrase.text = success.text;
        rephrase.tokens = tokenize(success.text);
    }
    const std::vector<token> heard = tokenize(failed.text);
    const std::size_t n = rephrase.tokens.size();
    const std::size_t m = heard.size();
    std::vector<double> costs(n * m);
    const levenshtein_word_cost word_cost;
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < m; ++j) costs[i * m + j] = word_cost(rephrase.tokens[i].text, heard[j].text);
    }
    const word_mapping mapping = map_words(costs, n, m, options.near_match, projection_method::optimal);
    const bool slots_known = success.annotation && !rephrase.slots.empty();
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t j = mapping.target[i];
        if (j == no_word) continue;
        const double c = costs[i * m + j];
        if (c > 0.0 && c <= options.near_match && (!slots_known || detail::in_slot(rephrase, i))) {
            return {failure_stage::asr,
                    fmt::format("\"{}\" repaired as \"{}\" (word cost {:.2f})", heard[j].text, rephrase.tokens[i].text, c)};
        }
    }
    // Stage 2: interpretation.
    if (failed.intent && success.intent && *failed.intent != *success.intent) {
        return {failure_stage::nlu, fmt::format("intent {} became {}", *failed.intent, *success.intent)};
    }
    const auto failed_slots = detail::folded_slot_values(failed.annotation);
    const auto success_slots = detail::folded_slot_values(success.annotation);
    if (failed_slots && success_slots && *failed_slots != *success_slots) {
        return {failure_stage::nlu, "slots differ"};
    }
    const bool failed_interpreted = failed.intent || failed.annotation;
    const bool success_interpreted = success.intent || success.annotation;
    if (!failed_interpreted && success_interpreted) return {failure_stage::nlu, "defect not interpreted"};
    // Stage 3: entity resolution.
    const bool failed_unresolved = failed.resolution && *failed.resolution != entity_resolution::resolved;
    if (failed_unresolved && (!success.resolution || *success.resolution == entity_resolution::resolved)) {
        return {failure_stage::resolution,
                *failed.resolution == entity_resolution::ambiguous ? "entity ambiguous" : "entity unresolved"};
    }
    // Stage 4: the handler.
    if (failed.status && *failed.status != "ok") return {failure_stage::skill, fmt::format("status {}", *failed.status)};
    const bool same_interpretation = failed_interpreted && success_interpreted;
    const bool same_resolution = failed.resolution && success.resolution && *failed.resolution == *success.resolution;
    if (same_interpretation && (same_resolution || (!failed.resolution && !success.resolution))) {
        return {failure_stage::skill, "same interpretation, handler failed"};
    }
    return {std::nullopt, "no stage changed"};
}

/// The floors below which a stage's signal counts as bad (isolate_by_signals()). Each in [0, 1].
struct signal_thresholds {
    double asr_floor = 0.5;  ///< asr_confidence below it: the recogniser failed
    double nlu_floor = 0.5;  ///< confidence below it: the NLU failed

    friend bool operator==(const signal_thresholds&, const signal_thresholds&) = default;
};

namespace detail {
inline void check_thresholds(const signal_thresholds& t) {
    for (auto [value, name] : {std::pair{t.asr_floor, "asr_floor"}, std::pair{t.nlu_floor, "nlu_floor"}}) {
        if (!(value >= 0.0 && value <= 1.0)) {
            throw invalid_argument(fmt::format("signal_thresholds: {} {} is outside [0, 1]", name, value));
        }
    }
}
}  // namespace detail

/// The first stage whose signal on the defect `t` is bad, in pipeline order: asr when asr_confidence <
/// asr_floor; nlu when confidence < nlu_floor; resolution when the entities are unresolved or
/// ambiguous; skill when the status is an error; otherwise undetermined. A missing signal is never bad.
/// O(1). \throws invalid_argument when a floor is outside [0, 1] or NaN.
[[nodiscard]] inline failure_point isolate_by_signals(const turn& t, const signal_thresholds& thresholds = {}) {
    detail::check_thresholds(thresholds);
    if (t.asr_confidence && *t.asr_confidence < thresholds.asr_floor) {
        return {failure_stage::asr, fmt::format("asr_confidence {:.4g} < {:.4g}", *t.asr_confidence, thresholds.asr_floor)};
    }
    if (t.confidence && *t.confidence < thresholds.nlu_floor) {
        return {failure_stage::nlu, fmt::format("confidence {:.4g} < {:.4g}", *t.confidence, thresholds.nlu_floor)};
    }
    if (t.resolution && *t.resolution != entity_resolution::resolved) {
        return {failure_stage::resolution,
                *t.resolution == entity_resolution::ambiguous ? "entity ambiguous" : "entity unresolved"};
    }
    if (t.status && *t.status != "ok") return {failure_stage::skill, fmt::format("status {}", *t.status)};
    return {std::nullopt, "no bad signal"};
}

/// A defect with a stage label (from isolate_by_rephrase, or a human), reduced to what the signal rule
/// reads: the two confidences and the stage the rule names when neither is below its floor.
struct labelled_defect {
    std::optional<double> asr_confidence;  ///< the turn's asr_confidence, in [0, 1]
    std::optional<double> confidence;      ///< the turn's NLU confidence, in [0, 1]
    /// What isolate_by_signals() returns when neither confidence is bad: resolution, skill or nullopt.
    std::optional<failure_stage> downstream;
    failure_stage stage;  ///< the label

    friend bool operator==(const labelled_defect&, const labelled_defect&) = default;
};

/// The labelled_defect of turn `t` labelled `stage`. O(1).
/// \throws invalid_argument when a confidence of `t` is outside [0, 1] or NaN.
[[nodiscard]] inline labelled_defect label_defect(const turn& t, failure_stage stage) {
    for (auto [value, name] : {std::pair{t.asr_confidence, "asr_confidence"}, std::pair{t.confidence, "confidence"}}) {
        if (value && !(*value >= 0.0 && *value <= 1.0)) {
            throw invalid_argument(fmt::format("label_defect: {} {} is outside [0, 1]", name, *value));
        }
    }
    turn rest;
    rest.resolution = t.resolution;
    rest.status = t.status;
    return {t.asr_confidence, t.confidence, isolate_by_signals(rest).stage, stage};
}

namespace detail {

// The floor that marks as bad exactly the first p of the sorted distinct values (all below 1): 0 for none,
// 1 for all, else a point strictly between values[p - 1] and values[p] (the midpoint when representable).
inline double floor_for(const std::vector<double>& values, std::size_t p) {
    if (p == 0) return 0.0;
    if (p == values.size()) return 1.0;
    const double mid = values[p - 1] + (values[p] - values[p - 1]) / 2;
    return mid > values[p - 1] ? mid : values[p];
}

// Sums over positions with point updates and the longest-preferred best prefix: max over p in [0, n] of
// the sum of the first p values, the smallest such p on ties. O(log n) per update, O(1) per query.
class best_prefix_tree {
public:
    explicit best_prefix_tree(std::size_t n) : size_(1) {
        while (size_ < n) size_ *= 2;
        nodes_.assign(2 * size_, node{});
    }
    void add(std::size_t i, long long delta) {
        std::size_t k = size_ + i;
        nodes_[k].sum += delta;
        nodes_[k].best = nodes_[k].sum > 0 ? nodes_[k].sum : 0;
        nodes_[k].length = nodes_[k].sum > 0 ? 1 : 0;
        for (k /= 2; k >= 1; k /= 2) {
            const node& l = nodes_[2 * k];
            const node& r = nodes_[2 * k + 1];
            nodes_[k].sum = l.sum + r.sum;
            if (l.sum + r.best > l.best) {
                nodes_[k].best = l.sum + r.best;
                // r.length > 0 here (l.best >= l.sum), so the prefix covers the whole left half.
                nodes_[k].length = ((size_ >> (std::bit_width(k) - 1)) / 2) + r.length;
            } else {
                nodes_[k].best = l.best;
                nodes_[k].length = l.length;
            }
        }
    }
    /// (best prefix sum, its smallest length).
    [[nodiscard]] std::pair<long long, std::size_t> best() const { return {nodes_[1].best, nodes_[1].length}; }

private:
    struct node {
        long long sum = 0;
        long long best = 0;       // max over prefixes, the empty one included
        std::size_t length = 0;   // the smallest length reaching it
    };
    std::size_t size_;
    std::vector<node> nodes_;
};

}  // namespace detail

/// The thresholds that maximise the number of `labelled` defects on which isolate_by_signals() returns
/// the label (weak supervision when the labels come from isolate_by_rephrase). Exact: every distinct
/// outcome is reached by one of the candidate floors 0, a point between consecutive distinct observed
/// confidences (their midpoint) and 1. Ties: the smallest asr_floor, then the smallest nlu_floor. With no
/// labelled defects, `fallback`. Sweep: the defects sorted once by each confidence; the asr floor rises
/// through its candidates, moving defects out of the NLU part, whose best floor is kept by a prefix-sum
/// tree over the NLU confidences. Time O(k log k), k the defects; memory O(k).
/// \throws invalid_argument when `fallback` or a defect's confidence is outside [0, 1] or NaN.
[[nodiscard]] inline signal_thresholds calibrate_signal_thresholds(std::span<const labelled_defect> labelled,
                                                                   const signal_thresholds& fallback = {}) {
    detail::check_thresholds(fallback);
    if (labelled.empty()) return fallback;
    const auto distinct_below_one = [&](auto field) {
        std::vector<double> values;
        for (const auto& d : labelled) {
            const std::optional<double> v = d.*field;
            if (v && !(*v >= 0.0 && *v <= 1.0)) {
                throw invalid_argument(fmt::format("calibrate_signal_thresholds: confidence {} is outside [0, 1]", *v));
            }
            if (v && *v < 1.0) values.push_back(*v);  // 1 is below no floor
        }
        std::ranges::sort(values);
        values.erase(std::unique(values.begin(), values.end()), values.end());
        return values;
    };
    const std::vector<double> asr = distinct_below_one(&labelled_defect::asr_confidence);
    const std::vector<double> nlu = distinct_below_one(&labelled_defect::confidence);
    const auto position = [](const std::vector<double>& values, const std::optional<double>& v) {
        // The index of v among the values; values.size() when absent or 1 (never bad).
        if (!v || *v >= 1.0) return values.size();
        return static_cast<std::size_t>(std::ranges::lower_bound(values, *v) - values.begin());
    };
    // Defects grouped by the index of their ASR confidence (asr.size(): never below an asr floor).
    std::vector<std::vector<std::size_t>> by_asr(asr.size() + 1);
    for (std::size_t i = 0; i < labelled.size(); ++i) by_asr[position(asr, labelled[i].asr_confidence)].push_back(i);
    // With asr floor index a (the first a ASR values bad): correct = asr_correct (bad ASR, label asr) +
    // base (the rest, right when no NLU floor fires) + the best prefix of the NLU deltas of the rest.
    detail::best_prefix_tree tree(std::max<std::size_t>(nlu.size(), 1));
    long long base = 0;
    const auto delta = [](const labelled_defect& d) {
        return static_cast<long long>(d.stage == failure_stage::nlu) - static_cast<long long>(d.downstream == d.stage);
    };
    for (const auto& d : labelled) {
        base += d.downstream == d.stage;
        if (const std::size_t p = position(nlu, d.confidence); p < nlu.size()) tree.add(p, delta(d));
    }
    long long asr_correct = 0;
    signal_thresholds best = fallback;
    long long best_correct = -1;
    for (std::size_t a = 0;; ++a) {
        const auto [gain, length] = tree.best();
        if (asr_correct + base + gain > best_correct) {
            best_correct = asr_correct + base + gain;
            best = {detail::floor_for(asr, a), detail::floor_for(nlu, length)};
        }
        if (a == asr.size()) break;
        for (const std::size_t i : by_asr[a]) {  // these become bad for the asr floor of index a + 1
            const auto& d = labelled[i];
            asr_correct += d.stage == failure_stage::asr;
            base -= d.downstream == d.stage;
            if (const std::size_t p = position(nlu, d.confidence); p < nlu.size()) tree.add(p, -delta(d));
        }
    }
    return best;
}

/// Signal floors conditioned on what the downstream signals show. An error propagates (a misheard slot word
/// often leaves its entity unresolved; a misread request may break the handler), so the evidence an ASR or
/// NLU confidence gives depends on whether the entity resolved and the handler succeeded: the floors are
/// kept per downstream outcome, index 0 when neither the resolution nor the status is bad, 1 when the
/// entities are unresolved or ambiguous, 2 when only the status is an error.
struct conditional_thresholds {
    std::array<signal_thresholds, 3> by_downstream{};

    /// The index of by_downstream for a turn whose signal rule names `downstream` when neither confidence
    /// is bad (nullopt, resolution or skill). O(1); never throws.
    [[nodiscard]] static constexpr std::size_t index(std::optional<failure_stage> downstream) noexcept {
        return !downstream ? 0 : *downstream == failure_stage::resolution ? 1 : 2;
    }

    friend bool operator==(const conditional_thresholds&, const conditional_thresholds&) = default;
};

/// isolate_by_signals() of `t` with the floors of its downstream outcome (conditional_thresholds). O(1).
/// \throws invalid_argument when a floor is outside [0, 1] or NaN.
[[nodiscard]] inline failure_point isolate_by_conditional_signals(const turn& t, const conditional_thresholds& thresholds) {
    turn rest;
    rest.resolution = t.resolution;
    rest.status = t.status;
    return isolate_by_signals(t, thresholds.by_downstream[conditional_thresholds::index(isolate_by_signals(rest).stage)]);
}

/// The conditional floors that maximise the number of `labelled` defects on which isolate_by_conditional_signals()
/// returns the label: the defects of the three downstream outcomes are disjoint, so each outcome's floors
/// are calibrate_signal_thresholds() of its own defects, and together they are the exact optimum. An outcome
/// with no labelled defect gets the floors calibrated on all of them (`fallback` when there are none). Time
/// O(k log k), k the defects. \throws invalid_argument as calibrate_signal_thresholds().
[[nodiscard]] inline conditional_thresholds calibrate_conditional_thresholds(std::span<const labelled_defect> labelled,
                                                                             const signal_thresholds& fallback = {}) {
    const signal_thresholds pooled = calibrate_signal_thresholds(labelled, fallback);
    std::array<std::vector<labelled_defect>, 3> groups;
    for (const auto& d : labelled) groups[conditional_thresholds::index(d.downstream)].push_back(d);
    conditional_thresholds result;
    for (std::size_t i = 0; i < groups.size(); ++i) result.by_downstream[i] = calibrate_signal_thresholds(groups[i], pooled);
    return result;
}

/// A failure-point model: called as `model(failed, success)` with the defect and its successful rephrase
/// (nullptr when the user gave up), returns a failure_point. A trained model (such as FPI's) satisfying it
/// replaces the built-in rephrase_then_signals.
template <class M>
concept failure_point_model = requires(const M& m, const turn& failed, const turn* success) {
    { m(failed, success) } -> std::convertible_to<failure_point>;
};

/// The model-free isolator: isolate_by_rephrase() when there is a rephrase and it determines a stage,
/// otherwise isolate_by_signals() with the thresholds.
struct rephrase_then_signals {
    signal_thresholds thresholds{};
    rephrase_isolation_options options{};

    /// The failure point of `failed`. Cost of isolate_by_rephrase(). \throws as isolate_by_rephrase().
    [[nodiscard]] failure_point operator()(const turn& failed, const turn* success) const {
        if (success) {
            failure_point p = isolate_by_rephrase(failed, *success, options);
            if (p.stage) return p;
        }
        return isolate_by_signals(failed, thresholds);
    }
};

/// Defects counted per request key and stage (index failure_stage_count: undetermined). Mergeable:
/// counts from parts of a log, merged in any order, equal the counts of the whole log.
class blame_counts {
public:
    /// One count per stage, the last for undetermined.
    using row = std::array<std::size_t, failure_stage_count + 1>;

    /// Counts one defect of `request` at `stage` (nullopt: undetermined). O(log r), r the requests.
    void add(const std::string& request, std::optional<failure_stage> stage, std::size_t count = 1) {
        counts_[request][stage ? static_cast<std::size_t>(*stage) : failure_stage_count] += count;
    }
    /// Adds all of `other`'s counts. O(r' log r).
    void merge(const blame_counts& other) {
        for (const auto& [request, r] : other.counts_) {
            auto& mine = counts_[request];
            for (std::size_t i = 0; i < mine.size(); ++i) mine[i] += r[i];
        }
    }
    /// The counts of a request (all zero when never seen). O(log r).
    [[nodiscard]] row of(const std::string& request) const {
        const auto it = counts_.find(request);
        return it == counts_.end() ? row{} : it->second;
    }
    /// The totals over all requests. O(r).
    [[nodiscard]] row totals() const {
        row t{};
        for (const auto& [request, r] : counts_) {
            for (std::size_t i = 0; i < t.size(); ++i) t[i] += r[i];
        }
        return t;
    }
    /// Every request's counts, sorted by request. O(1).
    [[nodiscard]] const std::map<std::string, row>& requests() const noexcept { return counts_; }

    friend bool operator==(const blame_counts&, const blame_counts&) = default;

private:
    std::map<std::string, row> counts_;
};

}  // namespace selflearn
