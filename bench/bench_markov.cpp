// Absorbing Markov chains, side by side with numpy / scipy solving the same systems (bench_markov.py, run
// as a child process on data this program writes; its per-repetition wall times are reported as manual
// time). Peers first, then selflearn with a "x_peer" counter: selflearn time / peer time (< 1 is faster).
//
//   dense/N          N transient states, 8 absorbing, dense Q: selflearn::dense_solver (validation, one
//                    LU, B, t, y = N t, checks) against numpy.linalg.solve(I - Q, [R 1]) (LAPACK gesv).
//   rephrase_1M      a rephrase-shaped chain of 1,000,000 transient states (one component of 100,000 and
//                    many small ones): absorbing_chain::from_counts and solve() on one thread (B, t,
//                    variance) against scipy's splu on the whole system for the success probability and t.
//   grid_100k        one strongly connected block of 100,000 states (a 316 x 316 grid walk absorbed at 4
//                    sides): solve() (sparse LU) against scipy.sparse.linalg.splu with the same columns.
//   batch_100k       100,000 small chains (2 to 12 transient, 1 to 4 absorbing states): one dense_solver
//                    reused, against numpy.linalg.solve on the chains stacked (padded to 12 x 12).

#include <selflearn/markov.hpp>

#include <benchmark/benchmark.h>

#include <Eigen/Dense>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

#ifndef SELFLEARN_BENCH_PYTHON
#define SELFLEARN_BENCH_PYTHON "python3"
#endif
#ifndef SELFLEARN_BENCH_MARKOV_SCRIPT
#define SELFLEARN_BENCH_MARKOV_SCRIPT "bench_markov.py"
#endif

fs::path scratch() {
    static const fs::path dir = [] {
        auto d = fs::temp_directory_path() / ("selflearn_bench_markov_" + std::to_string(std::random_device{}()));
        fs::create_directories(d);
        return d;
    }();
    return dir;
}

template <class T>
void write_binary(const fs::path& path, const T* data, std::size_t count) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * sizeof(T)));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

// Runs the peer script and returns its per-repetition times in seconds.
std::vector<double> run_peer(const std::string& arguments) {
    const std::string command = std::string(SELFLEARN_BENCH_PYTHON) + " " + SELFLEARN_BENCH_MARKOV_SCRIPT + " " + arguments;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) throw std::runtime_error("cannot run " + command);
    std::vector<double> times;
    char line[128];
    while (std::fgets(line, sizeof line, pipe) != nullptr) times.push_back(std::strtod(line, nullptr));
    if (pclose(pipe) != 0 || times.empty()) throw std::runtime_error("peer failed: " + command);
    return times;
}

std::map<std::string, double>& peer_seconds() {
    static std::map<std::string, double> seconds;
    return seconds;
}

void report_peer(benchmark::State& state, const std::string& key, const std::string& arguments) {
    const auto times = run_peer(arguments);
    std::size_t i = 0;
    double total = 0;
    for (auto _ : state) {
        const double t = times[i++ % times.size()];
        total += t;
        state.SetIterationTime(t);
    }
    peer_seconds()[key] = total / static_cast<double>(state.iterations());
}

void ratio_to_peer(benchmark::State& state, const std::string& key, double own_seconds) {
    const auto it = peer_seconds().find(key);
    if (it != peer_seconds().end()) state.counters["x_peer"] = own_seconds / it->second;
}

// ---- dense ----------------------------------------------------------------------------------------

struct dense_chain {
    Eigen::MatrixXd q, r;
};

dense_chain make_dense(Eigen::Index n, Eigen::Index a, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    dense_chain c{Eigen::MatrixXd(n, n), Eigen::MatrixXd(n, a)};
    for (Eigen::Index i = 0; i < n; ++i) {
        for (Eigen::Index j = 0; j < n; ++j) c.q(i, j) = unit(rng);
        for (Eigen::Index j = 0; j < a; ++j) c.r(i, j) = unit(rng);
        c.q.row(i) *= 0.9 / c.q.row(i).sum();
        c.r.row(i) *= 0.1 / c.r.row(i).sum();
    }
    return c;
}

const dense_chain& dense_instance(Eigen::Index n) {
    static std::map<Eigen::Index, dense_chain> cache;
    auto it = cache.find(n);
    if (it == cache.end()) it = cache.emplace(n, make_dense(n, 8, static_cast<std::uint64_t>(n))).first;
    return it->second;
}

void dense_numpy(benchmark::State& state) {
    const auto n = state.range(0);
    const auto& c = dense_instance(n);
    const auto dir = scratch() / ("dense" + std::to_string(n));
    fs::create_directories(dir);
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> q = c.q, r = c.r;
    write_binary(dir / "q.bin", q.data(), static_cast<std::size_t>(q.size()));
    write_binary(dir / "r.bin", r.data(), static_cast<std::size_t>(r.size()));
    report_peer(state, "dense" + std::to_string(n),
                "dense " + dir.string() + " " + std::to_string(n) + " 8 " + std::to_string(state.max_iterations));
}

