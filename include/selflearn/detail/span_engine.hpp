#pragma once
/// \file selflearn/detail/span_engine.hpp
/// Internals of selflearn/span.hpp: the exact span decoders (best span by a sliding-window maximum, k best
/// spans by start selection and a score bound, greedy non-overlapping k best by segment splitting).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <vector>

namespace selflearn::detail {

/// Log-scores combine by addition.
struct span_add {
    static double combine(double start, double end) noexcept { return start + end; }
};

/// Probabilities combine by multiplication (inputs are in [0, 1], so the product is monotone in each factor).
struct span_multiply {
    static double combine(double start, double end) noexcept { return start * end; }
};

/// A candidate span during decoding: inclusive [start, end] and its combined score.
struct span_hit {
    std::size_t start = 0;
    std::size_t end = 0;
    double score = 0;
};

/// The documented total order: higher score first, then smaller start, then smaller end.
inline bool span_hit_before(const span_hit& a, const span_hit& b) noexcept {
    if (a.score != b.score) return a.score > b.score;
    if (a.start != b.start) return a.start < b.start;
    return a.end < b.end;
}

/// One validated decoding problem. Masks are nullptr when every position is allowed.
struct span_problem {
    const double* start = nullptr;
    const double* end = nullptr;
    std::size_t size = 0;
    const std::uint8_t* start_mask = nullptr;
    const std::uint8_t* end_mask = nullptr;
    std::size_t max_length = 1;  // >= 1
    std::size_t first = 0;       // first position a span may use (1 when position 0 is the null)

