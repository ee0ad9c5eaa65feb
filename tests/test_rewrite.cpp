// Rewrite mining: hand-made logs with answers worked out by hand, random logs against a brute-force
// reference kept below (runs re-derived turn by turn, absorption probabilities by value iteration rather
// than LU), sharded counting against the single run, and every error case.

#include <selflearn/rewrite.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace {

using selflearn::rewrite_counts;
using selflearn::rewrite_miner;
using selflearn::rewrite_options;
using selflearn::rewrite_rule;
using selflearn::rewrite_target;
using selflearn::turn;
using selflearn::turn_outcome;

constexpr auto ok = turn_outcome::success;
constexpr auto bad = turn_outcome::defect;

turn make(const std::string& session, double time, const std::string& text, turn_outcome outcome) {
    turn t;
    t.session = session;
    t.time = time;
    t.text = text;
    t.outcome = outcome;
    return t;
}

// These logs are tiny: the tests of the point-estimate rule turn the confidence rule off (it has tests of its own).
std::vector<rewrite_rule> mine(const std::vector<std::vector<turn>>& sessions, rewrite_options options = {}) {
    options.confidence = 0.0;
    rewrite_miner miner(options);
    for (const auto& s : sessions) miner.add_session(s);
    return miner.rewrites();
}

}  // namespace

TEST_CASE("normalisation and the default character-similarity scorer") {
    CHECK(selflearn::normalize_utterance("  Play  Imagine Dragons!") == "play imagine dragons !");
    CHECK(selflearn::normalize_utterance("ÉDITH\tpiaf") == "édith piaf");
    CHECK(selflearn::normalize_utterance(" \t ").empty());
    const selflearn::character_similarity_scorer scorer;
    // "play maj and dragons" -> "play imagine dragons": 5 edits over 20 code points (python-Levenshtein
    // agrees: distance 5).
    CHECK(scorer(make("s", 0, "play maj and dragons", bad), make("s", 1, "Play Imagine Dragons", ok)) ==
          doctest::Approx(1.0 - 5.0 / 20.0));
    CHECK(scorer(make("s", 0, "play maj and dragons", bad), make("s", 1, "what's the weather", ok)) < 0.5);
    CHECK(scorer(make("s", 0, "Hi", bad), make("s", 1, "hi", ok)) == 1.0);
    // Code points, not bytes: one substitution of a two-byte letter.
    CHECK(selflearn::character_similarity_scorer::similarity("café", "cafe") == doctest::Approx(0.75));
}

TEST_CASE("a hand-made log: one rewrite with its probability, support and steps") {
    const std::vector<std::vector<turn>> log{
        {make("s1", 0, "play maj and dragons", bad), make("s1", 5, "play imagine dragons", ok)},
        {make("s2", 100, "Play maj and dragons", bad), make("s2", 104, "play Imagine Dragons", ok)},
        {make("s3", 0, "play maj and dragons", bad)},                                          // abandoned
        {make("s4", 0, "play maj and dragons", bad), make("s4", 10, "what's the weather", ok)},  // unrelated
    };
    rewrite_miner miner({.confidence = 0.0});
    for (const auto& s : log) miner.add_session(s);
    const auto& c = miner.counts();
    CHECK(c.transition_count("play maj and dragons", rewrite_target::utterance, "play imagine dragons") == 2);
    CHECK(c.transition_count("play maj and dragons", rewrite_target::failure, "") == 2);
    CHECK(c.transition_count("play imagine dragons", rewrite_target::success, "play imagine dragons") == 2);
    CHECK(c.transition_count("what ' s the weather", rewrite_target::success, "what ' s the weather") == 0);
    CHECK(c.transition_count("what's the weather", rewrite_target::success, "what's the weather") == 1);
    CHECK(c.support("play maj and dragons", "play imagine dragons") == 2);
    CHECK(c.utterance_count() == 3);
    CHECK(miner.sessions() == 4);
    CHECK(miner.turns() == 7);
    CHECK(miner.rephrases() == 2);
    const auto rules = miner.rewrites();
    REQUIRE(rules.size() == 1);
    // Users' own words: "play maj and dragons" was said 3 times and "Play maj and dragons" once; the two
    // spellings of the rewrite once each, and the tie goes to the smaller text in byte order.
    // Confidence: u's row has 4 transitions, e_v = 4 * 0.5 = 2 and e_u = 0, so P = P(Beta(3, 1) > 1/2) = 7/8.
    CHECK(rules[0] == rewrite_rule{"play maj and dragons", "play imagine dragons", 0.5, 2, 0.5, 1.5,
                                   "play maj and dragons", "play Imagine Dragons", rules[0].confidence,
                                   rules[0].lower_bound, 0, 0});
    CHECK(rules[0].confidence == doctest::Approx(0.875).epsilon(1e-12));
    // With confidence 0 the lower bound is the 1 quantile.
    CHECK(rules[0].lower_bound == doctest::Approx(1.0));
    // The default confidence 0.95 drops it: two sessions are not enough evidence.
    CHECK(selflearn::mine_rewrites(miner.counts()).empty());
    CHECK(selflearn::mine_rewrites(miner.counts(), {.confidence = 0.875}).size() == 1);
    CHECK(selflearn::mine_rewrites(miner.counts(), {.confidence = 0.876}).empty());
    // Support 2 is the default minimum; asking for 3 drops the rule, as does a probability floor of 0.6.
    CHECK(mine(log, {.min_support = 3}).empty());
    CHECK(mine(log, {.min_probability = 0.6}).empty());
    // s1's rephrase comes after 5 s, s2's after 4 s. The window is inclusive.
    CHECK(mine(log, {.window = 3.9, .min_support = 1}).empty());
    for (const double window : {4.0, 4.5}) {
        const auto only_s2 = mine(log, {.window = window, .min_support = 1});
        REQUIRE(only_s2.size() == 1);
        CHECK(only_s2[0].support == 1);
        CHECK(only_s2[0].probability == 0.25);  // one rephrase out of four runs from the request
    }
    CHECK(mine(log, {.window = 5.0})[0].support == 2);
    // A threshold above the pair's similarity (0.75) makes no rephrase at all; at 0.75 it still links.
    CHECK(mine(log, {.threshold = 0.76, .min_support = 1}).empty());
    CHECK(mine(log, {.threshold = 0.75}).size() == 1);
}

