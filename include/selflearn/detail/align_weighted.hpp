#pragma once
/// \file selflearn/detail/align_weighted.hpp
/// Internals of selflearn/align.hpp: weighted edit distance (R. A. Wagner and M. J. Fischer, "The
/// string-to-string correction problem", JACM 21(1), 1974) with two rows for the distance, a full matrix
/// for short alignments and Hirschberg's divide and conquer (CACM 18(6), 1975) for long ones.
/// `cost(i, j)` is the cost of aligning source i with target j: 0 when they are equal, otherwise the
/// (checked, non-negative) substitution cost.

#include <selflearn/detail/align_bitparallel.hpp>
#include <selflearn/detail/align_codes.hpp>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace selflearn::detail {

/// A cost model seen through local positions: `cost(i, j)` and `equal(i, j)` of source i0 + i, target j0 + j.
template <class Cost>
struct local_cost {
    const Cost& base;
    std::size_t i0;
    std::size_t j0;
    [[nodiscard]] double operator()(std::size_t i, std::size_t j) const { return base(i0 + i, j0 + j); }
    [[nodiscard]] bool equal(std::size_t i, std::size_t j) const { return base.equal(i0 + i, j0 + j); }
};

/// A cost model seen backwards from (i_last, j_last): local (i, j) is source i_last - i, target j_last - j.
template <class Cost>
struct reversed_cost {
    const Cost& base;
    std::size_t i_last;
    std::size_t j_last;
    [[nodiscard]] double operator()(std::size_t i, std::size_t j) const { return base(i_last - i, j_last - j); }
    [[nodiscard]] bool equal(std::size_t i, std::size_t j) const { return base.equal(i_last - i, j_last - j); }
};

/// Fills row[0..n] with D[m][0..n] for source positions [0, m) and target positions [0, n), where
/// `cost(i, j)` is the substitution cost of local positions. O(m * n) time, row must hold n + 1.
template <class Cost>
void weighted_last_row(std::size_t m, std::size_t n, double insertion, double deletion, const Cost& cost,
                       double* row) {
    row[0] = 0.0;
    for (std::size_t j = 1; j <= n; ++j) row[j] = row[j - 1] + insertion;
    for (std::size_t i = 1; i <= m; ++i) {
        double diagonal = row[0];
        row[0] = row[0] + deletion;
        for (std::size_t j = 1; j <= n; ++j) {
            const double up = row[j];
            const double best = std::min({diagonal + cost(i - 1, j - 1), up + deletion, row[j - 1] + insertion});
            diagonal = up;
            row[j] = best;
        }
    }
}

/// Full-matrix alignment of source [0, m) with target [0, n) (local positions), appended to `out` with
/// positions shifted by (i0, j0). Tie rule: walking back from (m, n), prefer an insertion, then a match or
/// substitution, then a deletion. Returns the cost. O(m * n) time and memory.
template <class Cost>
double weighted_align_matrix(std::size_t m, std::size_t n, double insertion, double deletion, const Cost& cost,
                             align_buffers& buf, std::size_t i0, std::size_t j0, std::vector<raw_op>& out,
                             std::vector<double>* op_costs) {
    const std::size_t w = n + 1;
    grow(buf.cost_matrix, (m + 1) * w);
    double* d = buf.cost_matrix.data();
    d[0] = 0.0;
    for (std::size_t j = 1; j <= n; ++j) d[j] = d[j - 1] + insertion;
    for (std::size_t i = 1; i <= m; ++i) {
        double* row = d + i * w;
        const double* prev = row - w;
        row[0] = prev[0] + deletion;
        for (std::size_t j = 1; j <= n; ++j) {
            row[j] = std::min({prev[j - 1] + cost(i - 1, j - 1), prev[j] + deletion, row[j - 1] + insertion});
        }
    }
    const std::size_t first_new = out.size();
    const std::size_t first_cost = op_costs ? op_costs->size() : 0;
    auto emit = [&](raw_kind kind, std::size_t s, std::size_t t, double c) {
        out.push_back({kind, s, t});
        if (op_costs) op_costs->push_back(c);
    };
    std::size_t i = m;
    std::size_t j = n;
    while (i > 0 && j > 0) {
        const double here = d[i * w + j];
        if (d[i * w + j - 1] + insertion == here) {
            emit(raw_kind::insert, i0 + i, j0 + j - 1, insertion);
            --j;
            continue;
        }
        const double c = cost(i - 1, j - 1);
        if (d[(i - 1) * w + j - 1] + c == here) {
            if (!cost.equal(i - 1, j - 1)) emit(raw_kind::replace, i0 + i - 1, j0 + j - 1, c);
            --i;
            --j;
        } else {
            emit(raw_kind::remove, i0 + i - 1, j0 + j, deletion);
            --i;
        }
    }
    for (; j > 0; --j) emit(raw_kind::insert, i0, j0 + j - 1, insertion);
    for (; i > 0; --i) emit(raw_kind::remove, i0 + i - 1, j0, deletion);
    std::reverse(out.begin() + static_cast<std::ptrdiff_t>(first_new), out.end());
    if (op_costs) std::reverse(op_costs->begin() + static_cast<std::ptrdiff_t>(first_cost), op_costs->end());
    return d[m * w + n];
}

/// Weighted alignment in memory linear in m + n: the full matrix when it fits `buf.traceback_budget`,
/// otherwise Hirschberg's split at the middle source row, at the leftmost column of minimum
/// forward + backward cost (which keeps the tie rule of weighted_align_matrix in exact arithmetic).
template <class Cost>
void weighted_align_linear(std::size_t i0, std::size_t m, std::size_t j0, std::size_t n, double insertion,
                           double deletion, const Cost& cost, align_buffers& buf, std::vector<raw_op>& out,
                           std::vector<double>& op_costs) {
    if (m == 0) {
        for (std::size_t j = 0; j < n; ++j) {
            out.push_back({raw_kind::insert, i0, j0 + j});
            op_costs.push_back(insertion);
        }
        return;
    }
    if (n == 0) {
        for (std::size_t i = 0; i < m; ++i) {
            out.push_back({raw_kind::remove, i0 + i, j0});
            op_costs.push_back(deletion);
        }
        return;
    }
    if (m == 1 || (m + 1) * (n + 1) * sizeof(double) <= buf.traceback_budget) {
        auto local = local_cost<Cost>{cost, i0, j0};
        weighted_align_matrix(m, n, insertion, deletion, local, buf, i0, j0, out, &op_costs);
        return;
    }
    const std::size_t mid = m / 2;
    grow(buf.cost_rows, 2 * (n + 1));
    double* forward = buf.cost_rows.data();
    double* backward = forward + (n + 1);
    weighted_last_row(mid, n, insertion, deletion, local_cost<Cost>{cost, i0, j0}, forward);
    const std::size_t rm = m - mid;
    weighted_last_row(rm, n, insertion, deletion, reversed_cost<Cost>{cost, i0 + m - 1, j0 + n - 1}, backward);
    std::size_t split = 0;
    double best = forward[0] + backward[n];
    for (std::size_t j = 1; j <= n; ++j) {
        const double total = forward[j] + backward[n - j];
        if (total < best) {
            best = total;
            split = j;
        }
    }
    weighted_align_linear(i0, mid, j0, split, insertion, deletion, cost, buf, out, op_costs);
    weighted_align_linear(i0 + mid, rm, j0 + split, n - split, insertion, deletion, cost, buf, out, op_costs);
}

}  // namespace selflearn::detail
