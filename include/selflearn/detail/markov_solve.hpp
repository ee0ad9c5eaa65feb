#pragma once
/// \file selflearn/detail/markov_solve.hpp
/// Absorption probabilities, expected steps and their variance of a sparse absorbing chain, solved per
/// weakly connected component of the transient graph (components in parallel), and inside a component per
/// strongly connected component in reverse topological order: for a strongly connected block C,
///   (I - Q_CC) B_C = R_C + Q_C,out B_out,   (I - Q_CC) t_C = 1 + Q_C,out t_out,
///   (I - Q_CC) y_C = t_C + Q_C,out y_out    (y = N t, so the variance is 2y - t - t*t),
/// where B_out, t_out, y_out are already known because every block reachable from C is finished first.
/// The diagonal of I - Q_CC is the sum of the row's exits (every entry of the row but its self loop),
/// never 1 - Q(i, i): a self loop that rounds to 1 next to a tiny exit would cancel to 0 (or lose most of
/// its digits), while the exits are summed without cancellation.
/// A block of one state is a division; small blocks use dense LU with partial pivoting, large ones
/// Eigen's sparse LU (supernodal, COLAMD ordering). Each block's right-hand side only has the absorbing
/// columns reachable from it, so memory is proportional to the non-zeros of Q, R and B.

#include <selflearn/detail/markov_graph.hpp>
#include <selflearn/error.hpp>

#include <Eigen/Core>
#include <Eigen/LU>
#include <Eigen/SparseCore>
#include <Eigen/SparseLU>

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <numeric>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace selflearn {

/// The result of a solve failed its checks (a negative absorption probability or a row of B that does
/// not sum to 1 within the tolerance), or a factorisation failed. The message names the state.
class numerical_error : public error {
public:
    using error::error;
};

}  // namespace selflearn

namespace selflearn::detail {

/// The diagonal of I - Q at transient row i: the sum of the row's exits (R's row and Q's off-diagonal
/// entries), not 1 - Q(i, i), which cancels when the self loop is close to 1. O(row length).
template <class Q, class R>
double exit_sum(const Q& q, const R& r, Eigen::Index i) {
    double sum = 0.0;
    for (typename R::InnerIterator it(r, i); it; ++it) sum += it.value();
    for (typename Q::InnerIterator it(q, i); it; ++it) {
        if (it.col() != i) sum += it.value();
    }
    return sum;
}

struct solve_settings {
    unsigned threads = 0;
    std::size_t dense_limit = 256;
    double tolerance = 1e-9;
};

struct solve_output {
    markov_sparse b;
    Eigen::VectorXd t;
    Eigen::VectorXd variance;
    std::size_t components = 0;
    std::size_t largest_component = 0;
    std::size_t largest_block = 0;
    std::size_t sparse_factorisations = 0;
};

using storage_index = markov_sparse::StorageIndex;

/// B rows of one component, stored in the order they were solved.
struct component_rows {
    std::vector<storage_index> cols;
    std::vector<double> vals;
    std::vector<std::size_t> begin;  // by local index
    std::vector<std::size_t> length;
};

class component_solver {
public:
    component_solver(const markov_sparse& q, const markov_sparse& r, const solve_settings& settings,
                     Eigen::VectorXd& t, Eigen::VectorXd& y,
                     const std::function<std::string(std::size_t)>& name_of)
        : q_(q), r_(r), settings_(settings), t_(t), y_(y), name_of_(name_of),
          local_of_(static_cast<std::size_t>(q.rows()), 0),
          acc_(static_cast<std::size_t>(r.cols()), 0.0), mark_(static_cast<std::size_t>(r.cols()), 0) {}

    std::size_t sparse_factorisations() const noexcept { return sparse_factorisations_; }
    std::size_t largest_block() const noexcept { return largest_block_; }

