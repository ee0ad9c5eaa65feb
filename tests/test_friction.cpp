// Friction detection: the built-in detectors and their combination on hand-made turns, the hashed
// features against an independent FNV-1a, and the trained detector on a simulated log whose friction
// follows known causes (held-out turns, outcome never used, determinism, file round trip and errors).

#include <selflearn/friction.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

using namespace selflearn;

namespace {

turn make(std::string text, turn_outcome outcome = turn_outcome::success) {
    turn t;
    t.session = "s";
    t.text = std::move(text);
    t.outcome = outcome;
    return t;
}

// FNV-1a 64 as published (offset basis 14695981039346656037, prime 1099511628211).
std::uint64_t reference_fnv(const std::string& s) {
    std::uint64_t h = 14695981039346656037ull;
    for (char c : s) {
        h ^= static_cast<std::uint64_t>(static_cast<unsigned char>(c));
        h *= 1099511628211ull;
    }
    return h;
}

struct lcg {
    std::uint64_t state;
    double uniform() {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<double>(state >> 11) * 0x1.0p-53;
    }
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(uniform() * static_cast<double>(n)); }
};

// A log whose friction has known causes: a handler error, a low ASR confidence (usually), an
// out-of-domain request the NLU gives no intent (usually), a barge-in; plus 3% label noise.
std::vector<turn> simulated_turns(std::size_t n, std::uint64_t seed) {
    lcg rng{seed};
    const std::vector<std::string> good = {"play some jazz", "what is the weather in paris", "set an alarm for six",
                                           "add this song to my playlist", "book a table for two"};
    const std::vector<std::string> odd = {"blorp the frobnicator", "tell me a secret about whales",
                                          "how many angels on a pin"};
    std::vector<turn> turns;
    for (std::size_t i = 0; i < n; ++i) {
        turn t;
        t.session = "s" + std::to_string(i);
        t.time = 0;
        bool defect = false;
        if (rng.uniform() < 0.2) {
            t.text = odd[rng.below(odd.size())];
            if (rng.uniform() < 0.8) {
                defect = true;
            } else {
                t.intent = "Chitchat";
            }
        } else {
            t.text = good[rng.below(good.size())];
            t.intent = "Known";
            t.annotation = t.text;
        }
        t.asr_confidence = rng.uniform();
        if (*t.asr_confidence < 0.25 && rng.uniform() < 0.9) defect = true;
        t.confidence = 0.5 + 0.5 * rng.uniform();
        t.status = rng.uniform() < 0.1 ? "error_timeout" : "ok";
        if (*t.status != "ok") defect = true;
        if (rng.uniform() < 0.5) t.barge_in = rng.uniform() < 0.1;
        if (t.barge_in.value_or(false)) defect = true;
        if (rng.uniform() < 0.03) defect = !defect;
        t.outcome = defect ? turn_outcome::defect : turn_outcome::success;
        turns.push_back(std::move(t));
    }
    return turns;
}

}  // namespace

static_assert(friction_detector<outcome_detector>);
static_assert(friction_detector<status_detector>);
static_assert(friction_detector<friction_model>);
static_assert(!friction_detector<int>);

TEST_CASE("built-in friction detectors and any_of") {
    auto t = make("play jazz");
    CHECK_FALSE(outcome_detector{}(t));
    CHECK_FALSE(status_detector{}(t));
    CHECK_FALSE(barge_in_detector{}(t));
    const confidence_floor_detector floor(0.4, 0.3);
    CHECK_FALSE(floor(t));  // unknown confidences never trigger
    t.confidence = 0.39;
    CHECK(floor(t));
    t.confidence = 0.4;
    CHECK_FALSE(floor(t));
    t.asr_confidence = 0.1;
    CHECK(floor(t));
    t.asr_confidence = 0.3;
    t.status = "ok";
    CHECK_FALSE(status_detector{}(t));
    t.status = "error_no_handler";
    CHECK(status_detector{}(t));
    CHECK_FALSE(status_detector({"ok", "error_no_handler"})(t));
    t.barge_in = true;
    CHECK(barge_in_detector{}(t));

    const auto any = any_of(outcome_detector{}, status_detector{}, [](const turn& x) { return x.text.size() > 20 ? 0.3 : 0.0; });
    auto u = make("a rather long utterance here");
    CHECK(any(u) == doctest::Approx(0.3));
    CHECK_FALSE(is_friction(any, u));
    CHECK(is_friction(any, u, 0.3));
    u.outcome = turn_outcome::defect;
    CHECK(any(u) == 1.0);
    CHECK(is_friction(any, u));
    CHECK(friction_score(outcome_detector{}, u) == 1.0);

    CHECK_THROWS_WITH_AS(confidence_floor_detector(1.5), doctest::Contains("nlu_floor 1.5 is outside [0, 1]"), invalid_argument);
    CHECK_THROWS_WITH_AS(confidence_floor_detector(0.5, std::nan("")), doctest::Contains("asr_floor"), invalid_argument);
    CHECK_THROWS_AS(status_detector(std::vector<std::string>{}), invalid_argument);
}

