#include <selflearn/paraphrase.hpp>
#include <selflearn/project.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using namespace selflearn;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr projection_method all_methods[] = {projection_method::greedy, projection_method::optimal,
                                             projection_method::monotone};

// ---- brute-force references on a cost matrix -------------------------------------------------------------

struct brute_result {
    double best = inf;           // minimum over all one-to-one mappings
    double best_monotone = inf;  // minimum over order-preserving ones
};

// Enumerates every mapping of rows to distinct columns or to nothing (every permutation of every subset).
void enumerate(const std::vector<double>& c, std::size_t rows, std::size_t cols, double unmatched, std::size_t row,
               std::vector<bool>& used, double sum, bool monotone, std::size_t last_col, brute_result& out) {
    if (row == rows) {
        out.best = std::min(out.best, sum);
        if (monotone) out.best_monotone = std::min(out.best_monotone, sum);
        return;
    }
    enumerate(c, rows, cols, unmatched, row + 1, used, sum + unmatched, monotone, last_col, out);
    for (std::size_t j = 0; j < cols; ++j) {
        const double v = c[row * cols + j];
        if (used[j] || !(v <= unmatched)) continue;
        used[j] = true;
        const bool still = monotone && (last_col == no_word || j > last_col);
        enumerate(c, rows, cols, unmatched, row + 1, used, sum + v, still, still ? j : last_col, out);
        used[j] = false;
    }
}

brute_result brute_force(const std::vector<double>& c, std::size_t rows, std::size_t cols, double unmatched) {
    brute_result out;
    std::vector<bool> used(cols, false);
    enumerate(c, rows, cols, unmatched, 0, used, 0.0, true, no_word, out);
    return out;
}

// The paper's greedy, written here once more as the plainest loop.
std::vector<std::size_t> greedy_reference(const std::vector<double>& c, std::size_t rows, std::size_t cols,
                                          double unmatched) {
    std::vector<std::size_t> target(rows, no_word);
    std::vector<bool> used(cols, false);
    for (std::size_t i = 0; i < rows; ++i) {
        std::size_t best = no_word;
        for (std::size_t j = 0; j < cols; ++j) {
            if (used[j] || !(c[i * cols + j] <= unmatched)) continue;
            if (best == no_word || c[i * cols + j] < c[i * cols + best]) best = j;
        }
        if (best != no_word) {
            target[i] = best;
            used[best] = true;
        }
    }
    return target;
}

void check_mapping(const word_mapping& m, const std::vector<double>& c, std::size_t rows, std::size_t cols,
                   double unmatched, bool must_be_monotone) {
    REQUIRE(m.target.size() == rows);
    std::vector<bool> used(cols, false);
    double sum = 0;
    std::size_t last = no_word;
    for (std::size_t i = 0; i < rows; ++i) {
        const std::size_t j = m.target[i];
        if (j == no_word) {
            sum += unmatched;
            continue;
        }
        REQUIRE(j < cols);
        REQUIRE_FALSE(used[j]);
        used[j] = true;
        REQUIRE(c[i * cols + j] <= unmatched);
        sum += c[i * cols + j];
        if (must_be_monotone) {
            REQUIRE((last == no_word || j > last));
            last = j;
        }
    }
    CHECK(m.cost == doctest::Approx(sum).epsilon(1e-12));
}

void check_all_methods(const std::vector<double>& c, std::size_t rows, std::size_t cols, double unmatched) {
    const auto brute = brute_force(c, rows, cols, unmatched);
    const auto optimal = map_words(c, rows, cols, unmatched, projection_method::optimal);
    const auto monotone = map_words(c, rows, cols, unmatched, projection_method::monotone);
    const auto greedy = map_words(c, rows, cols, unmatched, projection_method::greedy);
    check_mapping(optimal, c, rows, cols, unmatched, false);
    check_mapping(monotone, c, rows, cols, unmatched, true);
    check_mapping(greedy, c, rows, cols, unmatched, false);
    CHECK(optimal.cost == doctest::Approx(brute.best).epsilon(1e-12));
    CHECK(monotone.cost == doctest::Approx(brute.best_monotone).epsilon(1e-12));
    CHECK(greedy.target == greedy_reference(c, rows, cols, unmatched));
    CHECK(greedy.cost >= optimal.cost - 1e-12);
}

// ---- an independent word cost: textbook Levenshtein over code points -------------------------------------

std::u32string folded(std::string_view word) {
    std::u32string out;
    for (auto cp : utf8_view(word)) out.push_back(detail::fold_case(cp.value));
    return out;
}

