#pragma once
// The end-to-end self-learning pipeline behind `selflearn pipeline`: from a session log to labelled
// training examples (label projection + corroboration) and a rewrite table (absorbing-chain rewrite
// mining), with the counts, distributions and, when the log carries gold fields, the quality of every stage.
// Sessions are processed one at a time as they stream in; what is kept grows with the distinct utterances
// and examples, not with the log.

#include "session_log.hpp"

#include <selflearn/corroborate.hpp>
#include <selflearn/project.hpp>
#include <selflearn/rewrite.hpp>
#include <selflearn/tokenize.hpp>
#include <selflearn/window.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pipeline {

/// A session's turns with their tokens, computed once and shared by the stages.
struct session_view {
    std::vector<cli::log_turn>* turns = nullptr;
    std::vector<std::vector<selflearn::token>> tokens;  ///< case-folded tokens of each turn
    std::vector<std::vector<std::string_view>> words;   ///< their texts
    std::vector<std::string> normalized;                ///< their texts joined by single spaces
    std::vector<bool> done;                             ///< whether tokens, words and normalized are computed
};

/// Decides whether a later turn rephrases an earlier one: a score in [0, 1] compared with a threshold.
class paraphrase_scorer {
public:
    paraphrase_scorer() = default;
    paraphrase_scorer(const paraphrase_scorer&) = delete;
    paraphrase_scorer& operator=(const paraphrase_scorer&) = delete;
    virtual ~paraphrase_scorer() = default;
    /// The score that turn `later` of the session rephrases turn `earlier`.
    virtual double score(const session_view& session, std::size_t earlier, std::size_t later) = 0;
    /// A one-line description for the report.
    [[nodiscard]] virtual std::string describe() const = 0;
};

/// The default scorer: lexical similarity of the two turns' word sequences, 1 - D / max(m, n), where D is
/// the weighted word-level edit distance (insertion and deletion 1, substitution the normalised
/// character-level Levenshtein distance of the two words, so a misheard word costs little).
class lexical_scorer final : public paraphrase_scorer {
public:
    double score(const session_view& session, std::size_t earlier, std::size_t later) override;
    [[nodiscard]] std::string describe() const override;
};

/// The rewrite miner's default scorer (selflearn::lexical_rephrase_scorer): Levenshtein similarity of the
/// code points of the two turns' normalised texts. With it, the pipeline's rewrites.jsonl equals the output
/// of `selflearn mine` on the same log.
class character_scorer final : public paraphrase_scorer {
public:
    double score(const session_view& session, std::size_t earlier, std::size_t later) override;
    [[nodiscard]] std::string describe() const override;
};

/// A paraphrase model's scores carried in the log: each turn's "rephrase_score" is the score that it
/// rephrases the turn just before it. A candidate pair that is not adjacent, or a turn without the field,
/// scores 0 (not a rephrase).
class log_scorer final : public paraphrase_scorer {
public:
    double score(const session_view& session, std::size_t earlier, std::size_t later) override;
    [[nodiscard]] std::string describe() const override;
};

/// Decides whether a turn caused friction (the assistant failed the user).
class friction_detector {
public:
    friction_detector() = default;
    friction_detector(const friction_detector&) = delete;
    friction_detector& operator=(const friction_detector&) = delete;
    virtual ~friction_detector() = default;
    /// Whether turn `t` caused friction.
    [[nodiscard]] virtual bool friction(const selflearn::turn& t) const = 0;
    /// A one-line description for the report.
    [[nodiscard]] virtual std::string describe() const = 0;
};

/// Friction when the turn's outcome is "defect".
class outcome_detector final : public friction_detector {
public:
    [[nodiscard]] bool friction(const selflearn::turn& t) const override;
    [[nodiscard]] std::string describe() const override;
};

/// Friction when the turn's outcome is "defect" or its NLU confidence is below a floor.
class confidence_detector final : public friction_detector {
public:
    explicit confidence_detector(double floor) : floor_(floor) {}
    [[nodiscard]] bool friction(const selflearn::turn& t) const override;
    [[nodiscard]] std::string describe() const override;

private:
    double floor_;
};

