#include <selflearn/paraphrase.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <sstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace selflearn;

namespace {

labelled_utterance utterance(const std::string& markup, const std::string& intent) {
    return {parse_markup(markup), intent};
}

// The test's own view of a carrier: the markup with each value replaced by a placeholder.
std::string carrier_of(const annotated_text& a) {
    std::string out;
    std::size_t at = 0;
    for (const auto& s : a.slots) {
        out += a.text.substr(at, s.begin - at) + "<" + s.label + ">";
        at = s.end;
    }
    return out + a.text.substr(at);
}

std::vector<std::pair<std::string, std::string>> label_values(const annotated_text& a) {
    std::vector<std::pair<std::string, std::string>> v;
    for (const auto& s : a.slots) v.emplace_back(s.label, a.text.substr(s.begin, s.end - s.begin));
    std::sort(v.begin(), v.end());
    return v;
}

std::vector<labelled_utterance> load_snips(const char* file) {
    std::ifstream in(std::string(SELFLEARN_TEST_DATA_DIR) + "/" + file);
    REQUIRE_MESSAGE(in.good(), "cannot open the SNIPS data: " << file);
    std::vector<labelled_utterance> corpus;
    std::string line;
    while (std::getline(in, line)) {
        const auto record = nlohmann::json::parse(line);
        corpus.push_back(utterance(record.at("annotation").get<std::string>(), record.at("intent").get<std::string>()));
    }
    return corpus;
}

// Checks every generated pair against the corpus with the test's own bookkeeping.
void check_pairs(const std::vector<labelled_utterance>& corpus, const std::vector<paraphrase_pair>& pairs) {
    std::map<std::string, std::set<std::string>> carriers;  // intent -> carriers
    std::map<std::string, std::set<std::string>> values;    // label -> values
    std::map<std::string, std::set<std::string>> intent_labels;
    for (const auto& u : corpus) {
        carriers[u.intent].insert(carrier_of(u.annotation));
        for (const auto& [l, v] : label_values(u.annotation)) {
            values[l].insert(v);
            intent_labels[u.intent].insert(l);
        }
    }
    std::set<std::pair<std::string, std::string>> distinct;
    for (const auto& p : pairs) {
        validate(p.first.annotation);
        validate(p.second.annotation);
        CHECK(distinct.emplace(to_markup(p.first.annotation) + p.first.intent,
                               to_markup(p.second.annotation) + p.second.intent)
                  .second);
        CHECK(carriers[p.first.intent].contains(carrier_of(p.first.annotation)));
        switch (p.kind) {
            case pair_kind::positive:
                CHECK(p.is_paraphrase());
                CHECK(p.first.intent == p.second.intent);
                CHECK(carriers[p.second.intent].contains(carrier_of(p.second.annotation)));
                CHECK(carrier_of(p.first.annotation) != carrier_of(p.second.annotation));
                CHECK(p.first.annotation.text != p.second.annotation.text);
                CHECK(label_values(p.first.annotation) == label_values(p.second.annotation));
                break;
            case pair_kind::intent_negative:
                CHECK_FALSE(p.is_paraphrase());
                CHECK(p.first.intent != p.second.intent);
                CHECK(carriers[p.second.intent].contains(carrier_of(p.second.annotation)));
                CHECK(label_values(p.first.annotation) == label_values(p.second.annotation));
                break;
            case pair_kind::slot_negative: {
                CHECK_FALSE(p.is_paraphrase());
                CHECK(p.first.intent == p.second.intent);
                const auto& a = p.first.annotation;
                const auto& b = p.second.annotation;
                REQUIRE(!b.slots.empty());
                // exactly one slot of the second differs from the first's values in label; its new value
                // is a value of the new label in the corpus; the rest keep the first's values.
                std::size_t changed = 0;
                std::string new_label;
                auto remaining = label_values(a);
                for (const auto& s : b.slots) {
                    const auto v = b.text.substr(s.begin, s.end - s.begin);
                    auto it = std::find(remaining.begin(), remaining.end(), std::make_pair(s.label, v));
                    if (it != remaining.end()) {
                        remaining.erase(it);
                    } else {
                        ++changed;
                        new_label = s.label;
                        CHECK(values[s.label].contains(v));
                    }
                }
                CHECK(changed == 1);
                REQUIRE(remaining.size() == 1);
                CHECK(remaining[0].first != new_label);  // the slot changed type, not only value
                CHECK(intent_labels[p.first.intent].contains(new_label));
                break;
            }
        }
    }
}

}  // namespace

