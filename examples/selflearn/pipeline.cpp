#include "pipeline.hpp"

#include <selflearn/align.hpp>
#include <selflearn/annotation.hpp>
#include <selflearn/rewrite.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <tuple>

namespace pipeline {

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

// The majority goal of a text (ties: the smallest goal id), or nullopt when the text has none.
std::optional<std::string> majority_goal(
    const std::unordered_map<std::string, std::unordered_map<std::string, std::uint32_t>>& goals, const std::string& text) {
    auto it = goals.find(text);
    if (it == goals.end() || it->second.empty()) return std::nullopt;
    std::string best;
    std::uint32_t best_count = 0;
    for (const auto& [goal, count] : it->second) {
        if (count > best_count || (count == best_count && goal < best)) {
            best = goal;
            best_count = count;
        }
    }
    return best;
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

double lexical_scorer::score(const session_view& session, std::size_t earlier, std::size_t later) {
    const auto& a = session.words[earlier];
    const auto& b = session.words[later];
    const std::size_t longest = std::max(a.size(), b.size());
    if (longest == 0) return 1.0;
    const double d = selflearn::weighted_distance(a, b, 1.0, 1.0, [](std::string_view x, std::string_view y) {
        return selflearn::levenshtein_normalized_distance(x, y);
    });
    return 1.0 - d / static_cast<double>(longest);
}

std::string lexical_scorer::describe() const {
    return "words: 1 - D / max(m, n), D the word-level edit distance with soft substitution costs";
}

double character_scorer::score(const session_view& session, std::size_t earlier, std::size_t later) {
    return selflearn::lexical_rephrase_scorer::similarity(session.normalized[earlier], session.normalized[later]);
}

double log_scorer::score(const session_view& session, std::size_t earlier, std::size_t later) {
    if (later != earlier + 1) return 0.0;
    return (*session.turns)[later].rephrase_score.value_or(0.0);
}

std::string log_scorer::describe() const {
    return "log: the paraphrase model's rephrase_score carried by each turn (adjacent turns only)";
}

std::string character_scorer::describe() const {
    return "chars: Levenshtein similarity of the normalised texts' code points (as selflearn mine)";
}

bool outcome_detector::friction(const selflearn::turn& t) const { return t.outcome == selflearn::turn_outcome::defect; }

std::string outcome_detector::describe() const { return "outcome: a turn with outcome \"defect\""; }

bool confidence_detector::friction(const selflearn::turn& t) const {
    return t.outcome == selflearn::turn_outcome::defect || (t.confidence && *t.confidence < floor_);
}

std::string confidence_detector::describe() const {
    return fmt::format("confidence: a turn with outcome \"defect\" or confidence below {}", floor_);
}

struct runner::rewrite_state {
    selflearn::rewrite_miner miner;
    std::vector<selflearn::turn> turns;             // the session as the miner sees it
    std::vector<std::optional<double>> scores;      // scores[i]: turn i rephrases turn i - 1
};

runner::runner(settings s, std::unique_ptr<paraphrase_scorer> scorer, std::unique_ptr<friction_detector> detector)
    : settings_(std::move(s)),
      scorer_(std::move(scorer)),
      detector_(std::move(detector)),
      projector_(settings_.projection),
      rewrite_(std::make_unique<rewrite_state>(rewrite_state{selflearn::rewrite_miner(settings_.rewrite), {}, {}})) {
    selflearn::validate(settings_.window);
    results_.scorer = scorer_->describe();
    results_.detector = detector_->describe();
}

runner::~runner() = default;

void runner::tokenize_turn(session_view& view, std::size_t i) {
    if (view.done[i]) return;
    view.done[i] = true;
    view.tokens[i] = selflearn::tokenize((*view.turns)[i].turn.text, {.fold_case = true});
    view.words[i].reserve(view.tokens[i].size());
    for (const auto& t : view.tokens[i]) {
        view.words[i].emplace_back(t.text);
        if (!view.normalized[i].empty()) view.normalized[i] += ' ';
        view.normalized[i] += t.text;
    }
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
            intent_of_goal_.try_emplace(*t.gold_goal, *t.turn.intent);
        }
    }

    std::vector<double> times(n);
    for (std::size_t i = 0; i < n; ++i) times[i] = turns[i].turn.time;
    session_view view{&turns, std::vector<std::vector<selflearn::token>>(n), std::vector<std::vector<std::string_view>>(n),
                      std::vector<std::string>(n), std::vector<bool>(n)};
    std::vector<bool> friction(n);
    for (std::size_t i = 0; i < n; ++i) friction[i] = detector_->friction(turns[i].turn);

