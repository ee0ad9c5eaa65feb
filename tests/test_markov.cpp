// Absorbing Markov chains: the drunkard's walk of Grinstead and Snell exactly, every small chain and many
// random ones against a brute-force reference (Gauss-Jordan inverse, transitive closure) kept below,
// sparse against dense, counts (merge, text form, order independence) and every error case.

#include <selflearn/markov.hpp>

#include <doctest/doctest.h>

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using selflearn::absorbing_chain;
using selflearn::transition;
using selflearn::transition_counts;

// ---------------------------------------------------------------------------------------------------
// Brute-force reference: states 0..n-1 with a count matrix C. Absorbing: row of zeros or only a self
// count. Reachability by transitive closure (Warshall), N by Gauss-Jordan elimination with partial pivoting.
struct reference {
    std::vector<std::size_t> transient, absorbing;
    std::vector<std::size_t> stuck;  // transient states (as state numbers) that cannot reach absorption
    std::vector<std::vector<double>> n, b;
    std::vector<double> t, variance;
};

std::vector<std::vector<double>> gauss_jordan_inverse(std::vector<std::vector<double>> a) {
    const std::size_t n = a.size();
    std::vector<std::vector<double>> inv(n, std::vector<double>(n, 0.0));
    for (std::size_t i = 0; i < n; ++i) inv[i][i] = 1.0;
    for (std::size_t c = 0; c < n; ++c) {
        std::size_t pivot = c;
        for (std::size_t r = c + 1; r < n; ++r) {
            if (std::abs(a[r][c]) > std::abs(a[pivot][c])) pivot = r;
        }
        std::swap(a[c], a[pivot]);
        std::swap(inv[c], inv[pivot]);
        const double d = a[c][c];
        for (std::size_t k = 0; k < n; ++k) {
            a[c][k] /= d;
            inv[c][k] /= d;
        }
        for (std::size_t r = 0; r < n; ++r) {
            if (r == c || a[r][c] == 0.0) continue;
            const double f = a[r][c];
            for (std::size_t k = 0; k < n; ++k) {
                a[r][k] -= f * a[c][k];
                inv[r][k] -= f * inv[c][k];
            }
        }
    }
    return inv;
}

reference brute_force(const std::vector<std::vector<double>>& counts) {
    const std::size_t n = counts.size();
    reference ref;
    std::vector<double> sum(n, 0.0);
    std::vector<char> is_absorbing(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t nonzero = 0;
        for (std::size_t j = 0; j < n; ++j) {
            sum[i] += counts[i][j];
            nonzero += counts[i][j] > 0 ? 1u : 0u;
        }
        is_absorbing[i] = (sum[i] == 0.0 || (nonzero == 1 && counts[i][i] > 0)) ? 1 : 0;
        (is_absorbing[i] != 0 ? ref.absorbing : ref.transient).push_back(i);
    }
    std::vector<std::vector<char>> reach(n, std::vector<char>(n, 0));
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < n; ++j) reach[i][j] = (counts[i][j] > 0 && is_absorbing[i] == 0) ? 1 : 0;
    }
    for (std::size_t k = 0; k < n; ++k) {
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = 0; j < n; ++j) reach[i][j] = reach[i][j] || (reach[i][k] && reach[k][j]);
        }
    }
    for (auto i : ref.transient) {
        bool ok = false;
        for (auto a : ref.absorbing) ok = ok || reach[i][a];
        if (!ok) ref.stuck.push_back(i);
    }
    if (!ref.stuck.empty()) return ref;
    const std::size_t m = ref.transient.size();
    std::vector<std::vector<double>> i_minus_q(m, std::vector<double>(m, 0.0));
    for (std::size_t a = 0; a < m; ++a) {
        for (std::size_t c = 0; c < m; ++c) {
            i_minus_q[a][c] = (a == c ? 1.0 : 0.0) - counts[ref.transient[a]][ref.transient[c]] / sum[ref.transient[a]];
        }
    }
    ref.n = gauss_jordan_inverse(i_minus_q);
    ref.b.assign(m, std::vector<double>(ref.absorbing.size(), 0.0));
    ref.t.assign(m, 0.0);
    ref.variance.assign(m, 0.0);
    for (std::size_t a = 0; a < m; ++a) {
        for (std::size_t c = 0; c < m; ++c) {
            ref.t[a] += ref.n[a][c];
            for (std::size_t k = 0; k < ref.absorbing.size(); ++k) {
                ref.b[a][k] += ref.n[a][c] * counts[ref.transient[c]][ref.absorbing[k]] / sum[ref.transient[c]];
            }
        }
    }
    for (std::size_t a = 0; a < m; ++a) {
        double two_n_minus_i_t = 0.0;
        for (std::size_t c = 0; c < m; ++c) two_n_minus_i_t += (2.0 * ref.n[a][c] - (a == c ? 1.0 : 0.0)) * ref.t[c];
        ref.variance[a] = two_n_minus_i_t - ref.t[a] * ref.t[a];
    }
    return ref;
}