TEST_CASE("positives pair two carriers of one signature with the same values; negatives change one thing") {
    const std::vector<labelled_utterance> corpus{
        utterance("play [artist : adele]", "PlayMusic"),
        utterance("put on some [artist : the weeknd] please", "PlayMusic"),
        utterance("i want to hear [artist : sia]", "PlayMusic"),
        utterance("play the album [album : 25]", "PlayMusic"),
        utterance("add [artist : adele] to [playlist : chill]", "AddToPlaylist"),
        utterance("put [artist : sia] on [playlist : workout]", "AddToPlaylist"),
        utterance("is [artist : adele] any good", "RateBook"),
    };
    paraphrase_generator generator(corpus);
    CHECK(generator.signature_count() == 4);  // PlayMusic{artist}, PlayMusic{album}, AddToPlaylist{artist, playlist}, RateBook{artist}
    CHECK(generator.positive_seed_count() == 5);  // 3 PlayMusic{artist} + 2 AddToPlaylist{artist, playlist}
    CHECK(generator.intent_negative_seed_count() == 4);  // PlayMusic{artist} <-> RateBook{artist}
    const auto pairs = generator.generate({.seed = 7, .positives = 50, .slot_negatives = 50, .intent_negatives = 50});
    check_pairs(corpus, pairs);
    std::map<pair_kind, std::size_t> count;
    for (const auto& p : pairs) ++count[p.kind];
    // PlayMusic{artist}: 3 carriers x 2 ordered others x 3 value sets = 18 distinct positives;
    // AddToPlaylist: 2 x 1 x 2 = 4. The generator stops when it cannot find new ones.
    CHECK(count[pair_kind::positive] == 22);
    CHECK(count[pair_kind::slot_negative] > 10);
    // intent negatives: PlayMusic (3 carriers x 3 values) x RateBook (1 carrier) + RateBook x PlayMusic (1 x 1 x 3)
    CHECK(count[pair_kind::intent_negative] == 12);

    // the pairs come grouped by kind, positives first
    CHECK(std::is_sorted(pairs.begin(), pairs.end(),
                         [](const paraphrase_pair& x, const paraphrase_pair& y) { return x.kind < y.kind; }));
}

TEST_CASE("slot negatives prefer a slot type seen with the same intent") {
    const std::vector<labelled_utterance> corpus{
        utterance("play [artist : adele]", "PlayMusic"),
        utterance("put on [artist : sia]", "PlayMusic"),
        utterance("play the album [album : 25]", "PlayMusic"),
        utterance("weather in [city : paris]", "GetWeather"),
    };
    const auto pairs = generate_paraphrase_pairs(corpus, {.seed = 3, .positives = 0, .slot_negatives = 20,
                                                          .intent_negatives = 0});
    REQUIRE(!pairs.empty());
    for (const auto& p : pairs) {
        REQUIRE(p.kind == pair_kind::slot_negative);
        REQUIRE(p.second.annotation.slots.size() == 1);
        CHECK(p.second.annotation.slots[0].label == "album");  // never "city": not seen with PlayMusic
    }
    check_pairs(corpus, pairs);
}

TEST_CASE("a corpus without two carriers of a signature gives no positives") {
    const std::vector<labelled_utterance> corpus{utterance("play [artist : adele]", "PlayMusic"),
                                                 utterance("play [artist : sia]", "PlayMusic")};
    const auto pairs = generate_paraphrase_pairs(corpus, {});
    CHECK(pairs.empty());  // one carrier only; no other intent either
    CHECK(generate_paraphrase_pairs({}, {}).empty());
}

TEST_CASE("bad corpus entries are reported with their index") {
    std::vector<labelled_utterance> corpus{utterance("play [artist : adele]", "PlayMusic"),
                                           utterance("play [artist : sia]", "")};
    CHECK_THROWS_WITH_AS(paraphrase_generator{corpus}, doctest::Contains("utterance 1"), invalid_argument);
    corpus[1] = {annotated_text{"play", {{"artist", 2, 9}}}, "PlayMusic"};
    CHECK_THROWS_AS(paraphrase_generator{corpus}, annotation_error);
}

