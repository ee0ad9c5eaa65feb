#pragma once
/// \file selflearn/friction.hpp
/// Friction detection: did the assistant fail the user on this turn? A detector is anything callable on
/// a turn that returns a bool or a score in [0, 1] (friction_detector). Built in: the turn's outcome,
/// confidence floors (NLU and ASR), the handler's status code, barge-in, their combination (any_of), and
/// a trained detector, as in the COLING 2020 paper: logistic regression (logistic.hpp) over four feature
/// types, the words (hashed bag of words), the NLU's intent and slot labels (hashed), the ASR and NLU
/// confidences, and the handler's status code (with barge-in). It learns from turns whose outcome is
/// known and applies to turns without one: the outcome is never one of its features.

#include <selflearn/annotation.hpp>
#include <selflearn/error.hpp>
#include <selflearn/logistic.hpp>
#include <selflearn/session.hpp>
#include <selflearn/tokenize.hpp>

#include <Eigen/Core>
#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

namespace selflearn {

/// A friction detector: called as `detector(turn)`, returns a bool (friction or not) or a score in
/// [0, 1] (higher: more likely friction), compared with a threshold by is_friction().
template <class D>
concept friction_detector = requires(const D& d, const turn& t) {
    { d(t) } -> std::convertible_to<double>;
};

/// The detector's score of a turn as a double (a bool gives 0 or 1). Cost of the detector.
/// \throws what the detector throws.
template <friction_detector D>
[[nodiscard]] double friction_score(const D& detector, const turn& t) {
    return static_cast<double>(detector(t));
}

/// friction_score(detector, t) >= threshold [0.5]. Cost of the detector. \throws what the detector throws.
template <friction_detector D>
[[nodiscard]] bool is_friction(const D& detector, const turn& t, double threshold = 0.5) {
    return friction_score(detector, t) >= threshold;
}

/// Friction when the turn's outcome is `defect`. O(1); never throws.
struct outcome_detector {
    /// t.outcome == turn_outcome::defect. O(1).
    [[nodiscard]] bool operator()(const turn& t) const noexcept { return t.outcome == turn_outcome::defect; }
};

/// Friction when a known confidence is below its floor: the NLU's `confidence` below `nlu_floor`, or the
/// ASR's `asr_confidence` below `asr_floor`. A missing confidence never triggers. O(1).
class confidence_floor_detector {
public:
    /// Floors in [0, 1] (0 disables that check). \throws invalid_argument for a floor outside [0, 1] or NaN.
    explicit confidence_floor_detector(double nlu_floor, double asr_floor = 0.0) : nlu_(nlu_floor), asr_(asr_floor) {
        for (auto [value, name] : {std::pair{nlu_floor, "nlu_floor"}, std::pair{asr_floor, "asr_floor"}}) {
            if (!(value >= 0.0 && value <= 1.0)) {
                throw invalid_argument(fmt::format("confidence_floor_detector: {} {} is outside [0, 1]", name, value));
            }
        }
    }
    /// Whether a known confidence is below its floor. O(1); never throws.
    [[nodiscard]] bool operator()(const turn& t) const noexcept {
        return (t.confidence && *t.confidence < nlu_) || (t.asr_confidence && *t.asr_confidence < asr_);
    }
    /// The NLU floor. O(1).
    [[nodiscard]] double nlu_floor() const noexcept { return nlu_; }
    /// The ASR floor. O(1).
    [[nodiscard]] double asr_floor() const noexcept { return asr_; }

private:
    double nlu_, asr_;
};

/// Friction when the turn's handler status is known and is not one of the success codes (default: "ok").
/// O(success codes).
class status_detector {
public:
    /// \throws invalid_argument when `success_codes` is empty.
    explicit status_detector(std::vector<std::string> success_codes = {"ok"}) : ok_(std::move(success_codes)) {
        if (ok_.empty()) throw invalid_argument("status_detector: no success code given");
    }
    /// Whether t.status is set and is not a success code. O(codes); never throws.
    [[nodiscard]] bool operator()(const turn& t) const noexcept {
        return t.status && std::find(ok_.begin(), ok_.end(), *t.status) == ok_.end();
    }

private:
    std::vector<std::string> ok_;
};

/// Friction when the user barged in (interrupted the answer): t.barge_in == true. O(1); never throws.
struct barge_in_detector {
    /// t.barge_in.value_or(false). O(1).
    [[nodiscard]] bool operator()(const turn& t) const noexcept { return t.barge_in.value_or(false); }
};

/// The combination of detectors that reports friction when any of them does: its score is the largest
/// of their scores (for bools: true when any is true). Cost: the sum of theirs.
template <friction_detector... Ds>
class any_of_detector {
public:
    /// Holds copies of the detectors.
    explicit any_of_detector(Ds... detectors) : detectors_(std::move(detectors)...) {}
    /// The largest score of the detectors (0 for none). \throws what a detector throws.
    [[nodiscard]] double operator()(const turn& t) const {
        return std::apply([&](const auto&... d) { return std::max({0.0, friction_score(d, t)...}); }, detectors_);
    }

private:
    std::tuple<Ds...> detectors_;
};

/// any_of_detector of the given detectors: `any_of(outcome_detector{}, status_detector{})`. O(1).
template <friction_detector... Ds>
[[nodiscard]] any_of_detector<Ds...> any_of(Ds... detectors) {
    return any_of_detector<Ds...>(std::move(detectors)...);
}

/// The sizes of the hashed parts of friction_features(). Defaults in brackets.
struct friction_feature_options {
    std::size_t word_buckets = 128;  ///< hashed bag of words [128], >= 1
    std::size_t label_buckets = 32;  ///< hashed NLU intent and slot labels [32], >= 1
};

/// Number of the non-hashed features of friction_features().
inline constexpr std::size_t friction_numeric_feature_count = 9;

/// Names of the non-hashed features, in order (after word_0 ... and label_0 ...):
/// `asr_confidence` (0 when unknown), `has_asr_confidence`, `nlu_confidence` (0 when unknown),
/// `has_nlu_confidence`, `status_error` (status known and not "ok"), `has_status`, `barge_in`,
/// `has_barge_in`, `has_intent` (the NLU gave an intent).
inline constexpr std::array<std::string_view, friction_numeric_feature_count> friction_numeric_feature_names = {
    "asr_confidence", "has_asr_confidence", "nlu_confidence", "has_nlu_confidence", "status_error",
    "has_status",     "barge_in",           "has_barge_in",   "has_intent"};

namespace detail {

/// FNV-1a, 64 bits.
[[nodiscard]] inline std::uint64_t fnv1a64(std::string_view bytes) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (const char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    return h;
}

inline void check_friction_options(const friction_feature_options& o) {
    if (o.word_buckets == 0 || o.label_buckets == 0 || o.word_buckets > 1'000'000 || o.label_buckets > 1'000'000) {
        throw invalid_argument(fmt::format("friction features: word_buckets {} and label_buckets {} must be in [1, 1000000]",
                                           o.word_buckets, o.label_buckets));
    }
}

}  // namespace detail

/// The feature names of friction_features() with these options: `word_0` ... `word_{W-1}`, `label_0` ...
/// `label_{L-1}`, then friction_numeric_feature_names. O(W + L). \throws invalid_argument for bad options.
[[nodiscard]] inline std::vector<std::string> friction_feature_names(const friction_feature_options& options = {}) {
    detail::check_friction_options(options);
    std::vector<std::string> names;
    for (std::size_t k = 0; k < options.word_buckets; ++k) names.push_back(fmt::format("word_{}", k));
    for (std::size_t k = 0; k < options.label_buckets; ++k) names.push_back(fmt::format("label_{}", k));
    for (auto n : friction_numeric_feature_names) names.emplace_back(n);
    return names;
}

/// The features of one turn for the trained friction detector, in the order of friction_feature_names():
/// - words: 1 in bucket fnv1a64(word) mod W for each distinct case-folded token of the text;
/// - NLU labels: 1 in bucket fnv1a64("intent=" + intent) mod L, and fnv1a64("slot=" + label) mod L for
///   each slot label of the annotation markup;
/// - confidences, status and barge-in as friction_numeric_feature_names says.
/// The outcome is not used. O(text + annotation + W + L).
/// \throws invalid_utf8 on invalid text; annotation_error (naming the markup) for malformed markup;
///         invalid_argument for bad options.
[[nodiscard]] inline std::vector<double> friction_features(const turn& t, const friction_feature_options& options = {}) {
    detail::check_friction_options(options);
    const std::size_t w = options.word_buckets, l = options.label_buckets;
    std::vector<double> f(w + l + friction_numeric_feature_count, 0.0);
    for (const auto& token : tokenize(t.text, {.fold_case = true})) f[detail::fnv1a64(token.text) % w] = 1.0;
    if (t.intent) f[w + detail::fnv1a64("intent=" + *t.intent) % l] = 1.0;
    if (t.annotation) {
        annotated_text a;
        try {
            a = parse_markup(*t.annotation);
        } catch (const annotation_error& e) {
            throw annotation_error(fmt::format("friction features: annotation '{}': {}", *t.annotation, e.what()),
                                   e.position());
        }
        for (const auto& s : a.slots) f[w + detail::fnv1a64("slot=" + s.label) % l] = 1.0;
    }
    double* n = f.data() + w + l;
    n[0] = t.asr_confidence.value_or(0.0);
    n[1] = t.asr_confidence ? 1.0 : 0.0;
    n[2] = t.confidence.value_or(0.0);
    n[3] = t.confidence ? 1.0 : 0.0;
    n[4] = t.status && *t.status != "ok" ? 1.0 : 0.0;
    n[5] = t.status ? 1.0 : 0.0;
    n[6] = t.barge_in.value_or(false) ? 1.0 : 0.0;
    n[7] = t.barge_in ? 1.0 : 0.0;
    n[8] = t.intent && !t.intent->empty() ? 1.0 : 0.0;
    for (std::size_t k = 0; k < 4; k += 2) {
        if (!std::isfinite(n[k])) {
            throw invalid_argument(fmt::format("friction features: session '{}', time {}: a confidence is not finite",
                                               t.session, t.time));
        }
    }
    return f;
}

/// The trained friction detector: logistic regression over friction_features(). It models
/// friction_detector: `model(turn)` is the probability that the turn caused friction.
class friction_model {
public:
    /// The `kind` written in a friction model file.
    static constexpr std::string_view kind = "friction";

