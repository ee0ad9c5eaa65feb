#pragma once
// The end-to-end self-learning pipeline behind `selflearn pipeline`: from a session log to labelled
// training examples (label projection + corroboration) and a rewrite table (absorbing-chain rewrite
// mining), with the counts, distributions and, when the log carries gold fields, the quality of every stage.
// Sessions are processed one at a time as they stream in; what is kept grows with the distinct utterances
// and examples, not with the log.

#include "session_log.hpp"

#include <selflearn/corroborate.hpp>
#include <selflearn/failure_point.hpp>
#include <selflearn/project.hpp>
#include <selflearn/rewrite.hpp>
#include <selflearn/tokenize.hpp>
#include <selflearn/window.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pipeline {

/// The paraphrase decision of a run: any selflearn::paraphrase_scorer chosen at run time, or the scores a
/// paraphrase model left in the log ("rephrase_score" of each turn versus the turn before it).
struct scorer_choice {
    /// The scorer, called as score(failed turn, later turn); empty to take the log's rephrase_score instead
    /// (then only adjacent turns can be rephrases, and a turn without the field is none).
    std::function<double(const selflearn::turn&, const selflearn::turn&)> score;
    std::string description;  ///< one line for the report
};

/// The friction decision of a run: any selflearn::friction_detector chosen at run time.
struct friction_choice {
    std::function<bool(const selflearn::turn&)> friction;  ///< whether a turn caused friction
    std::string description;                               ///< one line for the report
};

/// Settings of a run (defaults in docs/pipeline.md).
struct settings {
    selflearn::window_options window{};          ///< rephrase candidates: 60 s, 3 turns after
    double paraphrase_threshold = 0.5;           ///< a candidate is a rephrase when its score is >= this
    selflearn::projection_options projection{};  ///< label projection (method optimal, threshold 0.5)
    std::size_t min_support = 2;                 ///< corroboration: distinct sessions per training example
    selflearn::rewrite_options rewrite{};        ///< rewrite mining (window 60 s, support 2, probability 0.2)
    std::size_t top = 20;                        ///< rows of the report's tables
    std::uint32_t frequent_failures = 5;         ///< a request failing this often counts in the coverage figures
};

/// Counts of every stage.
struct stage_counts {
    std::uint64_t sessions = 0, turns = 0, friction_turns = 0, candidate_pairs = 0, friction_candidates = 0;
    std::uint64_t paraphrase_pairs = 0, successful_paraphrases = 0, projections = 0, projections_accepted = 0;
    std::map<std::string, std::uint64_t> rejections;  ///< reason -> count
    std::uint64_t distinct_examples = 0, training_examples = 0;
    std::uint64_t rewrite_links = 0, rewrite_states = 0, rewrites = 0;
    /// Frequently failing requests: normalised texts that caused friction at least `frequent_failures` times
    /// and more often than not; and how many of them got a training example and a rewrite: what the run
    /// fixes of what fails most.
    std::uint64_t frequent_requests = 0, frequent_with_training = 0, frequent_with_rewrite = 0;
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

/// One row of the rewrite table: what users said, and the normalised keys an application looks up.
struct rewrite_row {
    std::string request, rewrite;          ///< the most frequent texts users said behind each normalised form
    std::string request_key, rewrite_key;  ///< the normalised forms (selflearn::normalize_utterance)
    double probability = 0, success_probability = 0, expected_steps = 0;
    std::size_t support = 0;
    std::optional<bool> wins;  ///< against gold goals, when known
    double confidence = 0, lower_bound = 0;  ///< selflearn::rewrite_rule's: P(beats the request alone), its lower bound
    std::uint64_t served_successes = 0, served_failures = 0;  ///< post-deployment counts of the rule
};

/// Where defects come from (failure_point.hpp): the failure point of every friction turn, by its successful
/// rephrase where there is one, else by its stage signals with floors calibrated on the rephrase-labelled.
struct failure_points {
    selflearn::blame_counts blame;                   ///< per normalised request and stage
    selflearn::conditional_thresholds floors{};      ///< the calibrated signal floors
    std::uint64_t by_rephrase = 0, by_signals = 0;  ///< how each defect was placed
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
    std::vector<std::string> notes;  ///< how the run decided what it could not take from the settings
    failure_points failures;         ///< where defects come from
};

/// The pipeline's state between sessions.
class runner {
public:
    runner(settings s, scorer_choice scorer, friction_choice friction);
    ~runner();
    runner(const runner&) = delete;
    runner& operator=(const runner&) = delete;

    /// Processes one session (turns in time order). The turns' `turn` members are moved from: what the
    /// rewrite miner keeps of them is its own.
    void add_session(std::vector<cli::log_turn>& turns);
    /// Corroborates, solves the rewrite chain and scores against gold. Call once, after the last session.
    results finish();

    /// The counts so far (for a progress display).
    [[nodiscard]] const stage_counts& counts() const { return results_.counts; }

private:
    /// Places friction turn `i` of a session: by its first successful rephrase `fixed` when that
    /// determines a stage, else later by its signals.
    void place_failure(const std::vector<cli::log_turn>& turns, std::size_t i, std::optional<std::size_t> fixed);
    /// The score that turn `later` of the session rephrases turn `earlier`.
    double score(const std::vector<cli::log_turn>& turns, std::size_t earlier, std::size_t later) const;

    settings settings_;
    scorer_choice scorer_;
    friction_choice friction_;
    selflearn::projector<> projector_;
    selflearn::session_votes votes_;                                ///< one vote per session and example
    std::map<selflearn::projected_example, std::string> gold_of_;  ///< gold annotation of an example's text
    selflearn::rewrite_miner miner_;
    std::vector<selflearn::projected_example> produced_;           ///< examples of the current session
    std::vector<selflearn::turn> session_turns_;                   ///< the session as the miner sees it
    std::vector<std::optional<double>> log_scores_;                 ///< with scores from the log
    std::vector<char> friction_flags_;                              ///< friction of each turn of the session
    /// Gold bookkeeping (only for logs with gold fields), per distinct utterance: the goals each normalised
    /// text was said for, and the intents that succeeded for each goal.
    std::unordered_map<std::string, std::unordered_map<std::string, std::uint32_t>> goals_of_text_;
    std::unordered_map<std::string, std::map<std::string, std::uint32_t>> intents_of_goal_;
    /// Failure points: the rephrase-labelled defects (for calibration), and the defects left to the signals
    /// with their request keys and signals only (placed once the floors are known). O(defects) small records.
    std::vector<selflearn::labelled_defect> labelled_;
    std::vector<std::pair<std::string, selflearn::turn>> unplaced_;
    results results_;
};

}  // namespace pipeline
