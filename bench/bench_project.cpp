// Label projection throughput: pairs per second for each method on SNIPS paraphrase pairs, side by side
// with a naive reference (the same mapping on a cost matrix filled by a textbook Levenshtein per word pair,
// decoding and case-folding both words each time, no cutoff, no reuse).

#include <selflearn/paraphrase.hpp>
#include <selflearn/project.hpp>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct prepared_pair {
    selflearn::annotated_tokens source;
    std::vector<selflearn::token> target;
};

const std::vector<prepared_pair>& snips_pairs() {
    static const std::vector<prepared_pair> pairs = [] {
        std::ifstream in(std::string(SELFLEARN_BENCH_DATA_DIR) + "/train.jsonl");
        if (!in) throw std::runtime_error("cannot open the SNIPS data (SELFLEARN_BENCH_DATA_DIR/train.jsonl)");
        std::vector<selflearn::labelled_utterance> corpus;
        std::string line;
        while (std::getline(in, line)) {
            const auto record = nlohmann::json::parse(line);
            corpus.push_back({selflearn::parse_markup(record.at("annotation").get<std::string>()),
                              record.at("intent").get<std::string>()});
        }
        const auto generated = selflearn::generate_paraphrase_pairs(
            corpus, {.seed = 1, .positives = 5000, .slot_negatives = 0, .intent_negatives = 0});
        std::vector<prepared_pair> out;
        for (const auto& p : generated) {
            out.push_back({selflearn::tokenize_annotated(p.first.annotation), selflearn::tokenize(p.second.annotation.text)});
        }
        return out;
    }();
    return pairs;
}

selflearn::projection_options options_for(selflearn::projection_method method) {
    selflearn::projection_options o;
    o.method = method;
    return o;
}

// Textbook two-row Levenshtein over freshly decoded, case-folded code points.
double naive_word_cost(std::string_view x, std::string_view y) {
    std::u32string a;
    std::u32string b;
    for (auto cp : selflearn::utf8_view(x)) a.push_back(selflearn::detail::fold_case(cp.value));
    for (auto cp : selflearn::utf8_view(y)) b.push_back(selflearn::detail::fold_case(cp.value));
    if (a.empty() && b.empty()) return 0;
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t next =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0u : 1u)});
            diagonal = row[j];
            row[j] = next;
        }
    }
    return static_cast<double>(row[b.size()]) / static_cast<double>(std::max(a.size(), b.size()));
}

void run_projector(benchmark::State& state, selflearn::projection_method method) {
    const auto& pairs = snips_pairs();
    selflearn::projector<> p(options_for(method));
    for (auto _ : state) {
        for (const auto& pair : pairs) {
            auto r = p.project(pair.source, pair.target);
            benchmark::DoNotOptimize(r);
        }
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(pairs.size()));
}

// The naive reference: a fresh projector per pair and a textbook word cost through the generic path.
void run_naive(benchmark::State& state, selflearn::projection_method method) {
    const auto& pairs = snips_pairs();
    const auto options = options_for(method);
    for (auto _ : state) {
        for (const auto& pair : pairs) {
            auto r = selflearn::project(pair.source, pair.target, options, &naive_word_cost);
            benchmark::DoNotOptimize(r);
        }
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(pairs.size()));
}

void BM_project_greedy(benchmark::State& s) { run_projector(s, selflearn::projection_method::greedy); }
void BM_project_optimal(benchmark::State& s) { run_projector(s, selflearn::projection_method::optimal); }
void BM_project_monotone(benchmark::State& s) { run_projector(s, selflearn::projection_method::monotone); }
void BM_naive_greedy(benchmark::State& s) { run_naive(s, selflearn::projection_method::greedy); }
void BM_naive_optimal(benchmark::State& s) { run_naive(s, selflearn::projection_method::optimal); }
void BM_naive_monotone(benchmark::State& s) { run_naive(s, selflearn::projection_method::monotone); }

// The free function project() (per-thread projector) as the pipeline calls it.
void BM_project_free_function(benchmark::State& state) {
    const auto& pairs = snips_pairs();
    const selflearn::projection_options options;
    for (auto _ : state) {
        for (const auto& pair : pairs) {
            auto r = selflearn::project(pair.source, pair.target, options);
            benchmark::DoNotOptimize(r);
        }
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(pairs.size()));
}

}  // namespace

BENCHMARK(BM_project_greedy)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_naive_greedy)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_project_optimal)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_naive_optimal)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_project_monotone)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_naive_monotone)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_project_free_function)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
