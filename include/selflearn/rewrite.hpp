#pragma once
/// \file selflearn/rewrite.hpp
/// Rewrite mining from rephrase sessions (precomputed query rewriting, Ponnusamy et al., "Feedback-based
/// self-learning in large-scale conversational AI agents", AAAI 2020): pool, across users, how often
/// each phrasing of a request is followed by each other phrasing until the interaction succeeds or is
/// abandoned, as an absorbing Markov chain (markov.hpp); solve it; for each utterance that is seen to
/// fail, the rewrite is the successful utterance most likely to end the interaction.
///
/// Per session (turns in time order), with utterances compared after normalize_utterance():
/// - turn i+1 *rephrases* turn i when turn i is a defect, turn i+1 comes at most `window` seconds later,
///   and the rephrase scorer gives the pair a score >= `threshold`;
/// - the turns are cut into *runs*: maximal sequences linked by rephrases (a success always ends a run);
/// - inside a run each turn's utterance u moves to the next one's v (transition u -> v); the last turn
///   moves to "success at u" when it succeeded and to "failure" when it was a defect;
/// - the *support* of (u, v) counts the distinct sessions with a run that contains u and ends in success
///   at v (v != u);
/// - a *served* turn (turn::served_rewrite set to a text v whose normal form differs from u's) is evidence
///   about its rule u -> v, not about u: it counts a served success or failure of (u, v), a served success
///   also supports (u, v), and it takes part in no run (it is neither rephrased nor a rephrase).
/// Counts (transitions, support, served) are plain sums, so sessions can be counted on separate shards (split by
/// session) and merged with rewrite_counts::merge before solving. Memory is bounded by the distinct
/// utterances and the distinct pairs seen, never by the number of turns.

#include <selflearn/align.hpp>
#include <selflearn/detail/rewrite_state.hpp>
#include <selflearn/error.hpp>
#include <selflearn/friction.hpp>
#include <selflearn/markov.hpp>
#include <selflearn/paraphrase.hpp>
#include <selflearn/session.hpp>
#include <selflearn/tokenize.hpp>
#include <selflearn/utf8.hpp>
#include <selflearn/window.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace selflearn {

/// Default rephrase time window in seconds: the same as the rephrase-candidate window of window.hpp.
inline constexpr double default_rephrase_window = default_window_seconds;
/// Default minimum rephrase score of the character-similarity scorer (similarity in [0, 1]).
inline constexpr double default_rephrase_threshold = 0.5;

/// Where a counted transition goes.
enum class rewrite_target {
    utterance,  ///< another utterance (a rephrase)
    success,    ///< success at the utterance named by `to` (absorbing)
    failure,    ///< failure: the run ended in a defect (absorbing; `to` is empty)
};

/// The name of a target kind: "utterance", "success", "failure". O(1); never throws.
[[nodiscard]] constexpr std::string_view to_string(rewrite_target kind) noexcept {
    switch (kind) {
        case rewrite_target::utterance: return "utterance";
        case rewrite_target::success: return "success";
        case rewrite_target::failure: return "failure";
    }
    return "failure";
}

/// Options of the rewrite miner. Defaults in brackets.
struct rewrite_options {
    /// Maximum gap in seconds (inclusive) between a defect turn and the next turn of the session for the
    /// next turn to count as its rephrase [60, as window.hpp]. Must be >= 0 (may be +infinity).
    double window = default_rephrase_window;
    /// Minimum rephrase score [0.5]; a pair scoring at least this is a rephrase.
    double threshold = default_rephrase_threshold;
    /// Minimum support of a kept rewrite: distinct sessions where a run from the request ended in success
    /// at the rewrite [2].
    std::uint64_t min_support = 2;
    /// Minimum absorption probability B[request, success at rewrite] of a kept rewrite [0.2].
    double min_probability = 0.2;
    /// Minimum posterior probability that the rewrite beats leaving the request alone [0.95]:
    /// P(B[request, success via rewrite] > B[request, success at request]) under Beta posteriors (see
    /// mine_rewrites). In [0, 1]; 0 turns the rule off (only the point estimates decide).
    double confidence = 0.95;
    /// Threads for solving the chain (0: one per core) [0].
    unsigned threads = 0;
};

/// One row of the rewrite table.
struct rewrite_rule {
    std::string request;         ///< normalised utterance that is seen to fail
    std::string rewrite;         ///< normalised utterance to say instead
    double probability;          ///< B[request, success at rewrite]
    std::uint64_t support;       ///< distinct sessions supporting request -> rewrite
    double success_probability;  ///< probability that a run from the request ends in any success
    double expected_steps;       ///< expected rephrase steps from the request until success or failure
    std::string request_text;    ///< what users said: the most frequent original text behind `request`
    std::string rewrite_text;    ///< the most frequent original text behind `rewrite` (what to send instead)
    /// Posterior probability that the rewrite beats leaving the request alone (see mine_rewrites).
    double confidence = 0.0;
    /// Lower credible bound of the rewrite's success probability: the (1 - options.confidence) quantile of
    /// its posterior (of B[request, success at rewrite] before deployment, of the served success rate after).
    double lower_bound = 0.0;
    std::uint64_t served_successes = 0;  ///< served turns of this rule that succeeded (after deployment)
    std::uint64_t served_failures = 0;   ///< served turns of this rule that failed (after deployment)
    friend bool operator==(const rewrite_rule&, const rewrite_rule&) = default;
};

/// Post-deployment counts of one rule (request -> served rewrite): served turns that succeeded and failed.
struct served_counts {
    std::uint64_t successes = 0;  ///< served turns that succeeded
    std::uint64_t failures = 0;   ///< served turns that failed
    friend bool operator==(const served_counts&, const served_counts&) = default;
};

