// `selflearn train-paraphrase`: trains the paraphrase detector (logistic regression over the slot-aware
// paraphrase features) on log-shaped pairs made from an annotated corpus, and writes the model file.

#include "cli.hpp"
#include "corpus.hpp"

#include <selflearn/logistic.hpp>
#include <selflearn/paraphrase.hpp>

#include <fmt/format.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

namespace {

std::ofstream open_for_writing(const std::string& path, const char* what) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw cli::input_error(fmt::format("cannot write the {} file '{}'", what, path));
    return out;
}

int run_train_paraphrase(const cli::arguments& args) {
    const auto corpus_file = args.value("corpus");
    const auto model_file = args.value("out");
    if (!corpus_file) throw cli::usage_error("--corpus FILE is required");
    if (!model_file) throw cli::usage_error("--out MODEL is required");
    selflearn::paraphrase_training_options options;
    options.seed = static_cast<std::uint64_t>(args.integer("seed", 0, std::int64_t{1} << 62));
    options.c = args.number("c", 1e-6, 1e6);
    options.noise = args.number("noise", 0.0, 1.0);

    cli::input in({*corpus_file}, false, "train-paraphrase");
    const auto corpus = cli::read_labelled_corpus(in);
    const auto examples = selflearn::paraphrase_training_examples(corpus, options);
    selflearn::carrier_lexicon lexicon(corpus);
    const auto [x, y] = selflearn::paraphrase_feature_matrix(examples, lexicon);
    const double positives = y.sum();
    if (positives == 0.0 || positives == static_cast<double>(y.size())) {
        throw cli::input_error(fmt::format("{}: the corpus gave {} positive and {} negative pairs; both are needed",
                                           *corpus_file, positives, static_cast<double>(y.size()) - positives));
    }
    std::vector<std::string> names(selflearn::paraphrase_feature_names.begin(), selflearn::paraphrase_feature_names.end());
    const selflearn::paraphrase_model model(selflearn::fit_logistic(x, y, {.c = options.c}, names), std::move(lexicon));

    if (const auto features_file = args.value("features-out")) {
        auto out = open_for_writing(*features_file, "features");
        for (const auto& n : names) out << n << '\t';
        out << "label\tkind\n";
        for (Eigen::Index i = 0; i < x.rows(); ++i) {
            for (Eigen::Index k = 0; k < x.cols(); ++k) out << fmt::format("{:.17g}\t", x(i, k));
            out << (y[i] == 1.0 ? 1 : 0) << '\t' << examples[static_cast<std::size_t>(i)].kind << '\n';
        }
        if (!out) throw cli::input_error(fmt::format("cannot write the features file '{}'", *features_file));
    }
    {
        auto out = open_for_writing(*model_file, "model");
        model.save(out);
        if (!out) throw cli::input_error(fmt::format("cannot write the model file '{}'", *model_file));
    }
    std::size_t right = 0;
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
        std::array<double, selflearn::paraphrase_feature_count> f{};
        for (Eigen::Index k = 0; k < x.cols(); ++k) f[static_cast<std::size_t>(k)] = x(i, k);
        if ((model.probability(f) >= 0.5) == (y[i] == 1.0)) ++right;
    }
    std::cerr << fmt::format("selflearn train-paraphrase: {} utterances, {} pairs ({} paraphrases), {} Newton steps, "
                             "training accuracy {:.4f}; model written to {}\n",
                             corpus.size(), x.rows(), positives, model.logistic().iterations(),
                             static_cast<double>(right) / static_cast<double>(x.rows()), *model_file);
    return 0;
}

const cli::registration train_paraphrase_command{cli::command{
    .name = "train-paraphrase",
    .summary = "train the paraphrase detector on pairs made from an annotated corpus and write the model",
    .usage = "--corpus FILE --out MODEL [options]",
    .description =
        "Reads corpus lines {\"text\", \"annotation\", \"intent\"} (e.g. SNIPS; at least two intents) and makes\n"
        "log-shaped training pairs (docs/paraphrase.md): two carriers of one request, one request repeated,\n"
        "slot- and intent-changed hard negatives and unrelated follow-ups, with recognition noise on the failed\n"
        "side of positives. Fits an L2 logistic regression (Newton/IRLS) over the slot-aware paraphrase\n"
        "features and writes the model file (docs/logistic.md). Seeded and deterministic.",
    .options = {{"corpus", "FILE", "the annotated corpus (JSON Lines)"},
                {"out", "MODEL", "where to write the model file"},
                {"seed", "N", "seed of the pair generator and the noise", "1"},
                {"c", "C", "inverse L2 penalty of the logistic regression", "1"},
                {"noise", "P", "probability of recognition noise on the failed side of a positive", "0.7"},
                {"features-out", "TSV", "also write the training features, label and kind, one pair a line"}},
    .run = run_train_paraphrase,
    .reads_input = false,
}};

}  // namespace