TEST_CASE("runs: a success ends a run, chains of rephrases, support once per session") {
    // u1 -> u2 -> v (success); u1 appears twice in the run; then v again (a new run) that fails.
    const std::vector<turn> s{make("s", 0, "turn on the lights", bad), make("s", 5, "turn on the light", bad),
                              make("s", 9, "turn on the lights", bad), make("s", 12, "turn on lights", ok),
                              make("s", 15, "turn on lights", bad)};
    rewrite_miner miner({.min_support = 1, .confidence = 0.0});
    miner.add_session(s);
    const auto& c = miner.counts();
    CHECK(c.transition_count("turn on the lights", rewrite_target::utterance, "turn on the light") == 1);
    CHECK(c.transition_count("turn on the light", rewrite_target::utterance, "turn on the lights") == 1);
    CHECK(c.transition_count("turn on the lights", rewrite_target::utterance, "turn on lights") == 1);
    CHECK(c.transition_count("turn on lights", rewrite_target::success, "turn on lights") == 1);
    CHECK(c.transition_count("turn on lights", rewrite_target::failure, "") == 1);  // not linked: after a success
    CHECK(c.support("turn on the lights", "turn on lights") == 1);                  // once, though u1 came twice
    CHECK(c.support("turn on the light", "turn on lights") == 1);
    CHECK(c.transition_size() == 5);
    CHECK(c.support_size() == 2);
    // Chain: lights -> {light 1/2, "on lights" 1/2}; light -> lights; "on lights" -> {S 1/2, F 1/2}.
    // B[lights, S(on lights)] = x: x = 1/2 x + 1/2 * 1/2  =>  x = 1/2.
    const auto rules = miner.rewrites();
    REQUIRE(rules.size() == 2);
    CHECK(rules[0].request == "turn on the light");
    CHECK(rules[0].rewrite == "turn on lights");
    CHECK(rules[0].probability == doctest::Approx(0.5).epsilon(1e-12));
    CHECK(rules[1].request == "turn on the lights");
    CHECK(rules[1].probability == doctest::Approx(0.5).epsilon(1e-12));
    // t_lights = 1 + 1/2 t_light + 1/2 t_on, t_light = 1 + t_lights, t_on = 1  =>  t_lights = 4.
    CHECK(rules[1].expected_steps == doctest::Approx(4.0).epsilon(1e-12));
    CHECK(rules[1].success_probability == doctest::Approx(0.5).epsilon(1e-12));
}

TEST_CASE("tie-breaking and the rule that a rewrite must beat the request itself") {
    // u -> v1 and u -> v2 once each (both succeed): equal probability and support: smaller text wins.
    const std::vector<std::vector<turn>> tie{
        {make("a", 0, "set alarm seven", bad), make("a", 3, "set alarm 7", ok)},
        {make("b", 0, "set alarm seven", bad), make("b", 3, "set an alarm seven", ok)},
    };
    auto rules = mine(tie, {.min_support = 1});
    REQUIRE(rules.size() == 1);
    CHECK(rules[0].rewrite == "set alarm 7");
    // Equal probabilities (two transitions each) but more distinct sessions for v2: v2 wins. Session a
    // goes u -> v1 twice (two runs, 200 s apart): count 2, support 1.
    const std::vector<std::vector<turn>> by_support{
        {make("a", 0, "set alarm seven", bad), make("a", 3, "set alarm 7", ok), make("a", 200, "set alarm seven", bad),
         make("a", 203, "set alarm 7", ok)},
        {make("b", 0, "set alarm seven", bad), make("b", 3, "set an alarm seven", ok)},
        {make("c", 0, "set alarm seven", bad), make("c", 3, "set an alarm seven", ok)},
    };
    rules = mine(by_support, {.min_support = 1});
    REQUIRE(rules.size() == 1);
    CHECK(rules[0].rewrite == "set an alarm seven");
    CHECK(rules[0].probability == 0.5);
    CHECK(rules[0].support == 2);
    // u succeeds on its own 3 times in 4; a rewrite with probability 1/4 does not beat that.
    const std::vector<std::vector<turn>> self{
        {make("a", 0, "lights off", ok)}, {make("b", 0, "lights off", ok)}, {make("c", 0, "lights off", ok)},
        {make("d", 0, "lights off", bad), make("d", 2, "lights of", ok)}};
    CHECK(mine(self, {.min_support = 1, .min_probability = 0.0}).empty());
}

