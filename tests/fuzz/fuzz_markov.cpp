// Fuzzes selflearn/markov.hpp. Mode 0: a chain from fuzzed transition counts (up to 24 states, counts 1..255,
// self-loops and closed classes included). Either construction reports unreachable_absorption, and then a
// graph search confirms that some transient state cannot reach an absorbing one, or solve() succeeds and:
// every row of B sums to 1 and every entry is in [0, 1], nothing is NaN, the results are bit-identical with
// 1 and 3 threads and with dense and sparse block factorisation, and B agrees with a dense (I - Q)^-1 R.
// Mode 1: the rest is the text form of transition_counts; read() either throws counts_line_error with a
// line number inside the text, or write() and read() again give an equal table.

#include <selflearn/markov.hpp>

#include "fuzz_check.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace {

using chain_type = selflearn::absorbing_chain<int>;

bool same_bits(const selflearn::absorption& x, const selflearn::absorption& y) {
    if (x.expected_steps.size() != y.expected_steps.size() || x.variance.size() != y.variance.size()) return false;
    if (x.probabilities.rows() != y.probabilities.rows() || x.probabilities.cols() != y.probabilities.cols() ||
        x.probabilities.nonZeros() != y.probabilities.nonZeros()) {
        return false;
    }
    for (Eigen::Index i = 0; i < x.expected_steps.size(); ++i) {
        if (std::memcmp(&x.expected_steps[i], &y.expected_steps[i], sizeof(double)) != 0) return false;
        if (std::memcmp(&x.variance[i], &y.variance[i], sizeof(double)) != 0) return false;
    }
    const Eigen::MatrixXd a(x.probabilities), b(y.probabilities);
    return a.size() == 0 || std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) == 0;
}

// Independent check of unreachable_absorption: transient states that reach no absorbing state.
bool has_stuck_state(const selflearn::transition_counts<int>& counts) {
    const auto states = counts.states();
    const std::size_t n = states.size();
    std::vector<std::vector<std::size_t>> out(n);
    std::vector<char> self_only(n, 1), any(n, 0);
    const auto index = [&](int key) {
        return static_cast<std::size_t>(std::lower_bound(states.begin(), states.end(), key) - states.begin());
    };
    counts.for_each([&](int from, int to, double) {
        const std::size_t i = index(from), j = index(to);
        out[i].push_back(j);
        any[i] = 1;
        if (i != j) self_only[i] = 0;
    });
    std::vector<char> absorbing(n), reaches(n);
    for (std::size_t i = 0; i < n; ++i) reaches[i] = absorbing[i] = static_cast<char>(!any[i] || self_only[i]);
    for (bool changed = true; changed;) {
        changed = false;
        for (std::size_t i = 0; i < n; ++i) {
            if (reaches[i]) continue;
            for (std::size_t j : out[i]) {
                if (reaches[j]) {
                    reaches[i] = 1;
                    changed = true;
                    break;
                }
            }
        }
    }
    return std::find(reaches.begin(), reaches.end(), 0) != reaches.end();
}

void fuzz_chain(FuzzedDataProvider& in) {
    selflearn::transition_counts<int> counts;
    const auto states = in.ConsumeIntegralInRange<int>(1, 24);
    const auto edges = in.ConsumeIntegralInRange<int>(0, 80);
    for (int e = 0; e < edges && in.remaining_bytes() >= 3; ++e) {
        const int from = in.ConsumeIntegralInRange<int>(0, states - 1);
        const int to = in.ConsumeIntegralInRange<int>(0, states + 3);  // states..states+3: only ever targets
        counts.add(from, to, in.ConsumeIntegralInRange<int>(1, 255));
    }
    if (counts.empty()) return;
    chain_type chain;
    try {
        chain = chain_type::from_counts(counts);
    } catch (const selflearn::unreachable_absorption& e) {
        SELFLEARN_FUZZ_CHECK(has_stuck_state(counts), "unreachable_absorption without a stuck state");
        SELFLEARN_FUZZ_CHECK(!e.states().empty(), "unreachable_absorption lists no state");
        return;
    }
    SELFLEARN_FUZZ_CHECK(!has_stuck_state(counts), "a stuck state was accepted");
    const auto one = selflearn::solve(chain, {.threads = 1});
    const auto three = selflearn::solve(chain, {.threads = 3});
    const auto sparse = selflearn::solve(chain, {.threads = 1, .dense_limit = 1});
    SELFLEARN_FUZZ_CHECK(same_bits(one, three), "results differ between 1 and 3 threads");
    const Eigen::MatrixXd b(one.probabilities);
    const Eigen::MatrixXd b_sparse(sparse.probabilities);
    const Eigen::Index t = static_cast<Eigen::Index>(chain.transient_states().size());
    for (Eigen::Index i = 0; i < t; ++i) {
        double sum = 0;
        for (Eigen::Index a = 0; a < b.cols(); ++a) {
            const double v = b(i, a);
            SELFLEARN_FUZZ_CHECK(!std::isnan(v) && v >= 0.0 && v <= 1.0 + 1e-9, "B(%td, %td) = %.17g", i, a, v);
            SELFLEARN_FUZZ_CHECK(std::abs(v - b_sparse(i, a)) <= 1e-9, "dense and sparse LU differ at B(%td, %td)",
                                 i, a);
            sum += v;
        }
        SELFLEARN_FUZZ_CHECK(std::abs(sum - 1.0) <= 1e-9, "row %td of B sums to %.17g", i, sum);
        SELFLEARN_FUZZ_CHECK(std::isfinite(one.expected_steps[i]) && one.expected_steps[i] >= 1.0 - 1e-9,
                             "expected steps of row %td is %g", i, one.expected_steps[i]);
        SELFLEARN_FUZZ_CHECK(!std::isnan(one.variance[i]), "variance of row %td is NaN", i);
    }
    if (t == 0) return;
    // Dense reference: B = (I - Q)^-1 R with full pivoting.
    const Eigen::MatrixXd q(chain.q()), r(chain.r());
    const Eigen::MatrixXd reference =
        (Eigen::MatrixXd::Identity(t, t) - q).fullPivLu().solve(r);
    for (Eigen::Index i = 0; i < t; ++i) {
        for (Eigen::Index a = 0; a < b.cols(); ++a) {
            SELFLEARN_FUZZ_CHECK(std::abs(reference(i, a) - b(i, a)) <= 1e-7, "B(%td, %td) = %.17g, dense %.17g", i,
                                 a, b(i, a), reference(i, a));
        }
    }
}

void fuzz_text(const std::string& text) {
    std::size_t lines = 1;
    for (char c : text) lines += c == '\n' ? 1 : 0;
    selflearn::transition_counts<std::string> counts;
    std::istringstream in(text);
    try {
        counts.read(in);
    } catch (const selflearn::counts_line_error& e) {
        SELFLEARN_FUZZ_CHECK(e.line() >= 1 && e.line() <= lines, "line %zu outside the %zu lines", e.line(), lines);
        return;
    }
    std::ostringstream out;
    counts.write(out);
    selflearn::transition_counts<std::string> back;
    std::istringstream again(out.str());
    back.read(again);
    SELFLEARN_FUZZ_CHECK(back == counts, "write/read round trip changed the table");
    std::ostringstream out2;
    back.write(out2);
    SELFLEARN_FUZZ_CHECK(out2.str() == out.str(), "write is not deterministic");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    if ((data[0] & 1u) == 0) {
        FuzzedDataProvider in(data + 1, size - 1);
        fuzz_chain(in);
    } else {
        fuzz_text(std::string(reinterpret_cast<const char*>(data + 1), size - 1));
    }
    return 0;
}
