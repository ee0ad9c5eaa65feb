#include "snips.hpp"

#include <selflearn/tokenize.hpp>
#include <selflearn/utf8.hpp>
#include <selflearn/vocabulary.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

using namespace selflearn;

namespace {

// Reference: the table of well-formed UTF-8 byte sequences (Unicode 15, Table 3-7), applied literally.
bool well_formed_reference(const std::vector<unsigned>& b) {
    auto in = [](unsigned x, unsigned lo, unsigned hi) { return x >= lo && x <= hi; };
    std::size_t i = 0;
    while (i < b.size()) {
        const std::size_t left = b.size() - i;
        if (in(b[i], 0x00, 0x7F)) {
            i += 1;
        } else if (in(b[i], 0xC2, 0xDF) && left >= 2 && in(b[i + 1], 0x80, 0xBF)) {
            i += 2;
        } else if (left >= 3 && ((b[i] == 0xE0 && in(b[i + 1], 0xA0, 0xBF)) ||
                                 (in(b[i], 0xE1, 0xEC) && in(b[i + 1], 0x80, 0xBF)) ||
                                 (b[i] == 0xED && in(b[i + 1], 0x80, 0x9F)) ||
                                 (in(b[i], 0xEE, 0xEF) && in(b[i + 1], 0x80, 0xBF))) &&
                   in(b[i + 2], 0x80, 0xBF)) {
            i += 3;
        } else if (left >= 4 && ((b[i] == 0xF0 && in(b[i + 1], 0x90, 0xBF)) ||
                                 (in(b[i], 0xF1, 0xF3) && in(b[i + 1], 0x80, 0xBF)) ||
                                 (b[i] == 0xF4 && in(b[i + 1], 0x80, 0x8F))) &&
                   in(b[i + 2], 0x80, 0xBF) && in(b[i + 3], 0x80, 0xBF)) {
            i += 4;
        } else {
            return false;
        }
    }
    return true;
}

std::string bytes_to_string(const std::vector<unsigned>& b) {
    std::string s;
    for (unsigned x : b) s.push_back(static_cast<char>(static_cast<unsigned char>(x)));
    return s;
}

std::vector<std::string> texts(const std::vector<token>& tokens) { return token_texts(tokens); }

}  // namespace

TEST_CASE("utf8: every code point encodes and decodes back; surrogates and out-of-range values are rejected") {
    for (std::uint32_t u = 0; u <= 0x10FFFF; ++u) {
        const auto cp = static_cast<char32_t>(u);
        if (u >= 0xD800 && u <= 0xDFFF) {
            std::string out;
            CHECK_THROWS_AS(append_utf8(out, cp), invalid_argument);
            continue;
        }
        std::string encoded;
        append_utf8(encoded, cp);
        REQUIRE(is_valid_utf8(encoded));
        const auto decoded = decode_utf8(encoded);
        REQUIRE(decoded.size() == 1);
        REQUIRE(decoded[0] == cp);
    }
    std::string out;
    CHECK_THROWS_AS(append_utf8(out, static_cast<char32_t>(0x110000)), invalid_argument);
}