namespace {

// Brute-force reference: a scorer given by groups (same group: a rephrase), runs re-derived turn by turn,
// the chain as maps, absorption probabilities by value iteration (x <- R + Q x from 0, which converges
// monotonically to B), and the rewrite rule applied literally.
struct reference_result {
    std::map<std::string, std::tuple<std::string, double, std::uint64_t, double>> rules;  // request -> rewrite, p, support, success
};

int group_of(const std::string& text) { return text[0] - 'a'; }  // utterances "a1", "a2", "b1", ...

struct group_scorer {
    double operator()(const turn& p, const turn& n) const { return group_of(p.text) == group_of(n.text) ? 1.0 : 0.0; }
};

reference_result reference_mining(const std::vector<std::vector<turn>>& sessions, const rewrite_options& o) {
    std::map<std::string, std::map<std::string, double>> out;  // from -> target ("U:x", "S:x", "F") -> count
    std::map<std::pair<std::string, std::string>, std::set<std::string>> support_sessions;
    std::set<std::string> failed;
    for (const auto& s : sessions) {
        std::vector<std::string> run;
        for (std::size_t i = 0; i < s.size(); ++i) {
            run.push_back(s[i].text);
            const bool linked = i + 1 < s.size() && s[i].outcome == bad && s[i + 1].time - s[i].time <= o.window &&
                                group_scorer{}(s[i], s[i + 1]) >= o.threshold;
            if (linked) {
                out[s[i].text]["U:" + s[i + 1].text] += 1;
                failed.insert(s[i].text);
                continue;
            }
            if (s[i].outcome == ok) {
                out[s[i].text]["S:" + s[i].text] += 1;
                for (std::size_t k = 0; k + 1 < run.size(); ++k) {
                    if (run[k] != s[i].text) support_sessions[{run[k], s[i].text}].insert(s[i].session);
                }
            } else {
                out[s[i].text]["F"] += 1;
                failed.insert(s[i].text);
            }
            run.clear();
        }
    }
    // Value iteration for B[u][S:v], until no entry moves by more than 1e-15 (the error is then far below
    // the 1e-9 of the comparison unless a loop keeps nearly all the mass, which these logs do not make).
    std::map<std::string, std::map<std::string, double>> b;
    for (int iteration = 0; iteration < 100000; ++iteration) {
        std::map<std::string, std::map<std::string, double>> next;
        for (const auto& [u, targets] : out) {
            double total = 0;
            for (const auto& [t, c] : targets) total += c;
            auto& row = next[u];
            for (const auto& [t, c] : targets) {
                const double p = c / total;
                if (t.starts_with("U:")) {
                    for (const auto& [a, x] : b[t.substr(2)]) row[a] += p * x;
                } else if (t.starts_with("S:")) {
                    row[t] += p;
                }
            }
        }
        double change = 0;
        for (const auto& [u, row] : next) {
            for (const auto& [a, x] : row) {
                const auto it = b[u].find(a);
                change = std::max(change, std::abs(x - (it == b[u].end() ? 0.0 : it->second)));
            }
        }
        b = std::move(next);
        if (change <= 1e-15) break;
    }
    reference_result result;
    for (const auto& u : failed) {
        std::string best;
        double best_p = -1, self = 0, success = 0;
        std::uint64_t best_support = 0;
        for (const auto& [a, x] : b[u]) {
            success += x;
            const std::string v = a.substr(2);
            if (v == u) {
                self = x;
                continue;
            }
            const auto it = support_sessions.find({u, v});
            const std::uint64_t sup = it == support_sessions.end() ? 0 : it->second.size();
            if (x > best_p + 1e-12 || (std::abs(x - best_p) <= 1e-12 && (sup > best_support || (sup == best_support && v < best)))) {
                best = v;
                best_p = x;
                best_support = sup;
            }
        }
        if (best.empty() || best_p < o.min_probability || best_support < o.min_support || !(best_p > self + 1e-12)) continue;
        result.rules[u] = {best, best_p, best_support, success};
    }
    return result;
}

std::vector<std::vector<turn>> random_log(std::mt19937_64& rng, std::size_t sessions) {
    std::vector<std::vector<turn>> log;
    for (std::size_t s = 0; s < sessions; ++s) {
        std::vector<turn> session;
        const std::size_t n = 1 + rng() % 5;
        double time = static_cast<double>(rng() % 100);
        char group = static_cast<char>('a' + rng() % 3);
        for (std::size_t i = 0; i < n; ++i) {
            if (rng() % 4 == 0) group = static_cast<char>('a' + rng() % 3);
            const std::string text = std::string(1, group) + std::to_string(rng() % 3);
            // The phrasing "x0" mostly works, the others mostly fail.
            const bool success = rng() % 10 < (text[1] == '0' ? 8u : 1u);
            session.push_back(make("s" + std::to_string(s), time, text, success ? ok : bad));
            time += static_cast<double>(rng() % 70);
        }
        log.push_back(std::move(session));
    }
    return log;
}

}  // namespace

