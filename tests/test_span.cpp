#include <selflearn/span.hpp>
#include <selflearn/detail/span_reference.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

// Counting allocator: every allocation of this test program goes through here; while `counting` is set,
// the bytes asked for are added up (frees are not subtracted, so this bounds the peak from above).
namespace {
std::atomic<bool> counting{false};
std::atomic<std::size_t> allocated_bytes{0};
}  // namespace

void* operator new(std::size_t size) {
    if (counting.load(std::memory_order_relaxed)) allocated_bytes.fetch_add(size, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using selflearn::log_scores;
using selflearn::null_rule;
using selflearn::overlap;
using selflearn::probabilities;
using selflearn::scored_span;
using selflearn::span_options;

// The brute-force reference lives beside the decoder, in selflearn/detail/span_reference.hpp.
using problem = selflearn::detail::span_reference_problem;
using selflearn::detail::brute_force_spans;
using selflearn::detail::select_spans;
using selflearn::detail::sorted_spans;

std::optional<scored_span> fast_best(const problem& p) {
    if (p.probability) return selflearn::best_span(probabilities(p.start, p.end), p.options());
    return selflearn::best_span(log_scores(p.start, p.end), p.options());
}

std::vector<scored_span> fast_top(const problem& p, std::size_t k, overlap mode) {
    if (p.probability) return selflearn::top_spans(probabilities(p.start, p.end), k, p.options(), mode);
    return selflearn::top_spans(log_scores(p.start, p.end), k, p.options(), mode);
}

// The common shortcut: keep the running argmax of the start scores and pair it with each end when the
// length fits. Wrong for a finite L: the best start in the window is not the running maximum.
std::optional<scored_span> running_argmax_shortcut(const std::vector<double>& start, const std::vector<double>& end,
                                                   std::size_t max_length) {
    std::optional<scored_span> best;
    std::size_t arg = 0;
    for (std::size_t j = 0; j < start.size(); ++j) {
        if (start[j] > start[arg]) arg = j;
        if (j - arg + 1 > max_length) continue;
        const double v = start[arg] + end[j];
        if (!best || v > best->score) best = scored_span{arg, j, v};
    }
    return best;
}

std::string show(const std::vector<scored_span>& spans) {
    std::string s;
    for (const auto& x : spans) s += "[" + std::to_string(x.start) + "," + std::to_string(x.end) + "," +
                                     std::to_string(x.score) + "] ";
    return s;
}

void check_against_brute_force(const problem& p, std::size_t max_k) {
    const auto all = sorted_spans(p);
    const auto expected_all = select_spans(all, p, all.size() + 1, overlap::allowed);
    const auto best = fast_best(p);
    if (expected_all.empty()) {
        CHECK_FALSE(best.has_value());
    } else {
        REQUIRE(best.has_value());
        CHECK(*best == expected_all.front());
    }
    for (std::size_t k = 1; k <= max_k; ++k) {
        for (overlap mode : {overlap::allowed, overlap::forbidden}) {
            const auto expected = select_spans(all, p, k, mode);
            const auto got = fast_top(p, k, mode);
            if (got != expected) {
                INFO("k=", k, " mode=", mode == overlap::allowed ? "allowed" : "forbidden", " L=", p.max_length,
                     " n=", p.start.size());
                INFO("expected ", show(expected));
                INFO("got      ", show(got));
                CHECK(got == expected);
            }
        }
    }
}

}  // namespace

TEST_CASE("best and k best spans agree with brute force on every small case (ties everywhere)") {
    // Scores from a 3-value alphabet make ties frequent; every assignment for n <= 4, every L up to n + 1.
    const double log_values[] = {-1.0, 0.0, 1.0};
    const double prob_values[] = {0.0, 0.5, 1.0};
    std::size_t cases = 0;
    for (bool probability : {false, true}) {
        const double* values = probability ? prob_values : log_values;
        for (std::size_t n = 0; n <= 4; ++n) {
            std::size_t combos = 1;
            for (std::size_t i = 0; i < 2 * n; ++i) combos *= 3;
            for (std::size_t code = 0; code < combos; ++code) {
                problem p;
                p.probability = probability;
                std::size_t c = code;
                for (std::size_t i = 0; i < n; ++i) {
                    p.start.push_back(values[c % 3]);
                    c /= 3;
                }
                for (std::size_t i = 0; i < n; ++i) {
                    p.end.push_back(values[c % 3]);
                    c /= 3;
                }
                for (std::size_t L = 1; L <= n + 1; ++L) {
                    p.max_length = L;
                    check_against_brute_force(p, n * (n + 1) / 2 + 1);
                    ++cases;
                }
            }
        }
    }
    CHECK(cases == 2 * (1 + 2 * 9 + 3 * 81 + 4 * 729 + 5 * 6561));
}

TEST_CASE("every start and end mask on small contexts agrees with brute force") {
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<int> small(-2, 2);
    for (std::size_t n = 1; n <= 4; ++n) {
        for (int trial = 0; trial < 3; ++trial) {
            problem p;
            for (std::size_t i = 0; i < n; ++i) {
                p.start.push_back(small(rng));
                p.end.push_back(small(rng));
            }
            for (std::size_t sm = 0; sm < (std::size_t{1} << n); ++sm) {
                for (std::size_t em = 0; em < (std::size_t{1} << n); ++em) {
                    p.start_mask.assign(n, 0);
                    p.end_mask.assign(n, 0);
                    for (std::size_t i = 0; i < n; ++i) {
                        p.start_mask[i] = static_cast<std::uint8_t>((sm >> i) & 1U);
                        p.end_mask[i] = static_cast<std::uint8_t>((em >> i) & 1U);
                    }
                    for (std::size_t L = 1; L <= n; ++L) {
                        p.max_length = L;
                        check_against_brute_force(p, n * (n + 1) / 2 + 1);
                    }
                }
            }
        }
    }
}

TEST_CASE("random contexts with masks, nulls and ties agree with brute force") {
    std::mt19937_64 rng(20211107);
    std::uniform_int_distribution<std::size_t> size_of(1, 70);
    std::uniform_int_distribution<std::size_t> length_of(1, 25);
    std::uniform_int_distribution<int> kind_of(0, 5);
    std::uniform_int_distribution<int> coarse(-3, 3);
    std::normal_distribution<double> gauss(0.0, 2.0);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (int trial = 0; trial < 3000; ++trial) {
        problem p;
        const std::size_t n = size_of(rng);
        const int kind = kind_of(rng);
        p.probability = kind >= 3;
        for (std::size_t i = 0; i < n; ++i) {
            for (auto* v : {&p.start, &p.end}) {
                double x = 0;
                switch (kind) {
                case 0: x = coarse(rng); break;                      // many exact ties
                case 1: x = gauss(rng); break;                       // continuous
                case 2: x = std::round(gauss(rng) * 4.0) / 4.0; break;  // quarter steps: exact sums, ties
                case 3: x = unit(rng); break;                        // probabilities
                case 4: x = std::round(unit(rng) * 4.0) / 4.0; break;   // coarse probabilities, zeros
                default: x = unit(rng) * unit(rng); break;
                }
                v->push_back(x);
            }
        }
        p.max_length = length_of(rng);
        if (trial % 3 == 1) {
            p.start_mask.resize(n);
            p.end_mask.resize(n);
            for (std::size_t i = 0; i < n; ++i) {
                p.start_mask[i] = unit(rng) < 0.7 ? 1 : 0;
                p.end_mask[i] = unit(rng) < 0.7 ? 1 : 0;
            }
        }
        switch (trial % 4) {
        case 1: p.null = null_rule::value(p.probability ? 0.3 : 1.0, trial % 8 == 1 ? 0.0 : 0.25); break;
        case 2: p.null = null_rule::position_zero(0.0); break;
        case 3: p.null = null_rule::position_zero(p.probability ? -0.1 : -1.5); break;
        default: break;
        }
        check_against_brute_force(p, 22);
    }
}

TEST_CASE("the O(n) decoder is exact where the running-argmax shortcut is wrong") {
    // A high start far to the left captures the running argmax, but every span from it is poor, and once
    // it is more than L positions away the shortcut pairs nothing better with the late high end.
    const std::vector<double> start{5.0, 1.0, 0.0, -4.0};
    const std::vector<double> end{-10.0, -10.0, 5.0, -4.0};
    const std::size_t L = 2;
    const auto shortcut = running_argmax_shortcut(start, end, L);
    REQUIRE(shortcut.has_value());
    CHECK(*shortcut == scored_span{0, 0, -5.0});  // what the shortcut returns: wrong
    span_options o;
    o.max_length = L;
    const auto best = selflearn::best_span(log_scores(start, end), o);
    REQUIRE(best.has_value());
    CHECK(*best == scored_span{1, 2, 6.0});  // start[1] + end[2]: the true best, by hand
    problem p;
    p.start = start;
    p.end = end;
    p.max_length = L;
    CHECK(*best == brute_force_spans(p, 1, overlap::allowed).front());

    // On random inputs the shortcut is often wrong; the decoder never is.
    std::mt19937_64 rng(3);
    std::normal_distribution<double> gauss(0.0, 3.0);
    int shortcut_wrong = 0;
    for (int trial = 0; trial < 2000; ++trial) {
        problem q;
        q.max_length = 5;
        for (int i = 0; i < 40; ++i) {
            q.start.push_back(gauss(rng));
            q.end.push_back(gauss(rng));
        }
        const auto truth = brute_force_spans(q, 1, overlap::allowed).front();
        const auto fast = fast_best(q);
        REQUIRE(fast.has_value());
        CHECK(*fast == truth);
        const auto sc = running_argmax_shortcut(q.start, q.end, q.max_length);
        if (!sc || !(*sc == truth)) ++shortcut_wrong;
    }
    CHECK(shortcut_wrong > 100);
}

TEST_CASE("ties are broken by smaller start, then smaller end") {
    const std::vector<double> start{1.0, 1.0, 1.0};
    const std::vector<double> end{2.0, 2.0, 2.0};
    span_options o;
    o.max_length = 3;
    const auto top = selflearn::top_spans(log_scores(start, end), 10, o);
    const std::vector<scored_span> expected{{0, 0, 3.0}, {0, 1, 3.0}, {0, 2, 3.0},
                                            {1, 1, 3.0}, {1, 2, 3.0}, {2, 2, 3.0}};
    CHECK(top == expected);
    const auto disjoint = selflearn::top_spans(log_scores(start, end), 10, o, overlap::forbidden);
    const std::vector<scored_span> expected_disjoint{{0, 0, 3.0}, {1, 1, 3.0}, {2, 2, 3.0}};
    CHECK(disjoint == expected_disjoint);
}

TEST_CASE("ties created by rounding follow the same rule as brute force") {
    // 1 + 2^-53 rounds to 1: start 1 and start 1 + 2^-52 plus end 2^-53 ... build sums that tie only after
    // rounding, so the larger start score does not win on its own.
    const double eps = std::ldexp(1.0, -53);
    const std::vector<double> start{1.0, 1.0 + 2 * eps, 0.0};
    const std::vector<double> end{1.0, 1.0, 0.0};
    problem p;
    p.start = start;
    p.end = end;
    p.max_length = 2;
    REQUIRE(start[0] + end[0] == start[1] + end[1]);  // 2 == 2 + 2^-52 rounded
    REQUIRE(start[0] < start[1]);
    check_against_brute_force(p, 6);
    const auto best = selflearn::best_span(log_scores(start, end), p.options());
    REQUIRE(best.has_value());
    CHECK(best->start == 0);
}

TEST_CASE("null handling: a given value, position zero, and the threshold") {
    const std::vector<double> start{2.0, 0.5, 1.0, -1.0};
    const std::vector<double> end{2.0, -1.0, 0.5, 1.0};
    span_options o;
    o.max_length = 4;
    // Without a null, the best span is [0, 0] with 4.
    CHECK(selflearn::best_span(log_scores(start, end), o) == scored_span{0, 0, 4.0});
    // Position zero reserved: null = 4, the best other span is [2, 3] = 2, below the null.
    o.null = null_rule::position_zero();
    CHECK_FALSE(selflearn::best_span(log_scores(start, end), o).has_value());
    CHECK(selflearn::top_spans(log_scores(start, end), 5, o).empty());
    CHECK(selflearn::null_score(log_scores(start, end), o.null) == 4.0);
    // A threshold of -2 lets spans within 2 of the null through: [2, 3] = 2 and [1, 3] = 1.5 ... only >= 2.
    o.null = null_rule::position_zero(-2.0);
    CHECK(selflearn::best_span(log_scores(start, end), o) == scored_span{2, 3, 2.0});
    CHECK(selflearn::top_spans(log_scores(start, end), 5, o) == std::vector<scored_span>{{2, 3, 2.0}});
    // A given null value; a span scoring exactly null + threshold is reported.
    o.null = null_rule::value(3.0, 1.0);
    CHECK(selflearn::best_span(log_scores(start, end), o) == scored_span{0, 0, 4.0});
    CHECK(selflearn::top_spans(log_scores(start, end), 5, o) == std::vector<scored_span>{{0, 0, 4.0}});
    o.null = null_rule::value(3.0, 1.5);
    CHECK_FALSE(selflearn::best_span(log_scores(start, end), o).has_value());
    // Probabilities: the null is the product at position 0.
    const std::vector<double> ps{0.5, 0.25, 0.25};
    const std::vector<double> pe{0.5, 0.125, 0.375};
    span_options q;
    q.max_length = 3;
    q.null = null_rule::position_zero();
    CHECK(selflearn::null_score(probabilities(ps, pe), q.null) == 0.25);
    CHECK_FALSE(selflearn::best_span(probabilities(ps, pe), q).has_value());
    q.null = null_rule::position_zero(-0.2);
    CHECK(selflearn::best_span(probabilities(ps, pe), q) == scored_span{1, 2, 0.09375});
    // Position zero on a single position: no span is possible.
    const std::vector<double> one{1.0};
    CHECK_FALSE(selflearn::best_span(log_scores(one, one), span_options{1, {}, {}, null_rule::position_zero()})
                    .has_value());
    CHECK(selflearn::null_score(log_scores(one, one), null_rule::none()) == std::nullopt);
}

TEST_CASE("masks exclude special tokens and the current turn") {
    selflearn::span_context ctx;
    ctx.add_special();                                // 0: [CLS]
    ctx.add_turn({"play", "maj", "and", "dragons"});  // 1..4
    ctx.add_special();                                // 5: [SEP]
    ctx.add_turn({"play", "imagine", "dragons"});     // 6..8 (the current request)
    const auto mask = ctx.mask_excluding_turn(1);
    CHECK(mask == std::vector<std::uint8_t>{0, 1, 1, 1, 1, 0, 0, 0, 0});
    // The model likes the current turn best, but it is masked out.
    const std::vector<double> start{0, 1, 3, 0, 0, 0, 9, 0, 0};
    const std::vector<double> end{0, 0, 0, 0, 3, 0, 0, 0, 9};
    span_options o;
    o.max_length = 5;
    o.start_mask = mask;
    o.end_mask = mask;
    const auto best = selflearn::best_span(log_scores(start, end), o);
    REQUIRE(best.has_value());
    CHECK(*best == scored_span{2, 4, 6.0});
    CHECK(ctx.text(*best) == "maj and dragons");
    const auto words = ctx.words_of(*best);
    REQUIRE(words.has_value());
    CHECK(*words == selflearn::word_range{0, 1, 0, 3});
    // Everything masked: no span.
    const std::vector<std::uint8_t> none(9, 0);
    o.start_mask = none;
    CHECK_FALSE(selflearn::best_span(log_scores(start, end), o).has_value());
    CHECK(selflearn::top_spans(log_scores(start, end), 3, o).empty());
}

TEST_CASE("a span decoder reused across sizes gives the same answers as fresh calls") {
    std::mt19937_64 rng(11);
    std::normal_distribution<double> gauss(0.0, 1.0);
    std::uniform_int_distribution<std::size_t> size_of(0, 300);
    selflearn::span_decoder decoder;
    std::vector<scored_span> out;
    for (int trial = 0; trial < 300; ++trial) {
        problem p;
        const std::size_t n = size_of(rng);
        for (std::size_t i = 0; i < n; ++i) {
            p.start.push_back(gauss(rng));
            p.end.push_back(gauss(rng));
        }
        p.max_length = 30;
        const log_scores s(p.start, p.end);
        CHECK(decoder.best(s, p.options()) == selflearn::best_span(s, p.options()));
        decoder.top(s, 20, out, p.options());
        CHECK(out == brute_force_spans(p, 20, overlap::allowed));
        decoder.top(s, 20, out, p.options(), overlap::forbidden);
        CHECK(out == brute_force_spans(p, 20, overlap::forbidden));
    }
}

TEST_CASE("a huge max_length behaves as unbounded") {
    const std::vector<double> start{0.0, 1.0, 0.0};
    const std::vector<double> end{0.0, 0.0, 2.0};
    span_options o;
    o.max_length = std::numeric_limits<std::size_t>::max();
    CHECK(selflearn::best_span(log_scores(start, end), o) == scored_span{1, 2, 3.0});
    CHECK(selflearn::top_spans(log_scores(start, end), 2, o) ==
          std::vector<scored_span>{{1, 2, 3.0}, {0, 2, 2.0}});
}

TEST_CASE("invalid inputs are reported with what and where") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    const std::vector<double> ok{0.0, 0.0, 0.0};
    const std::vector<double> with_nan{0.0, nan, 0.0};
    const std::vector<double> with_inf{0.0, 0.0, -inf};
    const std::vector<double> short_end{0.0, 0.0};
    const std::vector<double> big{0.5, 1.5, 0.0};
    CHECK_THROWS_WITH_AS(log_scores(with_nan, ok), "selflearn::log_scores: start score at position 1 is NaN",
                         selflearn::invalid_argument);
    CHECK_THROWS_WITH_AS(log_scores(ok, with_inf), "selflearn::log_scores: end score at position 2 is infinite (-inf)",
                         selflearn::invalid_argument);
    CHECK_THROWS_WITH_AS(log_scores(ok, short_end), "selflearn::log_scores: start has 3 positions but end has 2",
                         selflearn::invalid_argument);
    CHECK_THROWS_WITH_AS(probabilities(big, ok),
                         "selflearn::probabilities: start probability at position 1 is 1.5, outside [0, 1]",
                         selflearn::invalid_argument);
    CHECK_THROWS_AS(probabilities(ok, with_nan), selflearn::error);

    const log_scores s(ok, ok);
    span_options o;
    o.max_length = 0;
    CHECK_THROWS_WITH_AS(selflearn::best_span(s, o), "selflearn::best_span: max_length is 0; a span has at least 1 position",
                         selflearn::invalid_argument);
    CHECK_THROWS_AS(selflearn::top_spans(s, 2, o), selflearn::invalid_argument);
    o.max_length = 2;
    CHECK_THROWS_WITH_AS(selflearn::top_spans(s, 0, o), "selflearn::top_spans: k is 0; ask for at least one span",
                         selflearn::invalid_argument);
    const std::vector<std::uint8_t> short_mask{1, 1};
    o.start_mask = short_mask;
    CHECK_THROWS_WITH_AS(selflearn::best_span(s, o), "selflearn::best_span: start_mask has 2 entries for 3 positions",
                         selflearn::invalid_argument);
    const std::vector<std::uint8_t> odd_mask{1, 2, 0};
    o.start_mask = {};
    o.end_mask = odd_mask;
    CHECK_THROWS_WITH_AS(selflearn::top_spans(s, 1, o), "selflearn::top_spans: end_mask entry 1 is 2; expected 0 or 1",
                         selflearn::invalid_argument);
    CHECK_THROWS_WITH_AS(null_rule::value(nan), "selflearn::null_rule: null score is nan", selflearn::invalid_argument);
    CHECK_THROWS_WITH_AS(null_rule::position_zero(inf), "selflearn::null_rule: threshold is inf",
                         selflearn::invalid_argument);
    const std::vector<double> empty;
    CHECK_THROWS_AS(selflearn::best_span(log_scores(empty, empty), span_options{3, {}, {}, null_rule::position_zero()}),
                    selflearn::invalid_argument);
    CHECK_FALSE(selflearn::best_span(log_scores(empty, empty)).has_value());  // empty context: no span, not an error
}

