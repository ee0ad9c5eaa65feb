#pragma once
/// \file selflearn/detail/markov_graph.hpp
/// Graph searches over the transient part of an absorbing chain: weakly connected components (union-find),
/// strongly connected components (Tarjan 1972, iterative) and reachability of absorbing states.

#include <Eigen/SparseCore>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <utility>
#include <vector>

namespace selflearn::detail {

/// Row-major sparse matrix of a chain block (Q or R).
using markov_sparse = Eigen::SparseMatrix<double, Eigen::RowMajor>;

/// Union-find with path halving and union by size.
class disjoint_sets {
public:
    explicit disjoint_sets(std::size_t n) : parent_(n), size_(n, 1) {
        std::iota(parent_.begin(), parent_.end(), std::size_t{0});
    }
    std::size_t find(std::size_t x) noexcept {
        while (parent_[x] != x) {
            parent_[x] = parent_[parent_[x]];
            x = parent_[x];
        }
        return x;
    }
    void unite(std::size_t a, std::size_t b) noexcept {
        a = find(a);
        b = find(b);
        if (a == b) return;
        if (size_[a] < size_[b]) std::swap(a, b);
        parent_[b] = a;
        size_[a] += size_[b];
    }

private:
    std::vector<std::size_t> parent_;
    std::vector<std::size_t> size_;
};

/// The weakly connected components of the graph of Q (an edge i-j whenever Q(i, j) > 0 or Q(j, i) > 0).
/// `offsets` has one entry per component plus one; the members of component c are
/// `members[offsets[c] .. offsets[c + 1])`, ascending. Components are ordered by their smallest member.
/// O(n + nnz(Q)) (near-linear union-find).
struct components {
    std::vector<std::size_t> members;
    std::vector<std::size_t> offsets;
    [[nodiscard]] std::size_t count() const noexcept { return offsets.empty() ? 0 : offsets.size() - 1; }
    [[nodiscard]] std::span<const std::size_t> operator[](std::size_t c) const noexcept {
        return {members.data() + offsets[c], offsets[c + 1] - offsets[c]};
    }
};

inline components weak_components(const markov_sparse& q) {
    const auto n = static_cast<std::size_t>(q.rows());
    disjoint_sets sets(n);
    for (Eigen::Index i = 0; i < q.outerSize(); ++i) {
        for (markov_sparse::InnerIterator it(q, i); it; ++it) {
            sets.unite(static_cast<std::size_t>(i), static_cast<std::size_t>(it.col()));
        }
    }
    // Number the components by their smallest member, then bucket the members (counting sort).
    std::vector<std::size_t> id(n);
    std::vector<std::size_t> id_of_root(n, static_cast<std::size_t>(-1));
    std::size_t count = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t root = sets.find(i);
        if (id_of_root[root] == static_cast<std::size_t>(-1)) id_of_root[root] = count++;
        id[i] = id_of_root[root];
    }
    components result;
    result.offsets.assign(count + 1, 0);
    for (std::size_t i = 0; i < n; ++i) ++result.offsets[id[i] + 1];
    for (std::size_t c = 0; c < count; ++c) result.offsets[c + 1] += result.offsets[c];
    result.members.resize(n);
    std::vector<std::size_t> next(result.offsets.begin(), result.offsets.end() - 1);
    for (std::size_t i = 0; i < n; ++i) result.members[next[id[i]]++] = i;
    return result;
}