TEST_CASE("random logs against the brute-force reference") {
    std::mt19937_64 rng(99);
    std::size_t rules_seen = 0;
    for (int round = 0; round < 60; ++round) {
        const auto log = random_log(rng, 5 + static_cast<std::size_t>(round) * 3);
        const rewrite_options o{.window = 30.0 + round % 4 * 20.0,
                                .threshold = 0.5,
                                .min_support = static_cast<std::uint64_t>(1 + round % 2),
                                .min_probability = round % 3 == 0 ? 0.0 : 0.2,
                                .confidence = 0.0,
                                .threads = static_cast<unsigned>(1 + round % 2)};
        rewrite_miner miner(o);
        for (const auto& s : log) miner.add_session(s, group_scorer{});
        const auto got = miner.rewrites();
        const auto expected = reference_mining(log, o);
        REQUIRE(got.size() == expected.rules.size());
        for (const auto& r : got) {
            const auto it = expected.rules.find(r.request);
            REQUIRE(it != expected.rules.end());
            const auto& [rewrite, p, support, success] = it->second;
            CHECK(r.rewrite == rewrite);
            CHECK(std::abs(r.probability - p) < 1e-9);
            CHECK(r.support == support);
            CHECK(std::abs(r.success_probability - success) < 1e-9);
            CHECK(r.expected_steps >= 1.0);
        }
        CHECK(std::is_sorted(got.begin(), got.end(), [](const auto& a, const auto& b) { return a.request < b.request; }));
        rules_seen += got.size();
    }
    CHECK(rules_seen > 30);
}

TEST_CASE("sharded counting merges to the single run, bit for bit, in any order") {
    std::mt19937_64 rng(5);
    const auto log = random_log(rng, 400);
    const rewrite_options o{.min_support = 1, .min_probability = 0.05, .confidence = 0.0};
    rewrite_miner single(o);
    for (const auto& s : log) single.add_session(s, group_scorer{});
    std::vector<rewrite_miner> shards(3, rewrite_miner(o));
    for (std::size_t i = 0; i < log.size(); ++i) shards[(i * 7) % 3].add_session(log[i], group_scorer{});
    rewrite_counts forward, backward;
    for (const auto& shard : shards) forward += shard.counts();
    for (auto it = shards.rbegin(); it != shards.rend(); ++it) backward.merge(it->counts());
    CHECK(forward == single.counts());
    CHECK(backward == single.counts());
    const auto expected = single.rewrites();
    CHECK(!expected.empty());
    CHECK(selflearn::mine_rewrites(forward, o) == expected);  // exact equality of doubles
    CHECK(selflearn::mine_rewrites(backward, {.min_support = 1, .min_probability = 0.05, .confidence = 0.0, .threads = 3}) == expected);
    // Re-adding the counts through the public text-keyed interface gives the same table.
    rewrite_counts rebuilt;
    single.counts().for_each_transition([&](std::string_view f, rewrite_target k, std::string_view t, double c) {
        rebuilt.add_transition(f, k, t, c);
    });
    single.counts().for_each_support([&](std::string_view r, std::string_view w, std::uint64_t n) { rebuilt.add_support(r, w, n); });
    CHECK_FALSE(rebuilt == single.counts());  // the surface forms are still missing
    single.counts().for_each_surface([&](std::string_view u, std::string_view t, std::uint64_t n) { rebuilt.add_surface(u, t, n); });
    CHECK(rebuilt == single.counts());
}

TEST_CASE("scores given in the log instead of a scorer") {
    const std::vector<turn> s{make("s", 0, "weather tomorrow", bad), make("s", 5, "will it rain on saturday", ok)};
    const std::vector<std::optional<double>> yes{std::nullopt, 0.9}, no{std::nullopt, std::nullopt};
    rewrite_miner linked({.min_support = 1, .confidence = 0.0}), unlinked({.min_support = 1, .confidence = 0.0});
    linked.add_session(s, yes);
    unlinked.add_session(s, no);
    CHECK(linked.rephrases() == 1);
    CHECK(unlinked.rephrases() == 0);
    CHECK(linked.counts().support("weather tomorrow", "will it rain on saturday") == 1);
    const auto rules = linked.rewrites();
    REQUIRE(rules.size() == 1);
    CHECK(rules[0].rewrite == "will it rain on saturday");
    CHECK(unlinked.rewrites().empty());
    // Lexically the pair is not similar enough: the default scorer would not link it.
    rewrite_miner lexical({.min_support = 1});
    lexical.add_session(s);
    CHECK(lexical.rephrases() == 0);
}