/// Settings of a run (defaults in docs/pipeline.md).
struct settings {
    selflearn::window_options window{};          ///< rephrase candidates: 60 s, 3 turns after
    double paraphrase_threshold = 0.5;           ///< a candidate is a rephrase when its score is >= this
    selflearn::projection_options projection{};  ///< label projection (method optimal, threshold 0.5)
    std::size_t min_support = 2;                 ///< corroboration: distinct sessions per training example
    selflearn::rewrite_options rewrite{};        ///< rewrite mining (window 60 s, support 2, probability 0.2)
    std::size_t top = 20;                        ///< rows of the report's tables
};

/// Counts of every stage.
struct stage_counts {
    std::uint64_t sessions = 0, turns = 0, friction_turns = 0, candidate_pairs = 0, friction_candidates = 0;
    std::uint64_t paraphrase_pairs = 0, successful_paraphrases = 0, projections = 0, projections_accepted = 0;
    std::map<std::string, std::uint64_t> rejections;  ///< reason -> count
    std::uint64_t distinct_examples = 0, training_examples = 0;
    std::uint64_t rewrite_links = 0, rewrite_states = 0, rewrites = 0;
};

/// Quality against the gold fields of a simulated log.
struct quality {
    bool available = false;  ///< whether the log carried gold fields
    /// Paraphrase decision over candidate pairs of friction turns: true rephrase = same gold goal.
    std::uint64_t pairs_true_positive = 0, pairs_false_positive = 0, pairs_false_negative = 0;
    /// Training examples (each distinct example once): exact slot spans and labels against gold.
    std::uint64_t slots_correct = 0, slots_predicted = 0, slots_gold = 0;
    std::uint64_t examples_exact = 0, examples_scored = 0, intents_correct = 0, intents_scored = 0;
    /// Rewrites: a win when the rewrite's goal is the request's goal.
    std::uint64_t rewrite_wins = 0, rewrite_losses = 0, rewrite_unknown = 0;
};

/// A training example for the outputs and the report.
struct training_example {
    std::string text, annotation, intent;
    std::size_t support = 0;
    std::optional<std::string> gold;  ///< gold annotation, when the log had one
};

/// One row of the rewrite table.
struct rewrite_row {
    std::string request, rewrite;
    double probability = 0, success_probability = 0, expected_steps = 0;
    std::size_t support = 0;
    std::optional<bool> wins;  ///< against gold goals, when known
};

/// Wall-clock seconds spent in each stage.
struct timings {
    double read = 0, candidates = 0, rewrite_counting = 0, corroboration = 0, rewrite_solve = 0, total = 0;
};

/// Everything a run produced.
struct results {
    stage_counts counts;
    quality gold;
    std::vector<training_example> training;  ///< support >= min_support, by (text, annotation, intent)
    std::vector<rewrite_row> rewrites;       ///< in the order of selflearn::mine_rewrites (by request)
    std::map<std::size_t, std::uint64_t> support_histogram;  ///< support -> distinct examples (all, before k)
    timings time;
    std::string scorer, detector;
};

/// The pipeline's state between sessions.
class runner {
public:
    runner(settings s, std::unique_ptr<paraphrase_scorer> scorer, std::unique_ptr<friction_detector> detector);
    ~runner();
    runner(const runner&) = delete;
    runner& operator=(const runner&) = delete;

    /// Processes one session (turns in time order).
    void add_session(std::vector<cli::log_turn>& turns);
    /// Corroborates, solves the rewrite chain and scores against gold. Call once, after the last session.
    results finish();

    /// The counts so far (for a progress display).
    [[nodiscard]] const stage_counts& counts() const { return results_.counts; }

private:
    struct rewrite_state;
    void tokenize_turn(session_view& view, std::size_t i);

    settings settings_;
    std::unique_ptr<paraphrase_scorer> scorer_;
    std::unique_ptr<friction_detector> detector_;
    selflearn::projector<> projector_;
    struct example_entry {
        std::size_t support = 0;          ///< distinct sessions that produced the example
        std::optional<std::string> gold;  ///< gold annotation of its text, when the log has one
    };
    std::map<selflearn::projected_example, example_entry> examples_;
    std::unique_ptr<rewrite_state> rewrite_;
    /// Gold bookkeeping, per distinct utterance: the goals each normalised text was said for.
    std::unordered_map<std::string, std::unordered_map<std::string, std::uint32_t>> goals_of_text_;
    std::unordered_map<std::string, std::string> intent_of_goal_;
    results results_;
};

}  // namespace pipeline