transition_counts<int> to_counts(const std::vector<std::vector<double>>& counts) {
    transition_counts<int> table;
    for (std::size_t i = 0; i < counts.size(); ++i) {
        table.add_state(static_cast<int>(i));
        for (std::size_t j = 0; j < counts.size(); ++j) {
            if (counts[i][j] > 0) table.add(static_cast<int>(i), static_cast<int>(j), counts[i][j]);
        }
    }
    return table;
}

double tolerance_for(const reference& ref) {
    double largest = 1.0;
    for (double t : ref.t) largest = std::max(largest, t);
    return 1e-10 * largest * largest;
}

// Checks the library against the reference for one count matrix; returns whether the chain was valid.
bool check_against_reference(const std::vector<std::vector<double>>& counts, unsigned threads = 1,
                             std::size_t dense_limit = 256) {
    const reference ref = brute_force(counts);
    const auto table = to_counts(counts);
    if (!ref.stuck.empty()) {
        try {
            (void)absorbing_chain<int>::from_counts(table);
            FAIL("expected unreachable_absorption");
        } catch (const selflearn::unreachable_absorption& e) {
            CHECK(e.states() == ref.stuck);  // int keys are sorted, so state indices are the numbers
        }
        return false;
    }
    const auto chain = absorbing_chain<int>::from_counts(table);
    REQUIRE(chain.transient_states().size() == ref.transient.size());
    REQUIRE(chain.absorbing_states().size() == ref.absorbing.size());
    for (std::size_t a = 0; a < ref.transient.size(); ++a) CHECK(chain.transient_states()[a] == static_cast<int>(ref.transient[a]));
    for (std::size_t k = 0; k < ref.absorbing.size(); ++k) CHECK(chain.absorbing_states()[k] == static_cast<int>(ref.absorbing[k]));
    const auto result = selflearn::solve(chain, {.threads = threads, .dense_limit = dense_limit});
    const double tol = tolerance_for(ref);
    const Eigen::MatrixXd b = Eigen::MatrixXd(result.probabilities);
    for (std::size_t a = 0; a < ref.transient.size(); ++a) {
        const auto ai = static_cast<Eigen::Index>(a);
        CHECK(std::abs(result.expected_steps[ai] - ref.t[a]) <= tol * 10);
        CHECK(std::abs(result.variance[ai] - ref.variance[a]) <= tol * 100 * std::max(1.0, ref.t[a]));
        for (std::size_t k = 0; k < ref.absorbing.size(); ++k) {
            CHECK(std::abs(b(ai, static_cast<Eigen::Index>(k)) - ref.b[a][k]) <= tol);
        }
    }
    // Exact zeros where the absorbing state is unreachable: stored entries are all positive.
    for (Eigen::Index i = 0; i < result.probabilities.outerSize(); ++i) {
        for (decltype(result.probabilities)::InnerIterator it(result.probabilities, i); it; ++it) CHECK(it.value() > 0.0);
    }
    if (!ref.transient.empty()) {
        const Eigen::MatrixXd n = selflearn::fundamental_matrix(chain);
        for (std::size_t a = 0; a < ref.transient.size(); ++a) {
            const auto visits = Eigen::VectorXd(selflearn::expected_visits(chain, static_cast<int>(ref.transient[a])));
            for (std::size_t c = 0; c < ref.transient.size(); ++c) {
                const auto ai = static_cast<Eigen::Index>(a);
                const auto ci = static_cast<Eigen::Index>(c);
                CHECK(std::abs(n(ai, ci) - ref.n[a][c]) <= tol * 10);
                CHECK(std::abs(visits[ci] - ref.n[a][c]) <= tol * 10);
            }
        }
        // The dense form of the same chain gives the same answers.
        const Eigen::MatrixXd p = chain.canonical_matrix();
        const auto m = static_cast<Eigen::Index>(ref.transient.size());
        const auto dense = selflearn::solve_dense(p.topLeftCorner(m, m), p.topRightCorner(m, p.cols() - m));
        CHECK((dense.probabilities - b).cwiseAbs().maxCoeff() <= tol);
        CHECK((dense.expected_steps - result.expected_steps).cwiseAbs().maxCoeff() <= tol * 10);
    }
    return true;
}

std::vector<std::vector<double>> random_counts(std::mt19937_64& rng, std::size_t n, double density) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::uniform_int_distribution<int> count(1, 9);
    std::vector<std::vector<double>> c(n, std::vector<double>(n, 0.0));
    for (auto& row : c) {
        for (auto& v : row) v = unit(rng) < density ? count(rng) : 0.0;
    }
    return c;
}

}  // namespace

