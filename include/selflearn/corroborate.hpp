#pragma once
/// \file selflearn/corroborate.hpp
/// Corroboration of projected examples: a projected annotation is kept only when enough independent
/// rephrase pairs (pairs from distinct sessions) produced exactly the same example. The paper this library
/// follows keeps an automatically annotated long-tail utterance only above such a support threshold.
///
/// Two aggregators:
/// - `corroboration` keeps sets of session ids, so aggregators built on different shards of a log merge by
///   set union: the merged support of an example is the number of distinct sessions over all shards,
///   whether the shards were split by session, by example or at random. Memory grows with the log.
/// - `session_votes` is for a stream in which every session comes once, whole (a session log read by
///   session, or shards split by session): one vote per session and example, a count per example. Memory
///   grows with the distinct examples only; shards merge by addition.

#include <selflearn/error.hpp>

#include <algorithm>
#include <compare>
#include <cstddef>
#include <iterator>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/core.h>

namespace selflearn {

/// The key of a projected example: the target (failed) utterance's plain text, its projected slot markup
/// and the intent carried over from the successful rephrase. Ordered field by field (text, markup, intent).
struct projected_example {
    std::string text;    ///< plain text of the failed utterance
    std::string markup;  ///< its projected `[label : value]` markup
    std::string intent;  ///< intent of the successful rephrase

    friend bool operator==(const projected_example&, const projected_example&) = default;
    friend auto operator<=>(const projected_example&, const projected_example&) = default;
};

/// A projected example with the distinct sessions that support it.
struct corroborated_example {
    projected_example example;
    std::size_t support;                ///< number of distinct sessions, sessions.size()
    std::vector<std::string> sessions;  ///< the session ids, sorted ascending (byte order)

    friend bool operator==(const corroborated_example&, const corroborated_example&) = default;
};

/// Counts, for each projected example, the distinct sessions that produced it, and keeps those with
/// support >= k. Deterministic: results are sorted by example (text, then markup, then intent) and sessions
/// by id, whatever the order of add() and merge() calls. Memory: one entry per distinct (example, session).
class corroboration {
public:
    /// Records that session `session` produced `example`. Returns true when this session is new for this
    /// example (the support grew), false for a repeat. O(log examples + log sessions of the example).
    /// \throws invalid_argument when `session` is empty.
    bool add(const projected_example& example, std::string_view session) {
        if (session.empty()) {
            throw invalid_argument(fmt::format("corroboration::add: empty session id for the example '{}'",
                                               example.markup));
        }
        auto it = entries_.find(example);
        if (it == entries_.end()) it = entries_.emplace(example, session_set{}).first;
        if (it->second.contains(session)) return false;
        it->second.emplace(session);
        return true;
    }

    /// Adds every (example, session) of `other` to this aggregator: the support of an example becomes the
    /// number of distinct sessions in the union. O(entries of other * log).
    void merge(const corroboration& other) {
        if (&other == this) return;
        for (const auto& [example, sessions] : other.entries_) {
            auto& mine = entries_[example];
            mine.insert(sessions.begin(), sessions.end());
        }
    }

    /// Number of distinct sessions that produced `example` (0 when never seen). O(log examples).
    [[nodiscard]] std::size_t support(const projected_example& example) const {
        auto it = entries_.find(example);
        return it == entries_.end() ? 0 : it->second.size();
    }

    /// Number of distinct examples seen. O(1).
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

    /// True when nothing was added. O(1).
    [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }

    /// The examples with support >= `k`, sorted by example, each with its sorted session ids.
    /// O(examples + size of the result).
    /// \throws invalid_argument when `k` is 0 (every example has support >= 1; ask for k = 1).
    [[nodiscard]] std::vector<corroborated_example> supported(std::size_t k) const {
        if (k == 0) throw invalid_argument("corroboration::supported: the support threshold k must be at least 1");
        std::vector<corroborated_example> result;
        for (const auto& [example, sessions] : entries_) {
            if (sessions.size() < k) continue;
            result.push_back({example, sessions.size(), std::vector<std::string>(sessions.begin(), sessions.end())});
        }
        return result;
    }

private:
    using session_set = std::set<std::string, std::less<>>;
    std::map<projected_example, session_set> entries_;
};

/// One vote per session and example, for a stream in which each session comes once and whole: the support
/// of an example is the number of sessions that produced it, counted without keeping session ids. Memory:
/// one counter per distinct example, however long the log. Deterministic: results are sorted by example.
/// Shards of a log split by session merge by addition (`merge`); shards that split a session would count
/// it twice, which `corroboration` avoids at the price of memory.
class session_votes {
public:
    /// Records the examples that one session produced; an example listed several times counts once.
    /// O(e log e + e log examples) for e examples. Never throws but std::bad_alloc.
    void add_session(std::span<const projected_example> examples) {
        scratch_.assign(examples.begin(), examples.end());
        std::sort(scratch_.begin(), scratch_.end());
        scratch_.erase(std::unique(scratch_.begin(), scratch_.end()), scratch_.end());
        for (auto& e : scratch_) ++counts_[std::move(e)];
        ++sessions_;
    }

    /// Adds the votes of another aggregator built on other sessions. O(examples of other * log).
    void merge(const session_votes& other) {
        if (&other == this) {
            for (auto& [example, votes] : counts_) votes *= 2;
            sessions_ *= 2;
            return;
        }
        for (const auto& [example, votes] : other.counts_) counts_[example] += votes;
        sessions_ += other.sessions_;
    }

    /// Sessions that produced `example` (0 when never seen). O(log examples).
    [[nodiscard]] std::size_t support(const projected_example& example) const {
        auto it = counts_.find(example);
        return it == counts_.end() ? 0 : it->second;
    }

    /// Number of distinct examples seen. O(1).
    [[nodiscard]] std::size_t size() const noexcept { return counts_.size(); }
    /// Number of sessions recorded (including those that produced no example). O(1).
    [[nodiscard]] std::size_t sessions() const noexcept { return sessions_; }

    /// Calls f(const projected_example&, std::size_t support) for every example, sorted by example.
    /// O(examples).
    template <class F>
    void for_each(F&& f) const {
        for (const auto& [example, votes] : counts_) f(example, votes);
    }

    /// The examples with support >= `k` and their support, sorted by example. O(examples).
    /// \throws invalid_argument when `k` is 0.
    [[nodiscard]] std::vector<std::pair<projected_example, std::size_t>> supported(std::size_t k) const {
        if (k == 0) throw invalid_argument("session_votes::supported: the support threshold k must be at least 1");
        std::vector<std::pair<projected_example, std::size_t>> result;
        for (const auto& [example, votes] : counts_) {
            if (votes >= k) result.emplace_back(example, votes);
        }
        return result;
    }

private:
    std::map<projected_example, std::size_t> counts_;
    std::vector<projected_example> scratch_;
    std::size_t sessions_ = 0;
};

}  // namespace selflearn