TEST_CASE("softmax and log_softmax are stable and exact on known values") {
    const std::vector<double> x{0.0, std::log(3.0)};
    const auto p = selflearn::softmax(x);
    CHECK(p[0] == doctest::Approx(0.25).epsilon(1e-15));
    CHECK(p[1] == doctest::Approx(0.75).epsilon(1e-15));
    const auto lp = selflearn::log_softmax(x);
    CHECK(lp[0] == doctest::Approx(std::log(0.25)).epsilon(1e-15));
    CHECK(lp[1] == doctest::Approx(std::log(0.75)).epsilon(1e-15));
    // Large logits: the naive exp overflows; the shifted form does not.
    const std::vector<double> large{1000.0, 1000.0, 1000.0 + std::log(2.0)};
    const auto pl = selflearn::softmax(large);
    CHECK(pl[0] == doctest::Approx(0.25));
    CHECK(pl[2] == doctest::Approx(0.5));
    const auto lpl = selflearn::log_softmax(large);
    CHECK(lpl[2] == doctest::Approx(std::log(0.5)));
    // Very negative: log_softmax keeps precision where log(softmax) gives -inf.
    const std::vector<double> apart{0.0, -2000.0};
    CHECK(selflearn::softmax(apart)[1] == 0.0);
    CHECK(selflearn::log_softmax(apart)[1] == doctest::Approx(-2000.0));
    // In place, and sums to 1 on random input.
    std::mt19937_64 rng(5);
    std::normal_distribution<double> gauss(0.0, 10.0);
    std::vector<double> v(257);
    for (auto& e : v) e = gauss(rng);
    std::vector<double> w = v;
    selflearn::log_softmax(w, w);
    double sum = 0;
    for (double e : w) sum += std::exp(e);
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-12));
    selflearn::softmax(v, v);
    sum = 0;
    for (double e : v) {
        CHECK(e >= 0.0);
        CHECK(e <= 1.0);
        sum += e;
    }
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-12));
    // The helpers feed the decoders directly.
    CHECK_NOTHROW(probabilities(v, v));
    CHECK_NOTHROW(log_scores(w, w));
}