    [[nodiscard]] bool can_start(std::size_t i) const noexcept { return start_mask == nullptr || start_mask[i] != 0; }
    [[nodiscard]] bool can_end(std::size_t j) const noexcept { return end_mask == nullptr || end_mask[j] != 0; }
    /// Last end allowed for a span starting at i inside [.., hi], without overflow for huge max_length.
    [[nodiscard]] std::size_t window_end(std::size_t i, std::size_t hi) const noexcept {
        return hi - i >= max_length ? i + (max_length - 1) : hi;
    }
};

/// Reusable buffers: decoding allocates only when a problem is larger than any seen before.
struct span_workspace {
    std::vector<double> prefix;  // block prefix maxima of the end scores
    std::vector<double> window;  // block suffix maxima, then the window maxima
    std::vector<double> best;    // best span score of each start (NaN: no span starts there)
    std::vector<double> values;  // the scores of the starts that have a span, for the k-th largest
    struct ranged_hit {  // the best span of start hit.start among its ends in [lo, hi]
        span_hit hit;
        std::size_t lo = 0;
        std::size_t hi = 0;
    };
    std::vector<ranged_hit> heap;
};

/// The best end for start i among allowed ends in [lo, hi]: highest combined score, smallest end on ties.
/// O(hi - lo + 1).
template <class Combine>
std::optional<span_hit> best_end_in(const span_problem& p, std::size_t i, std::size_t lo, std::size_t hi) {
    std::optional<span_hit> best;
    for (std::size_t j = lo; j <= hi; ++j) {
        if (!p.can_end(j)) continue;
        double v = Combine::combine(p.start[i], p.end[j]);
        if (!best || v > best->score) best = span_hit{i, j, v};
    }
    return best;
}

/// Window maxima of the allowed end scores: afterwards ws.window[r] is the maximum of end[j] over allowed
/// j in [lo + r, window_end(lo + r, hi)], or -infinity when no end there is allowed, for r in [0, hi - lo].
/// The van Herk / Gil-Werman algorithm (van Herk 1992, "A fast algorithm for local minimum and maximum
/// filters on rectangular and octagonal kernels"; Gil and Werman 1993): cut the range into blocks of
/// max_length positions; a window then spans at most two blocks, and its maximum is the suffix maximum of
/// its first block at its start combined with the prefix maximum of the next block at its end. Three
/// branch-free passes, O(hi - lo + 1) for any max_length.
inline void window_maxima(const span_problem& p, std::size_t lo, std::size_t hi, span_workspace& ws) {
    const std::size_t m = hi - lo + 1;
    if (ws.prefix.size() < m) ws.prefix.resize(m);
    if (ws.window.size() < m) ws.window.resize(m);
    double* g = ws.prefix.data();
    double* h = ws.window.data();
    const double* e = p.end + lo;
    const std::uint8_t* mask = p.end_mask == nullptr ? nullptr : p.end_mask + lo;
    constexpr double none = -std::numeric_limits<double>::infinity();
    const std::size_t block = p.max_length < m ? p.max_length : m;
    for (std::size_t b = 0; b < m; b += block) {
        const std::size_t b_end = m - b > block ? b + block : m;
        double acc = none;
        if (mask == nullptr) {
            for (std::size_t r = b; r < b_end; ++r) g[r] = acc = std::max(acc, e[r]);
            acc = none;
            for (std::size_t r = b_end; r-- > b;) h[r] = acc = std::max(acc, e[r]);
        } else {
            for (std::size_t r = b; r < b_end; ++r) g[r] = acc = std::max(acc, mask[r] != 0 ? e[r] : none);
            acc = none;
            for (std::size_t r = b_end; r-- > b;) h[r] = acc = std::max(acc, mask[r] != 0 ? e[r] : none);
        }
    }
    // The window of r ends at r + max_length - 1 (clipped to m - 1). It starts a block or lies in the last
    // block: one suffix maximum. Otherwise it ends in the next block: combine with that block's prefix.
    for (std::size_t b = 0; b + block < m; b += block) {
        const std::size_t b_end = b + block;
        for (std::size_t r = b + 1; r < b_end; ++r) {
            const std::size_t w = m - 1 - r >= p.max_length ? r + p.max_length - 1 : m - 1;
            h[r] = std::max(h[r], g[w]);
        }
    }
}

/// Calls visit(i, score of the best span starting at i) for every allowed start i in [lo, hi], in increasing
/// order, that has at least one allowed end in its window. O(hi - lo + 1). Rounding is monotone, so
/// combine(s_i, max e) equals the maximum over the window of combine(s_i, e_j), bit for bit.
template <class Combine, class Visit>
void sweep_starts(const span_problem& p, std::size_t lo, std::size_t hi, span_workspace& ws, Visit&& visit) {
    window_maxima(p, lo, hi, ws);
    const double* h = ws.window.data();
    constexpr double none = -std::numeric_limits<double>::infinity();
    for (std::size_t i = lo; i <= hi; ++i) {
        const double best_end = h[i - lo];
        if (best_end != none && p.can_start(i)) visit(i, Combine::combine(p.start[i], best_end));
    }
}

/// The first span in the documented order among spans inside [lo, hi]. O(hi - lo + 1 + max_length).
template <class Combine>
std::optional<span_hit> best_in_range(const span_problem& p, std::size_t lo, std::size_t hi, span_workspace& ws) {
    bool found = false;
    double best = 0;
    std::size_t best_start = 0;
    sweep_starts<Combine>(p, lo, hi, ws, [&](std::size_t i, double v) {
        // Starts arrive in increasing order, so ">" keeps the smallest start among equal scores.
        if (!found || v > best) {
            found = true;
            best = v;
            best_start = i;
        }
    });
    if (!found) return std::nullopt;
    return best_end_in<Combine>(p, best_start, best_start, p.window_end(best_start, hi));
}

/// The first span in the documented order among the allowed ends in [lo, hi] for start i, given that
/// `score` is the best combined score there: the smallest allowed end reaching it. O(hi - lo + 1).
template <class Combine>
std::size_t first_end_reaching(const span_problem& p, std::size_t i, std::size_t lo, std::size_t hi, double score) {
    const double s = p.start[i];
    std::size_t j = lo;
    while (j < hi && !(p.can_end(j) && Combine::combine(s, p.end[j]) == score)) ++j;
    return j;
}

/// The best combined score for start i over the allowed ends in [lo, hi], or nullopt when none is allowed.
/// O(hi - lo + 1).
template <class Combine>
std::optional<double> best_score_in(const span_problem& p, std::size_t i, std::size_t lo, std::size_t hi) {
    constexpr double none = -std::numeric_limits<double>::infinity();
    double best_end = none;
    bool any = false;
    for (std::size_t j = lo; j <= hi; ++j) {
        const bool ok = p.can_end(j);
        any |= ok;
        best_end = std::max(best_end, ok ? p.end[j] : none);
    }
    if (!any) return std::nullopt;
    return Combine::combine(p.start[i], best_end);
}

/// The k first spans in the documented order (spans may overlap), appended to out. O(n + k (L + log n))
/// time with L = min(max_length, n), O(n + k) memory whatever the ties.
/// The spans of one start i, in the order, are a merge of its windows' ends; a heap holds, for each start,
/// the best span of each still unexplored interval of ends [lo, hi] (one interval per start at first, the
/// whole window). Popping the first entry gives the next span in the order; its interval splits into the
/// ends before and after the popped end, each pushed with its own best. Entries compare by score, then
/// start, then lo: for one start the intervals are disjoint, so lo orders them as their first ends do.
/// Only starts whose best span reaches tau, the k-th largest of the starts' best scores, enter the heap:
/// at least k spans (those starts' best) score tau or more, so a start whose best is below tau holds none
/// of the k first spans.
template <class Combine>
void top_k_overlapping(const span_problem& p, std::size_t k, span_workspace& ws, std::vector<span_hit>& out) {
    if (p.size <= p.first) return;
    const std::size_t lo = p.first;
    const std::size_t hi = p.size - 1;
    constexpr double unmarked = std::numeric_limits<double>::quiet_NaN();  // no span starts here
    if (ws.best.size() < hi - lo + 1) ws.best.resize(hi - lo + 1);
    ws.values.clear();
    std::fill(ws.best.begin(), ws.best.begin() + static_cast<std::ptrdiff_t>(hi - lo + 1), unmarked);
    std::size_t starts = 0;
    sweep_starts<Combine>(p, lo, hi, ws, [&](std::size_t i, double v) {
        ws.best[i - lo] = v;
        ws.values.push_back(v);
        ++starts;
    });
    if (starts == 0) return;
    double tau = 0;
    bool bounded = false;
    if (ws.values.size() >= k) {
        auto kth = ws.values.begin() + static_cast<std::ptrdiff_t>(k - 1);
        std::nth_element(ws.values.begin(), kth, ws.values.end(), std::greater<>());
        tau = *kth;
        bounded = true;
    }
    // Entry order: a before b when a is first in the documented order (score, start, then lo).
    auto heap_after = [](const span_workspace::ranged_hit& a, const span_workspace::ranged_hit& b) {
        if (a.hit.score != b.hit.score) return a.hit.score < b.hit.score;
        if (a.hit.start != b.hit.start) return a.hit.start > b.hit.start;
        return a.lo > b.lo;
    };
    ws.heap.clear();
    // sweep_starts reports exactly the allowed starts with an allowed end; the others keep the NaN mark.
    for (std::size_t i = lo; i <= hi; ++i) {
        const double b = ws.best[i - lo];
        if (std::isnan(b) || (bounded && b < tau)) continue;
        ws.heap.push_back({span_hit{i, 0, b}, i, p.window_end(i, hi)});
    }
    std::make_heap(ws.heap.begin(), ws.heap.end(), heap_after);
    std::size_t taken = 0;
    while (taken < k && !ws.heap.empty()) {
        std::pop_heap(ws.heap.begin(), ws.heap.end(), heap_after);
        const auto top = ws.heap.back();
        ws.heap.pop_back();
        const std::size_t i = top.hit.start;
        const std::size_t j = first_end_reaching<Combine>(p, i, top.lo, top.hi, top.hit.score);
        out.push_back(span_hit{i, j, top.hit.score});
        ++taken;
        if (taken == k) break;
        if (j > top.lo) {
            if (auto v = best_score_in<Combine>(p, i, top.lo, j - 1)) {
                ws.heap.push_back({span_hit{i, 0, *v}, top.lo, j - 1});
                std::push_heap(ws.heap.begin(), ws.heap.end(), heap_after);
            }
        }
        if (j < top.hi) {
            if (auto v = best_score_in<Combine>(p, i, j + 1, top.hi)) {
                ws.heap.push_back({span_hit{i, 0, *v}, j + 1, top.hi});
                std::push_heap(ws.heap.begin(), ws.heap.end(), heap_after);
            }
        }
    }
}

/// The greedy non-overlapping k best: walk spans in the documented order, keep each span that shares no
/// position with a kept one, stop after k. The next kept span is always the best span inside one of the
/// free segments left between kept spans, so a heap of segments keyed by their best span gives it.
/// O(n k) in the worst case (each kept span re-decodes the segment it splits).
template <class Combine>
void top_k_disjoint(const span_problem& p, std::size_t k, span_workspace& ws, std::vector<span_hit>& out) {
    if (p.size <= p.first) return;
    auto heap_after = [](const span_workspace::ranged_hit& a, const span_workspace::ranged_hit& b) {
        return span_hit_before(b.hit, a.hit);
    };
    ws.heap.clear();
    auto push_segment = [&](std::size_t lo, std::size_t hi) {
        if (auto h = best_in_range<Combine>(p, lo, hi, ws)) {
            ws.heap.push_back({*h, lo, hi});
            std::push_heap(ws.heap.begin(), ws.heap.end(), heap_after);
        }
    };
    push_segment(p.first, p.size - 1);
    std::size_t taken = 0;
    while (taken < k && !ws.heap.empty()) {
        std::pop_heap(ws.heap.begin(), ws.heap.end(), heap_after);
        const auto top = ws.heap.back();
        ws.heap.pop_back();
        out.push_back(top.hit);
        ++taken;
        if (top.hit.start > top.lo) push_segment(top.lo, top.hit.start - 1);
        if (top.hit.end < top.hi) push_segment(top.hit.end + 1, top.hi);
    }
}

}  // namespace selflearn::detail