/// The regularised incomplete beta function I_x(a, b): P(X <= x) for X ~ Beta(a, b). Continued fraction
/// (modified Lentz), relative accuracy about 1e-14; O(sqrt(max(a, b))) iterations.
/// \throws invalid_argument when a or b is not a positive finite number or x is outside [0, 1].
[[nodiscard]] inline double regularized_beta(double a, double b, double x) {
    if (!(a > 0.0) || !(b > 0.0) || !std::isfinite(a) || !std::isfinite(b) || !(x >= 0.0 && x <= 1.0)) {
        throw invalid_argument(fmt::format("regularized_beta: needs a, b > 0 and x in [0, 1], got a={} b={} x={}", a, b, x));
    }
    if (x == 0.0 || x == 1.0) return x;
    const auto fraction = [](double p, double q, double y) {
        constexpr double tiny = 1e-300;
        double c = 1.0, d = 1.0 - (p + q) * y / (p + 1.0);
        if (std::abs(d) < tiny) d = tiny;
        d = 1.0 / d;
        double h = d;
        for (int m = 1; m <= 100000; ++m) {
            const double m2 = 2.0 * m;
            double aa = m * (q - m) * y / ((p + m2 - 1.0) * (p + m2));
            d = 1.0 + aa * d;
            if (std::abs(d) < tiny) d = tiny;
            c = 1.0 + aa / c;
            if (std::abs(c) < tiny) c = tiny;
            d = 1.0 / d;
            h *= d * c;
            aa = -(p + m) * (p + q + m) * y / ((p + m2) * (p + m2 + 1.0));
            d = 1.0 + aa * d;
            if (std::abs(d) < tiny) d = tiny;
            c = 1.0 + aa / c;
            if (std::abs(c) < tiny) c = tiny;
            d = 1.0 / d;
            const double delta = d * c;
            h *= delta;
            if (std::abs(delta - 1.0) < 1e-15) break;
        }
        return h;
    };
    const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
    if (x < (a + 1.0) / (a + b + 2.0)) return std::exp(log_front) * fraction(a, b, x) / a;
    return 1.0 - std::exp(log_front) * fraction(b, a, 1.0 - x) / b;
}