TEST_CASE("generation on SNIPS is deterministic, seeded and correct") {
    const auto corpus = load_snips("train.jsonl");
    paraphrase_generator generator(corpus);
    const paraphrase_options options{.seed = 11, .positives = 2000, .slot_negatives = 1000, .intent_negatives = 1000};
    const auto pairs = generator.generate(options);
    CHECK(pairs == generator.generate(options));
    CHECK(pairs == paraphrase_generator(corpus).generate(options));
    auto other = options;
    other.seed = 12;
    CHECK(pairs != generator.generate(other));
    std::map<pair_kind, std::size_t> count;
    for (const auto& p : pairs) ++count[p.kind];
    CHECK(count[pair_kind::positive] == 2000);
    CHECK(count[pair_kind::slot_negative] == 1000);
    CHECK(count[pair_kind::intent_negative] == 1000);
    check_pairs(corpus, pairs);
}

// ---------------------------------------------------------------------------------------------------
// Paraphrase scorers and features.
// ---------------------------------------------------------------------------------------------------

namespace {

turn said(const std::string& text, std::optional<std::string> annotation = std::nullopt) {
    turn t;
    t.session = "s";
    t.text = text;
    t.annotation = std::move(annotation);
    return t;
}

// Brute force, written from the definitions: code-point Levenshtein by the full table, then the
// word-level table with that as the substitution cost.
double brute_char_distance(const std::u32string& a, const std::u32string& b) {
    std::vector<std::vector<double>> d(a.size() + 1, std::vector<double>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = static_cast<double>(i);
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = static_cast<double>(j);
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        }
    }
    return d[a.size()][b.size()];
}

double brute_word_similarity(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    if (a.empty() && b.empty()) return 1.0;
    std::vector<std::vector<double>> d(a.size() + 1, std::vector<double>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = static_cast<double>(i);
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = static_cast<double>(j);
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const auto x = decode_utf8(a[i - 1]), y = decode_utf8(b[j - 1]);
            const double sub = brute_char_distance(x, y) / static_cast<double>(std::max(x.size(), y.size()));
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + sub});
        }
    }
    return 1.0 - d[a.size()][b.size()] / static_cast<double>(std::max(a.size(), b.size()));
}

}  // namespace

static_assert(paraphrase_scorer<character_similarity_scorer>);
static_assert(paraphrase_scorer<word_similarity_scorer>);
static_assert(!paraphrase_scorer<int>);

TEST_CASE("character and word similarity scorers against brute force") {
    CHECK(character_similarity_scorer{}(said("play maj and dragons"), said("Play Imagine Dragons")) ==
          doctest::Approx(0.75));
    CHECK(word_similarity_scorer{}(said("play imagin dragons"), said("play imagine dragons")) ==
          doctest::Approx(1.0 - (1.0 / 7.0) / 3.0));
    CHECK(word_similarity_scorer{}(said(""), said("")) == 1.0);
    CHECK(word_similarity_scorer{}(said("a b"), said("")) == 0.0);
    // Random word sequences over a small alphabet (with a two-byte letter) against the brute force.
    std::uint64_t state = 7;
    auto next = [&] {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<std::size_t>(state >> 33);
    };
    const std::vector<std::string> letters = {"a", "b", "é", "c"};
    for (int round = 0; round < 300; ++round) {
        std::vector<std::string> x(next() % 6), y(next() % 6);
        for (auto* v : {&x, &y}) {
            for (auto& w : *v) {
                const std::size_t len = 1 + next() % 4;
                for (std::size_t k = 0; k < len; ++k) w += letters[next() % letters.size()];
            }
        }
        CHECK(word_similarity_scorer::similarity(x, y) == doctest::Approx(brute_word_similarity(x, y)).epsilon(1e-12));
        std::string jx, jy;
        for (const auto& w : x) jx += (jx.empty() ? "" : " ") + w;
        for (const auto& w : y) jy += (jy.empty() ? "" : " ") + w;
        const auto cx = decode_utf8(jx), cy = decode_utf8(jy);
        const double expect = cx.empty() && cy.empty()
                                  ? 1.0
                                  : 1.0 - brute_char_distance(cx, cy) / static_cast<double>(std::max(cx.size(), cy.size()));
        CHECK(character_similarity_scorer{}(said(jx), said(jy)) == doctest::Approx(expect).epsilon(1e-12));
    }
}