TEST_CASE("softmax errors name the position") {
    const std::vector<double> empty;
    const std::vector<double> bad{0.0, std::numeric_limits<double>::quiet_NaN()};
    const std::vector<double> bad_inf{std::numeric_limits<double>::infinity()};
    CHECK_THROWS_WITH_AS(selflearn::softmax(empty), "selflearn::softmax: no values; need at least one",
                         selflearn::invalid_argument);
    CHECK_THROWS_WITH_AS(selflearn::log_softmax(bad), "selflearn::log_softmax: input at position 1 is nan",
                         selflearn::invalid_argument);
    CHECK_THROWS_WITH_AS(selflearn::softmax(bad_inf), "selflearn::softmax: input at position 0 is inf",
                         selflearn::invalid_argument);
    std::vector<double> out(3);
    const std::vector<double> two{1.0, 2.0};
    CHECK_THROWS_WITH_AS(selflearn::softmax(two, out), "selflearn::softmax: output has 3 entries for 2 inputs",
                         selflearn::invalid_argument);
}

TEST_CASE("span_context maps positions and spans back to turns, words and text") {
    selflearn::span_context ctx;
    CHECK(ctx.add_special() == 0);
    const std::vector<std::size_t> pieces{1, 3, 1};
    CHECK(ctx.add_turn({"play", "imagine", "dragons"}, pieces) == 0);  // positions 1, 2-4, 5
    CHECK(ctx.add_special() == 6);
    CHECK(ctx.add_turn({"no", "imagine", "dragons"}) == 1);  // positions 7, 8, 9
    CHECK(ctx.size() == 10);
    CHECK(ctx.turn_count() == 2);
    CHECK(ctx.origin(0).special());
    CHECK(ctx.origin(3) == selflearn::token_origin{0, 1});
    CHECK_FALSE(ctx.origin(3).special());
    CHECK(ctx.origin(9) == selflearn::token_origin{1, 2});
    CHECK(ctx.turn_positions(0) == std::pair<std::size_t, std::size_t>{1, 6});
    CHECK(ctx.turn_positions(1) == std::pair<std::size_t, std::size_t>{7, 10});
    CHECK(ctx.words(1)[0] == "no");
    // A span covering part of a word takes the whole word; special tokens are left out of the text.
    CHECK(ctx.text(scored_span{3, 5, 0.0}) == "imagine dragons");
    CHECK(ctx.text(scored_span{2, 4, 0.0}) == "imagine");
    CHECK(ctx.text(scored_span{5, 8, 0.0}) == "dragons no imagine");
    CHECK(ctx.words_of(scored_span{5, 8, 0.0}) == selflearn::word_range{0, 2, 1, 1});
    CHECK(ctx.text(scored_span{6, 6, 0.0}).empty());
    CHECK_FALSE(ctx.words_of(scored_span{6, 6, 0.0}).has_value());
    const std::vector<std::size_t> second{1};
    CHECK(ctx.mask_of_turns(second) == std::vector<std::uint8_t>{0, 0, 0, 0, 0, 0, 0, 1, 1, 1});
    CHECK(ctx.mask_excluding_turn(1) == std::vector<std::uint8_t>{0, 1, 1, 1, 1, 1, 0, 0, 0, 0});

    CHECK_THROWS_WITH_AS(static_cast<void>(ctx.text(scored_span{4, 10, 0.0})),
                         "selflearn::span_context::text: span [4, 10] is not within the 10 positions of the context",
                         selflearn::invalid_argument);
    CHECK_THROWS_AS(static_cast<void>(ctx.words_of(scored_span{5, 4, 0.0})), selflearn::invalid_argument);
    CHECK_THROWS_WITH_AS(static_cast<void>(ctx.origin(10)), "selflearn::span_context::origin: position 10 out of range (size 10)",
                         selflearn::invalid_argument);
    CHECK_THROWS_WITH_AS(static_cast<void>(ctx.mask_excluding_turn(2)), "selflearn::span_context::mask_excluding_turn: turn 2 out of range (2 turns)",
                         selflearn::invalid_argument);
    const std::vector<std::size_t> zero_piece{1, 0};
    CHECK_THROWS_WITH_AS(ctx.add_turn({"a", "b"}, zero_piece),
                         "selflearn::span_context::add_turn: word 1 ('b') has 0 pieces; each word needs at least 1",
                         selflearn::invalid_argument);
    const std::vector<std::size_t> one_piece{1};
    CHECK_THROWS_AS(ctx.add_turn({"a", "b"}, one_piece), selflearn::invalid_argument);
    CHECK(ctx.size() == 10);  // failed additions leave the context unchanged
}