    void solve(std::span<const std::size_t> members, component_rows& out) {
        const std::size_t m = members.size();
        for (std::size_t k = 0; k < m; ++k) local_of_[members[k]] = k;
        start_.assign(m + 1, 0);
        adjacency_.clear();
        for (std::size_t k = 0; k < m; ++k) {
            for (markov_sparse::InnerIterator it(q_, static_cast<Eigen::Index>(members[k])); it; ++it) {
                adjacency_.push_back(local_of_[static_cast<std::size_t>(it.col())]);
            }
            start_[k + 1] = adjacency_.size();
        }
        tarjan_.run(m, start_, adjacency_, order_, scc_offsets_);
        block_of_.assign(m, 0);
        position_of_.assign(m, 0);
        out.cols.clear();
        out.vals.clear();
        out.begin.assign(m, 0);
        out.length.assign(m, 0);
        for (std::size_t s = 0; s + 1 < scc_offsets_.size(); ++s) {
            const std::span<const std::size_t> block(order_.data() + scc_offsets_[s],
                                                     scc_offsets_[s + 1] - scc_offsets_[s]);
            for (auto k : block) block_of_[k] = s;
            largest_block_ = std::max(largest_block_, block.size());
            if (block.size() == 1) {
                solve_single(members, block[0], s, out);
            } else {
                solve_block(members, block, s, out);
            }
        }
    }

private:
    // External right-hand side of local state k (block s): absorbing part into acc_/touched_, returns
    // (1 + sum Q t_out, sum Q y_out) and the diagonal of I - Q at k, the sum of the row's exits (every
    // entry but the self loop), through `diagonal`. The self loop is not put in in_block_row.
    void external(std::span<const std::size_t> members, std::size_t k, std::size_t s, const component_rows& out,
                  double& t_ext, double& y_ext, double& diagonal, std::vector<double>* in_block_row) {
        const auto g = static_cast<Eigen::Index>(members[k]);
        touched_.clear();
        diagonal = 0.0;
        for (markov_sparse::InnerIterator it(r_, g); it; ++it) {
            add(static_cast<storage_index>(it.col()), it.value());
            diagonal += it.value();
        }
        t_ext = 1.0;
        y_ext = 0.0;
        for (markov_sparse::InnerIterator it(q_, g); it; ++it) {
            const std::size_t j = local_of_[static_cast<std::size_t>(it.col())];
            const double p = it.value();
            if (j == k) continue;
            diagonal += p;
            if (block_of_[j] == s) {  // every successor outside the block is in a block solved before
                if (in_block_row != nullptr) {
                    in_block_row->push_back(static_cast<double>(j));
                    in_block_row->push_back(p);
                }
                continue;
            }
            const auto gj = members[j];
            t_ext += p * t_[static_cast<Eigen::Index>(gj)];
            y_ext += p * y_[static_cast<Eigen::Index>(gj)];
            for (std::size_t e = out.begin[j]; e < out.begin[j] + out.length[j]; ++e) add(out.cols[e], p * out.vals[e]);
        }
        std::sort(touched_.begin(), touched_.end());
    }

    void add(storage_index col, double value) {
        const auto c = static_cast<std::size_t>(col);
        if (mark_[c] == 0) {
            mark_[c] = 1;
            acc_[c] = 0.0;
            touched_.push_back(col);
        }
        acc_[c] += value;
    }

    void store_row(std::span<const std::size_t> members, std::size_t k, component_rows& out,
                   std::span<const storage_index> cols, const double* values, std::ptrdiff_t stride) {
        out.begin[k] = out.cols.size();
        double sum = 0.0;
        for (std::size_t e = 0; e < cols.size(); ++e) {
            double v = values[static_cast<std::ptrdiff_t>(e) * stride];
            if (!(v >= -settings_.tolerance)) {
                throw numerical_error(fmt::format(
                    "absorbing chain: absorption probability {} < 0 from state {} (tolerance {})", v,
                    name_of_(members[k]), settings_.tolerance));
            }
            if (v <= 0.0) continue;  // rounding below zero is zero; exact zeros are not stored
            sum += v;
            out.cols.push_back(cols[e]);
            out.vals.push_back(v);
        }
        out.length[k] = out.cols.size() - out.begin[k];
        if (!(std::abs(sum - 1.0) <= settings_.tolerance)) {
            throw numerical_error(
                fmt::format("absorbing chain: absorption probabilities from state {} sum to {:.17g}, not 1 "
                            "(tolerance {})",
                            name_of_(members[k]), sum, settings_.tolerance));
        }
    }

    void solve_single(std::span<const std::size_t> members, std::size_t k, std::size_t s, component_rows& out) {
        double t_ext = 0, y_ext = 0, d = 0;
        external(members, k, s, out, t_ext, y_ext, d, nullptr);
        const auto g = static_cast<Eigen::Index>(members[k]);
        t_[g] = t_ext / d;
        y_[g] = (t_[g] + y_ext) / d;
        row_cols_.assign(touched_.begin(), touched_.end());
        row_vals_.resize(touched_.size());
        for (std::size_t e = 0; e < touched_.size(); ++e) {
            const auto c = static_cast<std::size_t>(touched_[e]);
            row_vals_[e] = acc_[c] / d;
            mark_[c] = 0;
        }
        store_row(members, k, out, row_cols_, row_vals_.data(), 1);
    }

