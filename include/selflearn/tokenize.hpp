#pragma once
/// \file selflearn/tokenize.hpp
/// Word tokenisation of UTF-8 utterances, with byte offsets and optional case folding.
///
/// Rules (in this order):
/// - White space (ASCII and Unicode spaces) separates tokens and belongs to none.
/// - A connector character stays inside a word when a word character stands on both sides of it:
///   `'` `’` `&` `.` `-` `_` `/` `@` between any word characters (`R&B`, `don't`, `3.5`, `e-mail`),
///   and `,` `:` between two digits (`1,000`, `12:30`). Elsewhere it is punctuation.
/// - Punctuation (ASCII punctuation, Latin-1 and General Punctuation symbols, currency signs) is a token of
///   its own, one character each: `playlist.` gives `playlist` and `.`.
/// - Every other code point (letters, digits, marks, CJK, emoji, ...) is a word character.
/// - Optional forced boundaries (byte offsets) cut words after the rules above: slot edges inside a word
///   such as `[artist : Somi]'s` split `Somi's` into `Somi` and `'s`.

#include <selflearn/error.hpp>
#include <selflearn/utf8.hpp>

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace selflearn {

/// One word or punctuation token of an utterance.
struct token {
    std::string text;   ///< the token's text, case-folded when tokenize_options::fold_case is set
    std::size_t begin;  ///< byte offset of its first byte in the utterance
    std::size_t end;    ///< byte offset one past its last byte

    friend bool operator==(const token&, const token&) = default;
};

/// Options of tokenize().
struct tokenize_options {
    /// Fold case in token texts (offsets still point at the original). Covers ASCII, Latin-1, Latin
    /// Extended-A, basic Greek and Cyrillic capitals; other scripts are left as they are.
    bool fold_case = false;
};

namespace detail {

enum class char_class { space, punctuation, word };

constexpr bool is_space(char32_t c) noexcept {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200B) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000 || c == 0xFEFF;
}

constexpr bool is_punctuation(char32_t c) noexcept {
    if (c < 0x80) {
        return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
               (c >= 0x7B && c <= 0x7E);
    }
    if (c >= 0xA1 && c <= 0xBF) {
        // Latin-1 symbols, except the ones that are letters or numbers: ª ² ³ µ ¹ º ¼ ½ ¾
        return !(c == 0xAA || c == 0xB2 || c == 0xB3 || c == 0xB5 || c == 0xB9 || c == 0xBA ||
                 (c >= 0xBC && c <= 0xBE));
    }
    return c == 0xD7 || c == 0xF7 || (c >= 0x2010 && c <= 0x2027) || (c >= 0x2030 && c <= 0x205E) ||
           (c >= 0x20A0 && c <= 0x20CF) || (c >= 0x3001 && c <= 0x3003) || (c >= 0x3008 && c <= 0x3011) ||
           (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20);
}

constexpr char_class classify(char32_t c) noexcept {
    if (is_space(c)) return char_class::space;
    if (is_punctuation(c)) return char_class::punctuation;
    return char_class::word;
}

constexpr bool is_connector(char32_t c) noexcept {
    return c == U'\'' || c == U'\u2019' || c == U'&' || c == U'.' || c == U'-' || c == U'_' || c == U'/' ||
           c == U'@';
}

constexpr bool is_digit_connector(char32_t c) noexcept { return c == U',' || c == U':'; }

constexpr bool is_ascii_digit(char32_t c) noexcept { return c >= U'0' && c <= U'9'; }

constexpr char32_t fold_case(char32_t c) noexcept {
    if (c >= U'A' && c <= U'Z') return c + 0x20;
    if (c < 0xC0) return c;
    if (c <= 0xDE) return c == 0xD7 ? c : c + 0x20;  // Latin-1 capitals, not the multiplication sign
    if (c >= 0x100 && c <= 0x137) return (c % 2 == 0) ? c + 1 : c;
    if (c >= 0x139 && c <= 0x148) return (c % 2 == 1) ? c + 1 : c;
    if (c >= 0x14A && c <= 0x177) return (c % 2 == 0) ? c + 1 : c;
    if (c == 0x178) return 0xFF;
    if (c >= 0x179 && c <= 0x17E) return (c % 2 == 1) ? c + 1 : c;
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 0x20;
    if (c >= 0x410 && c <= 0x42F) return c + 0x20;
    if (c >= 0x400 && c <= 0x40F) return c + 0x50;
    return c;
}

}  // namespace detail

