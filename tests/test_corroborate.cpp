#include <selflearn/corroborate.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

using selflearn::corroborated_example;
using selflearn::corroboration;
using selflearn::projected_example;

namespace {

projected_example example(const std::string& text, const std::string& markup, const std::string& intent) {
    return {text, markup, intent};
}

// Reference: the list of (example, session) events, deduplicated, counted per example.
std::vector<corroborated_example> reference(std::vector<std::pair<projected_example, std::string>> events,
                                            std::size_t k) {
    std::sort(events.begin(), events.end());
    events.erase(std::unique(events.begin(), events.end()), events.end());
    std::vector<corroborated_example> result;
    for (std::size_t i = 0; i < events.size();) {
        std::size_t j = i;
        std::vector<std::string> sessions;
        while (j < events.size() && events[j].first == events[i].first) sessions.push_back(events[j++].second);
        if (sessions.size() >= k) result.push_back({events[i].first, sessions.size(), sessions});
        i = j;
    }
    return result;
}

}  // namespace

TEST_CASE("support counts distinct sessions, not pairs") {
    corroboration c;
    const auto a = example("play maj and dragons", "play [artist : maj and dragons]", "PlayMusic");
    CHECK(c.add(a, "s1"));
    CHECK_FALSE(c.add(a, "s1"));  // the same session twice is one vote
    CHECK(c.add(a, "s2"));
    CHECK(c.support(a) == 2);
    CHECK(c.support(example("play maj and dragons", "play maj and [artist : dragons]", "PlayMusic")) == 0);
    CHECK(c.size() == 1);

    const auto kept = c.supported(2);
    REQUIRE(kept.size() == 1);
    CHECK(kept[0].example == a);
    CHECK(kept[0].support == 2);
    CHECK(kept[0].sessions == std::vector<std::string>{"s1", "s2"});
    CHECK(c.supported(3).empty());
}

TEST_CASE("the key is text, markup and intent: a different projection or intent is a different example") {
    corroboration c;
    c.add(example("book a table", "book a [party : table]", "BookRestaurant"), "s1");
    c.add(example("book a table", "book a table", "BookRestaurant"), "s2");
    c.add(example("book a table", "book a table", "RateBook"), "s3");
    CHECK(c.size() == 3);
    CHECK(c.supported(2).empty());
    const auto all = c.supported(1);
    REQUIRE(all.size() == 3);
    // sorted by text, then markup, then intent (byte order)
    CHECK(all[0].example.markup == "book a [party : table]");
    CHECK(all[1].example.intent == "BookRestaurant");
    CHECK(all[2].example.intent == "RateBook");
}

TEST_CASE("bad arguments are reported") {
    corroboration c;
    CHECK_THROWS_AS(c.add(example("a", "a", "i"), ""), selflearn::invalid_argument);
    CHECK_THROWS_WITH_AS(static_cast<void>(c.supported(0)),
                         doctest::Contains("k must be at least 1"), selflearn::invalid_argument);
    CHECK(c.empty());
}

TEST_CASE("merging shards equals counting everything in one place, in any order (random cases)") {
    std::mt19937_64 rng(20240611);
    for (int round = 0; round < 200; ++round) {
        const std::size_t event_count = rng() % 60;
        const std::size_t shard_count = 1 + rng() % 4;
        std::vector<std::pair<projected_example, std::string>> events;
        std::vector<corroboration> shards(shard_count);
        corroboration whole;
        for (std::size_t e = 0; e < event_count; ++e) {
            const auto text = "t" + std::to_string(rng() % 3);
            const auto markup = "m" + std::to_string(rng() % 2);
            const auto intent = "i" + std::to_string(rng() % 2);
            const auto session = "s" + std::to_string(rng() % 7);
            events.push_back({example(text, markup, intent), session});
            shards[rng() % shard_count].add(events.back().first, session);
            whole.add(events.back().first, session);
        }
        corroboration merged;
        std::vector<std::size_t> order(shard_count);
        for (std::size_t s = 0; s < shard_count; ++s) order[s] = s;
        std::shuffle(order.begin(), order.end(), rng);
        for (std::size_t s : order) merged.merge(shards[s]);
        merged.merge(merged);  // merging with itself changes nothing
        if (shard_count > 1) merged.merge(shards[0]);  // nor does merging a shard twice
        for (std::size_t k = 1; k <= 4; ++k) {
            const auto expected = reference(events, k);
            CHECK(whole.supported(k) == expected);
            CHECK(merged.supported(k) == expected);
        }
        for (const auto& [ex, session] : events) CHECK(merged.support(ex) == whole.support(ex));
    }
}

TEST_CASE("session_votes: on a stream of whole sessions, the support equals corroboration's, sharded or not") {
    std::mt19937_64 rng(7);
    const std::vector<projected_example> pool = {
        example("play maj and dragons", "play [artist : maj and dragons]", "PlayMusic"),
        example("play maj and dragons", "play maj and [artist : dragons]", "PlayMusic"),
        example("play maj and dragons", "play [artist : maj and dragons]", "AddToPlaylist"),
        example("wake me at six", "wake me at [time : six]", "SetAlarm"),
        example("book a table", "book a table", "BookRestaurant")};
    for (int round = 0; round < 50; ++round) {
        corroboration reference_votes;
        selflearn::session_votes whole, shard_a, shard_b;
        const std::size_t sessions = 1 + rng() % 40;
        for (std::size_t s = 0; s < sessions; ++s) {
            std::vector<projected_example> produced;
            const std::size_t count = rng() % 4;  // a session may produce nothing, or one example twice
            for (std::size_t k = 0; k < count; ++k) produced.push_back(pool[rng() % pool.size()]);
            const std::string id = "s" + std::to_string(s);
            for (const auto& e : produced) reference_votes.add(e, id);
            whole.add_session(produced);
            (s % 3 == 0 ? shard_a : shard_b).add_session(produced);
        }
        shard_a.merge(shard_b);
        CHECK(whole.sessions() == sessions);
        CHECK(shard_a.sessions() == sessions);
        CHECK(whole.size() == reference_votes.size());
        for (const auto& e : pool) {
            CHECK(whole.support(e) == reference_votes.support(e));
            CHECK(shard_a.support(e) == reference_votes.support(e));
        }
        for (std::size_t k = 1; k <= 3; ++k) {
            const auto expected = reference_votes.supported(k);
            const auto got = whole.supported(k);
            REQUIRE(got.size() == expected.size());
            for (std::size_t i = 0; i < got.size(); ++i) {
                CHECK(got[i].first == expected[i].example);
                CHECK(got[i].second == expected[i].support);
            }
        }
    }
    CHECK_THROWS_AS((void)selflearn::session_votes{}.supported(0), selflearn::invalid_argument);
}

TEST_CASE("session_votes: merging an aggregator with itself doubles every vote") {
    selflearn::session_votes v;
    const std::vector<projected_example> one = {example("a b", "a [x : b]", "I"), example("a b", "a [x : b]", "I")};
    v.add_session(one);
    v.merge(v);
    CHECK(v.support(one[0]) == 2);
    CHECK(v.sessions() == 2);
}