/// The q quantile of Beta(a, b): the x with I_x(a, b) = q, by bisection to 1e-12. O(40 regularized_beta).
/// \throws invalid_argument as regularized_beta, or when q is outside [0, 1].
[[nodiscard]] inline double beta_quantile(double a, double b, double q) {
    if (!(q >= 0.0 && q <= 1.0)) throw invalid_argument(fmt::format("beta_quantile: q {} is outside [0, 1]", q));
    (void)regularized_beta(a, b, 0.5);  // validates a and b
    double lo = 0.0, hi = 1.0;
    while (hi - lo > 1e-12) {
        const double mid = 0.5 * (lo + hi);
        (regularized_beta(a, b, mid) < q ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
}

/// P(X > Y) for independent X ~ Beta(a_x, b_x) and Y ~ Beta(a_y, b_y) with a_x a positive integer: the
/// closed form sum over i < a_x of B(a_y + i, b_x + b_y) / ((b_x + i) B(1 + i, b_x) B(a_y, b_y)), in log
/// space. O(a_x).
/// \throws invalid_argument when a parameter is not positive and finite or a_x is not an integer.
[[nodiscard]] inline double beta_greater_probability(double a_x, double b_x, double a_y, double b_y) {
    for (const double v : {a_x, b_x, a_y, b_y}) {
        if (!(v > 0.0) || !std::isfinite(v)) {
            throw invalid_argument(fmt::format("beta_greater_probability: parameter {} is not positive and finite", v));
        }
    }
    if (a_x != std::floor(a_x)) throw invalid_argument(fmt::format("beta_greater_probability: a_x {} is not an integer", a_x));
    const auto log_beta = [](double p, double q) { return std::lgamma(p) + std::lgamma(q) - std::lgamma(p + q); };
    double total = 0.0;
    const double base = log_beta(a_y, b_y);
    for (double i = 0.0; i < a_x; i += 1.0) {
        total += std::exp(log_beta(a_y + i, b_x + b_y) - std::log(b_x + i) - log_beta(1.0 + i, b_x) - base);
    }
    return std::clamp(total, 0.0, 1.0);
}

/// P(X_1 > X_2) for (X_1, X_2, rest) ~ Dirichlet(1 + c_1, 1 + c_2, 1 + rest): X_1 / (X_1 + X_2) is
/// Beta(1 + c_1, 1 + c_2), so this is 1 - I_{1/2}(1 + c_1, 1 + c_2), whatever `rest`. O(regularized_beta).
/// \throws invalid_argument when a count is negative or not finite.
[[nodiscard]] inline double dirichlet_greater_probability(double c_1, double c_2) {
    if (!(c_1 >= 0.0) || !(c_2 >= 0.0) || !std::isfinite(c_1) || !std::isfinite(c_2)) {
        throw invalid_argument(fmt::format("dirichlet_greater_probability: counts {} and {} must be finite and >= 0", c_1, c_2));
    }
    return regularized_beta(1.0 + c_2, 1.0 + c_1, 0.5);
}

/// The mergeable counts of the rewrite miner: transitions between utterances (and into success or
/// failure) and the support of (request, rewrite) pairs, keyed by normalised text, and the original texts
/// (surface forms) users said behind each normalised one. Memory: each distinct utterance and surface form
/// once, plus 16 bytes per distinct transition, supported pair and (utterance, surface) pair.
class rewrite_counts {
public:
    /// Adds `count` sightings of the original text `surface` behind the normalised utterance `utterance`.
    /// O(|utterance| + |surface|) expected.
    /// \throws invalid_argument when either text is empty.
    void add_surface(std::string_view utterance, std::string_view surface, std::uint64_t count = 1) {
        if (utterance.empty() || surface.empty()) {
            throw invalid_argument(fmt::format("rewrite counts: empty text in a surface form of '{}'", utterance));
        }
        add_surface_ids(utterances_.intern(utterance), surface, count);
    }

    /// The most frequent original text behind a normalised utterance (ties: the smallest in byte order), or
    /// the utterance itself when no surface form was counted. O(surface forms of the utterance) after an
    /// O(|utterance|) lookup.
    [[nodiscard]] std::string surface(std::string_view utterance) const {
        const auto* id = utterances_.find(utterance);
        if (id == nullptr) return std::string(utterance);
        const auto it = surfaces_.find(*id);
        if (it == surfaces_.end() || it->second.empty()) return std::string(utterance);
        return std::string(detail::most_frequent(it->second));
    }

    /// Calls f(std::string_view utterance, std::string_view surface, std::uint64_t count) for every surface
    /// form, ordered by (utterance, surface) in byte order. O(f log f).
    template <class F>
    void for_each_surface(F&& f) const {
        std::vector<std::tuple<std::string_view, std::string_view, std::uint64_t>> rows;
        for (const auto& [id, forms] : surfaces_) {
            for (const auto& [text, count] : forms) rows.emplace_back(utterances_.text(id), text, count);
        }
        std::sort(rows.begin(), rows.end());
        for (const auto& [utterance, text, count] : rows) f(utterance, text, count);
    }

    /// Adds `count` transitions from utterance `from` to `to` (kind utterance), to success at `to` (kind
    /// success) or to failure (`to` ignored). O(|from| + |to|) expected.
    /// \throws invalid_argument when count is negative or not finite, or `from` (or `to`, unless failure) is empty.
    void add_transition(std::string_view from, rewrite_target kind, std::string_view to, double count = 1.0) {
        if (!(count >= 0.0) || !std::isfinite(count)) {
            throw invalid_argument(fmt::format("rewrite counts: transition count {} from '{}' is negative or not finite",
                                               count, from));
        }
        if (from.empty() || (kind != rewrite_target::failure && to.empty())) {
            throw invalid_argument("rewrite counts: empty utterance in a transition");
        }
        const std::uint32_t f = utterances_.intern(from);
        std::uint32_t code = detail::failure_code;
        if (kind != rewrite_target::failure) code = 2 * utterances_.intern(to) + (kind == rewrite_target::success ? 1u : 0u);
        if (count > 0.0) transitions_[detail::pair_key(f, code)] += count;
    }

    /// Adds `sessions` to the support of (request, rewrite). O(|request| + |rewrite|) expected.
    /// \throws invalid_argument when an utterance is empty or the two are equal.
    void add_support(std::string_view request, std::string_view rewrite, std::uint64_t sessions = 1) {
        if (request.empty() || rewrite.empty() || request == rewrite) {
            throw invalid_argument(fmt::format("rewrite counts: support needs two different non-empty utterances, "
                                               "got '{}' and '{}'",
                                               request, rewrite));
        }
        const auto r = utterances_.intern(request);
        const auto w = utterances_.intern(rewrite);
        if (sessions > 0) support_[detail::pair_key(r, w)] += sessions;
    }

    /// Adds post-deployment counts of the rule request -> rewrite: served turns of `request` that were
    /// served `rewrite` and succeeded or failed. O(|request| + |rewrite|) expected.
    /// \throws invalid_argument when an utterance is empty or the two are equal.
    void add_served(std::string_view request, std::string_view rewrite, std::uint64_t successes, std::uint64_t failures) {
        if (request.empty() || rewrite.empty() || request == rewrite) {
            throw invalid_argument(fmt::format("rewrite counts: a served rule needs two different non-empty utterances, "
                                               "got '{}' and '{}'",
                                               request, rewrite));
        }
        add_served_ids(utterances_.intern(request), utterances_.intern(rewrite), successes, failures);
    }

    /// Post-deployment counts of request -> rewrite (zero when never served). O(|request| + |rewrite|) expected.
    [[nodiscard]] served_counts served(std::string_view request, std::string_view rewrite) const {
        const auto* r = utterances_.find(request);
        const auto* w = utterances_.find(rewrite);
        if (r == nullptr || w == nullptr) return {};
        const auto it = served_.find(detail::pair_key(*r, *w));
        return it == served_.end() ? served_counts{} : it->second;
    }

    /// Calls f(std::string_view request, std::string_view rewrite, served_counts counts) for every served
    /// rule, ordered by (request, rewrite). O(r log r).
    template <class F>
    void for_each_served(F&& f) const {
        std::vector<std::tuple<std::string_view, std::string_view, served_counts>> rows;
        rows.reserve(served_.size());
        for (const auto& [key, c] : served_) {
            rows.emplace_back(utterances_.text(static_cast<std::uint32_t>(key >> 32)),
                              utterances_.text(static_cast<std::uint32_t>(key & 0xffffffffu)), c);
        }
        std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
            return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
        });
        for (const auto& [request, rewrite, c] : rows) f(request, rewrite, c);
    }

    /// Number of distinct served rules. O(1).
    [[nodiscard]] std::size_t served_size() const noexcept { return served_.size(); }

    /// Adds every count of `other`. O(size of other) expected.
    rewrite_counts& merge(const rewrite_counts& other) {
        other.for_each_served([&](std::string_view request, std::string_view rewrite, served_counts c) {
            add_served(request, rewrite, c.successes, c.failures);
        });
        other.for_each_transition([&](std::string_view from, rewrite_target kind, std::string_view to, double count) {
            add_transition(from, kind, to, count);
        });
        other.for_each_support([&](std::string_view request, std::string_view rewrite, std::uint64_t sessions) {
            add_support(request, rewrite, sessions);
        });
        other.for_each_surface([&](std::string_view utterance, std::string_view text, std::uint64_t count) {
            add_surface(utterance, text, count);
        });
        return *this;
    }
    /// Same as merge(other).
    rewrite_counts& operator+=(const rewrite_counts& other) { return merge(other); }

    /// Calls f(std::string_view from, rewrite_target kind, std::string_view to, double count) for every
    /// transition, ordered by (from, kind, to) with texts in byte order and kinds in the enum's order; `to`
    /// is empty for failure. O(e log e).
    template <class F>
    void for_each_transition(F&& f) const {
        std::vector<std::tuple<std::string_view, int, std::string_view, double>> rows;
        rows.reserve(transitions_.size());
        for (const auto& [key, count] : transitions_) {
            const auto from = static_cast<std::uint32_t>(key >> 32);
            const auto code = static_cast<std::uint32_t>(key & 0xffffffffu);
            if (code == detail::failure_code) {
                rows.emplace_back(utterances_.text(from), 2, std::string_view{}, count);
            } else {
                rows.emplace_back(utterances_.text(from), static_cast<int>(code & 1u), utterances_.text(code / 2), count);
            }
        }
        std::sort(rows.begin(), rows.end());
        for (const auto& [from, kind, to, count] : rows) f(from, static_cast<rewrite_target>(kind), to, count);
    }

    /// Calls f(std::string_view request, std::string_view rewrite, std::uint64_t sessions) for every
    /// supported pair, ordered by (request, rewrite). O(s log s).
    template <class F>
    void for_each_support(F&& f) const {
        std::vector<std::tuple<std::string_view, std::string_view, std::uint64_t>> rows;
        rows.reserve(support_.size());
        for (const auto& [key, sessions] : support_) {
            rows.emplace_back(utterances_.text(static_cast<std::uint32_t>(key >> 32)),
                              utterances_.text(static_cast<std::uint32_t>(key & 0xffffffffu)), sessions);
        }
        std::sort(rows.begin(), rows.end());
        for (const auto& [request, rewrite, sessions] : rows) f(request, rewrite, sessions);
    }

    /// Count of a transition (0 when never seen). O(|from| + |to|) expected.
    [[nodiscard]] double transition_count(std::string_view from, rewrite_target kind, std::string_view to) const {
        const auto* f = utterances_.find(from);
        if (f == nullptr) return 0.0;
        std::uint32_t code = detail::failure_code;
        if (kind != rewrite_target::failure) {
            const auto* t = utterances_.find(to);
            if (t == nullptr) return 0.0;
            code = 2 * *t + (kind == rewrite_target::success ? 1u : 0u);
        }
        const auto it = transitions_.find(detail::pair_key(*f, code));
        return it == transitions_.end() ? 0.0 : it->second;
    }

    /// Support of (request, rewrite) (0 when never seen). O(|request| + |rewrite|) expected.
    [[nodiscard]] std::uint64_t support(std::string_view request, std::string_view rewrite) const {
        const auto* r = utterances_.find(request);
        const auto* w = utterances_.find(rewrite);
        if (r == nullptr || w == nullptr) return 0;
        const auto it = support_.find(detail::pair_key(*r, *w));
        return it == support_.end() ? 0 : it->second;
    }

    /// Distinct utterances, transitions and supported pairs. O(1).
    [[nodiscard]] std::size_t utterance_count() const noexcept { return utterances_.size(); }
    /// Number of distinct transitions. O(1).
    [[nodiscard]] std::size_t transition_size() const noexcept { return transitions_.size(); }
    /// Number of distinct supported pairs. O(1).
    [[nodiscard]] std::size_t support_size() const noexcept { return support_.size(); }

    /// Equal when both hold the same transitions, support, served counts and surface forms (by text).
    /// O((e + s + r) log(e + s + r)).
    friend bool operator==(const rewrite_counts& a, const rewrite_counts& b) {
        if (a.transitions_.size() != b.transitions_.size() || a.support_.size() != b.support_.size() ||
            a.served_.size() != b.served_.size()) {
            return false;
        }
        std::vector<std::tuple<std::string, std::string, std::uint64_t>> forms_a, forms_b;
        a.for_each_surface([&](auto u, auto t, auto c) { forms_a.emplace_back(u, t, c); });
        b.for_each_surface([&](auto u, auto t, auto c) { forms_b.emplace_back(u, t, c); });
        if (forms_a != forms_b) return false;
        bool same = true;
        a.for_each_transition([&](std::string_view from, rewrite_target kind, std::string_view to, double count) {
            same = same && b.transition_count(from, kind, to) == count;
        });
        a.for_each_support([&](std::string_view request, std::string_view rewrite, std::uint64_t sessions) {
            same = same && b.support(request, rewrite) == sessions;
        });
        a.for_each_served([&](std::string_view request, std::string_view rewrite, served_counts c) {
            same = same && b.served(request, rewrite) == c;
        });
        return same;
    }

    /// Internal access for mine_rewrites.
    [[nodiscard]] const detail::utterance_table& utterances() const noexcept { return utterances_; }
    /// Internal access for mine_rewrites: (from id << 32 | target code) -> count.
    [[nodiscard]] const std::unordered_map<std::uint64_t, double>& transitions() const noexcept { return transitions_; }
    /// Internal access for mine_rewrites: (request id << 32 | rewrite id) -> sessions.
    [[nodiscard]] const std::unordered_map<std::uint64_t, std::uint64_t>& support_table() const noexcept {
        return support_;
    }
    /// Records a transition by utterance id (internal use by rewrite_miner).
    void add_transition_ids(std::uint32_t from, std::uint32_t code, double count) {
        transitions_[detail::pair_key(from, code)] += count;
    }
    /// Records support by utterance id (internal use by rewrite_miner).
    void add_support_ids(std::uint32_t request, std::uint32_t rewrite, std::uint64_t sessions) {
        support_[detail::pair_key(request, rewrite)] += sessions;
    }
    /// Records served counts by utterance id (internal use by rewrite_miner).
    void add_served_ids(std::uint32_t request, std::uint32_t rewrite, std::uint64_t successes, std::uint64_t failures) {
        if (successes == 0 && failures == 0) return;
        auto& c = served_[detail::pair_key(request, rewrite)];
        c.successes += successes;
        c.failures += failures;
    }
    /// Internal access for mine_rewrites: (request id << 32 | rewrite id) -> served counts.
    [[nodiscard]] const std::unordered_map<std::uint64_t, served_counts>& served_table() const noexcept { return served_; }
    /// Interns an utterance (internal use by rewrite_miner).
    std::uint32_t intern(std::string_view text) { return utterances_.intern(text); }
    /// Records surface forms by utterance id (internal use by rewrite_miner).
    void add_surface_ids(std::uint32_t utterance, std::string_view surface, std::uint64_t count) {
        if (count == 0) return;
        auto& forms = surfaces_[utterance];
        if (auto it = forms.find(surface); it != forms.end()) {
            it->second += count;
        } else {
            forms.emplace(std::string(surface), count);
        }
    }

private:
    detail::utterance_table utterances_;
    /// utterance id -> original text -> sightings
    std::unordered_map<std::uint32_t, std::map<std::string, std::uint64_t, std::less<>>> surfaces_;
    std::unordered_map<std::uint64_t, double> transitions_;
    std::unordered_map<std::uint64_t, std::uint64_t> support_;
    std::unordered_map<std::uint64_t, served_counts> served_;
};