double textbook_cost(std::string_view x, std::string_view y) {
    const auto a = folded(x);
    const auto b = folded(y);
    if (a.empty() && b.empty()) return 0;
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t next = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0u : 1u)});
            diagonal = row[j];
            row[j] = next;
        }
    }
    return static_cast<double>(row[b.size()]) / static_cast<double>(std::max(a.size(), b.size()));
}

// ---- helpers ------------------------------------------------------------------------------------------

struct outcome {
    projection_result result;
    std::optional<std::string> markup;
};

outcome run(std::string_view source_markup, std::string_view target_text, projection_options options = {}) {
    const auto source = parse_markup_tokens(source_markup);
    const auto target = tokenize(target_text);
    auto result = project(source, target, options);
    auto markup = projected_markup(target_text, target, result);
    return {std::move(result), std::move(markup)};
}

projection_options with(projection_method method, double context_weight = 0.01) {
    projection_options o;
    o.method = method;
    o.context_weight = context_weight;
    return o;
}

std::vector<labelled_utterance> load_snips(const char* file) {
    std::ifstream in(std::string(SELFLEARN_TEST_DATA_DIR) + "/" + file);
    REQUIRE_MESSAGE(in.good(), "cannot open the SNIPS data: " << file);
    std::vector<labelled_utterance> corpus;
    std::string line;
    while (std::getline(in, line)) {
        const auto record = nlohmann::json::parse(line);
        corpus.push_back({parse_markup(record.at("annotation").get<std::string>()), record.at("intent").get<std::string>()});
    }
    return corpus;
}

}  // namespace

// ---- the three mappings against brute force ---------------------------------------------------------------

TEST_CASE("map_words: every small matrix over {0, 0.25, 0.5, 1, inf} against every mapping") {
    const double values[] = {0.0, 0.25, 0.5, 1.0, inf};
    for (std::size_t rows = 0; rows <= 3; ++rows) {
        for (std::size_t cols = 0; cols <= 3; ++cols) {
            if (rows * cols > 6) continue;
            std::size_t total = 1;
            for (std::size_t k = 0; k < rows * cols; ++k) total *= 5;
            for (double unmatched : {0.0, 0.5, 0.75}) {
                for (std::size_t code = 0; code < total; ++code) {
                    std::vector<double> c(rows * cols);
                    std::size_t x = code;
                    for (auto& v : c) {
                        v = values[x % 5];
                        x /= 5;
                    }
                    check_all_methods(c, rows, cols, unmatched);
                }
            }
        }
    }
}

TEST_CASE("map_words: random matrices up to 7 x 7 against every mapping") {
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (int round = 0; round < 1500; ++round) {
        const std::size_t rows = rng() % 8;
        const std::size_t cols = rng() % 8;
        const double unmatched = unit(rng);
        std::vector<double> c(rows * cols);
        for (auto& v : c) {
            const auto kind = rng() % 6;
            v = kind == 0 ? inf : kind == 1 ? 0.0 : kind == 2 ? 0.5 : unit(rng);  // ties and forbidden pairs
        }
        check_all_methods(c, rows, cols, unmatched);
    }
}

TEST_CASE("map_words: greedy is not optimal on the classic counter-example") {
    // Row 0 takes column 0 (0.1) and leaves row 1 a 0.9; the optimum crosses: 0.2 + 0.2.
    const std::vector<double> c{0.1, 0.2, 0.2, 0.9};
    CHECK(map_words(c, 2, 2, 1.0, projection_method::greedy).target == std::vector<std::size_t>{0, 1});
    const auto best = map_words(c, 2, 2, 1.0, projection_method::optimal);
    CHECK(best.target == std::vector<std::size_t>{1, 0});
    CHECK(best.cost == doctest::Approx(0.4));
    // the crossing is not order-preserving: monotone keeps 0 -> 0, 1 -> 1
    CHECK(map_words(c, 2, 2, 1.0, projection_method::monotone).target == std::vector<std::size_t>{0, 1});
}

TEST_CASE("map_words: bad matrices are reported") {
    const std::vector<double> c{0.1, 0.2, 0.3};
    CHECK_THROWS_WITH_AS(static_cast<void>(map_words(c, 2, 2, 0.5, projection_method::optimal)),
                         doctest::Contains("has 3 values, expected 2 x 2"), invalid_argument);
    const std::vector<double> bad{0.1, -0.2};
    CHECK_THROWS_WITH_AS(static_cast<void>(map_words(bad, 1, 2, 0.5, projection_method::greedy)),
                         doctest::Contains("cost(0, 1)"), invalid_argument);
    const std::vector<double> nan{std::nan("")};
    CHECK_THROWS_AS(static_cast<void>(map_words(nan, 1, 1, 0.5, projection_method::monotone)), invalid_argument);
    CHECK_THROWS_AS(static_cast<void>(map_words(c, 1, 3, inf, projection_method::optimal)), invalid_argument);
    CHECK_THROWS_AS(static_cast<void>(map_words(c, 1, 3, -1.0, projection_method::optimal)), invalid_argument);
}