    /// Wraps a logistic model whose feature names are friction_feature_names(options) for some options
    /// (read back from the names). O(features).
    /// \throws invalid_argument when the names are not of that form.
    explicit friction_model(logistic_model model) : model_(std::move(model)) {
        const auto options = options_of(model_.feature_names());
        if (!options) throw invalid_argument("friction model: " + std::string(names_problem));
        options_ = *options;
    }

    /// The probability that `t` caused friction. O(features). \throws as friction_features().
    [[nodiscard]] double operator()(const turn& t) const { return model_.probability(friction_features(t, options_)); }
    /// The hashing options the model was trained with. O(1).
    [[nodiscard]] const friction_feature_options& options() const noexcept { return options_; }
    /// The underlying logistic model. O(1).
    [[nodiscard]] const logistic_model& logistic() const noexcept { return model_; }

    /// Writes the model file (logistic.hpp's format, kind "friction"). O(features).
    void save(std::ostream& out) const { model_.save(out, kind); }
    /// Reads a model file written by save(); `source` names it in errors. O(file size).
    /// \throws model_format_error naming the source, line and field for a malformed file, another
    ///         version, another kind, or feature names that are not friction features.
    [[nodiscard]] static friction_model load(std::istream& in, std::string_view source) {
        auto model = logistic_model::load(in, source, kind);
        if (!options_of(model.feature_names())) {
            throw model_format_error(fmt::format("{}:4: field 'features': {}", source, names_problem), 4);
        }
        return friction_model(std::move(model));
    }