TEST_CASE("slot-aware paraphrase features, worked by hand") {
    // Another carrier phrase, the slot value misheard by one letter.
    const auto f = paraphrase_features(said("tell me when it is six a m"),
                                       said("wake me up at six am", "wake me up at [time : six am]"));
    CHECK(f[6] == 1.0);
    // Slot words "six" (exact, 1) and "am": best against "a" or "m" is 1 - 1/2 = 0.5 -> coverage 0.75.
    CHECK(f[7] == doctest::Approx(0.75));
    CHECK(f[8] == doctest::Approx(0.5));
    CHECK(f[9] == doctest::Approx(0.75));
    // Carrier words: "wake me up at" vs failed minus {"six", "a"} (the first word reaching 0.5 for "am"):
    // "tell me when it is m".
    CHECK(f[10] == doctest::Approx(brute_word_similarity({"tell", "me", "when", "it", "is", "m"}, {"wake", "me", "up", "at"})));
    CHECK(f[2] == doctest::Approx(6.0 / 8.0));
    // Shared distinct words: six, me -> 2 of 8 + 6 - 2 = 12 distinct.
    CHECK(f[3] == doctest::Approx(2.0 / 12.0));
    CHECK(f[4] == 0.0);
    CHECK(f[5] == 0.0);
    // No lexicon: no intent features.
    CHECK(f[11] == 0.0);
    CHECK(f[12] == 0.0);
    CHECK(f[13] == 0.0);
    // Later coverage: each later word's best similarity against a failed word, by brute force.
    {
        const std::vector<std::string> failed_words = {"tell", "me", "when", "it", "is", "six", "a", "m"};
        double sum = 0.0;
        for (const std::string w : {"wake", "me", "up", "at", "six", "am"}) {
            double best = 0.0;
            for (const auto& x : failed_words) {
                const auto cx = decode_utf8(x), cw = decode_utf8(w);
                best = std::max(best, 1.0 - brute_char_distance(cx, cw) / static_cast<double>(std::max(cx.size(), cw.size())));
            }
            sum += best;
        }
        CHECK(f[14] == doctest::Approx(sum / 6.0));
    }
    // Without an annotation every slot feature is 0; "imagine" is covered by "imagin" at 6/7.
    const auto g = paraphrase_features(said("play imagin dragons"), said("play imagine dragons"));
    for (std::size_t k = 6; k < 14; ++k) CHECK(g[k] == 0.0);
    CHECK(g[14] == doctest::Approx((1.0 + 6.0 / 7.0 + 1.0) / 3.0));
    CHECK(g[4] == doctest::Approx(1.0 / 3.0));
    CHECK(g[5] == doctest::Approx(1.0 / 3.0));
    CHECK(g[1] == doctest::Approx(brute_word_similarity({"play", "imagin", "dragons"}, {"play", "imagine", "dragons"})));
    // One changed slot shows in the minimum coverage.
    const auto h = paraphrase_features(said("play jazz in the kitchen"),
                                       said("play jazz in the kitchen", "play [genre : jazz] in the [room : bedroom]"));
    CHECK(h[9] < 0.5);
    CHECK(h[7] > h[9]);
    // An annotation without slots: nothing of the later turn's values is missing.
    const auto n = paraphrase_features(said("can you play me some satire music"), said("play satire", "play satire"));
    CHECK(n[6] == 1.0);
    CHECK(n[7] == 1.0);
    CHECK(n[8] == 1.0);
    CHECK(n[9] == 1.0);
    CHECK(n[14] == 1.0);  // both later words are in the failed turn
    for (double v : f) CHECK((v >= 0.0 && v <= 1.0));
    CHECK(paraphrase_feature_names[10] == "carrier_similarity");
    CHECK(paraphrase_feature_names[12] == "carrier_intent");
}

namespace {

// The naive Bayes posterior of intent `target` by brute force over the lexicon's counts, as fractions
// of products rather than sums of logs: P(k | words) = prod_w P(w | k) / sum_j prod_w P(w | j).
double brute_posterior(const std::map<std::string, std::map<std::string, double>>& counts,  // intent -> word -> n
                       const std::vector<std::string>& words, const std::string& target) {
    std::set<std::string> vocabulary;
    for (const auto& [intent, row] : counts) {
        for (const auto& [w, n] : row) vocabulary.insert(w);
    }
    std::map<std::string, double> product;
    for (const auto& [intent, row] : counts) {
        double total = 0.0;
        for (const auto& [w, n] : row) total += n;
        double p = 1.0;
        for (const auto& w : words) {
            if (!vocabulary.contains(w)) continue;
            const auto it = row.find(w);
            p *= ((it == row.end() ? 0.0 : it->second) + 1.0) / (total + static_cast<double>(vocabulary.size()));
        }
        product[intent] = p;
    }
    double sum = 0.0;
    for (const auto& [intent, p] : product) sum += p;
    return product.at(target) / sum;
}

}  // namespace

