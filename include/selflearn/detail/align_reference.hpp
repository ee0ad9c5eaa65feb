#pragma once
/// \file selflearn/detail/align_reference.hpp
/// Plain dynamic-programming references for selflearn/align.hpp, kept beside the fast kernels for the
/// property tests and the benchmark: Wagner-Fischer with no shortcut, a full matrix, and the documented
/// tie rule applied literally. Quadratic time and memory: for checking, not for use.

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <ranges>
#include <string>
#include <vector>

namespace selflearn::detail {

/// Unit-cost Levenshtein distance by the textbook two-row recurrence. O(m * n) time, O(n) memory.
template <class A, class B>
[[nodiscard]] std::size_t naive_levenshtein(const A& a, const B& b) {
    const auto m = static_cast<std::size_t>(std::ranges::size(a));
    const auto n = static_cast<std::size_t>(std::ranges::size(b));
    std::vector<std::size_t> prev(n + 1);
    std::vector<std::size_t> cur(n + 1);
    for (std::size_t j = 0; j <= n; ++j) prev[j] = j;
    auto ia = std::ranges::begin(a);
    for (std::size_t i = 1; i <= m; ++i, ++ia) {
        cur[0] = i;
        auto ib = std::ranges::begin(b);
        for (std::size_t j = 1; j <= n; ++j, ++ib) {
            const std::size_t sub = prev[j - 1] + (*ia == *ib ? 0 : 1);
            cur[j] = std::min({sub, prev[j] + 1, cur[j - 1] + 1});
        }
        std::swap(prev, cur);
    }
    return prev[n];
}

/// One operation of the reference alignment: kind is 'r' (replace), 'i' (insert) or 'd' (delete).
struct reference_op {
    char kind;
    std::size_t source_pos;
    std::size_t target_pos;
    friend bool operator==(const reference_op&, const reference_op&) = default;
};

struct reference_alignment_result {
    std::vector<reference_op> ops;
    double cost = 0.0;
};

/// The documented alignment, computed the slow way: keep the longest common prefix, then the longest
/// common suffix of the rest, as matches; fill the full matrix of the middle with
/// D[i][j] = min(D[i-1][j-1] + s(i-1, j-1), D[i-1][j] + deletion, D[i][j-1] + insertion), s = 0 for equal
/// elements and substitution(x, y) otherwise; walk back from the end preferring an insertion, then a
/// diagonal step, then a deletion.
template <class A, class B, class Sub>
[[nodiscard]] reference_alignment_result reference_alignment(const A& a_range, const B& b_range, double insertion,
                                                             double deletion, const Sub& substitution) {
    std::vector<std::ranges::range_value_t<A>> a(std::ranges::begin(a_range), std::ranges::end(a_range));
    std::vector<std::ranges::range_value_t<B>> b(std::ranges::begin(b_range), std::ranges::end(b_range));
    std::size_t p = 0;
    while (p < a.size() && p < b.size() && a[p] == b[p]) ++p;
    std::size_t s = 0;
    while (s < a.size() - p && s < b.size() - p && a[a.size() - 1 - s] == b[b.size() - 1 - s]) ++s;
    const std::size_t m = a.size() - p - s;
    const std::size_t n = b.size() - p - s;
    auto sub = [&](std::size_t i, std::size_t j) {
        return a[p + i] == b[p + j] ? 0.0 : static_cast<double>(substitution(a[p + i], b[p + j]));
    };
    std::vector<double> matrix((m + 1) * (n + 1), 0.0);
    auto d = [&](std::size_t i, std::size_t j) -> double& { return matrix[i * (n + 1) + j]; };
    for (std::size_t j = 1; j <= n; ++j) d(0, j) = d(0, j - 1) + insertion;
    for (std::size_t i = 1; i <= m; ++i) {
        d(i, 0) = d(i - 1, 0) + deletion;
        for (std::size_t j = 1; j <= n; ++j) {
            d(i, j) = std::min({d(i - 1, j - 1) + sub(i - 1, j - 1), d(i - 1, j) + deletion, d(i, j - 1) + insertion});
        }
    }
    reference_alignment_result r;
    r.cost = d(m, n);
    std::size_t i = m;
    std::size_t j = n;
    while (i > 0 || j > 0) {
        if (j > 0 && (i == 0 || d(i, j - 1) + insertion == d(i, j))) {
            r.ops.push_back({'i', p + i, p + j - 1});
            --j;
        } else if (i > 0 && j > 0 && d(i - 1, j - 1) + sub(i - 1, j - 1) == d(i, j)) {
            if (!(a[p + i - 1] == b[p + j - 1])) r.ops.push_back({'r', p + i - 1, p + j - 1});
            --i;
            --j;
        } else {
            r.ops.push_back({'d', p + i - 1, p + j});
            --i;
        }
    }
    std::reverse(r.ops.begin(), r.ops.end());
    return r;
}

/// Unit-cost reference alignment.
template <class A, class B>
[[nodiscard]] reference_alignment_result reference_alignment(const A& a, const B& b) {
    return reference_alignment(a, b, 1.0, 1.0, [](const auto&, const auto&) { return 1.0; });
}

}  // namespace selflearn::detail