namespace detail {

inline void check_rewrite_options(const rewrite_options& o) {
    if (!(o.window >= 0.0)) throw invalid_argument(fmt::format("rewrite options: window {} must be >= 0", o.window));
    if (std::isnan(o.threshold)) throw invalid_argument("rewrite options: threshold is NaN");
    if (!(o.min_probability >= 0.0 && o.min_probability <= 1.0)) {
        throw invalid_argument(fmt::format("rewrite options: min_probability {} is outside [0, 1]", o.min_probability));
    }
    if (!(o.confidence >= 0.0 && o.confidence <= 1.0)) {
        throw invalid_argument(fmt::format("rewrite options: confidence {} is outside [0, 1]", o.confidence));
    }
}

}  // namespace detail

/// Solves the chain of `counts` and builds the rewrite table. States are numbered in byte order of their
/// text, so the result does not depend on the order in which sessions were counted or shards merged, nor
/// on the thread count. Rows come in byte order of the request.
///
/// Before deployment, for each utterance u seen to fail (with a transition to another utterance or to
/// failure):
/// - the candidate is the v != u maximising B[u, success at v]; ties go to the larger support, then to
///   the smaller v in byte order;
/// - it is kept when B[u, success at v] >= min_probability, its support >= min_support, it beats leaving
///   u alone (B[u, success at v] > B[u, success at u]) and it does so with posterior probability
///   >= confidence. The posterior of u's row is approximated by Dirichlet(1 + e_v, 1 + e_u, 1 + rest) with
///   e_x = n_u B[u, success at x] (n_u: u's transitions); exact when every run from u is one step. Then
///   P(B_v > B_u) = 1 - I_{1/2}(1 + e_v, 1 + e_u) (dirichlet_greater_probability), and the lower bound is
///   the (1 - confidence) quantile of Beta(1 + e_v, 1 + n_u - e_v).
///
/// After deployment (served counts of a rule u -> v; the rule with the most served turns when u was served
/// several), the served turns decide that rule: success rate ~ Beta(1 + successes, 1 + failures) against
/// B[u, success at u] ~ Beta(1 + e_u, 1 + n_u - e_u), independent; the rule is kept when
/// P(served > alone) >= confidence (beta_greater_probability), its support >= min_support and its served
/// success rate (reported as `probability`) >= min_probability. A retired rule gives way to u's best other
/// candidate by the rule above, if any.
/// Time: that of solve() on the chain, plus O(served successes) per served rule; memory proportional to
/// the chain's non-zeros.
/// \throws invalid_argument for bad options; numerical_error (from solve) if a check fails.
[[nodiscard]] inline std::vector<rewrite_rule> mine_rewrites(const rewrite_counts& counts, const rewrite_options& options = {}) {
    detail::check_rewrite_options(options);
    const auto& table = counts.utterances();
    const std::size_t n = table.size();
    std::vector<std::uint32_t> by_text(n);
    for (std::uint32_t i = 0; i < n; ++i) by_text[i] = i;
    std::sort(by_text.begin(), by_text.end(), [&](auto a, auto b) { return table.text(a) < table.text(b); });
    std::vector<std::uint64_t> rank(n);
    for (std::size_t r = 0; r < n; ++r) rank[by_text[r]] = r;
    // Chain keys: 2 rank for an utterance, 2 rank + 1 for success at it, the largest key for failure.
    constexpr std::uint64_t failure_key = std::numeric_limits<std::uint64_t>::max();
    transition_counts<std::uint64_t> chain_counts;
    std::vector<char> failed(n, 0);
    std::vector<double> row_total(n, 0.0);
    for (const auto& [key, count] : counts.transitions()) {
        const auto from = static_cast<std::uint32_t>(key >> 32);
        const auto code = static_cast<std::uint32_t>(key & 0xffffffffu);
        std::uint64_t to = failure_key;
        if (code != detail::failure_code) to = 2 * rank[code / 2] + (code & 1u);
        if (code == detail::failure_code || (code & 1u) == 0) failed[from] = 1;
        row_total[from] += count;
        chain_counts.add(2 * rank[from], to, count);
    }
    // The deployed rule of each served request: the most served turns, ties to the smaller rewrite.
    std::unordered_map<std::uint32_t, std::pair<std::uint32_t, served_counts>> deployed;
    for (const auto& [key, c] : counts.served_table()) {
        const auto u = static_cast<std::uint32_t>(key >> 32);
        const auto v = static_cast<std::uint32_t>(key & 0xffffffffu);
        auto [it, fresh] = deployed.try_emplace(u, v, c);
        if (fresh) continue;
        const auto total = c.successes + c.failures;
        const auto best = it->second.second.successes + it->second.second.failures;
        if (total > best || (total == best && table.text(v) < table.text(it->second.first))) it->second = {v, c};
    }
    const auto support_of = [&](std::uint32_t u, std::uint32_t v) -> std::uint64_t {
        const auto it = counts.support_table().find(detail::pair_key(u, v));
        return it == counts.support_table().end() ? 0 : it->second;
    };
    const double tail = 1.0 - options.confidence;
    std::map<std::string_view, rewrite_rule> rules;
    // What the chain says of a request u: B[u, success at u], any success, steps.
    struct alone {
        double self = 0.0, success = 0.0, steps = 1.0;
    };
    std::unordered_map<std::uint32_t, alone> chain_view;
    if (!chain_counts.empty()) {
        const auto chain = [&] {
            try {
                return absorbing_chain<std::uint64_t>::from_counts(chain_counts);
            } catch (const unreachable_absorption& e) {
                // Name the utterances rather than their numeric keys.
                const auto keys = chain_counts.states();
                std::string names;
                for (std::size_t k = 0; k < e.states().size() && k < 10; ++k) {
                    names += fmt::format("{}'{}'", k == 0 ? "" : ", ", table.text(by_text[keys[e.states()[k]] / 2]));
                }
                if (e.states().size() > 10) names += fmt::format(" and {} more", e.states().size() - 10);
                throw unreachable_absorption(fmt::format("rewrite counts: {} utterance{} never reach success or failure: {}",
                                                         e.states().size(), e.states().size() == 1 ? "" : "s", names),
                                             e.states());
            }
        }();
        const auto solved = solve(chain, {.threads = options.threads});
        const auto& absorbing = chain.absorbing_states();
        const auto& transient = chain.transient_states();
        for (std::size_t i = 0; i < transient.size(); ++i) {
            const std::uint64_t u_key = transient[i];
            const std::uint32_t u = by_text[u_key / 2];
            double success = 0.0, self = 0.0;
            const auto served_it = deployed.find(u);
            std::optional<std::uint32_t> best;
            double best_p = -1.0;
            std::uint64_t best_support = 0;
            for (decltype(solved.probabilities)::InnerIterator it(solved.probabilities, static_cast<Eigen::Index>(i)); it;
                 ++it) {
                const std::uint64_t a = absorbing[static_cast<std::size_t>(it.col())];
                if (a == failure_key || (a & 1u) == 0) continue;
                success += it.value();
                const std::uint32_t v = by_text[a / 2];
                if (v == u) {
                    self = it.value();
                    continue;
                }
                // The deployed rewrite is judged by its served turns, not by the traffic before deployment.
                if (served_it != deployed.end() && served_it->second.first == v) continue;
                const std::uint64_t sup = support_of(u, v);
                // Absorbing states come in key order, i.e. text order, so `>` keeps the smaller text on a tie.
                if (it.value() > best_p || (it.value() == best_p && sup > best_support)) {
                    best = v;
                    best_p = it.value();
                    best_support = sup;
                }
            }
            const double steps = solved.expected_steps[static_cast<Eigen::Index>(i)];
            chain_view[u] = {self, success, steps};
            if (failed[u] == 0 || !best || best_p < options.min_probability || best_support < options.min_support ||
                !(best_p > self)) {
                continue;
            }
            const double nu = row_total[u];
            const double e_v = std::clamp(nu * best_p, 0.0, nu), e_u = std::clamp(nu * self, 0.0, nu);
            const double confidence = dirichlet_greater_probability(e_v, e_u);
            if (confidence < options.confidence) continue;
            rules.emplace(table.text(u),
                          rewrite_rule{table.text(u), table.text(*best), best_p, best_support, success, steps,
                                       counts.surface(table.text(u)), counts.surface(table.text(*best)), confidence,
                                       beta_quantile(1.0 + e_v, 1.0 + nu - e_v, tail), 0, 0});
        }
    }
    for (const auto& [u, served] : deployed) {
        const auto& [v, c] = served;
        const alone a = chain_view.contains(u) ? chain_view.at(u) : alone{};
        const double nu = chain_view.contains(u) ? row_total[u] : 0.0;
        const double e_u = std::clamp(nu * a.self, 0.0, nu);
        const double s = static_cast<double>(c.successes), f = static_cast<double>(c.failures);
        const double confidence = beta_greater_probability(1.0 + s, 1.0 + f, 1.0 + e_u, 1.0 + nu - e_u);
        const double rate = s / (s + f);
        const std::uint64_t sup = support_of(u, v);
        if (confidence < options.confidence || rate < options.min_probability || sup < options.min_support) continue;
        const bool in_chain = chain_view.contains(u);
        rules.insert_or_assign(table.text(u),
                               rewrite_rule{table.text(u), table.text(v), rate, sup, in_chain ? a.success : rate,
                                            in_chain ? a.steps : 1.0, counts.surface(table.text(u)),
                                            counts.surface(table.text(v)), confidence,
                                            beta_quantile(1.0 + s, 1.0 + f, tail), c.successes, c.failures});
    }
    std::vector<rewrite_rule> result;
    result.reserve(rules.size());
    for (auto& [request, rule] : rules) result.push_back(std::move(rule));
    return result;
}