    // One vote per session and example, with the gold annotation of the failed turn when the log has one.
    std::map<selflearn::projected_example, std::optional<std::string>> produced;
    for (std::size_t i = 0; i < n; ++i) {
        const auto range = selflearn::candidates_of_unchecked(times, i, settings_.window);
        counts.candidate_pairs += range.size();
        if (!friction[i]) continue;
        ++counts.friction_turns;
        counts.friction_candidates += range.size();
        for (std::size_t j = range.first; j < range.last; ++j) {
            tokenize_turn(view, i);
            tokenize_turn(view, j);
            const bool rephrase = scorer_->score(view, i, j) >= settings_.paraphrase_threshold;
            if (turns[i].gold_goal && turns[j].gold_goal) {
                const bool same = *turns[i].gold_goal == *turns[j].gold_goal;
                if (rephrase && same) ++results_.gold.pairs_true_positive;
                if (rephrase && !same) ++results_.gold.pairs_false_positive;
                if (!rephrase && same) ++results_.gold.pairs_false_negative;
            }
            if (!rephrase) continue;
            ++counts.paraphrase_pairs;
            const auto& success = turns[j].turn;
            if (friction[j] || !success.annotation || !success.intent) continue;
            // The first successful rephrase in the window: project its labels onto the failed request.
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
            selflearn::projected_example example{target_text, *selflearn::projected_markup(target_text, target, result),
                                                 *success.intent};
            auto& gold = produced[std::move(example)];
            // Gold: the failed turn's gold_annotation, or (a compact simulated log) its correct annotation.
            if (!gold && turns[i].gold_goal) {
                gold = turns[i].gold_annotation ? turns[i].gold_annotation : turns[i].turn.annotation;
            }
            break;
        }
    }
    // Corroboration over distinct sessions: the log reader guarantees that a session's turns come together
    // and that a session never comes back, so one vote per session and example counts distinct sessions
    // without keeping their ids (memory grows with the distinct examples, not with the log).
    for (auto& [example, gold] : produced) {
        auto& entry = examples_[example];
        ++entry.support;
        if (!entry.gold && gold) entry.gold = std::move(gold);
    }

    // Rewrite mining: the same friction and paraphrase decisions, on consecutive turns.
    const auto counting = clock_type::now();
    auto& rw = *rewrite_;
    rw.turns.clear();
    rw.scores.assign(n, std::nullopt);
    for (std::size_t i = 0; i < n; ++i) {
        rw.turns.push_back(turns[i].turn);
        rw.turns.back().outcome = friction[i] ? selflearn::turn_outcome::defect : selflearn::turn_outcome::success;
        if (i > 0 && friction[i - 1] && times[i] - times[i - 1] <= settings_.rewrite.window) {
            tokenize_turn(view, i - 1);
            tokenize_turn(view, i);
            rw.scores[i] = scorer_->score(view, i - 1, i);
        }
    }
    rw.miner.add_session(rw.turns, rw.scores);
    results_.time.rewrite_counting += seconds_since(counting);
}

results runner::finish() {
    auto& counts = results_.counts;
    auto& gold = results_.gold;
    const auto start = clock_type::now();

    counts.distinct_examples = examples_.size();
    for (const auto& [example, entry] : examples_) {
        ++results_.support_histogram[entry.support];
        if (entry.support < settings_.min_support) continue;
        results_.training.push_back({example.text, example.markup, example.intent, entry.support, entry.gold});
    }
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
            if (auto intent = intent_of_goal_.find(*goal); intent != intent_of_goal_.end()) {
                ++gold.intents_scored;
                if (intent->second == t.intent) ++gold.intents_correct;
            }
        }
    }
    results_.time.corroboration = seconds_since(start);

    const auto solving = clock_type::now();
    for (const auto& rule : rewrite_->miner.rewrites()) {
        results_.rewrites.push_back({rule.request, rule.rewrite, rule.probability, rule.success_probability,
                                     rule.expected_steps, static_cast<std::size_t>(rule.support), std::nullopt});
    }
    counts.rewrites = results_.rewrites.size();
    counts.rewrite_states = rewrite_->miner.counts().utterance_count();
    counts.rewrite_links = rewrite_->miner.rephrases();
    results_.time.rewrite_solve = seconds_since(solving);

    // A rewrite wins when the user who said it meant the request's goal: the request's majority goal is
    // among the goals its text was said for (corpora repeat texts under several goal ids).
    for (auto& r : results_.rewrites) {
        const auto request_goal = majority_goal(goals_of_text_, r.request);
        const auto said_for = goals_of_text_.find(r.rewrite);
        if (!request_goal || said_for == goals_of_text_.end()) {
            ++gold.rewrite_unknown;
            continue;
        }
        r.wins = said_for->second.contains(*request_goal);
        ++(*r.wins ? gold.rewrite_wins : gold.rewrite_losses);
    }
    return std::move(results_);
}

}  // namespace pipeline
