// Failure-point isolation: the rephrase comparison and the signal rules on hand-made turns, the
// calibration against a brute-force search over a fine grid of floors, the model concept, and blame
// counts merged from parts against the counts of the whole.

#include <selflearn/failure_point.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstddef>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace selflearn;

namespace {

turn make(std::string text, std::optional<std::string> intent = std::nullopt,
          std::optional<std::string> annotation = std::nullopt) {
    turn t;
    t.session = "s";
    t.text = std::move(text);
    t.outcome = turn_outcome::defect;
    t.intent = std::move(intent);
    t.annotation = std::move(annotation);
    return t;
}

turn success(turn t) {
    t.outcome = turn_outcome::success;
    return t;
}

}  // namespace

TEST_CASE("stage names round-trip and a bad name is an error naming it") {
    for (const auto s : {failure_stage::asr, failure_stage::nlu, failure_stage::resolution, failure_stage::skill}) {
        CHECK(parse_failure_stage(to_string(s)) == s);
    }
    CHECK(to_string(failure_stage::resolution) == "resolution");
    CHECK_THROWS_WITH_AS((void)parse_failure_stage("tts"), doctest::Contains("\"tts\""), invalid_argument);
}

TEST_CASE("isolate_by_rephrase: a repaired slot word is the recogniser's failure") {
    const turn failed = make("play blinding light", "PlayMusic", "play [song : blinding light]");
    const turn fixed = success(make("play blinding lights", "PlayMusic", "play [song : blinding lights]"));
    const auto p = isolate_by_rephrase(failed, fixed);
    REQUIRE(p.stage);
    CHECK(*p.stage == failure_stage::asr);
    CHECK(p.evidence == "\"light\" repaired as \"lights\" (word cost 0.17)");
    // A near-match outside the rephrase's slots is not a repair when slots are known: here the only
    // changed word is the verb, and the intent changed, so the interpretation is to blame.
    const turn failed2 = make("plays blinding lights", "AddToPlaylist", "plays [song : blinding lights]");
    const turn fixed2 = success(make("play blinding lights", "PlayMusic", "play [song : blinding lights]"));
    CHECK(isolate_by_rephrase(failed2, fixed2).stage == failure_stage::nlu);
    // With a tighter near-match bound than 1/6 (light -> lights) the word is no repair.
    rephrase_isolation_options strict;
    strict.near_match = 0.1;
    CHECK(isolate_by_rephrase(failed, fixed, strict).stage == failure_stage::nlu);  // slot values differ
    strict.near_match = 0.0;
    CHECK_THROWS_AS((void)isolate_by_rephrase(failed, fixed, strict), invalid_argument);
}

TEST_CASE("isolate_by_rephrase: other intent or slots on other words is the NLU's failure") {
    const turn failed = make("put on some jazz", "AddToPlaylist");
    const turn fixed = success(make("play jazz music", "PlayMusic"));
    const auto p = isolate_by_rephrase(failed, fixed);
    CHECK(p.stage == failure_stage::nlu);
    CHECK(p.evidence == "intent AddToPlaylist became PlayMusic");
    // Same intent, different slots.
    const turn f2 = make("play the weeknd", "PlayMusic", "play [song : the weeknd]");
    const turn s2 = success(make("play music by the weeknd", "PlayMusic", "play music by [artist : the weeknd]"));
    CHECK(isolate_by_rephrase(f2, s2).stage == failure_stage::nlu);
    // Not interpreted at all, rephrase interpreted.
    CHECK(isolate_by_rephrase(make("jazz now"), success(make("play jazz", "PlayMusic"))).stage == failure_stage::nlu);
}

TEST_CASE("isolate_by_rephrase: unresolved entity, then handler") {
    turn failed = make("call bob", "Call", "call [contact : bob]");
    failed.resolution = entity_resolution::ambiguous;
    turn fixed = success(make("call bob smith", "Call", "call [contact : bob]"));
    fixed.resolution = entity_resolution::resolved;
    // Slot values equal ("bob" in both): the words added are outside the slot.
    const auto p = isolate_by_rephrase(failed, fixed);
    CHECK(p.stage == failure_stage::resolution);
    CHECK(p.evidence == "entity ambiguous");

    turn f2 = make("weather in paris", "Weather", "weather in [city : paris]");
    f2.resolution = entity_resolution::resolved;
    f2.status = "timeout";
    turn s2 = success(f2);
    s2.status = "ok";
    CHECK(isolate_by_rephrase(f2, s2).stage == failure_stage::skill);
    f2.status.reset();
    CHECK(isolate_by_rephrase(f2, s2).stage == failure_stage::skill);  // same everything upstream
    // Nothing known about either side and different words: undetermined.
    CHECK_FALSE(isolate_by_rephrase(make("foo bar"), success(make("quux zap"))).stage);
}