/// Counts rephrase runs session by session (see the header's description) into rewrite_counts; memory is
/// bounded by the distinct utterances and pairs, not by the sessions or turns.
class rewrite_miner {
public:
    /// \throws invalid_argument for bad options (negative window, NaN threshold, min_probability outside [0, 1]).
    explicit rewrite_miner(const rewrite_options& options = {}) : options_(options) {
        detail::check_rewrite_options(options_);
    }

    /// Counts one session whose rephrase pairs are scored by `scorer` (called only for pairs within the
    /// window whose first turn caused friction). The friction detector (friction.hpp) says which turns
    /// caused friction (is_friction at 0.5); the default takes the logged outcome ("defect"). A served turn
    /// (turn::served_rewrite) counts for or against its rule instead (see the header's description).
    /// O(turns * (text length + scorer + friction)).
    /// \throws invalid_argument naming the session and turn when turns carry different session ids, times
    ///         are not finite or decrease, a text (or served rewrite) is empty after normalisation, or the
    ///         scorer returns NaN;
    ///         invalid_utf8 on invalid text.
    template <class Scorer = character_similarity_scorer, class Friction = outcome_detector>
        requires paraphrase_scorer<Scorer> && friction_detector<Friction>
    void add_session(std::span<const turn> turns, const Scorer& scorer = {}, const Friction& friction = {}) {
        count_session(turns, detect_friction(turns, friction), scored_by(turns, scorer));
    }

