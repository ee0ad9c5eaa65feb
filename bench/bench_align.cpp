// Edit-distance alignment: selflearn against edlib (Debian's libedlib-dev) and a naive Wagner-Fischer,
// side by side in the same run. Every benchmark reports pairs per second ("pairs/s"); compare the rows of
// one workload for the ratios.
//
// Workloads: 20-character strings (random, and 3 edits apart), distance and edit operations; word-id
// sequences of 5 to 40 ids; random strings of 64, 256, 1000 and 100,000 characters; one query against
// 1,000 candidates (the cached form).

#include <selflearn/align.hpp>
#include <selflearn/detail/align_reference.hpp>

#include <benchmark/benchmark.h>
#include <edlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr std::size_t pair_count = 1000;

std::string random_string(std::mt19937_64& rng, std::size_t length, char first = 'a', int letters = 26) {
    std::uniform_int_distribution<int> letter(0, letters - 1);
    std::string s(length, ' ');
    for (auto& c : s) c = static_cast<char>(first + letter(rng));
    return s;
}

template <class Seq, class Gen>
Seq with_edits(std::mt19937_64& rng, Seq s, int edits, Gen element) {
    for (int e = 0; e < edits; ++e) {
        const auto kind = std::uniform_int_distribution<int>(0, 2)(rng);
        if (s.empty() || kind == 0) {
            const auto pos = std::uniform_int_distribution<std::size_t>(0, s.size())(rng);
            s.insert(s.begin() + static_cast<std::ptrdiff_t>(pos), element());
            continue;
        }
        const auto pos = std::uniform_int_distribution<std::size_t>(0, s.size() - 1)(rng);
        if (kind == 1) {
            s[pos] = element();
        } else {
            s.erase(s.begin() + static_cast<std::ptrdiff_t>(pos));
        }
    }
    return s;
}

struct string_pairs {
    std::vector<std::string> a;
    std::vector<std::string> b;
};

string_pairs random_pairs(std::size_t length, std::size_t count, int letters, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    string_pairs p;
    for (std::size_t i = 0; i < count; ++i) {
        p.a.push_back(random_string(rng, length, 'a', letters));
        p.b.push_back(random_string(rng, length, 'a', letters));
    }
    return p;
}

string_pairs edited_pairs(std::size_t length, std::size_t count, int edits, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    string_pairs p;
    std::uniform_int_distribution<int> letter(0, 25);
    for (std::size_t i = 0; i < count; ++i) {
        p.a.push_back(random_string(rng, length));
        p.b.push_back(with_edits(rng, p.a.back(), edits, [&] { return static_cast<char>('a' + letter(rng)); }));
    }
    return p;
}

const string_pairs& workload(const std::string& name) {
    static std::map<std::string, string_pairs> cache;
    auto it = cache.find(name);
    if (it != cache.end()) return it->second;
    string_pairs p;
    if (name == "str20_random") p = random_pairs(20, pair_count, 26, 1);
    if (name == "str20_3edits") p = edited_pairs(20, pair_count, 3, 2);
    if (name == "len64") p = random_pairs(64, 200, 4, 3);
    if (name == "len256") p = random_pairs(256, 100, 4, 4);
    if (name == "len1000") p = random_pairs(1000, 20, 4, 5);
    if (name == "len100000") p = random_pairs(100000, 1, 4, 6);
    return cache.emplace(name, std::move(p)).first->second;
}

// Word-id sequences of 5 to 40 ids from a 5,000-word vocabulary, each paired with a rephrasing (a few
// words inserted, deleted or replaced). For edlib, each pair is also given as bytes (ids renumbered
// per pair), edlib's input type.
struct word_pairs {
    std::vector<std::vector<std::uint32_t>> a;
    std::vector<std::vector<std::uint32_t>> b;
    std::vector<std::string> a_bytes;
    std::vector<std::string> b_bytes;
};

const word_pairs& words() {
    static const word_pairs w = [] {
        word_pairs p;
        std::mt19937_64 rng(7);
        std::uniform_int_distribution<std::uint32_t> word(0, 4999);
        std::uniform_int_distribution<std::size_t> length(5, 40);
        for (std::size_t i = 0; i < pair_count; ++i) {
            std::vector<std::uint32_t> a(length(rng));
            for (auto& x : a) x = word(rng);
            const int edits = std::uniform_int_distribution<int>(1, 6)(rng);
            p.a.push_back(a);
            p.b.push_back(with_edits(rng, a, edits, [&] { return word(rng); }));
            std::map<std::uint32_t, char> renumber;
            auto bytes = [&](const std::vector<std::uint32_t>& ids) {
                std::string s;
                for (auto id : ids) s += renumber.emplace(id, static_cast<char>(renumber.size())).first->second;
                return s;
            };
            p.a_bytes.push_back(bytes(p.a.back()));
            p.b_bytes.push_back(bytes(p.b.back()));
        }
        return p;
    }();
    return w;
}

