#include <selflearn/annotation.hpp>

#include "snips.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

using namespace selflearn;

namespace {

std::size_t error_position(const std::string& markup) {
    try {
        (void)parse_markup(markup);
    } catch (const annotation_error& e) {
        return e.position();
    }
    FAIL("expected an annotation_error for: " << markup);
    return 0;
}

}  // namespace

TEST_CASE("markup: parse gives plain text and byte spans; writing it back is exact") {
    const std::string markup = "play [song_name : blinding lights] by [artist_name : the weeknd]";
    const auto a = parse_markup(markup);
    CHECK(a.text == "play blinding lights by the weeknd");
    REQUIRE(a.slots.size() == 2);
    CHECK(a.slots[0] == slot_span{"song_name", 5, 20});
    CHECK(a.slots[1] == slot_span{"artist_name", 24, 34});
    CHECK(to_markup(a) == markup);
    CHECK(parse_markup("no slots at all").slots.empty());
    CHECK(parse_markup("").text.empty());
    CHECK(parse_markup("[time : 12:30]").slots[0] == slot_span{"time", 0, 5});  // first " : " separates
}

TEST_CASE("markup: malformed input is an annotation_error naming the byte position") {
    CHECK(error_position("play [artist : x") == 5);             // unclosed
    CHECK(error_position("play artist : x]") == 15);            // unbalanced ']'
    CHECK(error_position("a [x : b [y : c]]") == 9);            // nested
    CHECK(error_position("a [artist: x]") == 2);                // missing " : "
    CHECK(error_position("a [ : x]") == 3);                     // empty label
    CHECK(error_position("a [my label : x]") == 3);             // space in label
    CHECK(error_position("a [artist : ]") == 2);                // empty value
    CHECK(error_position("a [artist :  ]") == 2);               // blank value
    CHECK_THROWS_AS((void)parse_markup("a [artist : \xFF]"), invalid_utf8);
    try {
        (void)parse_markup("play [artist : x");
    } catch (const error& e) {
        CHECK(std::string(e.what()).find("byte 5") != std::string::npos);
    }
}

TEST_CASE("markup: writing checks the spans") {
    CHECK_THROWS_AS((void)to_markup({"abc", {{"x", 2, 1}}}), annotation_error);            // reversed
    CHECK_THROWS_AS((void)to_markup({"abc", {{"x", 0, 4}}}), annotation_error);            // past the end
    CHECK_THROWS_AS((void)to_markup({"abcd", {{"x", 0, 2}, {"y", 1, 3}}}), annotation_error);  // overlap
    CHECK_THROWS_AS((void)to_markup({"a[b", {}}), annotation_error);                        // reserved bracket
    CHECK_THROWS_AS((void)to_markup({"\xC3\xA9", {{"x", 1, 2}}}), annotation_error);        // inside a code point
    CHECK_THROWS_AS((void)to_markup({"abc", {{"", 0, 1}}}), annotation_error);              // empty label
}

TEST_CASE("markup: random annotated texts round-trip through markup and through tokens") {
    std::mt19937_64 rng(3);
    const std::vector<std::string> words = {"play", "the", "R&B", "Somi", "'s", "jazz", "café", "12:30", ".", "?",
                                            "Ω", "don't", "-", "e-mail", "…"};
    const std::vector<std::string> labels = {"artist", "time", "playlist_owner", "x"};
    for (int round = 0; round < 5000; ++round) {
        annotated_text a;
        const auto n = rng() % 10;
        for (std::size_t i = 0; i < n; ++i) {
            const bool glue = rng() % 4 == 0;
            if (!a.text.empty() && !glue) a.text += ' ';
            const std::size_t begin = a.text.size();
            a.text += words[rng() % words.size()];
            const bool slot = rng() % 3 == 0;
            const bool can_extend = !a.slots.empty() && a.slots.back().end == (glue ? begin : begin - 1) &&
                                    !glue && rng() % 2 == 0;
            if (can_extend) {
                a.slots.back().end = a.text.size();
            } else if (slot) {
                a.slots.push_back({labels[rng() % labels.size()], begin, a.text.size()});
            }
        }
        const std::string markup = to_markup(a);
        REQUIRE(parse_markup(markup) == a);
        const auto tokens = tokenize_annotated(a);
        REQUIRE(to_annotated_text(tokens) == a);
        REQUIRE(from_bio(to_bio(tokens.tokens.size(), tokens.slots)) == tokens.slots);
    }
}

TEST_CASE("markup: exact round trip on every SNIPS utterance, through text, tokens and BIO") {
    const auto records = test_data::snips_records();
    std::size_t slots = 0;
    for (const auto& record : records) {
        const auto parsed = parse_markup(record.annotation);
        REQUIRE(parsed.text == record.text);
        REQUIRE(to_markup(parsed) == record.annotation);
        const auto tokens = tokenize_annotated(parsed);
        REQUIRE(to_annotated_text(tokens) == parsed);
        const auto bio = to_bio(tokens.tokens.size(), tokens.slots);
        REQUIRE(from_bio(bio, bio_repair::reject) == tokens.slots);
        slots += parsed.slots.size();
    }
    CHECK(records.size() == 14484);
    CHECK(slots > 30000);
}