// ---- hand-made projections -----------------------------------------------------------------------------

TEST_CASE("a misrecognised one-word and multi-word slot") {
    for (auto method : all_methods) {
        CAPTURE(to_string(method));
        const auto o = run("play [artist : the weeknd] on [service : spotify]", "play the weekend on spotifi",
                           with(method));
        REQUIRE(o.result.accepted);
        CHECK(*o.markup == "play [artist : the weekend] on [service : spotifi]");
        REQUIRE(o.result.details.size() == 2);
        CHECK(o.result.details[0].status == slot_status::mapped);
        CHECK(o.result.details[0].cost == doctest::Approx(1.0 / 7));  // weeknd -> weekend
        CHECK(o.result.details[1].cost == doctest::Approx(1.0 / 7));  // spotify -> spotifi
        CHECK(o.result.cost == doctest::Approx(2.0 / 7));
        CHECK(o.result.word_map == std::vector<std::size_t>{0, 1, 2, 3, 4});
    }
}

TEST_CASE("reordered words: order-free methods follow them, monotone cannot") {
    const char* source = "[city : new york] weather for [date : tomorrow]";
    const char* target = "tomorrow what is the weather in new york";
    for (auto method : {projection_method::greedy, projection_method::optimal}) {
        const auto o = run(source, target, with(method));
        REQUIRE(o.result.accepted);
        CHECK(*o.markup == "[date : tomorrow] what is the weather in [city : new york]");
    }
    const auto m = run(source, target, with(projection_method::monotone));
    CHECK_FALSE(m.result.accepted);  // tomorrow cannot map after york: unmapped, rejected
    CHECK(m.result.reason.find("slot 1 'date'") != std::string::npos);
}

TEST_CASE("repeated words: context decides which copy, plain greedy takes the first") {
    const char* source = "play [artist : the band] on the radio";
    const char* target = "on the radio play the band";
    for (auto method : {projection_method::greedy, projection_method::optimal}) {
        const auto o = run(source, target, with(method));
        REQUIRE(o.result.accepted);
        CHECK(*o.markup == "on the radio play [artist : the band]");
    }
    // The paper's greedy without the context term maps the slot's "the" onto the first "the": split.
    const auto plain = run(source, target, with(projection_method::greedy, 0.0));
    CHECK_FALSE(plain.result.accepted);
    REQUIRE(plain.result.details.size() == 1);
    CHECK(plain.result.details[0].status == slot_status::split);
}

TEST_CASE("a slot value that shares words with the carrier") {
    for (auto method : all_methods) {
        CAPTURE(to_string(method));
        const auto o = run("play [track : play that song] please", "please play play that song", with(method));
        // monotone keeps the order: "please" cannot come first, it maps to nothing and the rest lines up
        REQUIRE(o.result.accepted);
        CHECK(*o.markup == "please play [track : play that song]");
    }
}

