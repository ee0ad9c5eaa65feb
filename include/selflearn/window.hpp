#pragma once
/// \file selflearn/window.hpp
/// Rephrase-candidate windows: from the timestamps of a session's turns (in time order), the pairs
/// (turn, candidate) where the candidate is one of the at most K turns after (or before) the turn and
/// within a time window of it. Generic over where the timestamps live: a span of seconds, or any
/// random-access range of turns with a projection giving each turn's time in seconds.

#include <selflearn/error.hpp>

#include <fmt/core.h>

#include <cmath>
#include <concepts>
#include <cstddef>
#include <functional>
#include <iterator>
#include <ranges>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace selflearn {

/// Which side of a turn its candidates are on.
enum class window_direction {
    after,   ///< later turns: the turn is the first request, its candidates the possible rephrases
    before,  ///< earlier turns: the turn is the rephrase, its candidates the requests it may rephrase
};

/// Default time window, in seconds, between a turn and its candidates.
inline constexpr double default_window_seconds = 60.0;
/// Default number of turns after (or before) a turn that may be its candidates.
inline constexpr std::size_t default_window_turns = 3;

/// Which turns count as candidates of a turn.
struct window_options {
    /// A candidate is at most this many seconds from the turn (inclusive): |t(candidate) - t(turn)| <=
    /// max_seconds. Must be >= 0; +infinity means no time limit. Default 60.
    double max_seconds = default_window_seconds;
    /// A candidate is at most this many turns from the turn (index distance 1..max_turns). Must be >= 1.
    /// Default 3.
    std::size_t max_turns = default_window_turns;
    /// Candidates after (default) or before the turn.
    window_direction direction = window_direction::after;
};

/// A turn and one of its candidates, as indices into the session's turns.
struct turn_pair {
    std::size_t turn = 0;       ///< the anchor turn
    std::size_t candidate = 0;  ///< a turn after (or before) it within the window
    /// Memberwise equality.
    friend bool operator==(const turn_pair&, const turn_pair&) = default;
};

/// The candidates of one turn: the contiguous index range [first, last) (empty when first == last).
struct candidate_range {
    std::size_t first = 0;  ///< first candidate index
    std::size_t last = 0;   ///< one past the last candidate index
    /// Number of candidates. O(1).
    [[nodiscard]] std::size_t size() const noexcept { return last - first; }
    /// Whether there are none. O(1).
    [[nodiscard]] bool empty() const noexcept { return first == last; }
    /// Memberwise equality.
    friend bool operator==(const candidate_range&, const candidate_range&) = default;
};

/// Checks window options. O(1).
/// \throws invalid_argument if max_seconds is NaN or negative, or max_turns is 0.
inline void validate(const window_options& options) {
    if (std::isnan(options.max_seconds) || options.max_seconds < 0.0) {
        throw invalid_argument(fmt::format(
            "selflearn::window_options: max_seconds is {}; expected a number >= 0 (or infinity)", options.max_seconds));
    }
    if (options.max_turns == 0) {
        throw invalid_argument("selflearn::window_options: max_turns is 0; a turn needs at least 1 candidate slot");
    }
}

/// Checks that timestamps are finite and in non-decreasing order (equal times are allowed). O(n).
/// \throws invalid_argument naming the first bad index: a NaN or infinite time, or a time earlier than the
///         one before it.
inline void validate_times(std::span<const double> times) {
    for (std::size_t i = 0; i < times.size(); ++i) {
        if (!std::isfinite(times[i])) {
            throw invalid_argument(fmt::format("selflearn::candidate_pairs: time of turn {} is {}", i, times[i]));
        }
        if (i > 0 && times[i] < times[i - 1]) {
            throw invalid_argument(fmt::format(
                "selflearn::candidate_pairs: times decrease at turn {} ({} after {} at turn {}); turns must be in "
                "time order",
                i, times[i], times[i - 1], i - 1));
        }
    }
}

/// The candidates of turn i as an index range, for validated times and options (no checks: call
/// validate_times and validate first, or use candidates_of). With window_direction::after the range is
/// [i + 1, last), nearest first; with before it is [first, i), nearest last. O(max_turns).
inline candidate_range candidates_of_unchecked(std::span<const double> times, std::size_t i,
                                               const window_options& options) noexcept {
    const std::size_t n = times.size();
    if (options.direction == window_direction::after) {
        std::size_t last = i + 1;
        while (last < n && last - i <= options.max_turns && times[last] - times[i] <= options.max_seconds) ++last;
        return {i + 1, last};
    }
    std::size_t first = i;
    while (first > 0 && i - (first - 1) <= options.max_turns && times[i] - times[first - 1] <= options.max_seconds) {
        --first;
    }
    return {first, i};
}

/// The candidates of turn i: see candidates_of_unchecked. O(n) (validates the times).
/// \throws invalid_argument on bad times or options (as validate_times and validate), or i out of range.
inline candidate_range candidates_of(std::span<const double> times, std::size_t i,
                                     const window_options& options = {}) {
    validate(options);
    validate_times(times);
    if (i >= times.size()) {
        throw invalid_argument(
            fmt::format("selflearn::candidates_of: turn {} out of range ({} turns)", i, times.size()));
    }
    return candidates_of_unchecked(times, i, options);
}

/// Calls f(turn_pair) for every (turn, candidate), turns in increasing order and, for each turn, its
/// candidates nearest first. O(n + pairs) after validation; allocates nothing.
/// \throws invalid_argument on bad times or options (before any call to f).
template <class F>
    requires std::invocable<F&, turn_pair>
void for_each_candidate_pair(std::span<const double> times, const window_options& options, F&& f) {
    validate(options);
    validate_times(times);
    for (std::size_t i = 0; i < times.size(); ++i) {
        const candidate_range r = candidates_of_unchecked(times, i, options);
        if (options.direction == window_direction::after) {
            for (std::size_t j = r.first; j < r.last; ++j) std::invoke(f, turn_pair{i, j});
        } else {
            for (std::size_t j = r.last; j-- > r.first;) std::invoke(f, turn_pair{i, j});
        }
    }
}

/// Every (turn, candidate) pair of a session, turns in increasing order, candidates nearest first.
/// `times` are the turns' timestamps in seconds, in time order. O(n + pairs).
/// \throws invalid_argument on a NaN or infinite time, decreasing times (naming the turn), max_turns 0,
///         or a negative or NaN max_seconds.
inline std::vector<turn_pair> candidate_pairs(std::span<const double> times, const window_options& options = {}) {
    std::vector<turn_pair> pairs;
    for_each_candidate_pair(times, options, [&](turn_pair p) { pairs.push_back(p); });
    return pairs;
}

/// Every (turn, candidate) pair of any random-access range of turns, with `time_of(turn)` giving a turn's
/// time in seconds (anything convertible to double); e.g. `candidate_pairs(turns, &turn::time)`.
/// O(n + pairs); allocates the n times once.
/// \throws invalid_argument as the span overload.
template <std::ranges::random_access_range R, class Projection>
    requires std::convertible_to<std::invoke_result_t<Projection&, std::ranges::range_reference_t<R>>, double>
std::vector<turn_pair> candidate_pairs(R&& turns, Projection time_of, const window_options& options = {}) {
    std::vector<double> times;
    times.reserve(static_cast<std::size_t>(std::ranges::distance(turns)));
    for (auto&& t : turns) times.push_back(static_cast<double>(std::invoke(time_of, t)));
    return candidate_pairs(std::span<const double>(times), options);
}

}  // namespace selflearn