// Times the body of each iteration with a steady clock, for the ratio to the peer.
template <class F>
void timed_loop(benchmark::State& state, const std::string& key, F&& body) {
    double total = 0;
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        body();
        total += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    ratio_to_peer(state, key, total / static_cast<double>(state.iterations()));
}

void dense_selflearn(benchmark::State& state) {
    const auto n = state.range(0);
    const auto& c = dense_instance(n);
    selflearn::dense_solver solver;
    timed_loop(state, "dense" + std::to_string(n),
               [&] { benchmark::DoNotOptimize(solver.solve(c.q, c.r).expected_steps.data()); });
}

// ---- rephrase-shaped sparse chain -----------------------------------------------------------------

// Keys: utterance u is 2u (transient), success at u is 2u + 1, failure is the largest key.
constexpr std::uint64_t failure_key = ~std::uint64_t{0};

void add_component(selflearn::transition_counts<std::uint64_t>& counts, std::uint64_t base, std::uint64_t m,
                   std::mt19937_64& rng) {
    // Node 0 is the canonical phrasing (mostly succeeds); others mostly fail and are rephrased, mostly
    // into an earlier node (a tree towards node 0), sometimes into a later one (cycles).
    for (std::uint64_t i = 0; i < m; ++i) {
        const std::uint64_t u = 2 * (base + i);
        if (i == 0) {
            counts.add(u, u + 1, 16);
            counts.add(u, failure_key, 2);
            if (m > 1) counts.add(u, 2 * (base + 1 + rng() % (m - 1)), 1);
            continue;
        }
        counts.add(u, u + 1, 1 + static_cast<double>(rng() % 2));
        counts.add(u, failure_key, 1 + static_cast<double>(rng() % 3));
        counts.add(u, 2 * (base + (rng() % 5 < 4 ? 0 : rng() % i)), 3 + static_cast<double>(rng() % 5));
        if (i + 1 < m && rng() % 10 == 0) counts.add(u, 2 * (base + i + 1 + rng() % (m - i - 1)), 1);
    }
}

void add_big_component(selflearn::transition_counts<std::uint64_t>& counts, std::uint64_t base, std::uint64_t size,
                       std::mt19937_64& rng) {
    // Heads (a fifth) in clusters of 5 that rephrase among themselves; tails rephrase into the heads of
    // two neighbouring clusters (which makes one connected component) and sometimes into another tail.
    const std::uint64_t heads = size / 5, clusters = heads / 5;
    for (std::uint64_t h = 0; h < heads; ++h) {
        const std::uint64_t u = 2 * (base + h), cluster = h / 5;
        counts.add(u, u + 1, 17);
        counts.add(u, failure_key, 1);
        counts.add(u, 2 * (base + cluster * 5 + rng() % 5), 2);
    }
    for (std::uint64_t t = heads; t < size; ++t) {
        const std::uint64_t u = 2 * (base + t), cluster = t % clusters;
        counts.add(u, u + 1, 1);
        counts.add(u, failure_key, 3);
        counts.add(u, 2 * (base + cluster * 5 + rng() % 5), 8);
        counts.add(u, 2 * (base + ((cluster + 1) % clusters) * 5 + rng() % 5), 4);
        if (t > heads && rng() % 10 == 0) counts.add(u, 2 * (base + heads + rng() % (t - heads)), 2);
    }
}

const selflearn::transition_counts<std::uint64_t>& rephrase_counts() {
    static const auto counts = [] {
        selflearn::transition_counts<std::uint64_t> c;
        std::mt19937_64 rng(1);
        const std::uint64_t total = 1'000'000, big = 100'000;
        add_big_component(c, 0, big, rng);
        std::uint64_t next = big;
        std::geometric_distribution<std::uint64_t> size(0.2);
        while (next < total) {
            const std::uint64_t m = std::min<std::uint64_t>(total - next, 1 + std::min<std::uint64_t>(size(rng), 39));
            add_component(c, next, m, rng);
            next += m;
        }
        return c;
    }();
    return counts;
}

const selflearn::absorbing_chain<std::uint64_t>& rephrase_chain() {
    static const auto chain = selflearn::absorbing_chain<std::uint64_t>::from_counts(rephrase_counts());
    return chain;
}

long peak_rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string key;
    while (status >> key) {
        if (key == "VmHWM:") {
            long kib = 0;
            status >> kib;
            return kib;
        }
        status.ignore(1 << 12, '\n');
    }
    return 0;
}