TEST_CASE("partial, split and unmapped slots follow the policies") {
    SUBCASE("partial: kept on the words that mapped by default, or rejected") {
        const auto o = run("play [artist : the weeknd]", "play weeknd");
        REQUIRE(o.result.accepted);
        CHECK(*o.markup == "play [artist : weeknd]");
        CHECK(o.result.details[0].status == slot_status::partial);
        CHECK(o.result.details[0].mapped_words == 1);
        projection_options strict;
        strict.on_partial = slot_policy::reject_example;
        const auto r = run("play [artist : the weeknd]", "play weeknd", strict);
        CHECK_FALSE(r.result.accepted);
        CHECK(r.result.reason.find("only 1 of its 2 words") != std::string::npos);
        CHECK(r.result.slots.empty());
        CHECK_FALSE(r.result.details[0].kept);
        CHECK_FALSE(r.markup.has_value());
    }
    SUBCASE("split: rejected by default, kept as the covering span, or dropped") {
        const char* source = "[city : new york] weather";
        const char* target = "new weather york";
        const auto o = run(source, target);
        CHECK_FALSE(o.result.accepted);
        CHECK(o.result.details[0].status == slot_status::split);
        CHECK(o.result.reason.find("target tokens 0-3") != std::string::npos);
        projection_options hull;
        hull.on_split = slot_policy::keep;
        CHECK(*run(source, target, hull).markup == "[city : new weather york]");
        projection_options drop;
        drop.on_split = slot_policy::drop_slot;
        const auto d = run(source, target, drop);
        REQUIRE(d.result.accepted);
        CHECK(*d.markup == "new weather york");
        CHECK_FALSE(d.result.details[0].kept);
    }
    SUBCASE("a target word that maps from nowhere, inside a slot, joins it") {
        const auto o = run("play [artist : the weeknd] now", "play the uh weeknd now");
        REQUIRE(o.result.accepted);
        CHECK(*o.markup == "play [artist : the uh weeknd] now");
        CHECK(o.result.details[0].status == slot_status::mapped);
    }
    SUBCASE("a word split by misrecognition at a slot's edge is joined back") {
        for (auto method : all_methods) {
            const auto o = run("play [artist : the weeknd] now", "play the week nd now", with(method));
            REQUIRE(o.result.accepted);
            CHECK(*o.markup == "play [artist : the week nd] now");
            CHECK(o.result.details[0].cost == doctest::Approx(0.0));  // weeknd against "week" + "nd"
            projection_options no_join = with(method);
            no_join.join_split_words = false;
            const auto n = run("play [artist : the weeknd] now", "play the week nd now", no_join);
            CHECK(*n.markup == "play [artist : the week] nd now");
            CHECK(n.result.details[0].cost == doctest::Approx(2.0 / 6));
            // a free neighbour that does not make the word better stays out
            CHECK(*run("play [artist : adele] now", "play adele now", with(method)).markup == "play [artist : adele] now");
            CHECK(*run("[artist : adele] please", "play adele please", with(method)).markup == "play [artist : adele] please");
        }
    }
    SUBCASE("empty target: every slot unmapped") {
        for (auto method : all_methods) {
            const auto o = run("play [artist : adele]", "", with(method));
            CHECK_FALSE(o.result.accepted);
            CHECK(o.result.reason == "slot 0 'artist' (source tokens 1-2): no word maps onto the target");
            CHECK(o.result.word_map == std::vector<std::size_t>{no_word, no_word});
            CHECK(o.result.cost == doctest::Approx(1.0));  // 2 unmapped words x threshold 0.5
            projection_options drop = with(method);
            drop.on_unmapped = slot_policy::drop_slot;
            const auto d = run("play [artist : adele]", "", drop);
            CHECK(d.result.accepted);
            CHECK(*d.markup == "");
        }
    }
    SUBCASE("all words unmatched") {
        for (auto method : all_methods) {
            const auto o = run("play [artist : adele] loud", "xyzzy qwerty", with(method));
            CHECK_FALSE(o.result.accepted);
            CHECK(o.result.details[0].status == slot_status::unmapped);
            CHECK(o.result.word_map == std::vector<std::size_t>(3, no_word));
        }
    }
    SUBCASE("no slots at all: accepted, nothing to carry") {
        const auto o = run("what is the weather", "whats the weather");
        CHECK(o.result.accepted);
        CHECK(*o.markup == "whats the weather");
    }
}

TEST_CASE("word costs are over code points, case-folded unless asked otherwise") {
    const auto o = run("play [artist : BEYONCÉ]", "play beyonce");
    REQUIRE(o.result.accepted);
    CHECK(o.result.details[0].cost == doctest::Approx(1.0 / 7));  // É -> e: one code point of seven
    CHECK(levenshtein_word_cost{}("Café", "cafe") == doctest::Approx(0.25));
    CHECK(levenshtein_word_cost{.fold_case = false}("ADELE", "adele") == doctest::Approx(1.0));

    projector<levenshtein_word_cost> exact_case({}, levenshtein_word_cost{.fold_case = false});
    const auto source = parse_markup_tokens("play [artist : ADELE]");
    const auto target = tokenize("play adele");
    CHECK_FALSE(exact_case.project(source, target).accepted);
    CHECK(project(source, target).accepted);
}

TEST_CASE("a custom word cost plugs in") {
    auto exact = [](std::string_view a, std::string_view b) { return a == b ? 0.0 : inf; };
    const auto source = parse_markup_tokens("play [artist : adele] now");
    const auto target = tokenize("play adel now");
    const auto r = project(source, target, projection_options{}, exact);
    CHECK_FALSE(r.accepted);
    CHECK(r.word_map == std::vector<std::size_t>{0, no_word, 2});
    auto negative = [](std::string_view, std::string_view) { return -1.0; };
    CHECK_THROWS_WITH_AS(static_cast<void>(project(source, target, projection_options{}, negative)),
                         doctest::Contains("'play' -> 'play' is -1"), invalid_argument);
}

