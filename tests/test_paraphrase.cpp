#include <selflearn/paraphrase.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <map>
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