TEST_CASE("error cases") {
    using selflearn::invalid_argument;
    CHECK_THROWS_WITH_AS(rewrite_miner({.window = -1}), doctest::Contains("window -1 must be >= 0"), invalid_argument);
    CHECK_THROWS_WITH_AS(rewrite_miner({.threshold = std::numeric_limits<double>::quiet_NaN()}), doctest::Contains("threshold is NaN"), invalid_argument);
    CHECK_THROWS_WITH_AS(rewrite_miner({.min_probability = 2}), doctest::Contains("min_probability 2"), invalid_argument);
    rewrite_miner miner;
    CHECK_THROWS_WITH_AS(miner.add_session(std::vector<turn>{make("a", 0, "x", bad), make("b", 1, "y", ok)}),
                         doctest::Contains("turn 1 belongs to session 'b', not 'a'"), invalid_argument);
    CHECK_THROWS_WITH_AS(miner.add_session(std::vector<turn>{make("a", 5, "x", bad), make("a", 1, "y", ok)}),
                         doctest::Contains("session 'a', turn 1: time 1 is earlier than the turn before"),
                         invalid_argument);
    CHECK_THROWS_WITH_AS(miner.add_session(std::vector<turn>{make("a", std::numeric_limits<double>::quiet_NaN(), "x", bad)}),
                         doctest::Contains("time nan is not finite"), invalid_argument);
    CHECK_THROWS_WITH_AS(miner.add_session(std::vector<turn>{make("a", 0, "  ", bad)}),
                         doctest::Contains("session 'a', turn 0: the utterance is empty"), invalid_argument);
    CHECK_THROWS_AS(miner.add_session(std::vector<turn>{make("a", 0, "\xff", bad)}), selflearn::invalid_utf8);
    const auto nan_scorer = [](const turn&, const turn&) { return std::nan(""); };
    CHECK_THROWS_WITH_AS(miner.add_session(std::vector<turn>{make("a", 0, "x", bad), make("a", 1, "y", ok)}, nan_scorer),
                         doctest::Contains("the rephrase scorer returned NaN"), invalid_argument);
    const std::vector<std::optional<double>> one{0.5};
    CHECK_THROWS_WITH_AS(miner.add_session(std::vector<turn>{make("a", 0, "x", bad), make("a", 1, "y", ok)}, one),
                         doctest::Contains("1 scores for 2 turns"), invalid_argument);
    CHECK(miner.sessions() == 0);  // nothing counted from rejected sessions
    CHECK(miner.counts().transition_size() == 0);
    CHECK(miner.counts().utterance_count() == 0);
    rewrite_counts c;
    CHECK_THROWS_WITH_AS(c.add_transition("a", rewrite_target::utterance, "b", -1), doctest::Contains("negative"),
                         invalid_argument);
    CHECK_THROWS_WITH_AS(c.add_transition("", rewrite_target::failure, ""), doctest::Contains("empty utterance"),
                         invalid_argument);
    CHECK_THROWS_WITH_AS(c.add_transition("a", rewrite_target::success, ""), doctest::Contains("empty utterance"),
                         invalid_argument);
    CHECK_THROWS_WITH_AS(c.add_support("a", "a"), doctest::Contains("two different non-empty utterances"),
                         invalid_argument);
    CHECK_THROWS_WITH_AS((void)selflearn::mine_rewrites(c, {.min_probability = -0.5}), doctest::Contains("min_probability"),
                         invalid_argument);
    // A counts table where an utterance loops on itself forever cannot be solved: named.
    c.add_transition("x", rewrite_target::utterance, "y");
    c.add_transition("y", rewrite_target::utterance, "x");
    c.add_transition("z", rewrite_target::failure, "");
    CHECK_THROWS_WITH_AS((void)selflearn::mine_rewrites(c), doctest::Contains("2 utterances never reach success or failure: 'x', 'y'"),
                         selflearn::unreachable_absorption);
    CHECK(selflearn::mine_rewrites(rewrite_counts{}).empty());
}

TEST_CASE("surface forms: the most frequent original text behind each normalised one, merged across shards") {
    rewrite_counts a, b;
    a.add_surface("play imagine dragons", "Play Imagine Dragons", 2);
    a.add_surface("play imagine dragons", "play imagine dragons!", 1);
    b.add_surface("play imagine dragons", "play imagine dragons!", 2);
    CHECK(a.surface("play imagine dragons") == "Play Imagine Dragons");
    CHECK(a.surface("never seen") == "never seen");  // no surface form: the normalised text itself
    a.merge(b);
    CHECK(a.surface("play imagine dragons") == "play imagine dragons!");  // 3 against 2 after the merge
    rewrite_counts c = b;
    CHECK_FALSE(c == a);
    c.add_surface("play imagine dragons", "Play Imagine Dragons", 2);
    c.add_surface("play imagine dragons", "play imagine dragons!", 1);
    CHECK(c == a);
    CHECK_THROWS_AS(a.add_surface("", "x"), selflearn::invalid_argument);
    CHECK_THROWS_AS(a.add_surface("x", ""), selflearn::invalid_argument);
}

TEST_CASE("the miner takes a friction predicate: turns it flags are defects whatever their logged outcome") {
    // The logged outcomes say success everywhere; a detector on low confidence finds the failed turn.
    turn first = make("s1", 0, "play maj and dragons", ok);
    first.confidence = 0.1;
    const std::vector<turn> session{first, make("s1", 5, "play imagine dragons", ok)};
    const auto low_confidence = [](const turn& t) { return t.confidence && *t.confidence < 0.5; };
    rewrite_miner by_outcome, by_confidence;
    by_outcome.add_session(session);
    by_confidence.add_session(session, selflearn::character_similarity_scorer{}, low_confidence);
    CHECK(by_outcome.rephrases() == 0);
    CHECK(by_confidence.rephrases() == 1);
    CHECK(by_confidence.counts().transition_count("play maj and dragons", rewrite_target::utterance,
                                                  "play imagine dragons") == 1);
    CHECK(by_confidence.counts().transition_count("play maj and dragons", rewrite_target::success,
                                                  "play maj and dragons") == 0);
    // The same with scores carried in the log.
    rewrite_miner scored;
    const std::vector<std::optional<double>> scores{std::nullopt, 0.9};
    scored.add_session(session, std::span<const std::optional<double>>(scores), low_confidence);
    CHECK(scored.counts() == by_confidence.counts());
}

