#pragma once
/// \file selflearn/detail/span_reference.hpp
/// Brute-force reference for selflearn/span.hpp, kept beside the fast decoder for the property tests and
/// the fuzz harness: every allowed span enumerated, sorted by the documented order (higher score, then
/// smaller start, then smaller end), the greedy non-overlap rule and the null bar applied literally.
/// O(n^2 log n) time and O(n^2) memory: for checking, not for use.

#include <selflearn/span.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace selflearn::detail {

/// A span-decoding problem as plain data: scores, masks, the maximum length and the null rule.
struct span_reference_problem {
    std::vector<double> start, end;
    std::vector<std::uint8_t> start_mask, end_mask;  ///< empty: every position allowed
    std::size_t max_length = 1;
    null_rule null = null_rule::none();
    bool probability = false;  ///< scores are probabilities (a span scores start * end), else log scores (start + end)

    /// The options of the fast decoder for this problem.
    [[nodiscard]] span_options options() const {
        span_options o;
        o.max_length = max_length;
        o.start_mask = start_mask;
        o.end_mask = end_mask;
        o.null = null;
        return o;
    }
    /// The score of span [i, j].
    [[nodiscard]] double combine(std::size_t i, std::size_t j) const {
        return probability ? start[i] * end[j] : start[i] + end[j];
    }
};

/// The documented order of spans: higher score first, then smaller start, then smaller end.
[[nodiscard]] inline bool span_order_before(const scored_span& a, const scored_span& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.start != b.start) return a.start < b.start;
    return a.end < b.end;
}

/// Every allowed span of `p`, in the documented order.
[[nodiscard]] inline std::vector<scored_span> sorted_spans(const span_reference_problem& p) {
    const std::size_t n = p.start.size();
    const std::size_t first = p.null.type() == null_rule::kind::position_zero ? 1 : 0;
    std::vector<scored_span> all;
    for (std::size_t i = first; i < n; ++i) {
        for (std::size_t j = i; j < n; ++j) {
            if (j - i + 1 > p.max_length) continue;
            if (!p.start_mask.empty() && p.start_mask[i] == 0) continue;
            if (!p.end_mask.empty() && p.end_mask[j] == 0) continue;
            all.push_back({i, j, p.combine(i, j)});
        }
    }
    std::sort(all.begin(), all.end(), span_order_before);
    return all;
}

/// The first k of `all` (greedily skipping spans that overlap a kept one when overlap is forbidden), cut
/// at the first span below the null bar of `p`.
[[nodiscard]] inline std::vector<scored_span> select_spans(const std::vector<scored_span>& all, const span_reference_problem& p,
                                                           std::size_t k, overlap mode) {
    std::optional<double> null;
    if (p.null.type() == null_rule::kind::value) null = p.null.null_value();
    if (p.null.type() == null_rule::kind::position_zero) null = p.combine(0, 0);
    std::vector<scored_span> out;
    for (const auto& s : all) {
        if (out.size() == k) break;
        if (mode == overlap::forbidden) {
            bool clash = false;
            for (const auto& t : out) clash = clash || !(s.end < t.start || t.end < s.start);
            if (clash) continue;
        }
        out.push_back(s);
    }
    if (null) {
        const auto below = std::find_if(out.begin(), out.end(),
                                        [&](const scored_span& s) { return !(s.score - *null >= p.null.threshold()); });
        out.erase(below, out.end());
    }
    return out;
}

/// The k best spans of `p` by brute force: select_spans(sorted_spans(p), p, k, mode).
[[nodiscard]] inline std::vector<scored_span> brute_force_spans(const span_reference_problem& p, std::size_t k, overlap mode) {
    return select_spans(sorted_spans(p), p, k, mode);
}

}  // namespace selflearn::detail