    /// Counts one session whose rephrase scores are given (a model's scores carried in the log):
    /// `scores[i]` scores turn i as a rephrase of turn i - 1 (scores[0] is ignored; nullopt: not a
    /// rephrase). O(turns * text length).
    /// `friction` as in the other overload.
    /// \throws as the other overload, and invalid_argument when scores.size() != turns.size().
    template <class Friction = outcome_detector>
        requires friction_detector<Friction>
    void add_session(std::span<const turn> turns, std::span<const std::optional<double>> scores,
                     const Friction& friction = {}) {
        check_scores(turns, scores);
        count_session(turns, detect_friction(turns, friction), given_scores{scores});
    }

    /// Counts one session whose friction turns the caller already decided: `friction[i]` (nonzero) when
    /// turn i caused friction. For a caller that uses the same decisions for something else (the pipeline
    /// projects labels from them), so that the detector runs once per turn. Otherwise as the overload
    /// taking a detector. O(turns * (text length + scorer)).
    /// \throws as that overload, and invalid_argument when friction.size() != turns.size().
    template <class Scorer = character_similarity_scorer>
        requires paraphrase_scorer<Scorer>
    void add_session(std::span<const turn> turns, std::span<const char> friction, const Scorer& scorer = {}) {
        check_friction_flags(turns, friction);
        count_session(turns, friction, scored_by(turns, scorer));
    }