TEST_CASE("markup: a slot edge inside a word splits the token") {
    const auto a = parse_markup_tokens("play [artist : Somi]'s [timeRange : one pm][spatial_relation : here]");
    std::vector<std::string> texts;
    for (const auto& t : a.tokens) texts.push_back(t.text);
    CHECK(texts == std::vector<std::string>{"play", "Somi", "'s", "one", "pm", "here"});
    CHECK(a.slots == std::vector<token_span>{{"artist", 1, 2}, {"timeRange", 3, 5}, {"spatial_relation", 5, 6}});
}

TEST_CASE("BIO: conversion both ways and the documented repair of a stray I- tag") {
    const std::vector<token_span> spans = {{"artist", 1, 3}, {"album", 3, 4}};
    const auto tags = to_bio(5, spans);
    CHECK(tags == std::vector<std::string>{"O", "B-artist", "I-artist", "B-album", "O"});
    CHECK(from_bio(tags) == spans);

    const std::vector<std::string> stray = {"O", "I-artist", "I-artist", "I-album", "B-album", "I-album"};
    CHECK(from_bio(stray) ==
          std::vector<token_span>{{"artist", 1, 3}, {"album", 3, 4}, {"album", 4, 6}});
    try {
        (void)from_bio(stray, bio_repair::reject);
        FAIL("expected annotation_error");
    } catch (const annotation_error& e) {
        CHECK(e.position() == 1);
    }
    const std::vector<std::string> bad = {"O", "X-artist"};
    CHECK_THROWS_AS((void)from_bio(bad), annotation_error);
    const std::vector<std::string> empty_label = {"B-"};
    CHECK_THROWS_AS((void)from_bio(empty_label), annotation_error);
    const std::vector<token_span> overlapping = {{"a", 0, 2}, {"b", 1, 3}};
    CHECK_THROWS_AS((void)to_bio(3, overlapping), annotation_error);
    const std::vector<token_span> outside = {{"a", 2, 4}};
    CHECK_THROWS_AS((void)to_bio(3, outside), annotation_error);
}

TEST_CASE("markup: to_markup rejects what markup cannot carry (blank value, label not UTF-8)") {
    // Issue 14: both were accepted by to_markup and then failed parse_markup.
    CHECK_THROWS_AS((void)to_markup({"a  b", {{"x", 1, 3}}}), annotation_error);       // only spaces
    CHECK_THROWS_AS((void)to_markup({"a\t\r\nb", {{"x", 1, 4}}}), annotation_error);   // only tab, CR, LF
    CHECK_THROWS_AS((void)to_markup({"ab", {{"x\xFF", 0, 1}}}), annotation_error);     // label not UTF-8
    CHECK_THROWS_AS((void)to_markup({"ab", {{"\xC3", 0, 1}}}), annotation_error);      // truncated sequence
    try {
        (void)to_markup({"play  jazz", {{"genre", 4, 5}}});
        FAIL("expected annotation_error");
    } catch (const annotation_error& e) {
        CHECK(e.position() == 0);
        CHECK(std::string(e.what()).find("only white space") != std::string::npos);
    }
    // Values with white space around a word, and non-ASCII labels, are fine and round-trip.
    const annotated_text ok{" jazz \xC3\xA9", {{"g\xC3\xA9nre", 0, 6}, {"\xCE\xA9", 6, 8}}};
    CHECK(parse_markup(to_markup(ok)) == ok);
}

TEST_CASE("markup: random byte-level annotations round-trip whenever to_markup accepts them") {
    // Texts and labels from an alphabet with white space, brackets, colons, multi-byte and invalid bytes;
    // random (possibly invalid) spans. Every accepted annotation must parse back to itself.
    std::mt19937_64 rng(14);
    const std::vector<std::string> pieces = {"a", "b", " ", "\t", "\n", "\r", ":", " : ", "[", "]", "\xC3\xA9",
                                             "\xE2\x80\xA6", "\xFF", "\xC3", "\xC2\xA0", "x", "0"};
    std::size_t accepted = 0, rejected = 0;
    for (int round = 0; round < 20000; ++round) {
        annotated_text a;
        const auto n = rng() % 8;
        for (std::size_t i = 0; i < n; ++i) a.text += pieces[rng() % pieces.size()];
        std::size_t at = 0;
        const auto slots = rng() % 4;
        for (std::size_t k = 0; k < slots && at < a.text.size() + 1; ++k) {
            std::string label;
            const auto label_pieces = rng() % 3;
            for (std::size_t i = 0; i < label_pieces; ++i) label += pieces[rng() % pieces.size()];
            if (rng() % 2 == 0) label = "lab" + label;
            const std::size_t begin = at + rng() % 3;
            const std::size_t end = begin + rng() % 5;
            a.slots.push_back({label, begin, end});
            at = end;
        }
        std::string markup;
        try {
            markup = to_markup(a);
        } catch (const annotation_error&) {
            ++rejected;
            continue;
        } catch (const invalid_utf8&) {
            ++rejected;
            continue;
        }
        ++accepted;
        INFO("markup: ", markup);
        REQUIRE(parse_markup(markup) == a);
    }
    CHECK(accepted > 1000);
    CHECK(rejected > 1000);
}