TEST_CASE("carrier_lexicon: naive Bayes over the carrier words of each intent, against brute force") {
    // Two utterances share the carrier "wake me up at [time]": it is counted once.
    const std::vector<labelled_utterance> corpus = {
        utterance("wake me up at [time : six am]", "SetAlarm"), utterance("wake me up at [time : seven]", "SetAlarm"),
        utterance("set an alarm for [time : noon]", "SetAlarm"), utterance("play [artist : adele] for me", "PlayMusic"),
        utterance("put on some [genre : jazz]", "PlayMusic"),     utterance("what is the weather in [city : oslo]", "GetWeather")};
    const carrier_lexicon lexicon(corpus);
    CHECK(lexicon.intents() == std::vector<std::string>{"GetWeather", "PlayMusic", "SetAlarm"});
    CHECK(lexicon.knows("SetAlarm"));
    CHECK_FALSE(lexicon.knows("BookRestaurant"));
    const std::map<std::string, std::map<std::string, double>> counts = {
        {"SetAlarm", {{"wake", 1}, {"me", 1}, {"up", 1}, {"at", 1}, {"set", 1}, {"an", 1}, {"alarm", 1}, {"for", 1}}},
        {"PlayMusic", {{"play", 1}, {"for", 1}, {"me", 1}, {"put", 1}, {"on", 1}, {"some", 1}}},
        {"GetWeather", {{"what", 1}, {"is", 1}, {"the", 1}, {"weather", 1}, {"in", 1}}}};
    CHECK(lexicon.vocabulary_size() == 17);
    for (const std::vector<std::string>& words : std::vector<std::vector<std::string>>{
             {"tell", "me", "when", "it", "is"}, {"wake", "me", "up"}, {"put", "me", "on", "alarm"}, {"me"}, {"for", "me"}}) {
        for (const auto& intent : lexicon.intents()) {
            CHECK(*lexicon.intent_probability(words, intent) == doctest::Approx(brute_posterior(counts, words, intent)).epsilon(1e-12));
        }
        // The one-word form: the best single known word.
        double best = -1.0;
        for (const auto& w : words) {
            if (!counts.at("SetAlarm").contains(w) && !counts.at("PlayMusic").contains(w) && !counts.at("GetWeather").contains(w)) continue;
            best = std::max(best, brute_posterior(counts, {w}, "SetAlarm"));
        }
        CHECK(*lexicon.word_intent_probability(words, "SetAlarm") == doctest::Approx(best).epsilon(1e-12));
    }
    // Unknown words only: the uniform prior. Unknown intent: no evidence.
    CHECK(*lexicon.intent_probability(std::vector<std::string>{"zzz"}, "SetAlarm") == doctest::Approx(1.0 / 3.0));
    CHECK(*lexicon.word_intent_probability(std::vector<std::string>{}, "PlayMusic") == doctest::Approx(1.0 / 3.0));
    CHECK_FALSE(lexicon.intent_probability(std::vector<std::string>{"me"}, "BookRestaurant").has_value());
    CHECK(carrier_lexicon().intents().empty());
    CHECK_THROWS_WITH_AS(carrier_lexicon(std::vector<labelled_utterance>{utterance("x", "")}),
                         doctest::Contains("utterance 0 ('x') has an empty intent"), invalid_argument);

    // The intent features of a pair: "tell me when it is six am" after "wake me up at six am" (SetAlarm).
    turn later = said("wake me up at six am", "wake me up at [time : six am]");
    later.intent = "SetAlarm";
    const auto f = paraphrase_features(said("tell me when it is six am"), later, &lexicon);
    CHECK(f[11] == 1.0);
    CHECK(f[12] == doctest::Approx(brute_posterior(counts, {"tell", "me", "when", "it", "is"}, "SetAlarm")));
    CHECK(f[13] == doctest::Approx(brute_posterior(counts, {"me"}, "SetAlarm")));
    later.intent = "Unknown";
    const auto g = paraphrase_features(said("tell me when it is six am"), later, &lexicon);
    CHECK(g[11] == 0.0);
    CHECK(g[12] == 0.0);
}

