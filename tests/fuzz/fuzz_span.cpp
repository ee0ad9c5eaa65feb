// Fuzzes selflearn/span.hpp against brute force: every span enumerated, sorted by the documented order
// (higher score, then smaller start, then smaller end), the greedy non-overlap rule and the null bar applied.
// Scores come from a small table (ties, rounding ties, values at and beyond max_abs_log_score); masks, the
// maximum length, the null rule, k and the overlap mode come from the input too. best_span, top_spans and a
// reused span_decoder must all equal brute force; scores beyond the limit must be rejected.

#include <selflearn/span.hpp>
#include <selflearn/detail/span_reference.hpp>

#include "fuzz_check.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace {

using selflearn::null_rule;
using selflearn::overlap;
using selflearn::scored_span;

using problem = selflearn::detail::span_reference_problem;
using selflearn::detail::brute_force_spans;

constexpr double log_table[] = {-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 1e-300, -3.0, 0.1, 0.2, 0.30000000000000004,
                                selflearn::max_abs_log_score, -selflearn::max_abs_log_score, -1e16, 1e16};
constexpr double prob_table[] = {0.0, 0.25, 0.5, 1.0, 1e-300, 5e-324, 0.1, 0.3, 0.75, 0.9999999999999999};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    problem p;
    p.probability = in.ConsumeBool();
    const auto n = in.ConsumeIntegralInRange<std::size_t>(0, 14);
    bool out_of_range = false;
    for (std::size_t i = 0; i < 2 * n; ++i) {
        const auto code = in.ConsumeIntegral<std::uint8_t>();
        double v = p.probability ? prob_table[code % std::size(prob_table)] : log_table[code % std::size(log_table)];
        if (!p.probability && code == 255) {
            v = -1e308;  // beyond the limit: must be rejected
            out_of_range = true;
        }
        (i < n ? p.start : p.end).push_back(v);
    }
    const auto mask_mode = in.ConsumeIntegralInRange<int>(0, 3);
    if (mask_mode & 1) {
        for (std::size_t i = 0; i < n; ++i) p.start_mask.push_back(in.ConsumeBool() ? 1 : 0);
    }
    if (mask_mode & 2) {
        for (std::size_t i = 0; i < n; ++i) p.end_mask.push_back(in.ConsumeBool() ? 1 : 0);
    }
    const auto length_code = in.ConsumeIntegralInRange<int>(0, 17);
    p.max_length = length_code == 17 ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>(length_code + 1);
    const auto null_code = in.ConsumeIntegralInRange<int>(0, 2);
    const double threshold = log_table[in.ConsumeIntegralInRange<std::size_t>(0, 6)];
    if (null_code == 1) p.null = null_rule::value(log_table[in.ConsumeIntegralInRange<std::size_t>(0, 6)], threshold);
    if (null_code == 2) p.null = null_rule::position_zero(threshold);
    const auto k = in.ConsumeIntegralInRange<std::size_t>(1, 120);
    const overlap mode = in.ConsumeBool() ? overlap::forbidden : overlap::allowed;

    const selflearn::span_options o = p.options();
    const bool empty_zero = n == 0 && p.null.type() == null_rule::kind::position_zero;

    std::optional<scored_span> best;
    std::vector<scored_span> top, reused;
    try {
        selflearn::span_decoder decoder;
        if (p.probability) {
            const selflearn::probabilities s(p.start, p.end);
            best = selflearn::best_span(s, o);
            top = selflearn::top_spans(s, k, o, mode);
            decoder.top(s, k, reused, o, mode);
            decoder.top(s, k, reused, o, mode);  // again with warm buffers
        } else {
            const selflearn::log_scores s(p.start, p.end);
            best = selflearn::best_span(s, o);
            top = selflearn::top_spans(s, k, o, mode);
            decoder.top(s, k, reused, o, mode);
            decoder.top(s, k, reused, o, mode);
        }
    } catch (const selflearn::invalid_argument&) {
        SELFLEARN_FUZZ_CHECK(out_of_range || empty_zero, "valid input rejected");
        return 0;
    }
    SELFLEARN_FUZZ_CHECK(!out_of_range && !empty_zero, "invalid input accepted");
    const auto expected_best = brute_force_spans(p, 1, overlap::allowed);
    SELFLEARN_FUZZ_CHECK(best.has_value() == !expected_best.empty(), "best_span: presence differs");
    if (best) {
        SELFLEARN_FUZZ_CHECK(*best == expected_best.front(), "best_span [%zu, %zu] %g vs brute force [%zu, %zu] %g",
                             best->start, best->end, best->score, expected_best.front().start,
                             expected_best.front().end, expected_best.front().score);
    }
    const auto expected = brute_force_spans(p, k, mode);
    SELFLEARN_FUZZ_CHECK(top == expected, "top_spans (k %zu, %s) differs from brute force: %zu vs %zu spans", k,
                         mode == overlap::allowed ? "overlaps" : "disjoint", top.size(), expected.size());
    SELFLEARN_FUZZ_CHECK(reused == expected, "span_decoder::top differs from brute force");
    for (const auto& s : top) SELFLEARN_FUZZ_CHECK(std::isfinite(s.score), "non-finite span score");
    return 0;
}