    /// Equal logistic models. O(features).
    friend bool operator==(const friction_model& a, const friction_model& b) { return a.model_ == b.model_; }

private:
    static constexpr std::string_view names_problem =
        "the features are not friction features (word_0 ... word_{W-1}, label_0 ... label_{L-1}, then asr_confidence "
        "... has_intent)";

    static std::optional<friction_feature_options> options_of(const std::vector<std::string>& names) {
        friction_feature_options o{0, 0};
        while (o.word_buckets < names.size() && names[o.word_buckets].starts_with("word_")) ++o.word_buckets;
        std::size_t k = o.word_buckets;
        while (k < names.size() && names[k].starts_with("label_")) ++k;
        o.label_buckets = k - o.word_buckets;
        if (o.word_buckets == 0 || o.label_buckets == 0 || o.word_buckets > 1'000'000 || o.label_buckets > 1'000'000) {
            return std::nullopt;
        }
        if (names != friction_feature_names(o)) return std::nullopt;
        return o;
    }

    logistic_model model_;
    friction_feature_options options_;
};

/// Options of train_friction_model(). Defaults in brackets.
struct friction_training_options {
    friction_feature_options features;  ///< hashing sizes [128 word, 32 label buckets]
    double c = 1.0;                     ///< C of the logistic regression [1]
};

/// Trains the friction detector on turns whose outcome is known: label 1 for `defect`, 0 for `success`.
/// Deterministic for the same turns in the same order. Time O(turns * text + Newton on d features).
/// \throws invalid_argument when there are no turns, or no defect or no success among them (naming the
///         counts), or as friction_features().
[[nodiscard]] inline friction_model train_friction_model(std::span<const turn> turns,
                                                         const friction_training_options& options = {}) {
    const auto names = friction_feature_names(options.features);
    std::size_t defects = 0;
    for (const auto& t : turns) defects += t.outcome == turn_outcome::defect ? 1 : 0;
    if (defects == 0 || defects == turns.size()) {
        throw invalid_argument(fmt::format("friction training: {} turns, {} defects and {} successes; both outcomes are "
                                           "needed",
                                           turns.size(), defects, turns.size() - defects));
    }
    Eigen::MatrixXd x(static_cast<Eigen::Index>(turns.size()), static_cast<Eigen::Index>(names.size()));
    Eigen::VectorXd y(static_cast<Eigen::Index>(turns.size()));
    for (std::size_t i = 0; i < turns.size(); ++i) {
        const auto f = friction_features(turns[i], options.features);
        for (std::size_t k = 0; k < f.size(); ++k) x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k)) = f[k];
        y[static_cast<Eigen::Index>(i)] = turns[i].outcome == turn_outcome::defect ? 1.0 : 0.0;
    }
    return friction_model(fit_logistic(x, y, {.c = options.c}, names));
}

}  // namespace selflearn