TEST_CASE("friction decided by the caller: flags give the counts the detector would, bit for bit") {
    // Random logs with flags drawn independently of the logged outcomes, so that a miner ignoring the
    // flags (taking the outcomes) would count differently.
    std::mt19937_64 rng(17);
    const auto log = random_log(rng, 300);
    const rewrite_options o{.min_support = 1, .min_probability = 0.05, .confidence = 0.0};
    rewrite_miner by_detector(o), by_flags(o), by_outcome(o), scored_detector(o), scored_flags(o);
    std::size_t flags_against_outcome = 0;
    for (const auto& session : log) {
        std::vector<char> flags(session.size());
        for (auto& f : flags) f = rng() % 3 == 0 ? 1 : 0;
        for (std::size_t i = 0; i < session.size(); ++i) {
            flags_against_outcome += (flags[i] != 0) != (session[i].outcome == bad) ? 1U : 0U;
        }
        // A detector that answers what the flags say, by the turn's position in the session.
        const auto flagged = [&](const turn& t) { return flags[static_cast<std::size_t>(&t - session.data())] != 0; };
        by_detector.add_session(session, group_scorer{}, flagged);
        by_flags.add_session(session, flags, group_scorer{});
        by_outcome.add_session(session, group_scorer{});
        std::vector<std::optional<double>> scores(session.size());
        for (std::size_t i = 1; i < session.size(); ++i) scores[i] = group_scorer{}(session[i - 1], session[i]);
        scored_detector.add_session(session, std::span<const std::optional<double>>(scores), flagged);
        scored_flags.add_session(session, scores, flags);
    }
    REQUIRE(flags_against_outcome > 100);
    CHECK(by_flags.counts() == by_detector.counts());
    CHECK(by_flags.rephrases() == by_detector.rephrases());
    CHECK(by_flags.rewrites() == by_detector.rewrites());
    CHECK_FALSE(by_flags.counts() == by_outcome.counts());
    CHECK(scored_flags.counts() == scored_detector.counts());
    CHECK(scored_flags.counts() == by_flags.counts());  // the scores are the scorer's own

    // One flag per turn, or an error naming both sizes.
    rewrite_miner miner;
    const std::vector<turn> two{make("s", 0, "a b", bad), make("s", 1, "a c", ok)};
    const std::vector<char> one_flag{1};
    CHECK_THROWS_WITH_AS(miner.add_session(two, one_flag), "rewrite miner: 1 friction flags for 2 turns",
                         selflearn::invalid_argument);
    const std::vector<std::optional<double>> two_scores(2);
    CHECK_THROWS_WITH_AS(miner.add_session(two, two_scores, one_flag), "rewrite miner: 1 friction flags for 2 turns",
                         selflearn::invalid_argument);
    CHECK(miner.sessions() == 0);
}

namespace {

/// Exact P(Bin(n, x) >= k) for small n, summed in long double.
long double binomial_tail(unsigned n, unsigned k, long double x) {
    long double total = 0.0L;
    for (unsigned j = k; j <= n; ++j) {
        long double c = 1.0L;
        for (unsigned i = 0; i < j; ++i) c = c * static_cast<long double>(n - i) / static_cast<long double>(i + 1);
        total += c * std::pow(x, static_cast<long double>(j)) * std::pow(1.0L - x, static_cast<long double>(n - j));
    }
    return total;
}

/// Simpson's rule of f over [lo, hi] with `intervals` (even) intervals.
template <class F>
double simpson(F f, double lo, double hi, int intervals) {
    const double h = (hi - lo) / intervals;
    double total = f(lo) + f(hi);
    for (int i = 1; i < intervals; ++i) total += (i % 2 == 1 ? 4.0 : 2.0) * f(lo + i * h);
    return total * h / 3.0;
}

double beta_density(double a, double b, double x) {
    return std::exp((a - 1.0) * std::log(x) + (b - 1.0) * std::log1p(-x) - std::lgamma(a) - std::lgamma(b) +
                    std::lgamma(a + b));
}

}  // namespace

