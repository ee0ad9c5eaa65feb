#include <selflearn/window.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

using selflearn::candidate_pairs;
using selflearn::turn_pair;
using selflearn::window_direction;
using selflearn::window_options;

// Brute-force reference from the definition: for every turn, every other turn on the right side, at index
// distance 1..K and time distance <= max_seconds, nearest first.
std::vector<turn_pair> brute_force(const std::vector<double>& times, const window_options& o) {
    std::vector<turn_pair> out;
    const std::size_t n = times.size();
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t d = 1; d <= n; ++d) {
            if (o.direction == window_direction::after) {
                if (i + d >= n) break;
                if (d <= o.max_turns && std::abs(times[i + d] - times[i]) <= o.max_seconds) out.push_back({i, i + d});
            } else {
                if (d > i) break;
                if (d <= o.max_turns && std::abs(times[i] - times[i - d]) <= o.max_seconds) out.push_back({i, i - d});
            }
        }
    }
    return out;
}

std::string show(const std::vector<turn_pair>& pairs) {
    std::string s;
    for (const auto& p : pairs) s += "(" + std::to_string(p.turn) + "," + std::to_string(p.candidate) + ") ";
    return s;
}

void check(const std::vector<double>& times, const window_options& o) {
    const auto expected = brute_force(times, o);
    const auto got = candidate_pairs(times, o);
    if (got != expected) {
        INFO("expected ", show(expected));
        INFO("got      ", show(got));
        CHECK(got == expected);
    }
    // The per-turn ranges cover the same pairs.
    std::vector<turn_pair> from_ranges;
    for (std::size_t i = 0; i < times.size(); ++i) {
        const auto r = selflearn::candidates_of(times, i, o);
        if (o.direction == window_direction::after) {
            for (std::size_t j = r.first; j < r.last; ++j) from_ranges.push_back({i, j});
        } else {
            for (std::size_t j = r.last; j-- > r.first;) from_ranges.push_back({i, j});
        }
    }
    CHECK(from_ranges == expected);
}

}  // namespace

TEST_CASE("candidate pairs agree with brute force on every small session") {
    // Every non-decreasing sequence of up to 6 times on the grid {0, 1, 2, 3} (equal times included), every
    // K up to 4, windows 0, 1, 2.5 and unbounded, both directions.
    const double windows[] = {0.0, 1.0, 2.5, std::numeric_limits<double>::infinity()};
    std::size_t sessions = 0;
    for (std::size_t n = 0; n <= 6; ++n) {
        std::vector<std::size_t> steps(n, 0);
        while (true) {
            std::vector<double> times(n);
            for (std::size_t i = 0; i < n; ++i) times[i] = static_cast<double>(steps[i]);
            ++sessions;
            for (std::size_t k = 1; k <= 4; ++k) {
                for (double w : windows) {
                    for (auto dir : {window_direction::after, window_direction::before}) {
                        check(times, window_options{w, k, dir});
                    }
                }
            }
            // Next non-decreasing sequence over {0..3}.
            std::size_t pos = n;
            while (pos > 0 && steps[pos - 1] == 3) --pos;
            if (pos == 0) break;
            ++steps[pos - 1];
            for (std::size_t i = pos; i < n; ++i) steps[i] = steps[pos - 1];
        }
    }
    // Non-decreasing sequences of length n over 4 values: C(n + 3, 3); summed for n = 0..6.
    CHECK(sessions == 1 + 4 + 10 + 20 + 35 + 56 + 84);
}

TEST_CASE("candidate pairs agree with brute force on random sessions") {
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<std::size_t> size_of(0, 80);
    std::uniform_int_distribution<std::size_t> turns_of(1, 8);
    std::exponential_distribution<double> gap(1.0 / 20.0);
    std::uniform_real_distribution<double> window(0.0, 120.0);
    for (int trial = 0; trial < 2000; ++trial) {
        std::vector<double> times;
        double t = 1.7e9;  // epoch seconds: differences stay exact enough and the code must not assume 0
        const std::size_t n = size_of(rng);
        for (std::size_t i = 0; i < n; ++i) {
            if (trial % 3 != 0 || i % 4 != 0) t += std::round(gap(rng) * 8.0) / 8.0;  // repeated times too
            times.push_back(t);
        }
        window_options o;
        o.max_seconds = trial % 5 == 0 ? std::round(window(rng)) : window(rng);
        o.max_turns = turns_of(rng);
        o.direction = trial % 2 == 0 ? window_direction::after : window_direction::before;
        check(times, o);
    }
}