    /// Counts one session with given rephrase scores (as the overload taking `scores`) and friction turns the
    /// caller already decided (as the overload taking `friction` flags). O(turns * text length).
    /// \throws as those overloads.
    void add_session(std::span<const turn> turns, std::span<const std::optional<double>> scores,
                     std::span<const char> friction) {
        check_friction_flags(turns, friction);
        check_scores(turns, scores);
        count_session(turns, friction, given_scores{scores});
    }

    /// The counts so far (merge them with another shard's, or write them out). O(1).
    [[nodiscard]] const rewrite_counts& counts() const noexcept { return counts_; }
    /// Mutable counts (to merge other shards in). O(1).
    [[nodiscard]] rewrite_counts& counts() noexcept { return counts_; }
    /// The options. O(1).
    [[nodiscard]] const rewrite_options& options() const noexcept { return options_; }
    /// Sessions, turns and rephrase links counted so far. O(1).
    [[nodiscard]] std::uint64_t sessions() const noexcept { return sessions_; }
    /// Turns counted so far. O(1).
    [[nodiscard]] std::uint64_t turns() const noexcept { return turns_; }
    /// Rephrase links (turn i+1 rephrasing turn i) counted so far. O(1).
    [[nodiscard]] std::uint64_t rephrases() const noexcept { return rephrases_; }

    /// mine_rewrites(counts(), options()).
    [[nodiscard]] std::vector<rewrite_rule> rewrites() const { return mine_rewrites(counts_, options_); }

private:
    /// The score of turn i as a rephrase of turn i - 1, by a scorer.
    template <class Scorer>
    static auto scored_by(std::span<const turn> turns, const Scorer& scorer) {
        return [turns, &scorer](std::size_t i) {
            const double s = static_cast<double>(std::invoke(scorer, turns[i - 1], turns[i]));
            if (std::isnan(s)) {
                throw invalid_argument(fmt::format("rewrite miner: session '{}', turn {}: the rephrase scorer returned NaN",
                                                   turns[i].session, i));
            }
            return s;
        };
    }