TEST_CASE("carrier_lexicon: save and load round trip, escapes, and malformed sections name the line") {
    const std::vector<labelled_utterance> corpus = {utterance("wake me up at [time : six]", "Set Alarm\\x"),
                                                    utterance("play [artist : adele]", "PlayMusic")};
    const carrier_lexicon lexicon(corpus);
    std::stringstream text;
    lexicon.save(text);
    CHECK(text.str() == "carrier-lexicon 1 2 5\nintent PlayMusic\nintent Set\\sAlarm\\\\x\nword at 1:1\nword me 1:1\n"
                        "word play 0:1\nword up 1:1\nword wake 1:1\nend\n");
    const auto back = carrier_lexicon::load(text, "m.txt", 9);
    CHECK(back == lexicon);
    const std::vector<std::string> words = {"wake", "me"};
    CHECK(*back.intent_probability(words, "Set Alarm\\x") == *lexicon.intent_probability(words, "Set Alarm\\x"));

    const auto fails = [](const std::string& body, const std::string& message) {
        std::istringstream in(body);
        CHECK_THROWS_WITH_AS((void)carrier_lexicon::load(in, "m.txt", 9), doctest::Contains(message.c_str()), model_format_error);
    };
    fails("", "m.txt:10: the file ends where the field 'carrier-lexicon' was expected");
    fails("carrier-lexicon 2 0 0\nend\n", "m.txt:10: carrier lexicon version '2', this library reads version 1");
    fails("carrier-lexicon 1 1 0\nword a 0:1\n", "m.txt:11: expected the field 'intent'");
    fails("carrier-lexicon 1 2 0\nintent b\nintent a\nend\n", "m.txt:12: field 'intent': intents must be sorted");
    fails("carrier-lexicon 1 1 1\nintent a\nword x 1:1\nend\n", "m.txt:12: field 'word': '1' is not a count up to 0");
    fails("carrier-lexicon 1 1 1\nintent a\nword x 0:0\nend\n", "m.txt:12: field 'word': '0:0': intents must be increasing");
    fails("carrier-lexicon 1 1 1\nintent a\nword x\\q 0:1\nend\n", "m.txt:12: 'x\\q' has an unknown escape");
    fails("carrier-lexicon 1 1 2\nintent a\nword y 0:1\nword x 0:1\nend\n", "m.txt:13: field 'word': words must be sorted");
    fails("carrier-lexicon 1 1 1\nintent a\nword x 0:1\n", "m.txt:13: the file ends where the field 'end' was expected");
}

TEST_CASE("paraphrase features report malformed markup") {
    CHECK_THROWS_WITH_AS((void)paraphrase_features(said("x"), said("y", "[time : y")),
                         doctest::Contains("annotation '[time : y'"), annotation_error);
    CHECK_THROWS_AS((void)paraphrase_features(said("\xff"), said("y")), invalid_utf8);
}

// ---------------------------------------------------------------------------------------------------
// The trained paraphrase detector.
// ---------------------------------------------------------------------------------------------------

namespace {

// Area under the ROC curve by brute force over every (positive, negative) pair; ties count one half.
double auc(const std::vector<double>& scores, const std::vector<bool>& labels) {
    double wins = 0.0, pairs = 0.0;
    for (std::size_t i = 0; i < scores.size(); ++i) {
        if (!labels[i]) continue;
        for (std::size_t j = 0; j < scores.size(); ++j) {
            if (labels[j]) continue;
            pairs += 1.0;
            wins += scores[i] > scores[j] ? 1.0 : scores[i] == scores[j] ? 0.5 : 0.0;
        }
    }
    return wins / pairs;
}

double accuracy(const std::vector<double>& scores, const std::vector<bool>& labels, double threshold) {
    double right = 0.0;
    for (std::size_t i = 0; i < scores.size(); ++i) right += ((scores[i] >= threshold) == labels[i]) ? 1.0 : 0.0;
    return right / static_cast<double>(scores.size());
}

}  // namespace

static_assert(paraphrase_scorer<paraphrase_model>);

TEST_CASE("paraphrase training needs two intents") {
    const std::vector<labelled_utterance> one = {utterance("play [artist : adele]", "PlayMusic"),
                                                 utterance("put on [artist : adele]", "PlayMusic")};
    CHECK_THROWS_WITH_AS((void)train_paraphrase_model(one), doctest::Contains("2 utterances of 1 intent; it needs at least two intents"),
                         invalid_argument);
    CHECK_THROWS_WITH_AS((void)train_paraphrase_model(std::vector<labelled_utterance>{}),
                         doctest::Contains("0 utterances of 0 intents"), invalid_argument);
}