template <class Chain>
void write_sparse_peer_input(const Chain& chain, const Eigen::MatrixXd& rhs, const fs::path& dir) {
    fs::create_directories(dir);
    const auto& q = chain.q();
    write_binary(dir / "indptr.bin", q.outerIndexPtr(), static_cast<std::size_t>(q.rows() + 1));
    write_binary(dir / "indices.bin", q.innerIndexPtr(), static_cast<std::size_t>(q.nonZeros()));
    write_binary(dir / "values.bin", q.valuePtr(), static_cast<std::size_t>(q.nonZeros()));
    write_binary(dir / "rhs.bin", rhs.data(), static_cast<std::size_t>(rhs.size()));  // column-major: k rows of n
}

void rephrase_scipy(benchmark::State& state) {
    const auto& chain = rephrase_chain();
    // Right-hand sides: the probability of success in one step (sum of R over success states), and ones.
    const auto n = static_cast<Eigen::Index>(chain.transient_states().size());
    Eigen::MatrixXd rhs = Eigen::MatrixXd::Zero(n, 2);
    const auto& absorbing = chain.absorbing_states();
    for (Eigen::Index i = 0; i < n; ++i) {
        for (selflearn::absorbing_chain<std::uint64_t>::sparse_matrix::InnerIterator it(chain.r(), i); it; ++it) {
            if (absorbing[static_cast<std::size_t>(it.col())] != failure_key) rhs(i, 0) += it.value();
        }
    }
    rhs.col(1).setOnes();
    const auto dir = scratch() / "rephrase";
    write_sparse_peer_input(chain, rhs, dir);
    report_peer(state, "rephrase", "sparse " + dir.string() + " " + std::to_string(n) + " 2 " +
                                       std::to_string(state.max_iterations));
}

void rephrase_build(benchmark::State& state) {
    const auto& counts = rephrase_counts();
    for (auto _ : state) {
        auto chain = selflearn::absorbing_chain<std::uint64_t>::from_counts(counts);
        benchmark::DoNotOptimize(chain.q().nonZeros());
    }
    state.counters["transitions"] = static_cast<double>(counts.size());
}

void rephrase_solve(benchmark::State& state) {
    const auto& chain = rephrase_chain();
    const auto threads = static_cast<unsigned>(state.range(0));
    selflearn::absorption result;
    timed_loop(state, "rephrase", [&] {
        result = selflearn::solve(chain, {.threads = threads});
        benchmark::DoNotOptimize(result.expected_steps.data());
    });
    state.counters["transient"] = static_cast<double>(chain.transient_states().size());
    state.counters["nnz_QR"] = static_cast<double>(chain.q().nonZeros() + chain.r().nonZeros());
    state.counters["nnz_B"] = static_cast<double>(result.probabilities.nonZeros());
    state.counters["components"] = static_cast<double>(result.components);
    state.counters["largest_component"] = static_cast<double>(result.largest_component);
    state.counters["largest_block"] = static_cast<double>(result.largest_block);
    state.counters["peak_rss_MiB"] = static_cast<double>(peak_rss_kib()) / 1024.0;
}

// ---- one big strongly connected block: sparse LU ---------------------------------------------------

const selflearn::absorbing_chain<std::int64_t>& grid_chain() {
    static const auto chain = [] {
        const std::int64_t side = 316;
        selflearn::transition_counts<std::int64_t> c;
        const std::int64_t n = side * side;
        for (std::int64_t y = 0; y < side; ++y) {
            for (std::int64_t x = 0; x < side; ++x) {
                const std::int64_t s = y * side + x;
                c.add(s, x > 0 ? s - 1 : n + 0, 1);         // west edge absorbs into n
                c.add(s, x + 1 < side ? s + 1 : n + 1, 1);  // east
                c.add(s, y > 0 ? s - side : n + 2, 1);      // north
                c.add(s, y + 1 < side ? s + side : n + 3, 1);
            }
        }
        return selflearn::absorbing_chain<std::int64_t>::from_counts(c);
    }();
    return chain;
}

void grid_scipy(benchmark::State& state) {
    const auto& chain = grid_chain();
    const auto n = chain.q().rows();
    Eigen::MatrixXd rhs(n, 5);
    rhs.leftCols(4) = Eigen::MatrixXd(chain.r());
    rhs.col(4).setOnes();
    const auto dir = scratch() / "grid";
    write_sparse_peer_input(chain, rhs, dir);
    report_peer(state, "grid", "sparse " + dir.string() + " " + std::to_string(n) + " 5 " +
                                   std::to_string(state.max_iterations));
}

