#pragma once
/// \file selflearn/detail/project_assign.hpp
/// Word-to-word mapping on a cost matrix, the core of label projection: the paper's greedy mapping, a
/// minimum-cost one-to-one assignment (shortest augmenting paths with dual potentials) and an
/// order-preserving alignment. All three minimise, or approximate, the same objective:
///
///     sum over mapped pairs (i, j) of cost(i, j)  +  unmatched * (number of unmapped rows)
///
/// where each row (source word) maps to at most one column (target word) and each column receives at most
/// one row, a pair whose cost is above `unmatched` (or infinite) is never used, and unmapped columns are free.

#include <selflearn/error.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include <fmt/core.h>

namespace selflearn::detail {

inline constexpr std::size_t unmapped_word = static_cast<std::size_t>(-1);

/// Checks a row-major cost matrix and the cost of an unmapped row.
inline void check_cost_matrix(std::span<const double> costs, std::size_t rows, std::size_t cols, double unmatched) {
    if (cols != 0 && rows > std::numeric_limits<std::size_t>::max() / cols) {
        throw invalid_argument(fmt::format("map_words: a {} x {} cost matrix is too large", rows, cols));
    }
    if (costs.size() != rows * cols) {
        throw invalid_argument(fmt::format("map_words: the cost matrix has {} values, expected {} x {} = {}",
                                           costs.size(), rows, cols, rows * cols));
    }
    if (!std::isfinite(unmatched) || unmatched < 0) {
        throw invalid_argument(
            fmt::format("map_words: the cost of an unmapped word must be finite and >= 0, got {}", unmatched));
    }
    for (std::size_t k = 0; k < costs.size(); ++k) {
        if (std::isnan(costs[k]) || costs[k] < 0) {
            throw invalid_argument(fmt::format("map_words: cost({}, {}) is {}; costs must be >= 0 (or +inf)",
                                               k / cols, k % cols, costs[k]));
        }
    }
}

/// Sum of the objective for a mapping (exact, from the matrix).
inline double mapping_cost(std::span<const double> costs, std::size_t cols, double unmatched,
                           std::span<const std::size_t> target) {
    double total = 0;
    for (std::size_t i = 0; i < target.size(); ++i) {
        total += target[i] == unmapped_word ? unmatched : costs[i * cols + target[i]];
    }
    return total;
}

/// Reusable buffers of the assignment and the alignment, so that repeated calls do not allocate.
struct assignment_workspace {
    std::vector<double> u, v, min_slack, table;
    std::vector<std::size_t> row_of, way, row_count, col_count, only_col, only_row, row_ids, col_ids;
    std::vector<unsigned char> used, choice;
};

/// The paper's greedy mapping: rows in order; each takes the still free column of least cost (the lowest
/// index among equal costs), or nothing when that cost is above `unmatched`. O(rows * cols).
inline void map_greedy(std::span<const double> costs, std::size_t rows, std::size_t cols, double unmatched,
                       assignment_workspace& ws, std::vector<std::size_t>& target) {
    target.assign(rows, unmapped_word);
    ws.used.assign(cols, 0);
    for (std::size_t i = 0; i < rows; ++i) {
        double best = std::numeric_limits<double>::infinity();
        std::size_t best_j = unmapped_word;
        for (std::size_t j = 0; j < cols; ++j) {
            const double c = costs[i * cols + j];
            if (ws.used[j] == 0 && c < best) {
                best = c;
                best_j = j;
            }
        }
        if (best_j != unmapped_word && best <= unmatched) {
            target[i] = best_j;
            ws.used[best_j] = 1;
        }
    }
}

/// Minimum-cost one-to-one assignment of rows to columns or to nothing, order-free, on the matrix
/// restricted to `row_ids` x `col_ids` (a row-major matrix of `stride` columns); results go to target.
/// The rectangular problem becomes a rows x (cols + rows) assignment: the extra columns stand for "nothing"
/// and cost `unmatched` for every row; a pair above `unmatched` costs `unmatched + 1` there, so that an
/// optimum never uses it (a free "nothing" column is always cheaper). Solved row by row with shortest
/// augmenting paths over reduced costs and dual potentials u (rows) and v (columns): the Hungarian method
/// of Kuhn (1955) and Munkres (1957) in the O(n^2 m) form of Tomizawa (1971) and Edmonds & Karp (1972), see
/// Burkard, Dell'Amico & Martello, "Assignment Problems" (2009), section 4.4.
inline void hungarian(std::span<const double> costs, std::size_t stride, std::span<const std::size_t> row_ids,
                      std::span<const std::size_t> col_ids, double unmatched, assignment_workspace& ws,
                      std::vector<std::size_t>& target) {
    const std::size_t rows = row_ids.size();
    const std::size_t cols = col_ids.size();
    if (rows == 0) return;
    const double forbidden = unmatched + 1;
    const double inf = std::numeric_limits<double>::infinity();
    const std::size_t width = cols + rows;  // real columns 1..cols, "nothing" columns cols+1..cols+rows
    auto cost = [&](std::size_t row, std::size_t col) {  // 1-based
        if (col > cols) return unmatched;
        const double c = costs[row_ids[row - 1] * stride + col_ids[col - 1]];
        return c <= unmatched ? c : forbidden;
    };
    // Index 0 of the column arrays is a virtual column from which each row's augmenting path starts.
    ws.u.assign(rows + 1, 0.0);
    ws.v.assign(width + 1, 0.0);
    ws.row_of.assign(width + 1, 0);
    ws.way.assign(width + 1, 0);
    ws.min_slack.resize(width + 1);
    ws.used.resize(width + 1);
    for (std::size_t i = 1; i <= rows; ++i) {
        ws.row_of[0] = i;
        std::size_t col = 0;
        std::fill(ws.min_slack.begin(), ws.min_slack.end(), inf);
        std::fill(ws.used.begin(), ws.used.end(), static_cast<unsigned char>(0));
        // Grow a tree of tight edges (Dijkstra over reduced costs) until it reaches a free column.
        do {
            ws.used[col] = 1;
            const std::size_t row = ws.row_of[col];
            double delta = inf;
            std::size_t next = 0;
            for (std::size_t j = 1; j <= width; ++j) {
                if (ws.used[j] != 0) continue;
                const double slack = cost(row, j) - ws.u[row] - ws.v[j];
                if (slack < ws.min_slack[j]) {
                    ws.min_slack[j] = slack;
                    ws.way[j] = col;
                }
                if (ws.min_slack[j] < delta) {
                    delta = ws.min_slack[j];
                    next = j;
                }
            }
            for (std::size_t j = 0; j <= width; ++j) {
                if (ws.used[j] != 0) {
                    ws.u[ws.row_of[j]] += delta;
                    ws.v[j] -= delta;
                } else {
                    ws.min_slack[j] -= delta;
                }
            }
            col = next;
        } while (ws.row_of[col] != 0);
        // Augment: flip the matched and unmatched edges along the path back to the virtual column.
        do {
            const std::size_t previous = ws.way[col];
            ws.row_of[col] = ws.row_of[previous];
            col = previous;
        } while (col != 0);
    }
    for (std::size_t j = 1; j <= cols; ++j) {
        const std::size_t row = ws.row_of[j];
        if (row != 0 && costs[row_ids[row - 1] * stride + col_ids[j - 1]] <= unmatched) {
            target[row_ids[row - 1]] = col_ids[j - 1];
        }
    }
}

/// Minimum-cost one-to-one assignment of rows to columns or to nothing (order-free). Before the Hungarian
/// method runs, two exact reductions shrink the problem: a row with no usable pair (cost <= unmatched)
/// stays unmapped, and a row and a column that are each other's only usable pair are mapped to each other
/// (any optimum can be changed to use that pair at no extra cost, since neither can go elsewhere). The
/// rest goes to hungarian(). O(rows * cols) for the reductions, O(r^2 * (r + c)) for the r rows and c
/// columns left.
inline void map_optimal(std::span<const double> costs, std::size_t rows, std::size_t cols, double unmatched,
                        assignment_workspace& ws, std::vector<std::size_t>& target) {
    target.assign(rows, unmapped_word);
    ws.row_count.assign(rows, 0);
    ws.col_count.assign(cols, 0);
    ws.only_col.assign(rows, unmapped_word);
    ws.only_row.assign(cols, unmapped_word);
    for (std::size_t i = 0; i < rows; ++i) {
        for (std::size_t j = 0; j < cols; ++j) {
            if (costs[i * cols + j] <= unmatched) {
                ++ws.row_count[i];
                ++ws.col_count[j];
                ws.only_col[i] = j;
                ws.only_row[j] = i;
            }
        }
    }
    ws.row_ids.clear();
    ws.col_ids.clear();
    for (std::size_t i = 0; i < rows; ++i) {
        if (ws.row_count[i] == 0) continue;
        const std::size_t j = ws.only_col[i];
        if (ws.row_count[i] == 1 && ws.col_count[j] == 1) {
            target[i] = j;
        } else {
            ws.row_ids.push_back(i);
        }
    }
    for (std::size_t j = 0; j < cols; ++j) {
        if (ws.col_count[j] > 1 || (ws.col_count[j] == 1 && ws.row_count[ws.only_row[j]] > 1)) ws.col_ids.push_back(j);
    }
    hungarian(costs, cols, ws.row_ids, ws.col_ids, unmatched, ws, target);
}

/// Minimum-cost order-preserving mapping (an alignment: mapped pairs never cross) by dynamic programming
/// over rows x cols: a row maps onto a column (its cost, when at most `unmatched`), a row maps to nothing
/// (`unmatched`), or a column is skipped (free). Among equal costs the backtrace, from the last cells,
/// prefers mapping, then leaving a row unmapped, then skipping a column. O(rows * cols) time and memory.
inline void map_monotone(std::span<const double> costs, std::size_t rows, std::size_t cols, double unmatched,
                         assignment_workspace& ws, std::vector<std::size_t>& target) {
    target.assign(rows, unmapped_word);
    const std::size_t stride = cols + 1;
    enum : unsigned char { diagonal, up, left };
    ws.table.resize((rows + 1) * stride);
    ws.choice.resize((rows + 1) * stride);
    for (std::size_t j = 0; j <= cols; ++j) {
        ws.table[j] = 0;
        ws.choice[j] = left;
    }
    for (std::size_t i = 1; i <= rows; ++i) {
        double* row = ws.table.data() + i * stride;
        const double* above = row - stride;
        unsigned char* choice = ws.choice.data() + i * stride;
        row[0] = above[0] + unmatched;
        choice[0] = up;
        const double* c = costs.data() + (i - 1) * cols;
        for (std::size_t j = 1; j <= cols; ++j) {
            double best = above[j] + unmatched;
            unsigned char how = up;
            if (c[j - 1] <= unmatched && above[j - 1] + c[j - 1] <= best) {
                best = above[j - 1] + c[j - 1];
                how = diagonal;
            }
            if (row[j - 1] < best) {
                best = row[j - 1];
                how = left;
            }
            row[j] = best;
            choice[j] = how;
        }
    }
    std::size_t i = rows;
    std::size_t j = cols;
    while (i > 0) {
        const unsigned char how = ws.choice[i * stride + j];
        if (how == diagonal) {
            target[i - 1] = j - 1;
            --i;
            --j;
        } else if (how == up) {
            --i;
        } else {
            --j;
        }
    }
}

}  // namespace selflearn::detail