TEST_CASE("training examples look like log pairs") {
    const auto corpus = load_snips("train.jsonl");
    paraphrase_training_options o;
    o.positives = 300;
    o.repeats = 200;
    o.slot_negatives = 100;
    o.intent_negatives = 100;
    o.unrelated_negatives = 300;
    const auto examples = paraphrase_training_examples(corpus, o);
    std::map<std::string, std::size_t> kinds;
    std::size_t noisy = 0, positives = 0, unrelated = 0, noisy_unrelated = 0, unannotated = 0;
    std::set<std::string> texts;
    std::set<std::pair<std::vector<std::string>, std::string>> corpus_carriers;
    std::size_t with_intent = 0;
    for (const auto& u : corpus) {
        texts.insert(normalize_utterance(u.annotation.text));
        corpus_carriers.insert({detail::carrier_words(u.annotation), u.intent});
    }
    for (const auto& e : examples) {
        ++kinds[e.kind];
        CHECK(e.paraphrase == (e.kind == "positive" || e.kind == "repeat"));
        CHECK((e.later_annotation.empty() || parse_markup(e.later_annotation).text == e.later));
        CHECK((e.later_intent.empty() || !e.later_annotation.empty()));  // no markup, no intent
        if (!e.later_intent.empty()) ++with_intent;
        // The failed side before noise: a carrier phrase of the corpus (filled with values of its
        // signature) and its intent.
        CHECK(corpus_carriers.contains({detail::carrier_words(parse_markup(e.failed_annotation)), e.failed_intent}));
        if (e.kind == "repeat" || e.kind == "unrelated") {  // the failed side is a corpus utterance then
            CHECK(texts.contains(normalize_utterance(parse_markup(e.failed_annotation).text)));
        }
        if (e.paraphrase) {
            ++positives;
            if (!texts.contains(normalize_utterance(e.failed))) ++noisy;
        }
        if (e.kind == "unrelated") {  // its failed side is a corpus utterance, unless noise changed it
            ++unrelated;
            if (!texts.contains(normalize_utterance(e.failed))) ++noisy_unrelated;
        }
        if (e.later_annotation.empty()) ++unannotated;
    }
    CHECK(kinds["positive"] == 300);
    CHECK(kinds["repeat"] == 200);
    CHECK(kinds["slot_negative"] == 100);
    CHECK(kinds["intent_negative"] == 100);
    CHECK(kinds["unrelated"] == 300);
    // About noise = 0.7 of the positives carry noise; some noise draws change nothing a corpus text has not.
    CHECK(noisy > positives / 2);
    CHECK(noisy < positives * 9 / 10);
    // Noise does not depend on the label: negatives get it as often (else it would give the label away).
    CHECK(noisy_unrelated > unrelated / 2);
    CHECK(noisy_unrelated < unrelated * 9 / 10);
    // About unannotated = 0.25 of the later sides carry no annotation.
    CHECK(unannotated > examples.size() * 15 / 100);
    CHECK(unannotated < examples.size() * 35 / 100);
    // About unknown_intent = 0.15 of the annotated later sides carry no intent.
    const std::size_t annotated = examples.size() - unannotated;
    CHECK(with_intent > annotated * 75 / 100);
    CHECK(with_intent < annotated * 95 / 100);
    CHECK(paraphrase_training_examples(corpus, o) == examples);
    o.seed = 2;
    CHECK(paraphrase_training_examples(corpus, o) != examples);
}