void report(benchmark::State& state, std::size_t pairs_per_iteration) {
    state.counters["pairs/s"] = benchmark::Counter(
        static_cast<double>(state.iterations()) * static_cast<double>(pairs_per_iteration), benchmark::Counter::kIsRate);
}

int edlib_distance(const std::string& a, const std::string& b) {
    EdlibAlignResult r = edlibAlign(a.data(), static_cast<int>(a.size()), b.data(), static_cast<int>(b.size()),
                                    edlibNewAlignConfig(-1, EDLIB_MODE_NW, EDLIB_TASK_DISTANCE, nullptr, 0));
    const int d = r.editDistance;
    edlibFreeAlignResult(r);
    return d;
}

// ---- distance on string pairs --------------------------------------------------------------------

void selflearn_distance(benchmark::State& state, const std::string& name) {
    const auto& p = workload(name);
    for (auto _ : state) {
        for (std::size_t i = 0; i < p.a.size(); ++i) {
            benchmark::DoNotOptimize(selflearn::levenshtein_distance(p.a[i], p.b[i]));
        }
    }
    report(state, p.a.size());
}

void edlib_distance_bench(benchmark::State& state, const std::string& name) {
    const auto& p = workload(name);
    for (auto _ : state) {
        for (std::size_t i = 0; i < p.a.size(); ++i) benchmark::DoNotOptimize(edlib_distance(p.a[i], p.b[i]));
    }
    report(state, p.a.size());
}

void naive_distance(benchmark::State& state, const std::string& name) {
    const auto& p = workload(name);
    for (auto _ : state) {
        for (std::size_t i = 0; i < p.a.size(); ++i) {
            benchmark::DoNotOptimize(selflearn::detail::naive_levenshtein(p.a[i], p.b[i]));
        }
    }
    report(state, p.a.size());
}

void selflearn_distance_cutoff(benchmark::State& state, const std::string& name, std::size_t max) {
    const auto& p = workload(name);
    for (auto _ : state) {
        for (std::size_t i = 0; i < p.a.size(); ++i) {
            benchmark::DoNotOptimize(selflearn::levenshtein_distance(p.a[i], p.b[i], max));
        }
    }
    report(state, p.a.size());
}

void edlib_distance_cutoff(benchmark::State& state, const std::string& name, int max) {
    const auto& p = workload(name);
    for (auto _ : state) {
        for (std::size_t i = 0; i < p.a.size(); ++i) {
            EdlibAlignResult r =
                edlibAlign(p.a[i].data(), static_cast<int>(p.a[i].size()), p.b[i].data(),
                           static_cast<int>(p.b[i].size()), edlibNewAlignConfig(max, EDLIB_MODE_NW, EDLIB_TASK_DISTANCE, nullptr, 0));
            benchmark::DoNotOptimize(r.editDistance);
            edlibFreeAlignResult(r);
        }
    }
    report(state, p.a.size());
}

// ---- edit operations -----------------------------------------------------------------------------

void selflearn_editops(benchmark::State& state, const std::string& name) {
    const auto& p = workload(name);
    selflearn::levenshtein_workspace workspace;
    for (auto _ : state) {
        for (std::size_t i = 0; i < p.a.size(); ++i) {
            auto ops = selflearn::levenshtein_editops(p.a[i], p.b[i], workspace);
            benchmark::DoNotOptimize(ops.data());
        }
    }
    report(state, p.a.size());
}

void edlib_path(benchmark::State& state, const std::string& name) {
    const auto& p = workload(name);
    for (auto _ : state) {
        for (std::size_t i = 0; i < p.a.size(); ++i) {
            EdlibAlignResult r =
                edlibAlign(p.a[i].data(), static_cast<int>(p.a[i].size()), p.b[i].data(),
                           static_cast<int>(p.b[i].size()), edlibNewAlignConfig(-1, EDLIB_MODE_NW, EDLIB_TASK_PATH, nullptr, 0));
            benchmark::DoNotOptimize(r.alignment);
            edlibFreeAlignResult(r);
        }
    }
    report(state, p.a.size());
}

void naive_alignment(benchmark::State& state, const std::string& name) {
    const auto& p = workload(name);
    for (auto _ : state) {
        for (std::size_t i = 0; i < p.a.size(); ++i) {
            auto r = selflearn::detail::reference_alignment(p.a[i], p.b[i]);
            benchmark::DoNotOptimize(r.ops.data());
        }
    }
    report(state, p.a.size());
}

// ---- word-id sequences ---------------------------------------------------------------------------