TEST_CASE("k best spans of tied scores use O(n + k) memory (counted allocations) and match brute force") {
    // Issue 14: every score tied and a max_length beyond n made the candidate list quadratic.
    for (std::size_t n : {1000u, 4000u}) {
        const std::vector<double> zeros(n, 0.0);
        for (std::size_t k : {1u, 10u, 1000u}) {
            span_options o;
            o.max_length = 1000000000;
            selflearn::span_decoder decoder;
            std::vector<scored_span> out;
            allocated_bytes = 0;
            counting = true;
            decoder.top(log_scores(zeros, zeros), k, out, o);
            counting = false;
            INFO("n = ", n, ", k = ", k, ", bytes = ", allocated_bytes.load());
            CHECK(allocated_bytes.load() <= 200 * n + 100 * k + 4096);
            // The first k in the order: start 0 with ends 0, 1, ..., k - 1 (all scores 0).
            REQUIRE(out.size() == k);
            for (std::size_t r = 0; r < k; ++r) CHECK(out[r] == scored_span{0, r, 0.0});
        }
    }
    // The same with probabilities all 0 (products tie at 0 whatever the other factor).
    const std::vector<double> p_zero(3000, 0.0);
    const std::vector<double> p_mixed = [] {
        std::vector<double> v(3000);
        for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i % 7) / 7.0;
        return v;
    }();
    span_options o;
    o.max_length = 3000;
    allocated_bytes = 0;
    counting = true;
    const auto spans = selflearn::top_spans(probabilities(p_zero, p_mixed), 5, o);
    counting = false;
    CHECK(allocated_bytes.load() <= 200 * 3000 + 100 * 5 + 4096);
    CHECK(spans == std::vector<scored_span>{{0, 0, 0.0}, {0, 1, 0.0}, {0, 2, 0.0}, {0, 3, 0.0}, {0, 4, 0.0}});
    // Small all-tied cases against brute force, every k.
    for (std::size_t n = 1; n <= 12; ++n) {
        problem p;
        p.start.assign(n, 0.0);
        p.end.assign(n, 0.0);
        for (std::size_t L : {std::size_t{1}, std::size_t{3}, n, std::size_t{1000000000}}) {
            p.max_length = L;
            for (std::size_t k = 1; k <= n * (n + 1) / 2 + 1; ++k) {
                CHECK(fast_top(p, k, overlap::allowed) == brute_force_spans(p, k, overlap::allowed));
            }
        }
    }
}