TEST_CASE("a trained detector beats word similarity on intents it never saw, and round-trips its file") {
    const auto corpus = load_snips("train.jsonl");
    const std::set<std::string> train_intents = {"AddToPlaylist", "BookRestaurant", "GetWeather", "PlayMusic"};
    std::vector<labelled_utterance> seen, unseen;
    for (const auto& u : corpus) (train_intents.contains(u.intent) ? seen : unseen).push_back(u);
    REQUIRE(unseen.size() > 1000);
    const auto model = train_paraphrase_model(seen);
    CHECK(model == train_paraphrase_model(seen));  // deterministic

    for (double noise : {0.7, 0.0}) {
        paraphrase_training_options held;
        held.seed = 77;
        held.noise = noise;
        const auto test = paraphrase_training_examples(unseen, held);
        std::vector<double> m, w;
        std::vector<bool> labels;
        for (const auto& e : test) {
            const turn failed = said(e.failed);
            const turn later = e.later_annotation.empty() ? said(e.later) : said(e.later, e.later_annotation);
            m.push_back(model(failed, later));
            w.push_back(word_similarity_scorer{}(failed, later));
            labels.push_back(e.paraphrase);
        }
        const double auc_model = auc(m, labels), auc_words = auc(w, labels);
        const double acc_model = accuracy(m, labels, 0.5), acc_words = accuracy(w, labels, 0.5);
        MESSAGE("noise " << noise << ": AUC model " << auc_model << " words " << auc_words << "; accuracy at 0.5 model "
                         << acc_model << " words " << acc_words);
        CHECK(auc_model > auc_words + 0.02);
        CHECK(acc_model > acc_words + 0.02);
    }

    // Save and load: the same model, bit-exact probabilities.
    std::stringstream file;
    model.save(file);
    const std::string saved = file.str();
    const auto back = paraphrase_model::load(file, "p.model");
    CHECK(back == model);
    CHECK(back.lexicon() == carrier_lexicon(seen));
    // A model file of an earlier version of the detector (no lexicon after the logistic part) is refused.
    {
        std::istringstream cut(saved.substr(0, saved.find("carrier-lexicon")));
        CHECK_THROWS_WITH_AS((void)paraphrase_model::load(cut, "p.model"),
                             doctest::Contains("p.model:10: the file ends where the field 'carrier-lexicon' was expected"),
                             model_format_error);
    }
    const turn failed = said("play somethin by adel"), later = said("play something by adele", "play something by [artist : adele]");
    CHECK(back(failed, later) == model(failed, later));
    // A model of other features, or of another kind, is refused with the line and field.
    std::istringstream other(fit_logistic(Eigen::MatrixXd::Identity(2, 2), Eigen::Vector2d(0, 1)).to_text("paraphrase"));
    CHECK_THROWS_WITH_AS((void)paraphrase_model::load(other, "p.model"),
                         doctest::Contains("p.model:4: field 'features': the features are not"), model_format_error);
    std::istringstream friction(model.logistic().to_text("friction"));
    CHECK_THROWS_WITH_AS((void)paraphrase_model::load(friction, "p.model"),
                         doctest::Contains("p.model:2: field 'kind': a 'friction' model, expected a 'paraphrase' model"),
                         model_format_error);
}

TEST_CASE("log_paraphrase_corpus: the annotated successes of a log, whatever their order, bounded by hash") {
    std::vector<turn> log;
    const std::vector<std::pair<std::string, std::string>> said_as = {
        {"play [artist : adele]", "PlayMusic"},     {"play some [genre : jazz]", "PlayMusic"},
        {"wake me at [time : six]", "SetAlarm"},    {"set an alarm for [time : seven]", "SetAlarm"},
        {"weather in [city : paris]", "GetWeather"}, {"is it raining in [city : oslo]", "GetWeather"}};
    for (int round = 0; round < 3; ++round) {  // each utterance three times: kept once
        for (const auto& [markup, intent] : said_as) {
            turn t = said(parse_markup(markup).text, markup);
            t.intent = intent;
            log.push_back(t);
        }
    }
    turn failed = said("play adel", "play [artist : adel]");
    failed.intent = "PlayMusic";
    failed.outcome = turn_outcome::defect;  // a defect teaches nothing about phrasings that work
    log.push_back(failed);
    log.push_back(said("thanks"));  // no annotation, no intent

    log_paraphrase_corpus all(0);
    for (const auto& t : log) all.add(t);
    REQUIRE(all.size() == said_as.size());
    CHECK(all.intents() == 3);
    const auto everything = all.corpus();

    std::mt19937_64 rng(3);
    for (std::size_t capacity = 1; capacity <= said_as.size() + 1; ++capacity) {
        auto shuffled = log;
        std::shuffle(shuffled.begin(), shuffled.end(), rng);
        log_paraphrase_corpus bounded(capacity);
        for (const auto& t : shuffled) bounded.add(t);
        // The bounded corpus is the first `capacity` utterances of the unbounded one, in the same order.
        const auto kept = bounded.corpus();
        REQUIRE(kept.size() == std::min(capacity, everything.size()));
        CHECK(std::equal(kept.begin(), kept.end(), everything.begin()));
    }
    turn bad = said("play", "play [artist");
    bad.intent = "PlayMusic";
    CHECK_THROWS_AS(all.add(bad), annotation_error);
}