TEST_CASE("bad options and sources are reported") {
    projection_options o;
    o.threshold = -0.1;
    CHECK_THROWS_WITH_AS(projector<>{o}, doctest::Contains("threshold"), invalid_argument);
    o = {};
    o.context_weight = std::nan("");
    CHECK_THROWS_AS(projector<>{o}, invalid_argument);
    o = {};
    o.on_unmapped = slot_policy::keep;
    CHECK_THROWS_AS(projector<>{o}, invalid_argument);
    CHECK_THROWS_WITH_AS(static_cast<void>(parse_projection_method("fast")), doctest::Contains("'fast'"),
                         invalid_argument);
    CHECK(parse_projection_method("monotone") == projection_method::monotone);

    auto source = parse_markup_tokens("play [artist : the weeknd]");
    source.slots.push_back({"album", 2, 3});  // overlaps the artist slot
    const auto target = tokenize("play the weeknd");
    CHECK_THROWS_WITH_AS(static_cast<void>(project(source, target)), doctest::Contains("source slot 1 ('album')"),
                         annotation_error);
    source.slots = {{"bad label", 1, 2}};
    CHECK_THROWS_AS(static_cast<void>(project(source, target)), annotation_error);
}

// ---- properties on SNIPS -------------------------------------------------------------------------------

TEST_CASE("a target equal to the source gets the source's labels (all of SNIPS validate, every method)") {
    const auto corpus = load_snips("validate.jsonl");
    for (auto method : all_methods) {
        projector<> p(with(method));
        for (const auto& u : corpus) {
            const auto source = tokenize_annotated(u.annotation);
            const auto r = p.project(source, source.tokens);
            CAPTURE(u.annotation.text);
            REQUIRE(r.accepted);
            CHECK(r.slots == source.slots);
            CHECK(r.cost == 0.0);
        }
    }
}

TEST_CASE("projection never invents a label, its spans are valid, and the fast word cost equals a textbook one") {
    const auto corpus = load_snips("train.jsonl");
    const auto pairs = generate_paraphrase_pairs(
        corpus, {.seed = 5, .positives = 600, .slot_negatives = 200, .intent_negatives = 200});
    REQUIRE(pairs.size() == 1000);
    std::mt19937_64 rng(9);
    for (auto method : all_methods) {
        projection_options plain = with(method, 0.0);
        projector<> fast(with(method));
        projector<> fast_plain(plain);
        projector<decltype(&textbook_cost)> slow(with(method), &textbook_cost);
        for (const auto& pair : pairs) {
            const auto source = tokenize_annotated(pair.first.annotation);
            auto target = tokenize(pair.second.annotation.text);
            if (rng() % 4 == 0 && !target.empty()) target.erase(target.begin() + static_cast<long>(rng() % target.size()));
            const auto r = fast.project(source, target);
            CAPTURE(to_markup(pair.first.annotation));
            CAPTURE(pair.second.annotation.text);
            // never invents: each projected label is the label of a distinct source slot, spans sorted and valid
            REQUIRE(r.slots.size() <= source.slots.size());
            std::vector<std::string> labels;
            for (const auto& s : source.slots) labels.push_back(s.label);
            for (std::size_t k = 0; k < r.slots.size(); ++k) {
                const auto it = std::find(labels.begin(), labels.end(), r.slots[k].label);
                REQUIRE(it != labels.end());
                labels.erase(it);
                REQUIRE(r.slots[k].begin < r.slots[k].end);
                REQUIRE(r.slots[k].end <= target.size());
                if (k > 0) REQUIRE(r.slots[k - 1].end <= r.slots[k].begin);
            }
            if (!r.accepted) CHECK(r.slots.empty());
            // the bounded, code-point fast path gives what a textbook Levenshtein gives
            CHECK(slow.project(source, target) == r);
            // and with no context term the mapping is map_words() on the textbook cost matrix
            std::vector<double> c(source.tokens.size() * target.size());
            for (std::size_t i = 0; i < source.tokens.size(); ++i) {
                for (std::size_t j = 0; j < target.size(); ++j) {
                    const double w = textbook_cost(source.tokens[i].text, target[j].text);
                    c[i * target.size() + j] = w <= plain.threshold ? w : inf;
                }
            }
            const auto reference = map_words(c, source.tokens.size(), target.size(), plain.threshold, method);
            const auto r0 = fast_plain.project(source, target);
            CHECK(r0.word_map == reference.target);
            CHECK(r0.cost == doctest::Approx(reference.cost).epsilon(1e-12));
        }
    }
}