    /// The score of turn i as a rephrase of turn i - 1, as given (nullopt: not a rephrase).
    struct given_scores {
        std::span<const std::optional<double>> scores;
        double operator()(std::size_t i) const {
            return scores[i] ? *scores[i] : -std::numeric_limits<double>::infinity();
        }
    };

    static void check_scores(std::span<const turn> turns, std::span<const std::optional<double>> scores) {
        if (scores.size() != turns.size()) {
            throw invalid_argument(fmt::format("rewrite miner: {} scores for {} turns", scores.size(), turns.size()));
        }
    }

    static void check_friction_flags(std::span<const turn> turns, std::span<const char> friction) {
        if (friction.size() != turns.size()) {
            throw invalid_argument(fmt::format("rewrite miner: {} friction flags for {} turns", friction.size(), turns.size()));
        }
    }

    /// The detector's decision for every turn, in a buffer the miner keeps between sessions.
    template <class Friction>
    std::span<const char> detect_friction(std::span<const turn> turns, const Friction& friction) {
        friction_.resize(turns.size());
        for (std::size_t i = 0; i < turns.size(); ++i) friction_[i] = is_friction(friction, turns[i]) ? 1 : 0;
        return friction_;
    }

    template <class Score>
    void count_session(std::span<const turn> turns, std::span<const char> friction, Score&& score) {
        if (turns.empty()) return;
        // Validate the whole session before counting anything from it.
        normalized_.resize(turns.size());
        served_.resize(turns.size());
        for (std::size_t i = 0; i < turns.size(); ++i) {
            const turn& t = turns[i];
            if (t.session != turns[0].session) {
                throw invalid_argument(fmt::format("rewrite miner: turn {} belongs to session '{}', not '{}'", i,
                                                   t.session, turns[0].session));
            }
            if (!std::isfinite(t.time) || (i > 0 && t.time < turns[i - 1].time)) {
                throw invalid_argument(fmt::format("rewrite miner: session '{}', turn {}: time {} is {}", t.session, i,
                                                   t.time, std::isfinite(t.time) ? "earlier than the turn before" : "not finite"));
            }
            normalized_[i] = normalize_utterance(t.text);
            if (normalized_[i].empty()) {
                throw invalid_argument(fmt::format("rewrite miner: session '{}', turn {}: the utterance is empty", t.session, i));
            }
            served_[i].clear();
            if (t.served_rewrite) {
                served_[i] = normalize_utterance(*t.served_rewrite);
                if (served_[i].empty()) {
                    throw invalid_argument(
                        fmt::format("rewrite miner: session '{}', turn {}: the served rewrite is empty", t.session, i));
                }
                if (served_[i] == normalized_[i]) served_[i].clear();  // served as said: an ordinary turn
            }
        }
        links_.assign(turns.size(), 0);
        std::uint64_t links = 0;
        for (std::size_t i = 1; i < turns.size(); ++i) {
            // A served turn is evidence about its rule, not part of a rephrase run.
            if (!served_[i - 1].empty() || !served_[i].empty()) continue;
            if (friction[i - 1] != 0 && turns[i].time - turns[i - 1].time <= options_.window &&
                score(i) >= options_.threshold) {
                links_[i] = 1;
                ++links;
            }
        }
        ids_.clear();
        for (const auto& text : normalized_) ids_.push_back(counts_.intern(text));
        for (std::size_t i = 0; i < turns.size(); ++i) counts_.add_surface_ids(ids_[i], turns[i].text, 1);
        rephrases_ += links;
        pairs_.clear();
        std::size_t run_start = 0;
        for (std::size_t i = 0; i < turns.size(); ++i) {
            if (!served_[i].empty()) {
                // request -> served rewrite: a served success supports the rule like a run ending at it.
                const std::uint32_t v = counts_.intern(served_[i]);
                const bool success = friction[i] == 0;
                counts_.add_served_ids(ids_[i], v, success ? 1 : 0, success ? 0 : 1);
                if (success) pairs_.emplace_back(ids_[i], v);
                run_start = i + 1;
                continue;
            }
            if (i + 1 < turns.size() && links_[i + 1] != 0) {
                counts_.add_transition_ids(ids_[i], 2 * ids_[i + 1], 1.0);
                continue;
            }
            if (friction[i] == 0) {
                counts_.add_transition_ids(ids_[i], 2 * ids_[i] + 1, 1.0);
                for (std::size_t k = run_start; k < i; ++k) {
                    if (ids_[k] != ids_[i]) pairs_.emplace_back(ids_[k], ids_[i]);
                }
            } else {
                counts_.add_transition_ids(ids_[i], detail::failure_code, 1.0);
            }
            run_start = i + 1;
        }
        std::sort(pairs_.begin(), pairs_.end());
        pairs_.erase(std::unique(pairs_.begin(), pairs_.end()), pairs_.end());
        for (const auto& [u, v] : pairs_) counts_.add_support_ids(u, v, 1);
        ++sessions_;
        turns_ += turns.size();
    }

    rewrite_options options_;
    rewrite_counts counts_;
    std::uint64_t sessions_ = 0, turns_ = 0, rephrases_ = 0;
    std::vector<std::string> normalized_;
    std::vector<std::string> served_;  ///< normalised served rewrite of each turn (empty: not served)
    std::vector<std::uint32_t> ids_;
    std::vector<char> links_;
    std::vector<char> friction_;  ///< detect_friction's buffer
    std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs_;
};

}  // namespace selflearn
