#include "pipeline.hpp"

#include <selflearn/align.hpp>
#include <selflearn/annotation.hpp>
#include <selflearn/rewrite.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <span>
#include <stdexcept>
#include <tuple>
#include <unordered_set>

namespace pipeline {

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

// The most frequent key of a count map (ties: the smallest key, whatever the map's order), or nullopt when
// it is empty.
template <class Counts>
std::optional<std::string> most_frequent_key(const Counts& counts) {
    const typename Counts::value_type* best = nullptr;
    for (const auto& entry : counts) {
        if (best == nullptr || entry.second > best->second || (entry.second == best->second && entry.first < best->first)) {
            best = &entry;
        }
    }
    if (best == nullptr) return std::nullopt;
    return best->first;
}

// The majority goal of a text, or nullopt when the text has none.
std::optional<std::string> majority_goal(
    const std::unordered_map<std::string, std::unordered_map<std::string, std::uint32_t>>& goals, const std::string& text) {
    const auto it = goals.find(text);
    if (it == goals.end()) return std::nullopt;
    return most_frequent_key(it->second);
}

// Reasons a projection was rejected, in a few words: the status of the first slot that caused it.
std::string rejection_reason(const selflearn::projection_result& r) {
    for (const auto& d : r.details) {
        if (d.status == selflearn::slot_status::unmapped) return "a slot found no word";
        if (d.status == selflearn::slot_status::split) return "a slot landed on words apart";
    }
    return "other";
}

}  // namespace

runner::runner(settings s, scorer_choice scorer, friction_choice friction)
    : settings_(std::move(s)),
      scorer_(std::move(scorer)),
      friction_(std::move(friction)),
      projector_(settings_.projection),
      miner_(settings_.rewrite) {
    selflearn::validate(settings_.window);
    if (!friction_.friction) throw std::invalid_argument("pipeline::runner: no friction detector");
    results_.scorer = scorer_.description;
    results_.detector = friction_.description;
}

runner::~runner() = default;

double runner::score(const std::vector<cli::log_turn>& turns, std::size_t earlier, std::size_t later) const {
    if (scorer_.score) return scorer_.score(turns[earlier].turn, turns[later].turn);
    if (later != earlier + 1) return 0.0;
    return turns[later].rephrase_score.value_or(0.0);
}

void runner::place_failure(const std::vector<cli::log_turn>& turns, std::size_t i, std::optional<std::size_t> fixed) {
    const auto& failed = turns[i].turn;
    std::string request = selflearn::normalize_utterance(failed.text);
    if (fixed) {
        const auto p = selflearn::isolate_by_rephrase(failed, turns[*fixed].turn);
        if (p.stage) {
            labelled_.push_back(selflearn::label_defect(failed, *p.stage));
            results_.failures.blame.add(request, p.stage);
            ++results_.failures.by_rephrase;
            return;
        }
    }
    // Only the signals are kept, for isolate_by_conditional_signals once the floors are calibrated.
    selflearn::turn signals;
    signals.asr_confidence = failed.asr_confidence;
    signals.confidence = failed.confidence;
    signals.resolution = failed.resolution;
    signals.status = failed.status;
    unplaced_.emplace_back(std::move(request), std::move(signals));
}