TEST_CASE("isolate_by_signals: first bad stage in pipeline order; missing signals never bad") {
    turn t = make("x");
    CHECK_FALSE(isolate_by_signals(t).stage);
    t.status = "error";
    CHECK(isolate_by_signals(t).stage == failure_stage::skill);
    t.resolution = entity_resolution::unresolved;
    CHECK(isolate_by_signals(t).stage == failure_stage::resolution);
    t.confidence = 0.3;
    CHECK(isolate_by_signals(t).stage == failure_stage::nlu);
    t.asr_confidence = 0.4;
    CHECK(isolate_by_signals(t).stage == failure_stage::asr);
    CHECK(isolate_by_signals(t, {0.4, 0.5}).stage == failure_stage::nlu);  // 0.4 is not below 0.4
    CHECK(isolate_by_signals(t, {0.0, 0.0}).stage == failure_stage::resolution);
    t.resolution = entity_resolution::resolved;
    CHECK(isolate_by_signals(t, {0.0, 0.0}).stage == failure_stage::skill);
    CHECK_THROWS_AS((void)isolate_by_signals(t, {1.5, 0.5}), invalid_argument);
    CHECK_THROWS_AS((void)isolate_by_signals(t, {0.5, -0.1}), invalid_argument);
}

TEST_CASE("calibrate_signal_thresholds finds the best floors (brute force over a fine grid)") {
    std::mt19937 rng(16);
    std::uniform_int_distribution<int> hundredth(0, 100);
    std::uniform_int_distribution<int> stage(0, 3);
    std::bernoulli_distribution coin(0.5);
    for (int round = 0; round < 40; ++round) {
        std::vector<turn> turns;
        std::vector<failure_stage> labels;
        std::vector<labelled_defect> labelled;
        const int k = round < 30 ? 1 + round % 12 : 40 + round;
        for (int i = 0; i < k; ++i) {
            turn t = make("x");
            if (coin(rng)) t.asr_confidence = hundredth(rng) / 100.0;
            if (coin(rng)) t.confidence = hundredth(rng) / 100.0;
            if (coin(rng)) t.resolution = coin(rng) ? entity_resolution::resolved : entity_resolution::unresolved;
            if (coin(rng)) t.status = coin(rng) ? "ok" : "error";
            turns.push_back(t);
            labels.push_back(static_cast<failure_stage>(stage(rng)));
            labelled.push_back(label_defect(t, labels.back()));
        }
        const auto correct = [&](const signal_thresholds& th) {
            std::size_t c = 0;
            for (std::size_t i = 0; i < turns.size(); ++i) c += isolate_by_signals(turns[i], th).stage == labels[i];
            return c;
        };
        // Values are multiples of 0.01, so every distinct outcome is reached on the 0.005 grid.
        std::size_t best = 0;
        for (int a = 0; a <= 200; ++a) {
            for (int u = 0; u <= 200; ++u) best = std::max(best, correct({a / 200.0, u / 200.0}));
        }
        const signal_thresholds found = calibrate_signal_thresholds(labelled);
        CHECK(correct(found) == best);
    }
    // No labelled defects: the fallback.
    CHECK(calibrate_signal_thresholds({}, {0.25, 0.75}) == signal_thresholds{0.25, 0.75});
}

TEST_CASE("calibration recovers floors that generated the labels") {
    std::vector<turn> turns;
    std::vector<labelled_defect> labelled;
    for (int i = 0; i <= 100; ++i) {
        turn t = make("x");
        t.asr_confidence = i / 100.0;
        t.confidence = 0.9;
        t.status = "error";
        turns.push_back(t);
        labelled.push_back(label_defect(t, i < 37 ? failure_stage::asr : failure_stage::skill));
    }
    const auto th = calibrate_signal_thresholds(labelled);
    CHECK(th.asr_floor == doctest::Approx(0.365));
    for (std::size_t i = 0; i < turns.size(); ++i) CHECK(isolate_by_signals(turns[i], th).stage == labelled[i].stage);
}

