// Span decoding: the exact O(n) best span and exact k best spans of selflearn/span.hpp, side by side with
// the brute-force O(n L) enumeration and with the common "top-20 starts x top-20 ends" approximation
// (the n-best heuristic of the usual extractive-QA post-processing), on 1,000,000 sequences each.
//
// Inputs: per-position start and end logits drawn i.i.d. from N(0, 2^2), turned into log-probabilities by
// log_softmax; L = 30. Each timed run decodes 1,000,000 sequences cycling over a pool of 8192 stored
// ones. The approximation's quality is measured separately on 1,000,000 fresh sequences per length and
// reported as counters: miss_best (how often its best span is not the true best), top20_recall (the share
// of the true 20 best spans it returns) and, for a peaked model (one planted span 6 logits above the
// noise), miss_best_peaked.

#include <selflearn/span.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <numeric>
#include <vector>

namespace {

constexpr std::size_t max_length = 30;
constexpr std::size_t pool_size = 8192;
constexpr std::int64_t sequences = 1'000'000;
constexpr std::size_t n_best = 20;  // the approximation's candidate starts and ends

// splitmix64 + Box-Muller: a fast, reproducible source of normal deviates for a billion draws.
class normal_source {
public:
    explicit normal_source(std::uint64_t seed) : state_(seed) {}
    double next() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        const double u1 = (static_cast<double>(bits() >> 11) + 0.5) * 0x1.0p-53;
        const double u2 = static_cast<double>(bits() >> 11) * 0x1.0p-53;
        const double r = std::sqrt(-2.0 * std::log(u1));
        const double theta = 6.283185307179586 * u2;
        spare_ = r * std::sin(theta);
        has_spare_ = true;
        return r * std::cos(theta);
    }
    std::uint64_t bits() {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

private:
    std::uint64_t state_;
    double spare_ = 0;
    bool has_spare_ = false;
};

// One sequence of log-probabilities; `peaked` plants one span a few logits above the noise.
void draw_sequence(normal_source& rng, std::size_t n, bool peaked, double* start, double* end) {
    for (std::size_t i = 0; i < n; ++i) start[i] = 2.0 * rng.next();
    for (std::size_t i = 0; i < n; ++i) end[i] = 2.0 * rng.next();
    if (peaked) {
        const std::size_t a = static_cast<std::size_t>(rng.bits() % n);
        const std::size_t b = std::min(n - 1, a + static_cast<std::size_t>(rng.bits() % 10));
        start[a] += 6.0;
        end[b] += 6.0;
    }
    selflearn::log_softmax({start, n}, {start, n});
    selflearn::log_softmax({end, n}, {end, n});
}

struct pool {
    std::size_t n = 0;
    std::vector<double> start;
    std::vector<double> end;
};

const pool& get_pool(std::size_t n) {
    static std::map<std::size_t, pool> pools;
    auto [it, inserted] = pools.try_emplace(n);
    if (inserted) {
        pool& p = it->second;
        p.n = n;
        p.start.resize(n * pool_size);
        p.end.resize(n * pool_size);
        normal_source rng(0x5eed0000 + n);
        for (std::size_t s = 0; s < pool_size; ++s) draw_sequence(rng, n, false, &p.start[s * n], &p.end[s * n]);
    }
    return it->second;
}

bool before(const selflearn::scored_span& a, const selflearn::scored_span& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.start != b.start) return a.start < b.start;
    return a.end < b.end;
}

// Brute force: every span [i, j] with j < i + L; keeps the k first in the documented order. O(n L k) worst,
// O(n L) typical (most spans fail the comparison with the current k-th).
void brute_force(const double* start, const double* end, std::size_t n, std::size_t k,
                 std::vector<selflearn::scored_span>& out) {
    out.clear();
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t last = std::min(n, i + max_length);
        for (std::size_t j = i; j < last; ++j) {
            const selflearn::scored_span s{i, j, start[i] + end[j]};
            if (out.size() == k && !before(s, out.back())) continue;
            if (out.size() == k) out.pop_back();
            out.insert(std::upper_bound(out.begin(), out.end(), s, before), s);
        }
    }
}

// The approximation: the 20 best starts and the 20 best ends, every valid pair among them, k best kept.
struct approximation {
    std::vector<std::size_t> starts;
    std::vector<std::size_t> ends;
    void run(const double* start, const double* end, std::size_t n, std::size_t k,
             std::vector<selflearn::scored_span>& out) {
        const std::size_t m = std::min(n_best, n);
        auto top = [&](const double* v, std::vector<std::size_t>& idx) {
            idx.resize(n);
            std::iota(idx.begin(), idx.end(), std::size_t{0});
            std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(m), idx.end(),
                              [v](std::size_t a, std::size_t b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
            idx.resize(m);
        };
        top(start, starts);
        top(end, ends);
        out.clear();
        for (std::size_t i : starts) {
            for (std::size_t j : ends) {
                if (j < i || j - i >= max_length) continue;
                out.push_back({i, j, start[i] + end[j]});
            }
        }
        const std::size_t keep = std::min(k, out.size());
        std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(keep), out.end(), before);
        out.resize(keep);
    }
};