void grid_selflearn(benchmark::State& state) {
    const auto& chain = grid_chain();
    selflearn::absorption result;
    timed_loop(state, "grid", [&] {
        result = selflearn::solve(chain, {.threads = 1});
        benchmark::DoNotOptimize(result.expected_steps.data());
    });
    state.counters["largest_block"] = static_cast<double>(result.largest_block);
    state.counters["sparse_LU"] = static_cast<double>(result.sparse_factorisations);
}

// ---- a batch of small chains ----------------------------------------------------------------------

constexpr std::size_t batch_size = 100'000;
constexpr Eigen::Index batch_max_transient = 12, batch_max_absorbing = 4;

const std::vector<dense_chain>& batch_chains() {
    static const auto chains = [] {
        std::mt19937_64 rng(3);
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        std::vector<dense_chain> all;
        all.reserve(batch_size);
        for (std::size_t k = 0; k < batch_size; ++k) {
            const auto n = static_cast<Eigen::Index>(2 + rng() % (batch_max_transient - 1));
            const auto a = static_cast<Eigen::Index>(1 + rng() % batch_max_absorbing);
            dense_chain c{Eigen::MatrixXd::Zero(n, n), Eigen::MatrixXd::Zero(n, a)};
            for (Eigen::Index i = 0; i < n; ++i) {
                for (Eigen::Index j = 0; j < n; ++j) c.q(i, j) = unit(rng) < 0.4 ? unit(rng) : 0.0;
                c.r(i, static_cast<Eigen::Index>(rng() % static_cast<std::uint64_t>(a))) = 0.05 + unit(rng);
                const double total = c.q.row(i).sum() + c.r.row(i).sum();
                c.q.row(i) /= total;
                c.r.row(i) /= total;
            }
            all.push_back(std::move(c));
        }
        return all;
    }();
    return chains;
}

void batch_numpy(benchmark::State& state) {
    // Stacked and padded: unused rows and columns of a system are the identity with a zero right side.
    const auto& chains = batch_chains();
    const Eigen::Index m = batch_max_transient, w = batch_max_absorbing + 1;
    std::vector<double> a(batch_size * static_cast<std::size_t>(m * m), 0.0), b(batch_size * static_cast<std::size_t>(m * w), 0.0);
    for (std::size_t k = 0; k < batch_size; ++k) {
        const auto& c = chains[k];
        double* ak = a.data() + k * static_cast<std::size_t>(m * m);
        double* bk = b.data() + k * static_cast<std::size_t>(m * w);
        for (Eigen::Index i = 0; i < m; ++i) {
            for (Eigen::Index j = 0; j < m; ++j) {
                const bool inside = i < c.q.rows() && j < c.q.rows();
                ak[i * m + j] = (i == j ? 1.0 : 0.0) - (inside ? c.q(i, j) : 0.0);
            }
            if (i >= c.q.rows()) continue;
            for (Eigen::Index j = 0; j < c.r.cols(); ++j) bk[i * w + j] = c.r(i, j);
            bk[i * w + w - 1] = 1.0;
        }
    }
    const auto dir = scratch() / "batch";
    fs::create_directories(dir);
    write_binary(dir / "a.bin", a.data(), a.size());
    write_binary(dir / "b.bin", b.data(), b.size());
    report_peer(state, "batch", "batch " + dir.string() + " " + std::to_string(batch_size) + " " + std::to_string(m) +
                                    " " + std::to_string(w) + " " + std::to_string(state.max_iterations));
}

void batch_selflearn(benchmark::State& state) {
    const auto& chains = batch_chains();
    selflearn::dense_solver solver;
    double seconds = 0;
    timed_loop(state, "batch", [&] {
        const auto start = std::chrono::steady_clock::now();
        for (const auto& c : chains) benchmark::DoNotOptimize(solver.solve(c.q, c.r).expected_steps.data());
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    });
    state.counters["chains_per_minute"] =
        static_cast<double>(batch_size) * static_cast<double>(state.iterations()) / seconds * 60.0;
}

}  // namespace

BENCHMARK(dense_numpy)->Arg(100)->Arg(1000)->Arg(3000)->UseManualTime()->Iterations(5)->Unit(benchmark::kMillisecond);
BENCHMARK(dense_selflearn)->Arg(100)->Arg(1000)->Arg(3000)->Iterations(5)->Unit(benchmark::kMillisecond);
BENCHMARK(rephrase_scipy)->UseManualTime()->Iterations(2)->Unit(benchmark::kMillisecond);
BENCHMARK(rephrase_build)->Iterations(2)->Unit(benchmark::kMillisecond);
BENCHMARK(rephrase_solve)->Arg(1)->Arg(2)->Iterations(2)->Unit(benchmark::kMillisecond);
BENCHMARK(grid_scipy)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(grid_selflearn)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(batch_numpy)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(batch_selflearn)->Iterations(3)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    std::error_code ignored;
    fs::remove_all(scratch(), ignored);
    return 0;
}