TEST_CASE("log-scores beyond max_abs_log_score are rejected; at the limit best and top agree and are finite") {
    // Issue 14: -1e308 + -1e308 overflowed to -inf; top_spans dropped the span while best_span kept it.
    const std::vector<double> low{-1e308};
    const std::vector<double> ok{0.0};
    CHECK_THROWS_WITH_AS(log_scores(low, low),
                         doctest::Contains("selflearn::log_scores: start score at position 0 is -1e+308"),
                         selflearn::invalid_argument);
    CHECK_THROWS_WITH_AS(log_scores(ok, std::vector<double>{1e308}),
                         doctest::Contains("end score at position 0 is 1e+308"), selflearn::invalid_argument);
    const double m = selflearn::max_abs_log_score;
    for (double sign : {-1.0, 1.0}) {
        problem p;
        p.start = {sign * m, 0.0, sign * m};
        p.end = {sign * m, sign * m, 0.0};
        p.max_length = 3;
        const auto best = fast_best(p);
        const auto top = fast_top(p, 6, overlap::allowed);
        REQUIRE(best.has_value());
        REQUIRE(!top.empty());
        CHECK(*best == top.front());
        CHECK(top == brute_force_spans(p, 6, overlap::allowed));
        for (const auto& s : top) CHECK(std::isfinite(s.score));
        // The extreme span [0, 0] scores exactly +-DBL_MAX and is kept.
        const scored_span extreme{0, 0, sign * std::numeric_limits<double>::max()};
        CHECK(std::find(top.begin(), top.end(), extreme) != top.end());
        CHECK(top.size() == 6);
    }
}