void runner::add_session(std::vector<cli::log_turn>& turns) {
    auto& counts = results_.counts;
    ++counts.sessions;
    counts.turns += turns.size();
    const std::size_t n = turns.size();

    for (const auto& t : turns) {
        if (!t.gold_goal) continue;
        results_.gold.available = true;
        ++goals_of_text_[selflearn::normalize_utterance(t.turn.text)][*t.gold_goal];
        if (t.turn.intent && t.turn.outcome == selflearn::turn_outcome::success) {
            ++intents_of_goal_[*t.gold_goal][*t.turn.intent];
        }
    }

    std::vector<double> times(n);
    for (std::size_t i = 0; i < n; ++i) times[i] = turns[i].turn.time;
    auto& friction = friction_flags_;
    friction.resize(n);
    for (std::size_t i = 0; i < n; ++i) friction[i] = friction_.friction(turns[i].turn) ? 1 : 0;

    // Each friction turn: its first successful rephrase in the window lends its labels to the failed words.
    produced_.clear();
    for (std::size_t i = 0; i < n; ++i) {
        const auto range = selflearn::candidates_of_unchecked(times, i, settings_.window);
        counts.candidate_pairs += range.size();
        if (friction[i] == 0) continue;
        ++counts.friction_turns;
        counts.friction_candidates += range.size();
        std::optional<std::size_t> fixed;  // the first successful rephrase: for the failure point
        for (std::size_t j = range.first; j < range.last; ++j) {
            const bool rephrase = score(turns, i, j) >= settings_.paraphrase_threshold;
            if (rephrase && friction[j] == 0 && !fixed) fixed = j;
            if (turns[i].gold_goal && turns[j].gold_goal) {
                const bool same = *turns[i].gold_goal == *turns[j].gold_goal;
                if (rephrase && same) ++results_.gold.pairs_true_positive;
                if (rephrase && !same) ++results_.gold.pairs_false_positive;
                if (!rephrase && same) ++results_.gold.pairs_false_negative;
            }
            if (!rephrase) continue;
            ++counts.paraphrase_pairs;
            const auto& success = turns[j].turn;
            if (friction[j] != 0 || !success.annotation || !success.intent) continue;
            ++counts.successful_paraphrases;
            ++counts.projections;
            const auto source = selflearn::parse_markup_tokens(*success.annotation);
            const auto& target_text = turns[i].turn.text;
            const auto target = selflearn::tokenize(target_text);
            const auto result = projector_.project(source, target);
            if (!result.accepted) {
                ++counts.rejections[rejection_reason(result)];
                break;
            }
            ++counts.projections_accepted;
            produced_.push_back({target_text, *selflearn::projected_markup(target_text, target, result), *success.intent});
            // Gold: the failed turn's gold_annotation, or (a compact simulated log) its correct annotation.
            if (turns[i].gold_goal) {
                const auto& gold = turns[i].gold_annotation ? turns[i].gold_annotation : turns[i].turn.annotation;
                if (gold) {
                    // The smallest gold annotation of the text, whatever order the sessions come in.
                    auto [it, inserted] = gold_of_.try_emplace(produced_.back(), *gold);
                    if (!inserted && *gold < it->second) it->second = *gold;
                }
            }
            break;
        }
        place_failure(turns, i, fixed);
    }
    // Corroboration: the session reader hands over each session once and whole, so one vote per session
    // and example counts distinct sessions without keeping their ids.
    votes_.add_session(produced_);

    // Rewrite mining: the same friction and paraphrase decisions, on consecutive turns. The log's turns are
    // not needed after this, so the miner's view of them takes their strings.
    const auto counting = clock_type::now();
    session_turns_.clear();
    for (auto& t : turns) session_turns_.push_back(std::move(t.turn));
    if (scorer_.score) {
        miner_.add_session(session_turns_, friction, scorer_.score);
    } else {
        log_scores_.assign(n, std::nullopt);
        for (std::size_t i = 1; i < n; ++i) log_scores_[i] = turns[i].rephrase_score;
        miner_.add_session(session_turns_, log_scores_, friction);
    }
    results_.time.rewrite_counting += seconds_since(counting);
}