    void solve_block(std::span<const std::size_t> members, std::span<const std::size_t> block, std::size_t s,
                     component_rows& out) {
        const std::size_t m = block.size();
        for (std::size_t a = 0; a < m; ++a) position_of_[block[a]] = a;
        // Gather each member's external absorbing row, and the in-block entries of Q.
        ext_cols_.clear();
        ext_vals_.clear();
        ext_begin_.assign(m + 1, 0);
        t_rhs_.resize(static_cast<Eigen::Index>(m));
        y_ext_.resize(static_cast<Eigen::Index>(m));
        triplets_.clear();
        in_block_.clear();
        for (std::size_t a = 0; a < m; ++a) {
            double t_ext = 0, y_ext = 0, diagonal = 0;
            in_block_.clear();
            external(members, block[a], s, out, t_ext, y_ext, diagonal, &in_block_);
            t_rhs_[static_cast<Eigen::Index>(a)] = t_ext;
            y_ext_[static_cast<Eigen::Index>(a)] = y_ext;
            for (auto col : touched_) {
                const auto c = static_cast<std::size_t>(col);
                ext_cols_.push_back(col);
                ext_vals_.push_back(acc_[c]);
                mark_[c] = 0;
            }
            ext_begin_[a + 1] = ext_cols_.size();
            for (std::size_t e = 0; e + 1 < in_block_.size(); e += 2) {
                const auto j = position_of_[static_cast<std::size_t>(in_block_[e])];
                triplets_.emplace_back(static_cast<storage_index>(a), static_cast<storage_index>(j), -in_block_[e + 1]);
            }
            triplets_.emplace_back(static_cast<storage_index>(a), static_cast<storage_index>(a), diagonal);
        }
        // Columns reachable from the block: the union of the members' external columns, ascending.
        union_cols_.assign(ext_cols_.begin(), ext_cols_.end());
        std::sort(union_cols_.begin(), union_cols_.end());
        union_cols_.erase(std::unique(union_cols_.begin(), union_cols_.end()), union_cols_.end());
        const auto width = static_cast<Eigen::Index>(union_cols_.size());
        Eigen::MatrixXd rhs = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(m), width + 1);
        for (std::size_t a = 0; a < m; ++a) {
            for (std::size_t e = ext_begin_[a]; e < ext_begin_[a + 1]; ++e) {
                const auto pos = std::lower_bound(union_cols_.begin(), union_cols_.end(), ext_cols_[e]) - union_cols_.begin();
                rhs(static_cast<Eigen::Index>(a), pos) = ext_vals_[e];
            }
        }
        rhs.col(width) = t_rhs_;
        Eigen::MatrixXd x;
        Eigen::VectorXd y;
        const auto mi = static_cast<Eigen::Index>(m);
        if (m <= settings_.dense_limit) {
            Eigen::MatrixXd a_dense = Eigen::MatrixXd::Zero(mi, mi);
            for (const auto& tr : triplets_) a_dense(tr.row(), tr.col()) += tr.value();
            Eigen::PartialPivLU<Eigen::MatrixXd> lu(a_dense);
            x = lu.solve(rhs);
            y = lu.solve(x.col(width) + y_ext_);
        } else {
            Eigen::SparseMatrix<double> a_sparse(mi, mi);
            a_sparse.setFromTriplets(triplets_.begin(), triplets_.end());
            Eigen::SparseLU<Eigen::SparseMatrix<double>, Eigen::COLAMDOrdering<storage_index>> lu;
            lu.analyzePattern(a_sparse);
            lu.factorize(a_sparse);
            if (lu.info() != Eigen::Success) {
                throw numerical_error(fmt::format("absorbing chain: sparse LU failed on a block of {} states "
                                                  "containing state {}: {}",
                                                  m, name_of_(members[block[0]]), lu.lastErrorMessage()));
            }
            ++sparse_factorisations_;
            x = lu.solve(rhs);
            y = lu.solve(Eigen::VectorXd(x.col(width) + y_ext_));
        }
        for (std::size_t a = 0; a < m; ++a) {
            const auto ai = static_cast<Eigen::Index>(a);
            const auto g = static_cast<Eigen::Index>(members[block[a]]);
            t_[g] = x(ai, width);
            y_[g] = y[ai];
            store_row(members, block[a], out, union_cols_, x.data() + ai, mi);
        }
    }