/// Folds the case of a UTF-8 string with the rule of tokenize_options::fold_case. O(n).
/// \throws invalid_utf8 naming the byte offset of the first bad sequence.
[[nodiscard]] inline std::string fold_case(std::string_view text) {
    std::string result;
    result.reserve(text.size());
    for (auto cp : utf8_view(text)) append_utf8(result, detail::fold_case(cp.value));
    return result;
}

/// Splits a UTF-8 utterance into word and punctuation tokens with byte offsets (rules in this header's
/// description). `boundaries` are byte offsets, sorted ascending, at which a token must end (slot edges);
/// each must lie on a code-point boundary. O(n + boundaries).
/// \throws invalid_utf8 with the offset of the first bad sequence; invalid_argument when `boundaries` is
///         not sorted or an offset is past the end of the text or inside a code point.
[[nodiscard]] inline std::vector<token> tokenize(std::string_view text, const tokenize_options& options = {},
                                                 std::span<const std::size_t> boundaries = {}) {
    validate_utf8(text, "utterance");
    if (!std::is_sorted(boundaries.begin(), boundaries.end())) {
        throw invalid_argument("tokenize: forced token boundaries must be sorted ascending");
    }
    if (!boundaries.empty() && boundaries.back() > text.size()) {
        throw invalid_argument(fmt::format("tokenize: forced boundary at byte {} is past the end of the {}-byte text",
                                           boundaries.back(), text.size()));
    }
    struct unit {
        char32_t value;
        std::size_t offset;
        detail::char_class kind;
    };
    std::vector<unit> units;
    units.reserve(text.size());
    for (auto cp : utf8_view(text)) units.push_back({cp.value, cp.offset, detail::classify(cp.value)});
    for (std::size_t b : boundaries) {
        if (b < text.size() && (static_cast<unsigned char>(text[b]) & 0xC0u) == 0x80u) {
            throw invalid_argument(fmt::format("tokenize: forced boundary at byte {} lies inside a code point", b));
        }
    }

    // Connectors between word characters join the word; forced boundaries cut words afterwards.
    for (std::size_t i = 1; i + 1 < units.size(); ++i) {
        const auto c = units[i].value;
        if (units[i].kind != detail::char_class::punctuation) continue;
        if (units[i - 1].kind != detail::char_class::word || units[i + 1].kind != detail::char_class::word) continue;
        const bool joins = detail::is_connector(c) || (detail::is_digit_connector(c) &&
                                                       detail::is_ascii_digit(units[i - 1].value) &&
                                                       detail::is_ascii_digit(units[i + 1].value));
        if (joins) units[i].kind = detail::char_class::word;
    }

    std::vector<token> tokens;
    std::size_t next_boundary = 0;
    auto emit = [&](std::size_t first, std::size_t last) {  // units [first, last)
        const std::size_t begin = units[first].offset;
        const std::size_t end = last < units.size() ? units[last].offset : text.size();
        std::string piece;
        if (options.fold_case) {
            for (std::size_t k = first; k < last; ++k) append_utf8(piece, detail::fold_case(units[k].value));
        } else {
            piece.assign(text.substr(begin, end - begin));
        }
        tokens.push_back({std::move(piece), begin, end});
    };
    std::size_t i = 0;
    while (i < units.size()) {
        if (units[i].kind == detail::char_class::space) {
            ++i;
            continue;
        }
        std::size_t j = i + 1;
        if (units[i].kind == detail::char_class::word) {
            while (next_boundary < boundaries.size() && boundaries[next_boundary] <= units[i].offset) ++next_boundary;
            const std::size_t limit = next_boundary < boundaries.size() ? boundaries[next_boundary] : text.size();
            while (j < units.size() && units[j].kind == detail::char_class::word && units[j].offset < limit) ++j;
        }
        emit(i, j);
        i = j;
    }
    return tokens;
}

/// The texts of `tokens`, in order. O(total length).
[[nodiscard]] inline std::vector<std::string> token_texts(std::span<const token> tokens) {
    std::vector<std::string> texts;
    texts.reserve(tokens.size());
    for (const auto& t : tokens) texts.push_back(t.text);
    return texts;
}

}  // namespace selflearn