results runner::finish() {
    auto& counts = results_.counts;
    auto& gold = results_.gold;
    const auto start = clock_type::now();

    counts.distinct_examples = votes_.size();
    votes_.for_each([&](const selflearn::projected_example& example, std::size_t support) {
        ++results_.support_histogram[support];
        if (support < settings_.min_support) return;
        std::optional<std::string> gold_annotation;
        if (auto it = gold_of_.find(example); it != gold_of_.end()) gold_annotation = it->second;
        results_.training.push_back({example.text, example.markup, example.intent, support, std::move(gold_annotation)});
    });
    counts.training_examples = results_.training.size();

    for (const auto& t : results_.training) {
        if (!t.gold) continue;
        const auto predicted = selflearn::parse_markup(t.annotation);
        const auto expected = selflearn::parse_markup(*t.gold);
        ++gold.examples_scored;
        gold.slots_predicted += predicted.slots.size();
        gold.slots_gold += expected.slots.size();
        if (predicted.text == expected.text) {
            std::size_t correct = 0;
            for (const auto& s : predicted.slots) {
                correct += static_cast<std::size_t>(
                    std::count(expected.slots.begin(), expected.slots.end(), s));
            }
            gold.slots_correct += correct;
            if (predicted.slots == expected.slots) ++gold.examples_exact;
        }
        if (auto goal = majority_goal(goals_of_text_, selflearn::normalize_utterance(t.text))) {
            if (auto intents = intents_of_goal_.find(*goal); intents != intents_of_goal_.end()) {
                ++gold.intents_scored;
                if (most_frequent_key(intents->second) == t.intent) ++gold.intents_correct;
            }
        }
    }
    results_.time.corroboration = seconds_since(start);

    const auto solving = clock_type::now();
    for (const auto& rule : miner_.rewrites()) {
        results_.rewrites.push_back({rule.request_text, rule.rewrite_text, rule.request, rule.rewrite, rule.probability,
                                     rule.success_probability, rule.expected_steps,
                                     static_cast<std::size_t>(rule.support), std::nullopt, rule.confidence,
                                     rule.lower_bound, rule.served_successes, rule.served_failures});
    }
    counts.rewrites = results_.rewrites.size();
    counts.rewrite_states = miner_.counts().utterance_count();
    counts.rewrite_links = miner_.rephrases();
    results_.time.rewrite_solve = seconds_since(solving);

    // A rewrite wins when the user who said it meant the request's goal: the request's majority goal is
    // among the goals its text was said for (corpora repeat texts under several goal ids).
    for (auto& r : results_.rewrites) {
        const auto request_goal = majority_goal(goals_of_text_, r.request_key);
        const auto said_for = goals_of_text_.find(r.rewrite_key);
        if (!request_goal || said_for == goals_of_text_.end()) {
            ++gold.rewrite_unknown;
            continue;
        }
        r.wins = said_for->second.contains(*request_goal);
        ++(*r.wins ? gold.rewrite_wins : gold.rewrite_losses);
    }

    // Where defects come from: the signal floors calibrated on the rephrase-labelled defects place the rest.
    auto& blamed = results_.failures;
    blamed.floors = selflearn::calibrate_conditional_thresholds(labelled_);
    for (const auto& [request, signals] : unplaced_) {
        blamed.blame.add(request, selflearn::isolate_by_conditional_signals(signals, blamed.floors).stage);
        ++blamed.by_signals;
    }
    labelled_.clear();
    unplaced_.clear();

    // Coverage of what fails most: requests with at least frequent_failures friction turns, more than their
    // other turns.
    std::unordered_set<std::string> trained, rewritten;
    for (const auto& t : results_.training) trained.insert(selflearn::normalize_utterance(t.text));
    for (const auto& r : results_.rewrites) rewritten.insert(r.request_key);
    // The miner counted every turn once, as a transition out of its text: to success at itself when it
    // caused no friction, else to failure or to its rephrase.
    std::unordered_map<std::string_view, std::pair<double, double>> outcomes;  // (friction turns, others)
    miner_.counts().for_each_transition(
        [&](std::string_view from, selflearn::rewrite_target kind, std::string_view, double count) {
            auto& [failures, others] = outcomes[from];
            (kind == selflearn::rewrite_target::success ? others : failures) += count;
        });
    for (const auto& [request, outcome] : outcomes) {
        const auto [failures, others] = outcome;
        if (failures < settings_.frequent_failures || failures <= others) continue;
        ++counts.frequent_requests;
        if (trained.contains(std::string(request))) ++counts.frequent_with_training;
        if (rewritten.contains(std::string(request))) ++counts.frequent_with_rewrite;
    }
    return std::move(results_);
}

}  // namespace pipeline