void selflearn_words(benchmark::State& state) {
    const auto& w = words();
    for (auto _ : state) {
        for (std::size_t i = 0; i < w.a.size(); ++i) benchmark::DoNotOptimize(selflearn::levenshtein_distance(w.a[i], w.b[i]));
    }
    report(state, w.a.size());
}

void selflearn_words_editops(benchmark::State& state) {
    const auto& w = words();
    selflearn::levenshtein_workspace workspace;
    for (auto _ : state) {
        for (std::size_t i = 0; i < w.a.size(); ++i) {
            auto ops = selflearn::levenshtein_editops(w.a[i], w.b[i], workspace);
            benchmark::DoNotOptimize(ops.data());
        }
    }
    report(state, w.a.size());
}

void edlib_words(benchmark::State& state) {
    const auto& w = words();
    for (auto _ : state) {
        for (std::size_t i = 0; i < w.a.size(); ++i) benchmark::DoNotOptimize(edlib_distance(w.a_bytes[i], w.b_bytes[i]));
    }
    report(state, w.a.size());
}

void naive_words(benchmark::State& state) {
    const auto& w = words();
    for (auto _ : state) {
        for (std::size_t i = 0; i < w.a.size(); ++i) {
            benchmark::DoNotOptimize(selflearn::detail::naive_levenshtein(w.a[i], w.b[i]));
        }
    }
    report(state, w.a.size());
}

// ---- one against many ----------------------------------------------------------------------------

void selflearn_cached(benchmark::State& state) {
    const auto& p = workload("str20_random");
    const selflearn::cached_levenshtein<char> query(p.a[0]);
    for (auto _ : state) {
        for (const auto& candidate : p.b) benchmark::DoNotOptimize(query.distance(candidate));
    }
    report(state, p.b.size());
}

void edlib_one_vs_many(benchmark::State& state) {
    const auto& p = workload("str20_random");
    for (auto _ : state) {
        for (const auto& candidate : p.b) benchmark::DoNotOptimize(edlib_distance(p.a[0], candidate));
    }
    report(state, p.b.size());
}

void naive_one_vs_many(benchmark::State& state) {
    const auto& p = workload("str20_random");
    for (auto _ : state) {
        for (const auto& candidate : p.b) benchmark::DoNotOptimize(selflearn::detail::naive_levenshtein(p.a[0], candidate));
    }
    report(state, p.b.size());
}

void register_all() {
    for (const std::string name : {"str20_random", "str20_3edits", "len64", "len256", "len1000"}) {
        benchmark::RegisterBenchmark(("distance/" + name + "/selflearn").c_str(), selflearn_distance, name);
        benchmark::RegisterBenchmark(("distance/" + name + "/edlib").c_str(), edlib_distance_bench, name);
        benchmark::RegisterBenchmark(("distance/" + name + "/naive").c_str(), naive_distance, name);
    }
    benchmark::RegisterBenchmark("distance/len100000/selflearn", selflearn_distance, std::string("len100000"))
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("distance/len100000/edlib", edlib_distance_bench, std::string("len100000"))
        ->Unit(benchmark::kMillisecond);
    // The naive recurrence needs about 10^10 cell updates for one 100,000-element pair: run once.
    benchmark::RegisterBenchmark("distance/len100000/naive", naive_distance, std::string("len100000"))
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
    for (const std::string name : {"str20_3edits", "len1000"}) {
        benchmark::RegisterBenchmark(("cutoff5/" + name + "/selflearn").c_str(), selflearn_distance_cutoff, name,
                                     std::size_t{5});
        benchmark::RegisterBenchmark(("cutoff5/" + name + "/edlib").c_str(), edlib_distance_cutoff, name, 5);
    }
    for (const std::string name : {"str20_random", "str20_3edits", "len256"}) {
        benchmark::RegisterBenchmark(("editops/" + name + "/selflearn").c_str(), selflearn_editops, name);
        benchmark::RegisterBenchmark(("editops/" + name + "/edlib").c_str(), edlib_path, name);
        benchmark::RegisterBenchmark(("editops/" + name + "/naive").c_str(), naive_alignment, name);
    }
    benchmark::RegisterBenchmark("editops/len100000/selflearn", selflearn_editops, std::string("len100000"))
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("editops/len100000/edlib", edlib_path, std::string("len100000"))
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("words/distance/selflearn", selflearn_words);
    benchmark::RegisterBenchmark("words/distance/edlib", edlib_words);
    benchmark::RegisterBenchmark("words/distance/naive", naive_words);
    benchmark::RegisterBenchmark("words/editops/selflearn", selflearn_words_editops);
    benchmark::RegisterBenchmark("one_vs_1000/selflearn_cached", selflearn_cached);
    benchmark::RegisterBenchmark("one_vs_1000/edlib", edlib_one_vs_many);
    benchmark::RegisterBenchmark("one_vs_1000/naive", naive_one_vs_many);
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