TEST_CASE("friction features: hashed words and labels, numeric fields, outcome unused") {
    auto t = make("Play Jazz jazz", turn_outcome::defect);
    t.intent = "PlayMusic";
    t.annotation = "play [genre : jazz] jazz";
    t.asr_confidence = 0.25;
    t.status = "error_x";
    const friction_feature_options o{16, 8};
    const auto f = friction_features(t, o);
    REQUIRE(f.size() == 16 + 8 + friction_numeric_feature_count);
    std::vector<double> expect(f.size(), 0.0);
    expect[reference_fnv("play") % 16] = 1.0;
    expect[reference_fnv("jazz") % 16] = 1.0;
    expect[16 + reference_fnv("intent=PlayMusic") % 8] = 1.0;
    expect[16 + reference_fnv("slot=genre") % 8] = 1.0;
    expect[24] = 0.25;  // asr_confidence
    expect[25] = 1.0;   // has_asr_confidence
    expect[28] = 1.0;   // status_error
    expect[29] = 1.0;   // has_status
    expect[32] = 1.0;   // has_intent
    CHECK(f == expect);
    auto same = t;
    same.outcome = turn_outcome::success;
    CHECK(friction_features(same, o) == f);
    const auto names = friction_feature_names(o);
    CHECK(names.size() == f.size());
    CHECK(names[0] == "word_0");
    CHECK(names[16] == "label_0");
    CHECK(names[24] == "asr_confidence");
    CHECK(names.back() == "has_intent");
    t.annotation = "[genre : jazz";
    CHECK_THROWS_WITH_AS((void)friction_features(t, o), doctest::Contains("annotation '[genre : jazz'"), annotation_error);
    CHECK_THROWS_AS((void)friction_features(t, {0, 8}), invalid_argument);
}

TEST_CASE("a trained friction detector learns the causes and applies to turns without outcome") {
    const auto train = simulated_turns(2000, 1);
    const auto test = simulated_turns(2000, 2);
    const friction_training_options options{{64, 16}, 1.0};
    const auto model = train_friction_model(train, options);
    CHECK(model == train_friction_model(train, options));
    double right = 0, right_outcome_free = 0, right_status = 0;
    const auto baseline = any_of(status_detector{}, barge_in_detector{});
    for (const auto& t : test) {
        const bool truth = t.outcome == turn_outcome::defect;
        auto unknown = t;
        unknown.outcome = turn_outcome::success;  // what a log without outcomes looks like to the model
        right += (is_friction(model, t) == truth) ? 1 : 0;
        right_outcome_free += (model(unknown) == model(t)) ? 1 : 0;
        right_status += (is_friction(baseline, t) == truth) ? 1 : 0;
    }
    const double n = static_cast<double>(test.size());
    MESSAGE("held-out accuracy: model " << right / n << ", status or barge-in " << right_status / n);
    CHECK(right_outcome_free == n);
    CHECK(right / n > 0.9);
    CHECK(right / n > right_status / n + 0.05);

    // Round trip, bit-exact.
    std::stringstream file;
    model.save(file);
    const auto back = friction_model::load(file, "f.model");
    CHECK(back == model);
    CHECK(back.options().word_buckets == 64);
    CHECK(back.options().label_buckets == 16);
    for (std::size_t i = 0; i < 200; ++i) CHECK(back(test[i]) == model(test[i]));
    // Wrong kind, wrong features.
    std::istringstream para(model.logistic().to_text("paraphrase"));
    CHECK_THROWS_WITH_AS((void)friction_model::load(para, "f.model"),
                         doctest::Contains("f.model:2: field 'kind': a 'paraphrase' model, expected a 'friction' model"),
                         model_format_error);
    std::istringstream other(fit_logistic(Eigen::MatrixXd::Identity(2, 2), Eigen::Vector2d(0, 1)).to_text("friction"));
    CHECK_THROWS_WITH_AS((void)friction_model::load(other, "f.model"),
                         doctest::Contains("f.model:4: field 'features': the features are not friction features"),
                         model_format_error);
}

TEST_CASE("friction training needs both outcomes") {
    const std::vector<turn> all_ok = {make("a"), make("b")};
    CHECK_THROWS_WITH_AS((void)train_friction_model(all_ok), doctest::Contains("2 turns, 0 defects and 2 successes"),
                         invalid_argument);
    CHECK_THROWS_WITH_AS((void)train_friction_model(std::vector<turn>{}), doctest::Contains("0 turns"), invalid_argument);
}