    const markov_sparse& q_;
    const markov_sparse& r_;
    const solve_settings& settings_;
    Eigen::VectorXd& t_;
    Eigen::VectorXd& y_;
    const std::function<std::string(std::size_t)>& name_of_;
    std::vector<std::size_t> local_of_;
    std::vector<double> acc_;
    std::vector<char> mark_;
    std::vector<storage_index> touched_;
    tarjan_workspace tarjan_;
    std::vector<std::size_t> start_, adjacency_, order_, scc_offsets_, block_of_;
    std::vector<std::size_t> position_of_;  // local index -> position in the current block
    std::vector<storage_index> row_cols_, ext_cols_, union_cols_;
    std::vector<double> row_vals_, ext_vals_, in_block_;
    std::vector<std::size_t> ext_begin_;
    Eigen::VectorXd t_rhs_, y_ext_;
    std::vector<Eigen::Triplet<double, storage_index>> triplets_;
    std::size_t sparse_factorisations_ = 0;
    std::size_t largest_block_ = 0;
};

/// Solves every component and assembles B (rows in transient order, columns ascending), t and the
/// variance. Threads take components largest first; results do not depend on the thread count.
inline solve_output solve_components(const markov_sparse& q, const markov_sparse& r, const solve_settings& settings,
                                     const std::function<std::string(std::size_t)>& name_of) {
    const auto n = q.rows();
    solve_output result;
    result.t = Eigen::VectorXd::Zero(n);
    Eigen::VectorXd y = Eigen::VectorXd::Zero(n);
    const components comps = weak_components(q);
    const std::size_t count = comps.count();
    result.components = count;
    std::vector<std::size_t> schedule(count);
    std::iota(schedule.begin(), schedule.end(), std::size_t{0});
    std::stable_sort(schedule.begin(), schedule.end(),
                     [&](std::size_t a, std::size_t b) { return comps[a].size() > comps[b].size(); });
    if (count > 0) result.largest_component = comps[schedule[0]].size();
    std::vector<component_rows> rows(count);
    unsigned threads = settings.threads != 0 ? settings.threads : std::max(1u, std::thread::hardware_concurrency());
    threads = static_cast<unsigned>(std::min<std::size_t>(threads, std::max<std::size_t>(count, 1)));
    std::atomic<std::size_t> next{0};
    std::mutex failure_mutex;
    std::exception_ptr failure;
    std::size_t failure_component = count;
    std::atomic<std::size_t> sparse_count{0}, largest_block{0};
    auto work = [&] {
        component_solver solver(q, r, settings, result.t, y, name_of);
        for (;;) {
            const std::size_t i = next.fetch_add(1);
            if (i >= count) break;
            const std::size_t c = schedule[i];
            try {
                solver.solve(comps[c], rows[c]);
            } catch (...) {
                // Report the failure of the component with the smallest first member, whatever the threads.
                std::lock_guard lock(failure_mutex);
                if (c < failure_component) {
                    failure_component = c;
                    failure = std::current_exception();
                }
            }
        }
        sparse_count += solver.sparse_factorisations();
        std::size_t seen = largest_block.load();
        while (seen < solver.largest_block() && !largest_block.compare_exchange_weak(seen, solver.largest_block())) {
        }
    };
    if (threads <= 1) {
        work();
    } else {
        std::vector<std::jthread> pool;
        pool.reserve(threads);
        for (unsigned i = 0; i < threads; ++i) pool.emplace_back(work);
    }
    if (failure) std::rethrow_exception(failure);
    result.sparse_factorisations = sparse_count.load();
    result.largest_block = largest_block.load();
    // Assemble B in CSR form.
    result.b.resize(n, r.cols());
    std::size_t nnz = 0;
    for (const auto& c : rows) nnz += c.cols.size();
    result.b.resizeNonZeros(static_cast<Eigen::Index>(nnz));
    auto* outer = result.b.outerIndexPtr();
    std::vector<std::pair<std::size_t, std::size_t>> where(static_cast<std::size_t>(n));  // (component, local)
    for (std::size_t c = 0; c < count; ++c) {
        const auto members = comps[c];
        for (std::size_t k = 0; k < members.size(); ++k) where[members[k]] = {c, k};
    }
    storage_index position = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
        outer[i] = position;
        const auto [c, k] = where[static_cast<std::size_t>(i)];
        const auto& cr = rows[c];
        for (std::size_t e = cr.begin[k]; e < cr.begin[k] + cr.length[k]; ++e) {
            result.b.innerIndexPtr()[position] = cr.cols[e];
            result.b.valuePtr()[position] = cr.vals[e];
            ++position;
        }
    }
    outer[n] = position;
    result.variance.resize(n);
    for (Eigen::Index i = 0; i < n; ++i) {
        const double t = result.t[i];
        const double v = 2.0 * y[i] - t - t * t;
        // Cancellation can leave a tiny negative where the variance is 0 (a deterministic path).
        result.variance[i] = v < 0.0 && v >= -settings.tolerance * std::max(1.0, t * t) ? 0.0 : v;
    }
    return result;
}

}  // namespace selflearn::detail