TEST_CASE("span_options own their masks: binding a temporary mask is safe") {
    // Issue 14: `o.start_mask = ctx.mask_excluding_turn(i)` kept a view of a destroyed vector.
    static_assert(std::is_same_v<decltype(span_options{}.start_mask), std::vector<std::uint8_t>>);
    selflearn::span_context ctx;
    ctx.add_special();
    ctx.add_turn({"play", "maj", "and", "dragons"});
    ctx.add_special();
    ctx.add_turn({"play", "imagine", "dragons"});
    span_options o;
    o.max_length = 5;
    o.start_mask = ctx.mask_excluding_turn(1);
    o.end_mask = ctx.mask_excluding_turn(1);
    // Reuse the freed memory with other bytes: a view would now read 7s (an error) or wrong masks.
    std::vector<std::vector<std::uint8_t>> noise;
    for (int i = 0; i < 64; ++i) noise.emplace_back(ctx.size(), std::uint8_t{7});
    const std::vector<double> start{0, 1, 3, 0, 0, 0, 9, 0, 0};
    const std::vector<double> end{0, 0, 0, 0, 3, 0, 0, 0, 9};
    CHECK(selflearn::best_span(log_scores(start, end), o) == scored_span{2, 4, 6.0});
    CHECK(selflearn::top_spans(log_scores(start, end), 2, o) ==
          std::vector<scored_span>{{2, 4, 6.0}, {1, 4, 4.0}});
    CHECK(noise.size() == 64);
}