TEST_CASE("drunkard's walk (Grinstead and Snell, ch. 11) exactly") {
    // States 0..4 on a street; 0 and 4 are absorbing (home, bar); from 1..3 step left or right with 1/2.
    std::vector<transition<int>> walk;
    for (int i = 1; i <= 3; ++i) {
        walk.push_back({i, i - 1, 0.5});
        walk.push_back({i, i + 1, 0.5});
    }
    const auto chain = absorbing_chain<int>::from_probabilities(walk);
    CHECK(chain.transient_states() == std::vector<int>{1, 2, 3});
    CHECK(chain.absorbing_states() == std::vector<int>{0, 4});
    const Eigen::MatrixXd n = selflearn::fundamental_matrix(chain);
    const Eigen::Matrix3d n_expected{{1.5, 1, .5}, {1, 2, 1}, {.5, 1, 1.5}};
    CHECK((n - n_expected).cwiseAbs().maxCoeff() < 1e-14);
    const auto result = selflearn::solve(chain);
    CHECK((result.expected_steps - Eigen::Vector3d(3, 4, 3)).cwiseAbs().maxCoeff() < 1e-14);
    const Eigen::MatrixXd b = Eigen::MatrixXd(result.probabilities);
    const Eigen::Matrix<double, 3, 2> b_expected{{.75, .25}, {.5, .5}, {.25, .75}};
    CHECK((b - b_expected).cwiseAbs().maxCoeff() < 1e-14);
    // (2N - I) t - t*t = [17, 24, 17] - [9, 16, 9].
    CHECK((result.variance - Eigen::Vector3d(8, 8, 8)).cwiseAbs().maxCoeff() < 1e-12);
    CHECK(result.components == 1);
    CHECK(result.largest_block == 3);
    const auto visits = Eigen::VectorXd(selflearn::expected_visits(chain, 2));
    CHECK((visits - Eigen::Vector3d(1, 2, 1)).cwiseAbs().maxCoeff() < 1e-14);
    // Canonical form: transient first, then absorbing.
    const Eigen::MatrixXd p = chain.canonical_matrix();
    CHECK(p(0, 1) == 0.5);
    CHECK(p(0, 3) == 0.5);
    CHECK(p(2, 4) == 0.5);
    CHECK(p(3, 3) == 1.0);
    CHECK(p(4, 4) == 1.0);
    CHECK(p.row(3).sum() == 1.0);
    // Dense form.
    const Eigen::Matrix3d q{{0, .5, 0}, {.5, 0, .5}, {0, .5, 0}};
    const Eigen::Matrix<double, 3, 2> r{{.5, 0}, {0, 0}, {0, .5}};
    const auto dense = selflearn::solve_dense(q, r);
    CHECK((dense.probabilities - b_expected).cwiseAbs().maxCoeff() < 1e-14);
    CHECK((dense.expected_steps - Eigen::Vector3d(3, 4, 3)).cwiseAbs().maxCoeff() < 1e-14);
    CHECK((dense.variance - Eigen::Vector3d(8, 8, 8)).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("every chain on up to 3 transient-or-absorbing states and every 4-state pattern of a 2x4 block") {
    // All count patterns over 3 states (9 cells, each 0 or a fixed weight): 512 chains.
    std::size_t valid = 0;
    for (unsigned mask = 0; mask < (1u << 9); ++mask) {
        std::vector<std::vector<double>> c(3, std::vector<double>(3, 0.0));
        for (unsigned bit = 0; bit < 9; ++bit) {
            if ((mask >> bit) & 1u) c[bit / 3][bit % 3] = 1.0 + (bit * 7) % 5;
        }
        valid += check_against_reference(c) ? 1u : 0u;
    }
    // 4 states where states 2 and 3 have no outgoing counts (absorbing) and 0, 1 have any pattern.
    for (unsigned mask = 0; mask < (1u << 8); ++mask) {
        std::vector<std::vector<double>> c(4, std::vector<double>(4, 0.0));
        for (unsigned bit = 0; bit < 8; ++bit) {
            if ((mask >> bit) & 1u) c[bit / 4][bit % 4] = 1.0 + (bit * 3) % 4;
        }
        valid += check_against_reference(c) ? 1u : 0u;
    }
    CHECK(valid > 300);  // both valid and invalid chains were exercised
}

TEST_CASE("random chains against the brute-force inverse, any thread count, dense and sparse blocks") {
    std::mt19937_64 rng(20260521);
    std::size_t valid = 0, invalid = 0;
    for (int round = 0; round < 400; ++round) {
        const std::size_t n = 2 + static_cast<std::size_t>(round % 30);
        const double density = 0.05 + 0.25 * static_cast<double>(round % 7) / 6.0;
        auto c = random_counts(rng, n, density);
        const unsigned threads = 1 + static_cast<unsigned>(round % 3);
        const std::size_t dense_limit = round % 2 == 0 ? 256 : 1;  // 1: every block of 2+ states by sparse LU
        if (check_against_reference(c, threads, dense_limit)) {
            ++valid;
        } else {
            ++invalid;
        }
    }
    CHECK(valid > 100);
    CHECK(invalid > 20);
}

TEST_CASE("results do not depend on thread count, block method or the order counts were added") {
    std::mt19937_64 rng(7);
    // Many components: 40 groups of 1..20 states, each group a random chain with absorbing exits.
    std::vector<std::tuple<int, int, double>> entries;
    int base = 0;
    for (int g = 0; g < 40; ++g) {
        const int size = 1 + static_cast<int>(rng() % 20);
        for (int i = 0; i < size; ++i) {
            entries.emplace_back(base + i, -1 - (base + i) % 5, 1.0 + static_cast<double>(rng() % 3));
            for (int k = 0; k < 3; ++k) {
                entries.emplace_back(base + i, base + static_cast<int>(rng() % static_cast<unsigned>(size)),
                                     1.0 + static_cast<double>(rng() % 5));
            }
        }
        base += size;
    }
    transition_counts<int> forward, backward;
    for (const auto& [f, t, c] : entries) forward.add(f, t, c);
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) backward.add(std::get<0>(*it), std::get<1>(*it), std::get<2>(*it));
    CHECK(forward == backward);
    const auto a = absorbing_chain<int>::from_counts(forward);
    const auto b = absorbing_chain<int>::from_counts(backward);
    const auto ra = selflearn::solve(a, {.threads = 1});
    const auto rb = selflearn::solve(b, {.threads = 4});
    const auto rc = selflearn::solve(a, {.threads = 3, .dense_limit = 2});
    CHECK(ra.components == 40);
    CHECK(rc.sparse_factorisations > 0);
    CHECK(ra.probabilities.nonZeros() == rb.probabilities.nonZeros());
    CHECK(Eigen::MatrixXd(ra.probabilities) == Eigen::MatrixXd(rb.probabilities));  // bit for bit
    CHECK(ra.expected_steps == rb.expected_steps);
    CHECK(ra.variance == rb.variance);
    CHECK((Eigen::MatrixXd(ra.probabilities) - Eigen::MatrixXd(rc.probabilities)).cwiseAbs().maxCoeff() < 1e-10);
    CHECK((ra.expected_steps - rc.expected_steps).cwiseAbs().maxCoeff() < 1e-8);
    // Sparse against dense on the whole chain.
    const Eigen::MatrixXd p = a.canonical_matrix();
    const auto m = static_cast<Eigen::Index>(a.transient_states().size());
    const auto dense = selflearn::solve_dense(p.topLeftCorner(m, m), p.topRightCorner(m, p.cols() - m));
    CHECK((dense.probabilities - Eigen::MatrixXd(ra.probabilities)).cwiseAbs().maxCoeff() < 1e-10);
    CHECK((dense.expected_steps - ra.expected_steps).cwiseAbs().maxCoeff() < 1e-8);
    CHECK(((dense.variance - ra.variance).array().abs() <= 1e-8 * (1.0 + ra.variance.array().abs())).all());
}

TEST_CASE("long chains do not overflow the stack and keep exact zeros") {
    // 50000 states in a line: i -> i+1 with 0.9, i -> absorbing "out" with 0.1; the last goes out.
    transition_counts<std::int64_t> line;
    const std::int64_t n = 50000;
    for (std::int64_t i = 0; i < n - 1; ++i) {
        line.add(i, i + 1, 9);
        line.add(i, -1, 1);
    }
    line.add(n - 1, -1, 1);
    const auto chain = absorbing_chain<std::int64_t>::from_counts(line);
    const auto result = selflearn::solve(chain);
    CHECK(result.components == 1);
    CHECK(result.largest_block == 1);
    // t(i) = sum_{k < n - i} 0.9^k; the first state's is 10 (1 - 0.9^n), 10 to double precision.
    CHECK(std::abs(result.expected_steps[0] - 10.0) < 1e-9);
    CHECK(result.probabilities.nonZeros() == n);
}

TEST_CASE("transition counts: merge, text form and state order") {
    transition_counts<std::string> a, b, all;
    a.add("play maj and dragons", "play imagine dragons", 2);
    a.add("tab\there", "new\nline\\", 1);
    a.add_state("lonely");
    b.add("play imagine dragons", "success", 3);
    b.add("play maj and dragons", "play imagine dragons", 1);
    all.add("play maj and dragons", "play imagine dragons", 3);
    all.add("tab\there", "new\nline\\", 1);
    all.add("play imagine dragons", "success", 3);
    all.add_state("lonely");
    transition_counts<std::string> merged = a;
    merged += b;
    CHECK(merged == all);
    CHECK(merged.count("play maj and dragons", "play imagine dragons") == 3.0);
    CHECK(merged.count("nope", "success") == 0.0);
    CHECK(merged.size() == 3);
    CHECK(merged.state_count() == 6);
    std::stringstream text;
    merged.write(text);
    const std::string expected =
        "S\tlonely\n"
        "S\tnew\\nline\\\\\n"
        "S\tsuccess\n"
        "3\tplay imagine dragons\tsuccess\n"
        "3\tplay maj and dragons\tplay imagine dragons\n"
        "1\ttab\\there\tnew\\nline\\\\\n";
    CHECK(text.str() == expected);
    transition_counts<std::string> back;
    back.read(text);
    CHECK(back == merged);
    // Reading two files one after the other merges them.
    std::stringstream ta, tb;
    a.write(ta);
    b.write(tb);
    transition_counts<std::string> both;
    both.read(ta);
    both.read(tb);
    CHECK(both == all);
    CHECK(both.states() == std::vector<std::string>{"lonely", "new\nline\\", "play imagine dragons",
                                                    "play maj and dragons", "success", "tab\there"});
}

TEST_CASE("absorbing states: no outgoing counts, or only to themselves") {
    transition_counts<std::string> c;
    c.add("u", "v", 1);
    c.add("u", "win", 1);
    c.add("v", "v", 5);      // only to itself: absorbing
    c.add("win", "win", 2);  // likewise
    const auto chain = absorbing_chain<std::string>::from_counts(c);
    CHECK(chain.transient_states() == std::vector<std::string>{"u"});
    CHECK(chain.absorbing_states() == std::vector<std::string>{"v", "win"});
    CHECK(chain.absorbing_index("v") == 0u);
    CHECK(!chain.transient_index("v"));
    CHECK(chain.transient_index("u") == 0u);
    CHECK(!chain.transient_index("nowhere"));
    const auto result = selflearn::solve(chain);
    CHECK(result.probabilities.coeff(0, 0) == 0.5);
    CHECK(result.expected_steps[0] == 1.0);
    CHECK(result.variance[0] == 0.0);
    // A self loop plus an exit is transient: geometric number of steps.
    transition_counts<std::string> loop;
    loop.add("x", "x", 3);
    loop.add("x", "out", 1);
    const auto lr = selflearn::solve(absorbing_chain<std::string>::from_counts(loop));
    CHECK(std::abs(lr.expected_steps[0] - 4.0) < 1e-14);
    CHECK(std::abs(lr.variance[0] - 12.0) < 1e-12);  // (1 - p) / p^2 with p = 1/4
}

TEST_CASE("near-absorbing rows: a self loop of 1.0 next to a tiny exit is transient, solved from its exits") {
    // [[.5, .5, 0], [0, 1.0, 1e-24], [0, 0, 1]]: 1 - P(1, 1) is 0, the exit is 1e-24. Exactly (the row
    // sums to 1 + 1e-24, which is 1.0 in double), state 1 leaves after (1 + 1e-24) / 1e-24 steps on
    // average and t(0) = 2 + t(1) (t0 = 1 + t0 / 2 + t1 / 2).
    Eigen::MatrixXd p(3, 3);
    p << 0.5, 0.5, 0.0, 0.0, 1.0, 1e-24, 0.0, 0.0, 1.0;
    const auto chain = absorbing_chain<int>::from_dense({0, 1, 2}, p);
    CHECK(chain.transient_states() == std::vector<int>{0, 1});
    CHECK(chain.absorbing_states() == std::vector<int>{2});
    for (const std::size_t dense_limit : {std::size_t{1}, std::size_t{256}}) {
        const auto result = selflearn::solve(chain, {.threads = 1, .dense_limit = dense_limit});
        CHECK(result.probabilities.coeff(0, 0) == 1.0);
        CHECK(result.probabilities.coeff(1, 0) == 1.0);
        CHECK(std::abs(result.expected_steps[1] / 1e24 - 1.0) < 1e-12);
        CHECK(std::abs(result.expected_steps[0] / 1e24 - 1.0) < 1e-12);
    }
    const Eigen::MatrixXd q = Eigen::MatrixXd(chain.q());
    const Eigen::MatrixXd r = Eigen::MatrixXd(chain.r());
    const auto dense = selflearn::solve_dense(q, r);
    CHECK(dense.probabilities(0, 0) == 1.0);
    CHECK(dense.probabilities(1, 0) == 1.0);
    CHECK(std::abs(dense.expected_steps[1] / 1e24 - 1.0) < 1e-12);
    const Eigen::MatrixXd n = selflearn::fundamental_matrix(chain);
    CHECK(std::abs(n(1, 1) / 1e24 - 1.0) < 1e-12);  // visits to 1: 1 / exit
    CHECK(std::abs(n(0, 0) - 2.0) < 1e-12);
    const auto visits = selflearn::expected_visits(chain, 1);
    CHECK(std::abs(visits.coeff(1) / 1e24 - 1.0) < 1e-12);
}

TEST_CASE("near-absorbing rows: I - Q from the exits, not 1 - P(i, i), in single states and in blocks") {
    // Row "E, F" of markovchain's ill-conditioned regression chain: 1 - P(i, i) = 1.11e-15 while the exits
    // sum to 1.0994e-15, so 1 - P(i, i) would lose 1% of every absorption probability.
    const double self = 0.99999999999999889, a = 1.8482961686940169e-48, b = 1.0223505679033526e-48,
                 c = 1.0994420308182125e-15;
    const double exits = a + b + c;
    const std::vector<transition<std::string>> single{
        {"x", "x", self}, {"x", "a", a}, {"x", "b", b}, {"x", "c", c}};
    const auto chain = absorbing_chain<std::string>::from_probabilities(single);
    const auto result = selflearn::solve(chain);
    CHECK(std::abs(result.probabilities.coeff(0, 0) / (a / exits) - 1.0) < 1e-14);
    CHECK(std::abs(result.probabilities.coeff(0, 1) / (b / exits) - 1.0) < 1e-14);
    CHECK(std::abs(result.probabilities.coeff(0, 2) - 1.0) < 1e-14);
    CHECK(std::abs(result.expected_steps[0] * exits - 1.0) < 1e-14);
    // The same near-1 self loop inside a strongly connected block {x, y}: every state ends in S.
    const std::vector<transition<std::string>> block{
        {"x", "x", self}, {"x", "y", c}, {"y", "y", 0.5}, {"y", "x", 0.25}, {"y", "S", 0.25}};
    const auto bc = absorbing_chain<std::string>::from_probabilities(block);
    for (const std::size_t dense_limit : {std::size_t{1}, std::size_t{256}}) {
        const auto br = selflearn::solve(bc, {.threads = 1, .dense_limit = dense_limit});
        CHECK(std::abs(br.probabilities.coeff(0, 0) - 1.0) < 1e-12);
        CHECK(std::abs(br.probabilities.coeff(1, 0) - 1.0) < 1e-12);
        // t_x = 1 + self t_x + c t_y with 1 - self = c gives t_x = 1 / c + t_y; t_y = 1 + t_y / 2 + t_x / 4
        // then gives t_y = 4 + 1 / c.
        const double ty = 4.0 + 1.0 / c, tx = 1.0 / c + ty;
        CHECK(std::abs(br.expected_steps[0] / tx - 1.0) < 1e-12);
        CHECK(std::abs(br.expected_steps[1] / ty - 1.0) < 1e-12);
    }
    const auto dense = selflearn::solve_dense(Eigen::MatrixXd(bc.q()), Eigen::MatrixXd(bc.r()));
    CHECK(std::abs(dense.probabilities(0, 0) - 1.0) < 1e-12);
    CHECK(std::abs(dense.probabilities(1, 0) - 1.0) < 1e-12);
}

TEST_CASE("counts near DBL_MAX: rows are scaled, sums that overflow are refused, write/read is total") {
    using selflearn::invalid_argument;
    // The fuzzing case: the row sum 2.95e308 overflows; the row keeps its proportions 0.4 / 0.6.
    transition_counts<std::string> big;
    big.add("A", "A", 1.18e308);
    big.add("A", "B", 1.77e308);
    const auto chain = absorbing_chain<std::string>::from_counts(big);
    CHECK(chain.transient_states() == std::vector<std::string>{"A"});
    CHECK(std::abs(chain.q().coeff(0, 0) - 0.4) < 1e-15);
    CHECK(std::abs(chain.r().coeff(0, 0) - 0.6) < 1e-15);
    const auto result = selflearn::solve(chain);
    CHECK(result.probabilities.coeff(0, 0) == 1.0);
    CHECK(std::abs(result.expected_steps[0] - 1.0 / 0.6) < 1e-14);
    // One pair whose counts add past DBL_MAX: refused, the table unchanged, so write() never writes inf.
    transition_counts<std::string> c;
    c.add("a", "b", 1.7e308);
    CHECK_THROWS_WITH_AS(c.add("a", "b", 1.7e308), doctest::Contains("from state 'a' to state 'b' overflows"),
                         invalid_argument);
    CHECK_NOTHROW(c.add("a", "c", 1.0));
    CHECK(c.count("a", "b") == 1.7e308);
    transition_counts<std::string> other;
    other.add("a", "b", 1.7e308);
    other.add("x", "y", 1.0);
    CHECK_THROWS_WITH_AS(c.merge(other), doctest::Contains("overflows"), invalid_argument);
    CHECK(c.count("a", "b") == 1.7e308);
    CHECK(c.count("x", "y") == 0.0);
    std::ostringstream text;
    c.write(text);
    CHECK(text.str().find("inf") == std::string::npos);
    transition_counts<std::string> back;
    std::istringstream in(text.str());
    back.read(in);
    CHECK(back == c);
    // Reading two lines of the same pair whose sum overflows names the second line.
    transition_counts<std::string> twice;
    std::istringstream lines("1.7e308\ta\tb\n1.7e308\ta\tb\n");
    try {
        twice.read(lines);
        FAIL("expected counts_line_error");
    } catch (const selflearn::counts_line_error& e) {
        CHECK(e.line() == 2);
        CHECK(std::string(e.what()).find("line 2") != std::string::npos);
    }
}

TEST_CASE("error cases name what is wrong") {
    using selflearn::invalid_argument;
    transition_counts<std::string> c;
    CHECK_THROWS_WITH_AS(c.add("a", "b", -1), doctest::Contains("'a' to state 'b' is negative"), invalid_argument);
    CHECK_THROWS_WITH_AS(c.add("a", "b", std::nan("")), doctest::Contains("not finite"), invalid_argument);
    CHECK_THROWS_WITH_AS(c.add("a", "b", std::numeric_limits<double>::infinity()), doctest::Contains("not finite"), invalid_argument);

    std::vector<transition<std::string>> bad_p{{"a", "b", 1.5}};
    CHECK_THROWS_WITH_AS(absorbing_chain<std::string>::from_probabilities(bad_p),
                         doctest::Contains("probability 1.5 from 'a' to 'b' is outside [0, 1]"), invalid_argument);
    std::vector<transition<std::string>> nan_p{{"a", "b", std::nan("")}};
    CHECK_THROWS_WITH_AS(absorbing_chain<std::string>::from_probabilities(nan_p), doctest::Contains("not finite"),
                         invalid_argument);
    std::vector<transition<std::string>> short_row{{"a", "b", 0.5}, {"a", "c", 0.4}};
    CHECK_THROWS_WITH_AS(absorbing_chain<std::string>::from_probabilities(short_row),
                         doctest::Contains("from state 'a' sum to 0.9"), invalid_argument);
    std::vector<transition<std::string>> twice{{"a", "b", 0.5}, {"a", "b", 0.5}};
    CHECK_THROWS_WITH_AS(absorbing_chain<std::string>::from_probabilities(twice),
                         doctest::Contains("from 'a' to 'b' is given twice"), invalid_argument);
    // Within the tolerance: accepted and rescaled.
    std::vector<transition<std::string>> close{{"a", "b", 0.5}, {"a", "c", 0.5 + 1e-12}};
    CHECK(absorbing_chain<std::string>::from_probabilities(close).r().sum() == doctest::Approx(1.0).epsilon(1e-15));

    // A closed class {x, y} that never reaches an absorbing state.
    transition_counts<std::string> closed;
    closed.add("x", "y");
    closed.add("y", "x");
    closed.add("z", "x");
    closed.add("z", "done");
    try {
        (void)absorbing_chain<std::string>::from_counts(closed);
        FAIL("expected unreachable_absorption");
    } catch (const selflearn::unreachable_absorption& e) {
        CHECK(std::string(e.what()).find("from 2 transient states: 'x', 'y'") != std::string::npos);
        CHECK(e.states() == std::vector<std::size_t>{1, 2});  // sorted states: done, x, y, z
    }

    Eigen::MatrixXd p(2, 3);
    p.setZero();
    CHECK_THROWS_WITH_AS(absorbing_chain<int>::from_dense({0, 1}, p), doctest::Contains("is 2x3 for 2 states"),
                         invalid_argument);
    Eigen::MatrixXd p2 = Eigen::MatrixXd::Zero(2, 2);
    p2(0, 1) = -0.5;
    CHECK_THROWS_WITH_AS(absorbing_chain<int>::from_dense({0, 1}, p2), doctest::Contains("from row 0 to column 1"),
                         invalid_argument);
    CHECK_THROWS_WITH_AS(absorbing_chain<int>::from_dense({0, 0}, Eigen::MatrixXd::Zero(2, 2)),
                         doctest::Contains("state '0' is given twice"), invalid_argument);

    // Dense solver checks.
    CHECK_THROWS_WITH_AS((void)selflearn::solve_dense(Eigen::MatrixXd::Zero(2, 3), Eigen::MatrixXd::Zero(2, 1)),
                         doctest::Contains("Q must be square"), invalid_argument);
    Eigen::Matrix2d q{{0.5, 0.5}, {0.5, 0.5}};
    Eigen::Matrix<double, 2, 1> r{{0.0}, {0.0}};
    CHECK_THROWS_WITH_AS((void)selflearn::solve_dense(q, r), doctest::Contains("no absorbing state can be reached from 2"),
                         selflearn::unreachable_absorption);
    Eigen::Matrix<double, 2, 1> r_bad{{0.1}, {0.0}};
    CHECK_THROWS_WITH_AS((void)selflearn::solve_dense(q, r_bad), doctest::Contains("row 0 of [Q R] sums to 1.1"),
                         invalid_argument);
    Eigen::Matrix<double, 2, 1> r_nan{{std::numeric_limits<double>::quiet_NaN()}, {0.0}};
    CHECK_THROWS_WITH_AS((void)selflearn::solve_dense(q, r_nan), doctest::Contains("R(0, 0) = nan is not finite"),
                         invalid_argument);

    // Size guards and lookups.
    transition_counts<int> big;
    for (int i = 0; i < 20; ++i) big.add(i, -1);
    const auto chain = absorbing_chain<int>::from_counts(big);
    CHECK_THROWS_WITH_AS((void)selflearn::fundamental_matrix(chain, 10), doctest::Contains("size guard of 10"),
                         invalid_argument);
    CHECK_THROWS_WITH_AS((void)chain.canonical_matrix(10), doctest::Contains("size guard of 10"), invalid_argument);
    CHECK_THROWS_WITH_AS((void)selflearn::expected_visits(chain, -1), doctest::Contains("'-1' is not a transient state"),
                         invalid_argument);
    CHECK_THROWS_AS((void)selflearn::solve(chain, {.tolerance = -1.0}), invalid_argument);
    CHECK_THROWS_AS((void)selflearn::solve(chain, {.dense_limit = 0}), invalid_argument);

    // The result check: six exits of 1/6 sum to s = 0.99999999999999989 in double, each B entry is
    // (1/6) / s, and those six sum to 1.0000000000000002, which a zero tolerance rejects.
    transition_counts<int> ten;
    for (int k = 1; k <= 6; ++k) ten.add(0, -k);
    const auto ten_chain = absorbing_chain<int>::from_counts(ten);
    CHECK_THROWS_WITH_AS((void)selflearn::solve(ten_chain, {.tolerance = 0.0}),
                         doctest::Contains("from state '0' sum to 1.0000000000000002"), selflearn::numerical_error);
    CHECK_NOTHROW((void)selflearn::solve(ten_chain));

    // Malformed text.
    const auto read = [](const std::string& text) {
        std::stringstream in(text);
        transition_counts<std::string> t;
        t.read(in);
        return t;
    };
    CHECK_THROWS_WITH_AS(read("3 a b\n"), doctest::Contains("line 1: expected tab-separated"), invalid_argument);
    CHECK_THROWS_WITH_AS(read("S\ta\n3\ta\n"), doctest::Contains("line 2: expected 'count<TAB>from<TAB>to'"),
                         invalid_argument);
    CHECK_THROWS_WITH_AS(read("x\ta\tb\n"), doctest::Contains("line 1: 'x' is not a count"), invalid_argument);
    CHECK_THROWS_WITH_AS(read("-2\ta\tb\n"), doctest::Contains("line 1:"), invalid_argument);
    CHECK_THROWS_WITH_AS(read("1\ta\\q\tb\n"), doctest::Contains("unknown escape"), invalid_argument);
    CHECK_THROWS_WITH_AS(read("1\ta\\\tb\n"), doctest::Contains("line 1"), invalid_argument);
    std::stringstream bad_int("1\t12x\t3\n");
    transition_counts<int> ti;
    CHECK_THROWS_WITH_AS(ti.read(bad_int), doctest::Contains("'12x' is not a valid integer key"), invalid_argument);
}

TEST_CASE("chain input errors carry the offending entry or line, so a reader can name file:line") {
    // Issue 14: the program could not say which input line a chain error came from.
    using selflearn::counts_line_error;
    using selflearn::transition_error;
    const auto entry_of = [](const std::vector<transition<std::string>>& ts) -> std::size_t {
        try {
            (void)absorbing_chain<std::string>::from_probabilities(ts);
        } catch (const transition_error& e) {
            return e.entry();
        }
        FAIL("expected transition_error");
        return 0;
    };
    // A pair given twice: the second occurrence, wherever the pairs sort.
    CHECK(entry_of({{"z", "y", 1.0}, {"a", "b", 0.5}, {"a", "c", 0.5}, {"a", "b", 0.5}}) == 3);
    CHECK(entry_of({{"a", "b", 0.5}, {"q", "r", 1.0}, {"a", "b", 0.5}, {"a", "b", 0.5}}) == 2);
    // A probability outside [0, 1]: that entry.
    CHECK(entry_of({{"a", "b", 0.5}, {"a", "c", 0.5}, {"c", "d", -0.1}}) == 2);
    // A row that does not sum to 1: its first entry in input order.
    CHECK(entry_of({{"b", "x", 1.0}, {"a", "c", 0.5}, {"b", "y", 0.5}, {"a", "d", 0.5}}) == 0);
    CHECK(entry_of({{"q", "x", 1.0}, {"a", "c", 0.25}, {"a", "d", 0.25}}) == 1);
    // The message is unchanged, and it is still an invalid_argument.
    std::vector<transition<std::string>> twice{{"a", "b", 0.5}, {"a", "b", 0.5}};
    CHECK_THROWS_WITH_AS(absorbing_chain<std::string>::from_probabilities(twice),
                         doctest::Contains("from 'a' to 'b' is given twice"), selflearn::invalid_argument);

    const auto line_of = [](const std::string& text) -> std::size_t {
        std::stringstream in(text);
        transition_counts<int> t;
        try {
            t.read(in);
        } catch (const counts_line_error& e) {
            return e.line();
        }
        FAIL("expected counts_line_error for: " << text);
        return 0;
    };
    CHECK(line_of("1\t1\t2\n\nx\t1\t2\n") == 3);            // not a count
    CHECK(line_of("1\t1\t2\nS\t1\t2\n") == 2);              // state line with two keys
    CHECK(line_of("1\t1\t2\n1\t2\t3\n-1\t1\t2\n") == 3);    // negative count
    CHECK(line_of("S\tabc\n") == 1);                         // key not an integer (state line)
    CHECK(line_of("1\t1\t2\n1\t1\\q\t2\n") == 2);           // unknown escape
    CHECK(line_of("1\t1\t2\r\n2\t1\n") == 2);               // missing field, CRLF line ends
    std::stringstream bad_key("1\t1\t2\nS\tabc\n");
    transition_counts<int> t;
    CHECK_THROWS_WITH_AS(t.read(bad_key), doctest::Contains("line 2: transition counts: 'abc' is not a valid integer key"),
                         counts_line_error);
}