TEST_CASE("utf8: validation agrees with the Unicode table of well-formed sequences") {
    SUBCASE("every sequence of one and two bytes") {
        for (unsigned a = 0; a < 256; ++a) {
            CHECK(is_valid_utf8(bytes_to_string({a})) == well_formed_reference({a}));
            for (unsigned b = 0; b < 256; ++b) {
                REQUIRE(is_valid_utf8(bytes_to_string({a, b})) == well_formed_reference({a, b}));
            }
        }
    }
    SUBCASE("random sequences of up to 8 bytes biased towards lead and continuation bytes") {
        std::mt19937_64 rng(7);
        const unsigned interesting[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
                                        0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
        for (int round = 0; round < 200000; ++round) {
            std::vector<unsigned> b(1 + rng() % 8);
            for (auto& x : b) x = interesting[rng() % std::size(interesting)];
            const std::string s = bytes_to_string(b);
            const bool expected = well_formed_reference(b);
            REQUIRE(is_valid_utf8(s) == expected);
            if (!expected) {
                // The reported offset is where the valid prefix ends.
                const std::size_t bad = *find_invalid_utf8(s);
                REQUIRE(is_valid_utf8(s.substr(0, bad)));
                REQUIRE_FALSE(is_valid_utf8(s.substr(bad)));
            }
        }
    }
}

TEST_CASE("utf8: errors name the byte offset") {
    const std::string text = "caf\xC3\xA9 \xFF ok";
    try {
        validate_utf8(text, "utterance");
        FAIL("expected invalid_utf8");
    } catch (const invalid_utf8& e) {
        CHECK(e.byte_offset() == 6);
        CHECK(std::string(e.what()).find("byte offset 6") != std::string::npos);
        CHECK(std::string(e.what()).find("utterance") != std::string::npos);
    }
    CHECK_THROWS_AS((void)decode_utf8("\xE2\x82"), invalid_utf8);     // truncated
    CHECK_THROWS_AS((void)decode_utf8("\xC0\xAF"), invalid_utf8);     // overlong '/'
    CHECK_THROWS_AS((void)decode_utf8("\xED\xA0\x80"), invalid_utf8); // surrogate
    CHECK_THROWS_AS((void)tokenize("ok \xF5\x80\x80\x80"), invalid_utf8);
}

TEST_CASE("utf8_view yields code points with their offsets") {
    const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x8E\xB5";  // a é € 🎵
    std::vector<utf8_view::code_point> seen(utf8_view(text).begin(), utf8_view(text).end());
    REQUIRE(seen.size() == 4);
    CHECK(seen[0].value == U'a');
    CHECK(seen[1].value == U'\u00E9');
    CHECK(seen[1].offset == 1);
    CHECK(seen[2].value == U'\u20AC');
    CHECK(seen[2].length == 3);
    CHECK(seen[3].value == U'\U0001F3B5');
    CHECK(seen[3].offset == 6);
    CHECK(encode_utf8(decode_utf8(text)) == text);
}

TEST_CASE("tokenize: punctuation inside words stays, at word edges it splits") {
    CHECK(texts(tokenize("add R&B to my playlist.")) == std::vector<std::string>{"add", "R&B", "to", "my", "playlist", "."});
    CHECK(texts(tokenize("don't rate it 3.5")) == std::vector<std::string>{"don't", "rate", "it", "3.5"});
    CHECK(texts(tokenize("send an e-mail, please!")) ==
          std::vector<std::string>{"send", "an", "e-mail", ",", "please", "!"});
    CHECK(texts(tokenize("at 12:30 for 1,000 people")) ==
          std::vector<std::string>{"at", "12:30", "for", "1,000", "people"});
    CHECK(texts(tokenize("Paris,France: rain?")) == std::vector<std::string>{"Paris", ",", "France", ":", "rain", "?"});
    CHECK(texts(tokenize("'quoted' -dash- \"x\"")) ==
          std::vector<std::string>{"'", "quoted", "'", "-", "dash", "-", "\"", "x", "\""});
    CHECK(texts(tokenize("play…now")) == std::vector<std::string>{"play", "…", "now"});
    CHECK(texts(tokenize("\xC2\xA0 caf\xC3\xA9\xE3\x80\x80ol\xC3\xA9 ")) ==
          std::vector<std::string>{"caf\xC3\xA9", "ol\xC3\xA9"});  // no-break and ideographic spaces
    CHECK(tokenize("").empty());
    CHECK(tokenize("   \t ").empty());
}

TEST_CASE("tokenize: byte offsets point at the original text, also when case is folded") {
    const std::string text = "Écoute  ÇA, Ωmega!";
    const auto plain = tokenize(text);
    const auto folded = tokenize(text, {.fold_case = true});
    REQUIRE(plain.size() == folded.size());
    for (std::size_t i = 0; i < plain.size(); ++i) {
        CHECK(plain[i].text == text.substr(plain[i].begin, plain[i].end - plain[i].begin));
        CHECK(folded[i].begin == plain[i].begin);
        CHECK(folded[i].end == plain[i].end);
    }
    CHECK(texts(folded) == std::vector<std::string>{"écoute", "ça", ",", "ωmega", "!"});
    CHECK(fold_case("ÀÉÎÕÜ ĀŁŒŸ ДЖЁ ΣΑΣ Straße ×") == "àéîõü āłœÿ джё σασ straße ×");
}

TEST_CASE("tokenize: forced boundaries split a word, and are validated") {
    const std::string text = "Somi's song";
    const std::size_t edges[] = {0, 4};
    CHECK(texts(tokenize(text, {}, edges)) == std::vector<std::string>{"Somi", "'s", "song"});
    const std::size_t glued[] = {0, 6, 6, 8};
    CHECK(texts(tokenize("one pmhere", {}, std::span<const std::size_t>(glued, 2))) ==
          std::vector<std::string>{"one", "pm", "here"});
    const std::size_t unsorted[] = {4, 0};
    CHECK_THROWS_AS((void)tokenize(text, {}, unsorted), invalid_argument);
    const std::size_t past[] = {99};
    CHECK_THROWS_AS((void)tokenize(text, {}, past), invalid_argument);
    const std::size_t mid[] = {1};
    CHECK_THROWS_AS((void)tokenize("é", {}, mid), invalid_argument);
}

TEST_CASE("tokenize: random texts keep every non-space byte in exactly one token, in order") {
    std::mt19937_64 rng(11);
    const std::vector<std::string> pieces = {"a", "Z", "é", "€", "🎵", " ", "  ", ".", "'", "&", "-", ",", ":",
                                             "1", "9", "?", "\xC2\xA0", "ß", "Ω", "_", "/", "…"};
    for (int round = 0; round < 20000; ++round) {
        std::string text;
        const auto n = rng() % 12;
        for (std::size_t i = 0; i < n; ++i) text += pieces[rng() % pieces.size()];
        const auto tokens = tokenize(text);
        std::size_t at = 0;
        for (const auto& t : tokens) {
            REQUIRE(t.begin >= at);
            REQUIRE(t.end > t.begin);
            for (const auto& cp : utf8_view(std::string_view(text).substr(at, t.begin - at))) REQUIRE(detail::is_space(cp.value));
            REQUIRE(t.text == text.substr(t.begin, t.end - t.begin));
            at = t.end;
        }
        for (const auto& cp : utf8_view(std::string_view(text).substr(at))) REQUIRE(detail::is_space(cp.value));
    }
}

TEST_CASE("tokenize: every SNIPS utterance tokenises, and tokens cover the text") {
    const auto records = test_data::snips_records();
    std::size_t tokens_seen = 0;
    for (const auto& record : records) {
        const auto& text = record.text;
        const auto tokens = tokenize(text, {.fold_case = true});
        REQUIRE_FALSE(tokens.empty());
        std::size_t at = 0;
        for (const auto& t : tokens) {
            REQUIRE(t.begin >= at);
            REQUIRE(t.end <= text.size());
            REQUIRE(t.text == fold_case(std::string_view(text).substr(t.begin, t.end - t.begin)));
            REQUIRE(text.find_first_not_of(' ', at) == t.begin);  // only spaces between tokens
            at = t.end;
        }
        REQUIRE(at == text.size());  // the text does not end in white space (folded in the source)
        tokens_seen += tokens.size();
    }
    CHECK(records.size() == 14484);
    CHECK(tokens_seen > records.size() * 8);
}

TEST_CASE("vocabulary interns words into dense, stable ids") {
    vocabulary v;
    CHECK(v.intern("play") == 0);
    CHECK(v.intern("music") == 1);
    CHECK(v.intern("play") == 0);
    CHECK(v.size() == 2);
    CHECK(v.find("music") == 1u);
    CHECK_FALSE(v.find("jazz").has_value());
    CHECK(v.word(1) == "music");
    CHECK_THROWS_AS((void)v.word(2), invalid_argument);
    const std::vector<std::string> words = {"jazz", "play", "jazz"};
    CHECK(v.intern_all(words) == std::vector<vocabulary::id_type>{2, 0, 2});

    vocabulary copy = v;  // the copy owns its strings: changing the original leaves it intact
    v.intern("new");
    CHECK(copy.size() == 3);
    CHECK(copy.find("jazz") == 2u);
    CHECK_FALSE(copy.find("new").has_value());
    vocabulary moved = std::move(copy);
    CHECK(moved.find("music") == 1u);
    for (int i = 0; i < 10000; ++i) moved.intern("w" + std::to_string(i));  // growth keeps ids valid
    CHECK(moved.find("w9999") == 10002u);
    CHECK(moved.word(3) == "w0");
}