TEST_CASE("Beta posteriors: incomplete beta, quantile and P(X > Y) against exact and numerical references") {
    using selflearn::regularized_beta;
    // Integer parameters: I_x(a, b) = P(Bin(a + b - 1, x) >= a), exactly.
    for (unsigned a = 1; a <= 12; ++a) {
        for (unsigned b = 1; b <= 12; ++b) {
            for (const double x : {0.05, 0.3, 0.5, 0.77, 0.99}) {
                const auto exact = static_cast<double>(binomial_tail(a + b - 1, a, static_cast<long double>(x)));
                CHECK(regularized_beta(a, b, x) == doctest::Approx(exact).epsilon(1e-12));
            }
        }
    }
    // Real parameters: numerical integration of the density.
    for (const auto& parameters : {std::tuple{2.5, 3.7, 0.4}, std::tuple{7.25, 1.5, 0.8}, std::tuple{30.5, 12.2, 0.7}}) {
        const double a = std::get<0>(parameters), b = std::get<1>(parameters), x = std::get<2>(parameters);
        const double integral = simpson([&](double t) { return beta_density(a, b, t); }, 1e-12, x, 20000);
        CHECK(regularized_beta(a, b, x) == doctest::Approx(integral).epsilon(1e-9));
    }
    CHECK(regularized_beta(3, 4, 0.0) == 0.0);
    CHECK(regularized_beta(3, 4, 1.0) == 1.0);
    CHECK_THROWS_AS((void)regularized_beta(0, 1, 0.5), selflearn::invalid_argument);
    CHECK_THROWS_AS((void)regularized_beta(1, 1, 1.5), selflearn::invalid_argument);

    // The quantile inverts the CDF; Beta(1, 1) is uniform.
    CHECK(selflearn::beta_quantile(1, 1, 0.05) == doctest::Approx(0.05).epsilon(1e-10));
    for (const double q : {0.01, 0.05, 0.5, 0.95}) {
        CHECK(regularized_beta(4.5, 17, selflearn::beta_quantile(4.5, 17, q)) == doctest::Approx(q).epsilon(1e-9));
    }

    // One step: (X1, X2, rest) ~ Dirichlet(1 + c1, 1 + c2, 1 + r). Exact for integer counts:
    // P(X1 > X2) = P(Beta(1 + c1, 1 + c2) > 1/2) = P(Bin(c1 + c2 + 1, 1/2) <= c1).
    for (unsigned c1 = 0; c1 <= 15; ++c1) {
        for (unsigned c2 = 0; c2 <= 15; ++c2) {
            const auto exact = 1.0L - binomial_tail(c1 + c2 + 1, c1 + 1, 0.5L);
            CHECK(selflearn::dirichlet_greater_probability(c1, c2) == doctest::Approx(static_cast<double>(exact)).epsilon(1e-12));
        }
    }
    // ... and independent of the rest: a midpoint-rule integral over the simplex for Dirichlet(4, 2, 3).
    {
        const int grid = 1500;
        double mass = 0.0, greater = 0.0;
        for (int i = 0; i < grid; ++i) {
            for (int j = 0; i + j < grid - 1; ++j) {
                const double x1 = (i + 0.5) / grid, x2 = (j + 0.5) / grid, rest = 1.0 - x1 - x2;
                const double d = x1 * x1 * x1 * x2 * rest * rest;
                mass += d;
                if (x1 > x2) greater += d;
            }
        }
        CHECK(selflearn::dirichlet_greater_probability(3, 1) == doctest::Approx(greater / mass).epsilon(1e-3));
    }
    // Two independent Betas: against the integral of f_Y(y) P(X > y).
    for (const auto& parameters : {std::tuple{1.0, 1.0, 1.0, 1.0}, std::tuple{21.0, 1.0, 1.0, 31.0},
                                   std::tuple{1.0, 21.0, 1.0, 31.0}, std::tuple{5.0, 3.5, 2.25, 6.0}}) {
        // Plain variables, not structured bindings: clang 14 cannot capture bindings in a lambda.
        const double ax = std::get<0>(parameters), bx = std::get<1>(parameters);
        const double ay = std::get<2>(parameters), by = std::get<3>(parameters);
        const double integral = simpson(
            [&](double y) {
                // The density by powers, finite at the ends for parameters >= 1 (std::pow(0, 0) is 1).
                const double density = std::pow(y, ay - 1.0) * std::pow(1.0 - y, by - 1.0) *
                                       std::exp(std::lgamma(ay + by) - std::lgamma(ay) - std::lgamma(by));
                return density * (1.0 - regularized_beta(ax, bx, y));
            },
            0.0, 1.0, 20000);
        CHECK(selflearn::beta_greater_probability(ax, bx, ay, by) == doctest::Approx(integral).epsilon(1e-7));
    }
    CHECK(selflearn::beta_greater_probability(1, 1, 1, 1) == doctest::Approx(0.5));
    CHECK_THROWS_AS((void)selflearn::beta_greater_probability(1.5, 1, 1, 1), selflearn::invalid_argument);
}

namespace {

turn served(const std::string& session, double time, const std::string& text, const std::string& rewrite,
            turn_outcome outcome) {
    turn t = make(session, time, text, outcome);
    t.served_rewrite = rewrite;
    return t;
}

/// Round 1: `n` sessions where "play maj and dragons" fails and its rephrase succeeds, and `n / 2` where it
/// is abandoned.
std::vector<std::vector<turn>> round_one(int n) {
    std::vector<std::vector<turn>> log;
    for (int i = 0; i < n; ++i) {
        const std::string id = "r1-" + std::to_string(i);
        log.push_back({make(id, 0, "play maj and dragons", bad), make(id, 5, "play imagine dragons", ok)});
        if (i % 2 == 0) log.push_back({make(id + "x", 0, "play maj and dragons", bad)});
    }
    return log;
}

/// Round 2: the request is served its rewrite in `n` sessions, of which `failures` fail.
std::vector<std::vector<turn>> round_two(int n, int failures) {
    std::vector<std::vector<turn>> log;
    for (int i = 0; i < n; ++i) {
        const std::string id = "r2-" + std::to_string(i);
        log.push_back({served(id, 0, "Play maj and dragons", "play Imagine Dragons", i < failures ? bad : ok)});
    }
    return log;
}

}  // namespace