/// Tarjan's strongly connected components of a graph given as adjacency lists in CSR form (`adjacency`
/// indexed by `start`, vertices 0..n-1), iteratively (no recursion, so deep chains do not overflow the
/// stack). Components are appended to `order` / `scc_offsets` in the order Tarjan finishes them, which is a
/// reverse topological order: every component reachable from C is emitted before C. O(n + edges).
class tarjan_workspace {
public:
    void run(std::size_t n, std::span<const std::size_t> start, std::span<const std::size_t> adjacency,
             std::vector<std::size_t>& order, std::vector<std::size_t>& scc_offsets) {
        constexpr std::size_t unvisited = static_cast<std::size_t>(-1);
        index_.assign(n, unvisited);
        low_.assign(n, 0);
        on_stack_.assign(n, 0);
        stack_.clear();
        order.clear();
        scc_offsets.assign(1, 0);
        std::size_t counter = 0;
        for (std::size_t root = 0; root < n; ++root) {
            if (index_[root] != unvisited) continue;
            call_.clear();
            call_.push_back({root, start[root]});
            index_[root] = low_[root] = counter++;
            stack_.push_back(root);
            on_stack_[root] = 1;
            while (!call_.empty()) {
                auto& frame = call_.back();
                const std::size_t v = frame.vertex;
                if (frame.next < start[v + 1]) {
                    const std::size_t w = adjacency[frame.next++];
                    if (index_[w] == unvisited) {
                        index_[w] = low_[w] = counter++;
                        stack_.push_back(w);
                        on_stack_[w] = 1;
                        call_.push_back({w, start[w]});
                    } else if (on_stack_[w] != 0) {
                        low_[v] = std::min(low_[v], index_[w]);
                    }
                    continue;
                }
                if (low_[v] == index_[v]) {
                    std::size_t w = 0;
                    do {
                        w = stack_.back();
                        stack_.pop_back();
                        on_stack_[w] = 0;
                        order.push_back(w);
                    } while (w != v);
                    scc_offsets.push_back(order.size());
                }
                call_.pop_back();
                if (!call_.empty()) {
                    const std::size_t parent = call_.back().vertex;
                    low_[parent] = std::min(low_[parent], low_[v]);
                }
            }
        }
    }

private:
    struct call_frame {
        std::size_t vertex;
        std::size_t next;
    };
    std::vector<std::size_t> index_, low_, stack_;
    std::vector<char> on_stack_;
    std::vector<call_frame> call_;
};

/// The transient states (rows of Q) from which no absorbing state can be reached: a breadth-first search
/// backwards from the rows of R that have an entry. Returned ascending. O(n + nnz(Q) + nnz(R)).
inline std::vector<std::size_t> unreachable_states(const markov_sparse& q, const markov_sparse& r) {
    const auto n = static_cast<std::size_t>(q.rows());
    // Reverse adjacency of Q in CSR form.
    std::vector<std::size_t> start(n + 1, 0);
    for (Eigen::Index i = 0; i < q.outerSize(); ++i) {
        for (markov_sparse::InnerIterator it(q, i); it; ++it) ++start[static_cast<std::size_t>(it.col()) + 1];
    }
    for (std::size_t i = 0; i < n; ++i) start[i + 1] += start[i];
    std::vector<std::size_t> reverse(start[n]);
    std::vector<std::size_t> fill(start.begin(), start.end() - 1);
    for (Eigen::Index i = 0; i < q.outerSize(); ++i) {
        for (markov_sparse::InnerIterator it(q, i); it; ++it) {
            reverse[fill[static_cast<std::size_t>(it.col())]++] = static_cast<std::size_t>(i);
        }
    }
    std::vector<char> reached(n, 0);
    std::vector<std::size_t> queue;
    queue.reserve(n);
    for (Eigen::Index i = 0; i < r.outerSize(); ++i) {
        bool any = false;
        for (markov_sparse::InnerIterator it(r, i); it; ++it) any = any || it.value() > 0;
        if (any) {
            reached[static_cast<std::size_t>(i)] = 1;
            queue.push_back(static_cast<std::size_t>(i));
        }
    }
    for (std::size_t head = 0; head < queue.size(); ++head) {
        const std::size_t v = queue[head];
        for (std::size_t k = start[v]; k < start[v + 1]; ++k) {
            const std::size_t u = reverse[k];
            if (reached[u] == 0) {
                reached[u] = 1;
                queue.push_back(u);
            }
        }
    }
    std::vector<std::size_t> result;
    for (std::size_t i = 0; i < n; ++i) {
        if (reached[i] == 0) result.push_back(i);
    }
    return result;
}

}  // namespace selflearn::detail