TEST_CASE("documented defaults: 60 seconds, 3 turns, after") {
    const window_options o;
    CHECK(o.max_seconds == 60.0);
    CHECK(o.max_turns == 3);
    CHECK(o.direction == window_direction::after);
    // Turns at 0, 10, 20, 30, 100: turn 0 reaches turns 1..3 (K = 3); 30 -> 100 is 70 s, too far.
    const std::vector<double> times{0, 10, 20, 30, 100};
    const std::vector<turn_pair> expected{{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
    CHECK(candidate_pairs(times) == expected);
    window_options before;
    before.direction = window_direction::before;
    before.max_seconds = 15;
    const std::vector<turn_pair> expected_before{{1, 0}, {2, 1}, {3, 2}};
    CHECK(candidate_pairs(times, before) == expected_before);
    // The window bound is inclusive.
    window_options exact;
    exact.max_seconds = 10;
    exact.max_turns = 1;
    const std::vector<turn_pair> consecutive{{0, 1}, {1, 2}, {2, 3}};
    CHECK(candidate_pairs(times, exact) == consecutive);
}

TEST_CASE("any range of turns with a projection; for_each_candidate_pair streams the same pairs") {
    struct turn {
        std::string text;
        double time;
    };
    const std::vector<turn> session{{"play maj and dragons", 12.5}, {"play imagine dragons", 20.0},
                                    {"thanks", 200.0}};
    const std::vector<turn_pair> expected{{0, 1}};
    CHECK(candidate_pairs(session, &turn::time) == expected);
    CHECK(candidate_pairs(session, [](const turn& t) { return t.time; }, window_options{300.0, 5,
                                                                                      window_direction::after}) ==
          std::vector<turn_pair>{{0, 1}, {0, 2}, {1, 2}});
    const std::vector<double> times{12.5, 20.0, 200.0};
    std::vector<turn_pair> streamed;
    selflearn::for_each_candidate_pair(times, window_options{}, [&](turn_pair p) { streamed.push_back(p); });
    CHECK(streamed == expected);
    CHECK(selflearn::candidates_of(times, 1) == selflearn::candidate_range{2, 2});
    CHECK(selflearn::candidates_of(times, 1).empty());
    CHECK(selflearn::candidates_of(times, 0).size() == 1);
}

TEST_CASE("bad timestamps and options are reported with what and where") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    const std::vector<double> decreasing{1.0, 5.0, 4.0};
    CHECK_THROWS_WITH_AS(candidate_pairs(decreasing),
                         "selflearn::candidate_pairs: times decrease at turn 2 (4 after 5 at turn 1); turns must be in "
                         "time order",
                         selflearn::invalid_argument);
    const std::vector<double> with_nan{1.0, nan};
    CHECK_THROWS_WITH_AS(candidate_pairs(with_nan), "selflearn::candidate_pairs: time of turn 1 is nan",
                         selflearn::invalid_argument);
    const std::vector<double> with_inf{inf};
    CHECK_THROWS_WITH_AS(candidate_pairs(with_inf), "selflearn::candidate_pairs: time of turn 0 is inf",
                         selflearn::invalid_argument);
    const std::vector<double> ok{1.0, 2.0};
    CHECK_THROWS_WITH_AS(candidate_pairs(ok, window_options{10.0, 0, window_direction::after}),
                         "selflearn::window_options: max_turns is 0; a turn needs at least 1 candidate slot",
                         selflearn::invalid_argument);
    CHECK_THROWS_WITH_AS(candidate_pairs(ok, window_options{-1.0, 3, window_direction::after}),
                         "selflearn::window_options: max_seconds is -1; expected a number >= 0 (or infinity)",
                         selflearn::invalid_argument);
    CHECK_THROWS_AS(candidate_pairs(ok, window_options{nan, 3, window_direction::after}), selflearn::error);
    CHECK_THROWS_WITH_AS(static_cast<void>(selflearn::candidates_of(ok, 2)),
                         "selflearn::candidates_of: turn 2 out of range (2 turns)", selflearn::invalid_argument);
    int calls = 0;
    CHECK_THROWS_AS(selflearn::for_each_candidate_pair(decreasing, window_options{}, [&](turn_pair) { ++calls; }),
                    selflearn::invalid_argument);
    CHECK(calls == 0);  // validation happens before any pair is produced
    CHECK(candidate_pairs(std::vector<double>{}).empty());
}