struct quality {
    double miss_best = 0;
    double top20_recall = 0;
    double miss_best_peaked = 0;
};

// The approximation against the exact decoder on 1,000,000 fresh sequences of each kind.
const quality& get_quality(std::size_t n) {
    static std::map<std::size_t, quality> cache;
    auto [it, inserted] = cache.try_emplace(n);
    if (!inserted) return it->second;
    std::vector<double> start(n);
    std::vector<double> end(n);
    selflearn::span_decoder decoder;
    approximation approx;
    std::vector<selflearn::scored_span> exact;
    std::vector<selflearn::scored_span> guess;
    selflearn::span_options options;
    options.max_length = max_length;
    for (bool peaked : {false, true}) {
        normal_source rng(peaked ? 0xbeef0000 + n : 0xfeed0000 + n);
        std::int64_t misses = 0;
        std::int64_t found = 0;
        for (std::int64_t s = 0; s < sequences; ++s) {
            draw_sequence(rng, n, peaked, start.data(), end.data());
            decoder.top(selflearn::log_scores(start, end), n_best, exact, options);
            approx.run(start.data(), end.data(), n, n_best, guess);
            if (guess.empty() || !(guess.front() == exact.front())) ++misses;
            if (!peaked) {
                for (const auto& e : exact) found += std::count(guess.begin(), guess.end(), e);
            }
        }
        const double total = static_cast<double>(sequences);
        if (peaked) {
            it->second.miss_best_peaked = static_cast<double>(misses) / total;
        } else {
            it->second.miss_best = static_cast<double>(misses) / total;
            it->second.top20_recall = static_cast<double>(found) / (total * static_cast<double>(n_best));
        }
    }
    return it->second;
}

// Before timing anything, the exact decoder must agree with brute force on the pool.
void check_exact(const pool& p) {
    selflearn::span_decoder decoder;
    std::vector<selflearn::scored_span> exact;
    std::vector<selflearn::scored_span> reference;
    selflearn::span_options options;
    options.max_length = max_length;
    for (std::size_t s = 0; s < 2000; ++s) {
        const double* st = &p.start[s * p.n];
        const double* en = &p.end[s * p.n];
        decoder.top(selflearn::log_scores({st, p.n}, {en, p.n}), n_best, exact, options);
        brute_force(st, en, p.n, n_best, reference);
        if (exact != reference) {
            std::cerr << "bench_span: exact decoder disagrees with brute force on sequence " << s << '\n';
            std::abort();
        }
    }
}

void BM_exact(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto k = static_cast<std::size_t>(state.range(1));
    const pool& p = get_pool(n);
    check_exact(p);
    selflearn::span_decoder decoder;
    selflearn::span_options options;
    options.max_length = max_length;
    std::vector<selflearn::scored_span> out;
    std::size_t s = 0;
    for (auto _ : state) {
        const selflearn::log_scores scores({&p.start[s * n], n}, {&p.end[s * n], n});
        if (k == 1) {
            auto best = decoder.best(scores, options);
            benchmark::DoNotOptimize(best);
        } else {
            decoder.top(scores, k, out, options);
            benchmark::DoNotOptimize(out.data());
        }
        s = s + 1 == pool_size ? 0 : s + 1;
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_brute_force(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto k = static_cast<std::size_t>(state.range(1));
    const pool& p = get_pool(n);
    std::vector<selflearn::scored_span> out;
    std::size_t s = 0;
    for (auto _ : state) {
        brute_force(&p.start[s * n], &p.end[s * n], n, k, out);
        benchmark::DoNotOptimize(out.data());
        s = s + 1 == pool_size ? 0 : s + 1;
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_top20x20_approximation(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto k = static_cast<std::size_t>(state.range(1));
    const pool& p = get_pool(n);
    const quality& q = get_quality(n);
    approximation approx;
    std::vector<selflearn::scored_span> out;
    std::size_t s = 0;
    for (auto _ : state) {
        approx.run(&p.start[s * n], &p.end[s * n], n, k, out);
        benchmark::DoNotOptimize(out.data());
        s = s + 1 == pool_size ? 0 : s + 1;
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["miss_best"] = q.miss_best;
    state.counters["miss_best_peaked"] = q.miss_best_peaked;
    state.counters["top20_recall"] = q.top20_recall;
}

}  // namespace

// Registered per (n, k) so that the three decoders of one configuration appear side by side.
int main(int argc, char** argv) {
    for (std::int64_t n : {128, 512}) {
        for (std::int64_t k : {1, 20}) {
            for (auto* b : {benchmark::RegisterBenchmark("exact", BM_exact),
                            benchmark::RegisterBenchmark("brute_force_nL", BM_brute_force),
                            benchmark::RegisterBenchmark("top20x20_approximation", BM_top20x20_approximation)}) {
                b->Args({n, k})->ArgNames({"n", "k"})->Iterations(sequences);
            }
        }
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