TEST_CASE("label_defect keeps what the signal rule reads; calibration scales to many defects") {
    turn t = make("x");
    t.asr_confidence = 0.4;
    t.confidence = 0.7;
    t.resolution = entity_resolution::ambiguous;
    t.status = "timeout";
    const labelled_defect d = label_defect(t, failure_stage::skill);
    CHECK(d.asr_confidence == 0.4);
    CHECK(d.confidence == 0.7);
    CHECK(d.downstream == failure_stage::resolution);  // resolution comes before the handler
    CHECK(d.stage == failure_stage::skill);
    t.confidence = 1.5;
    CHECK_THROWS_AS((void)label_defect(t, failure_stage::nlu), invalid_argument);
    // 200000 defects whose labels follow floors 0.3 (asr) and 0.6 (nlu): recovered exactly, in O(k log k).
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> thousandth(0, 1000);
    std::vector<labelled_defect> many;
    for (int i = 0; i < 200000; ++i) {
        const double a = thousandth(rng) / 1000.0;
        const double u = thousandth(rng) / 1000.0;
        const failure_stage s = a < 0.3 ? failure_stage::asr : u < 0.6 ? failure_stage::nlu : failure_stage::skill;
        many.push_back({a, u, failure_stage::skill, s});
    }
    const auto th = calibrate_signal_thresholds(many);
    CHECK(th.asr_floor == doctest::Approx(0.2995));
    CHECK(th.nlu_floor == doctest::Approx(0.5995));
}

namespace {
struct always_skill {
    failure_point operator()(const turn&, const turn*) const { return {failure_stage::skill, "model"}; }
};
}  // namespace

TEST_CASE("failure_point_model: the built-in isolator and a replacement") {
    static_assert(failure_point_model<rephrase_then_signals>);
    static_assert(failure_point_model<always_skill>);
    static_assert(!failure_point_model<int>);
    const rephrase_then_signals model{{0.5, 0.5}, {}};
    turn failed = make("play jazz", "PlayMusic");
    failed.asr_confidence = 0.2;
    const turn fixed = success(make("play jazz", "AddToPlaylist"));
    CHECK(model(failed, &fixed).stage == failure_stage::nlu);   // rephrase decides
    CHECK(model(failed, nullptr).stage == failure_stage::asr);  // signals only
    CHECK(always_skill{}(failed, nullptr).stage == failure_stage::skill);
}

TEST_CASE("blame_counts merged from parts equal the counts of the whole") {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> request(0, 5);
    std::uniform_int_distribution<int> stage(0, 4);
    blame_counts whole, left, right;
    std::size_t expected_nlu_r0 = 0;
    for (int i = 0; i < 500; ++i) {
        const std::string r = fmt::format("r{}", request(rng));
        const int s = stage(rng);
        const std::optional<failure_stage> st = s == 4 ? std::nullopt : std::optional(static_cast<failure_stage>(s));
        whole.add(r, st);
        (i % 3 == 0 ? left : right).add(r, st);
        expected_nlu_r0 += r == "r0" && s == 1;
    }
    blame_counts merged = right;
    merged.merge(left);
    CHECK(merged == whole);
    CHECK(whole.of("r0")[1] == expected_nlu_r0);
    CHECK(whole.of("never") == blame_counts::row{});
    std::size_t sum = 0;
    for (auto c : whole.totals()) sum += c;
    CHECK(sum == 500);
}

TEST_CASE("conditional thresholds: floors per downstream outcome, each exact") {
    // With an unresolved entity, ASR confidences below 0.8 are misheard words; with everything downstream
    // fine, only those below 0.5 are (the others misread phrasings, NLU confidence below 0.6).
    std::vector<turn> turns;
    std::vector<labelled_defect> labelled;
    for (int i = 0; i <= 100; ++i) {
        for (const bool unresolved : {false, true}) {
            turn t = make("x");
            t.asr_confidence = i / 100.0;
            t.confidence = (100 - i) / 100.0;
            if (unresolved) t.resolution = entity_resolution::unresolved;
            const failure_stage s = i < (unresolved ? 80 : 50) ? failure_stage::asr
                                    : unresolved              ? failure_stage::resolution
                                    : t.confidence < 0.6      ? failure_stage::nlu
                                                              : failure_stage::skill;
            if (s == failure_stage::skill) t.status = "error";
            turns.push_back(t);
            labelled.push_back(label_defect(t, s));
        }
    }
    const conditional_thresholds th = calibrate_conditional_thresholds(labelled);
    CHECK(th.by_downstream[0].asr_floor == doctest::Approx(0.495));
    CHECK(th.by_downstream[1].asr_floor == doctest::Approx(0.795));
    for (std::size_t i = 0; i < turns.size(); ++i) CHECK(isolate_by_conditional_signals(turns[i], th).stage == labelled[i].stage);
    // One pair of floors cannot separate them.
    const signal_thresholds pooled = calibrate_signal_thresholds(labelled);
    std::size_t right = 0;
    for (std::size_t i = 0; i < turns.size(); ++i) right += isolate_by_signals(turns[i], pooled).stage == labelled[i].stage;
    CHECK(right < turns.size());
    // Outcomes without labelled defects get the pooled floors.
    CHECK(th.by_downstream[2] == pooled);
    CHECK(calibrate_conditional_thresholds({}, {0.25, 0.75}).by_downstream[1] == signal_thresholds{0.25, 0.75});
}