TEST_CASE("served rewrites: evidence about the rule, kept while it works, retired when it breaks") {
    const auto r1 = round_one(20);
    rewrite_miner first;
    for (const auto& s : r1) first.add_session(s);
    auto rules = first.rewrites();
    REQUIRE(rules.size() == 1);
    CHECK(rules[0].rewrite == "play imagine dragons");
    CHECK(rules[0].probability == doctest::Approx(20.0 / 30.0));
    // docs/rewrite.md's worked example: P(Beta(21, 1) > 1/2) = 1 - 2^-21; the 0.05 quantile of Beta(21, 11)
    // is 0.5145839 (scipy.stats.beta.ppf).
    CHECK(rules[0].confidence == doctest::Approx(1.0 - std::ldexp(1.0, -21)).epsilon(1e-14));
    CHECK(rules[0].lower_bound == doctest::Approx(0.5145839256).epsilon(1e-8));
    CHECK(rules[0].lower_bound < rules[0].probability);

    // Counted as what it is: a served turn is no transition of the request, only its rule's evidence.
    const auto counted = [&](int failures) {
        rewrite_miner m;
        for (const auto& s : r1) m.add_session(s);
        for (const auto& s : round_two(20, failures)) m.add_session(s);
        return m;
    };
    const auto working = counted(1);
    CHECK(working.counts().served("play maj and dragons", "play imagine dragons") == selflearn::served_counts{19, 1});
    CHECK(working.counts().transition_count("play maj and dragons", rewrite_target::success, "play maj and dragons") == 0);
    CHECK(working.counts().support("play maj and dragons", "play imagine dragons") == 20 + 19);
    rules = working.rewrites();
    REQUIRE(rules.size() == 1);
    CHECK(rules[0].rewrite == "play imagine dragons");
    CHECK(rules[0].served_successes == 19);
    CHECK(rules[0].served_failures == 1);
    CHECK(rules[0].probability == doctest::Approx(0.95));
    CHECK(rules[0].confidence > 0.999);
    CHECK(rules[0].lower_bound == doctest::Approx(selflearn::beta_quantile(20, 2, 0.05)));
    CHECK(rules[0].request_text == "play maj and dragons");  // said 30 times that way, 20 times capitalised

    // The target broke: served failures retire the rule.
    CHECK(counted(20).rewrites().empty());
    CHECK(counted(18).rewrites().empty());
    // Without the probability floor, the confidence alone retires it: P(Beta(1, 21) > Beta(1, 31)) = 31/52.
    const auto broken = selflearn::mine_rewrites(counted(20).counts(), {.min_probability = 0.0, .confidence = 0.5});
    REQUIRE(broken.size() == 1);
    CHECK(broken[0].confidence == doctest::Approx(31.0 / 52.0).epsilon(1e-12));
    CHECK(broken[0].served_failures == 20);
    CHECK(selflearn::mine_rewrites(counted(20).counts(), {.min_probability = 0.0, .confidence = 0.6}).empty());

    // Without the field, the served successes look like the request succeeding by itself and the rule dies.
    rewrite_miner naive;
    for (const auto& s : r1) naive.add_session(s);
    for (auto s : round_two(20, 0)) {
        s[0].served_rewrite.reset();
        naive.add_session(s);
    }
    CHECK(naive.rewrites().empty());

    // A served rewrite equal to the request (after normalisation) is an ordinary turn.
    rewrite_miner same;
    same.add_session(std::vector<turn>{served("s", 0, "Play it", "play  it", ok)});
    CHECK(same.counts().served_size() == 0);
    CHECK(same.counts().transition_count("play it", rewrite_target::success, "play it") == 1);
    CHECK_THROWS_WITH_AS(same.add_session(std::vector<turn>{served("s", 0, "play it", "  ", ok)}),
                         doctest::Contains("turn 0: the served rewrite is empty"), selflearn::invalid_argument);
    CHECK_THROWS_AS(rewrite_miner({.confidence = 1.5}), selflearn::invalid_argument);
    rewrite_counts c;
    CHECK_THROWS_AS(c.add_served("a", "a", 1, 0), selflearn::invalid_argument);
}

TEST_CASE("served counts merge across shards to the single run") {
    auto log = round_one(12);
    for (auto& s : round_two(15, 6)) log.push_back(std::move(s));
    // A second rule served in both directions of a tie, and a served success mid-session.
    log.push_back({served("m", 0, "turn on lights", "turn on the lights", ok), make("m", 3, "turn on lights", bad),
                   make("m", 6, "turn on the lights", ok)});
    rewrite_miner single;
    for (const auto& s : log) single.add_session(s);
    rewrite_miner a, b;
    for (std::size_t i = 0; i < log.size(); ++i) (i % 3 == 0 ? a : b).add_session(log[i]);
    rewrite_counts merged;
    merged.merge(b.counts()).merge(a.counts());
    CHECK(merged == single.counts());
    CHECK(merged.served("turn on lights", "turn on the lights") == selflearn::served_counts{1, 0});
    CHECK(merged.served("play maj and dragons", "play imagine dragons") == selflearn::served_counts{9, 6});
    CHECK(selflearn::mine_rewrites(merged) == single.rewrites());
    // Served counts take part in equality.
    rewrite_counts other = merged;
    other.add_served("x y", "x z", 0, 1);
    CHECK_FALSE(other == merged);
}
