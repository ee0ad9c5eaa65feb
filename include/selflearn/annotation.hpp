#pragma once
/// \file selflearn/annotation.hpp
/// Slot annotations: byte spans over a text, token spans over its tokens, BIO tags, and the
/// `[label : value]` markup of MASSIVE, SLURP, HWU64 and SNIPS.
///
/// Markup grammar: text outside brackets is literal; a slot is `[` label ` : ` value `]` where the label is
/// non-empty and has no white space, brackets or ` : `, and the value is non-empty, not all white space and
/// has no brackets. `[` and `]` are reserved: a text containing them cannot be written as markup.
/// Removing the markup gives the plain text back, and parse_markup / to_markup round-trip exactly.

#include <selflearn/error.hpp>
#include <selflearn/tokenize.hpp>
#include <selflearn/utf8.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>

namespace selflearn {

/// A labelled span of bytes [begin, end) of a text.
struct slot_span {
    std::string label;
    std::size_t begin;
    std::size_t end;

    friend bool operator==(const slot_span&, const slot_span&) = default;
};

/// A labelled span of tokens [begin, end) (token indices).
struct token_span {
    std::string label;
    std::size_t begin;
    std::size_t end;

    friend bool operator==(const token_span&, const token_span&) = default;
};

/// A plain text with its slots as byte spans (sorted, non-overlapping).
struct annotated_text {
    std::string text;
    std::vector<slot_span> slots;

    friend bool operator==(const annotated_text&, const annotated_text&) = default;
};

/// A text with its tokens and its slots as token spans (sorted, non-overlapping).
struct annotated_tokens {
    std::string text;
    std::vector<token> tokens;
    std::vector<token_span> slots;

    friend bool operator==(const annotated_tokens&, const annotated_tokens&) = default;
};

/// What from_bio() does with an `I-x` tag that does not continue a slot `x` (after `O`, at the start,
/// or after a tag of another label).
enum class bio_repair {
    begin_new,  ///< treat it as `B-x` (the CoNLL evaluation convention); the default
    reject,     ///< throw annotation_error naming the tag's index
};

namespace detail {

inline bool is_markup_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

inline void check_label(std::string_view label, std::size_t position) {
    if (label.empty()) throw annotation_error(fmt::format("empty slot label at byte {}", position), position);
    for (std::size_t i = 0; i < label.size(); ++i) {
        const char c = label[i];
        if (is_markup_space(c) || c == '[' || c == ']') {
            throw annotation_error(
                fmt::format("slot label '{}' at byte {} contains '{}' (labels have no white space or brackets)",
                            label, position, c == '\t' ? std::string("\\t") : std::string(1, c)),
                position);
        }
    }
}

}  // namespace detail

/// Parses `[label : value]` markup into the plain text and its slots. O(n).
/// \throws invalid_utf8 for invalid UTF-8; annotation_error naming the byte offset in the markup for an
///         unbalanced or nested bracket, a missing ` : `, an empty or malformed label, or an empty value.
[[nodiscard]] inline annotated_text parse_markup(std::string_view markup) {
    validate_utf8(markup, "markup");
    annotated_text result;
    result.text.reserve(markup.size());
    std::size_t i = 0;
    while (i < markup.size()) {
        const char c = markup[i];
        if (c == ']') throw annotation_error(fmt::format("unbalanced ']' at byte {} of the markup", i), i);
        if (c != '[') {
            result.text.push_back(c);
            ++i;
            continue;
        }
        const std::size_t open = i;
        const std::size_t close = markup.find_first_of("[]", open + 1);
        if (close == std::string_view::npos) {
            throw annotation_error(fmt::format("unclosed '[' at byte {} of the markup", open), open);
        }
        if (markup[close] == '[') {
            throw annotation_error(
                fmt::format("nested '[' at byte {} inside the slot opened at byte {}", close, open), close);
        }
        const std::string_view body = markup.substr(open + 1, close - open - 1);
        const std::size_t separator = body.find(" : ");
        if (separator == std::string_view::npos) {
            throw annotation_error(
                fmt::format("slot at byte {} has no ' : ' between label and value: '[{}]'", open, body), open);
        }
        const std::string_view label = body.substr(0, separator);
        const std::string_view value = body.substr(separator + 3);
        detail::check_label(label, open + 1);
        bool blank = true;
        for (char v : value) blank = blank && detail::is_markup_space(v);
        if (blank) {
            throw annotation_error(fmt::format("slot '{}' at byte {} has an empty value", label, open), open);
        }
        const std::size_t begin = result.text.size();
        result.text.append(value);
        result.slots.push_back({std::string(label), begin, result.text.size()});
        i = close + 1;
    }
    return result;
}

/// Checks that the slots of `a` are well-formed: labels valid (non-empty, valid UTF-8, no white space or
/// brackets), spans non-empty, inside the text, on code-point boundaries, not only white space (space, tab,
/// CR, LF), sorted and non-overlapping, and that the text has no `[` or `]`: exactly what to_markup can
/// write so that parse_markup gives `a` back. O(n).
/// \throws annotation_error naming the slot (its index) or the byte offset of a bracket; invalid_utf8.
inline void validate(const annotated_text& a) {
    validate_utf8(a.text, "annotated text");
    if (auto bracket = a.text.find_first_of("[]"); bracket != std::string::npos) {
        throw annotation_error(
            fmt::format("text has a '{}' at byte {}; brackets are reserved for the markup", a.text[bracket], bracket),
            bracket);
    }
    std::size_t previous_end = 0;
    for (std::size_t k = 0; k < a.slots.size(); ++k) {
        const auto& s = a.slots[k];
        detail::check_label(s.label, k);
        if (s.begin >= s.end || s.end > a.text.size()) {
            throw annotation_error(fmt::format("slot {} ('{}') has span [{}, {}) which is empty or outside the "
                                               "{}-byte text",
                                               k, s.label, s.begin, s.end, a.text.size()),
                                   k);
        }
        if (s.begin < previous_end) {
            throw annotation_error(
                fmt::format("slot {} ('{}') starts at byte {}, before the previous slot ends", k, s.label, s.begin), k);
        }
        if (!is_valid_utf8(s.label)) {
            throw annotation_error(fmt::format("slot {} has a label that is not valid UTF-8", k), k);
        }
        for (std::size_t edge : {s.begin, s.end}) {
            if (edge < a.text.size() && (static_cast<unsigned char>(a.text[edge]) & 0xC0u) == 0x80u) {
                throw annotation_error(
                    fmt::format("slot {} ('{}') has an edge at byte {}, inside a code point", k, s.label, edge), k);
            }
        }
        bool blank = true;
        for (std::size_t b = s.begin; b < s.end; ++b) blank = blank && detail::is_markup_space(a.text[b]);
        if (blank) {
            throw annotation_error(fmt::format("slot {} ('{}') covers only white space (bytes [{}, {})); markup "
                                               "cannot write an empty value",
                                               k, s.label, s.begin, s.end),
                                   k);
        }
        previous_end = s.end;
    }
}

/// Writes `a` as `[label : value]` markup; parse_markup(to_markup(a)) == a. O(n).
/// \throws annotation_error when `a` is not valid (see validate()).
[[nodiscard]] inline std::string to_markup(const annotated_text& a) {
    validate(a);
    std::string markup;
    markup.reserve(a.text.size() + a.slots.size() * 16);
    std::size_t at = 0;
    for (const auto& s : a.slots) {
        markup.append(a.text, at, s.begin - at);
        markup.append("[").append(s.label).append(" : ").append(a.text, s.begin, s.end - s.begin).append("]");
        at = s.end;
    }
    markup.append(a.text, at);
    return markup;
}

/// Tokenises an annotated text so that every slot edge is a token boundary, and converts its byte spans
/// into token spans. A slot covers the tokens that lie inside its bytes. O(n).
/// \throws annotation_error when `a` is not valid; invalid_utf8.
[[nodiscard]] inline annotated_tokens tokenize_annotated(const annotated_text& a, const tokenize_options& options = {}) {
    validate(a);
    std::vector<std::size_t> edges;
    edges.reserve(a.slots.size() * 2);
    for (const auto& s : a.slots) {
        edges.push_back(s.begin);
        edges.push_back(s.end);
    }
    annotated_tokens result{a.text, tokenize(a.text, options, edges), {}};
    std::size_t t = 0;
    for (std::size_t k = 0; k < a.slots.size(); ++k) {
        const auto& s = a.slots[k];
        while (t < result.tokens.size() && result.tokens[t].begin < s.begin) ++t;
        const std::size_t first = t;
        while (t < result.tokens.size() && result.tokens[t].end <= s.end) ++t;
        if (first == t) {
            throw annotation_error(fmt::format("slot {} ('{}') covers no token", k, s.label), k);
        }
        result.slots.push_back({s.label, first, t});
    }
    return result;
}

/// Parses markup and tokenises it: tokenize_annotated(parse_markup(markup)). O(n).
/// \throws as parse_markup() and tokenize_annotated().
[[nodiscard]] inline annotated_tokens parse_markup_tokens(std::string_view markup, const tokenize_options& options = {}) {
    return tokenize_annotated(parse_markup(markup), options);
}

/// Converts token spans back to byte spans over `text` (a slot runs from its first token's first byte to
/// its last token's last byte). O(slots).
/// \throws annotation_error when a span is empty, out of range, unsorted or overlapping.
[[nodiscard]] inline annotated_text to_annotated_text(std::string_view text, std::span<const token> tokens,
                                                      std::span<const token_span> slots) {
    annotated_text result{std::string(text), {}};
    std::size_t previous_end = 0;
    for (std::size_t k = 0; k < slots.size(); ++k) {
        const auto& s = slots[k];
        if (s.begin >= s.end || s.end > tokens.size() || s.begin < previous_end) {
            throw annotation_error(fmt::format("token span {} ('{}') [{}, {}) is empty, overlaps the previous one or "
                                               "lies outside the {} tokens",
                                               k, s.label, s.begin, s.end, tokens.size()),
                                   k);
        }
        result.slots.push_back({s.label, tokens[s.begin].begin, tokens[s.end - 1].end});
        previous_end = s.end;
    }
    return result;
}

/// Converts an annotated_tokens back to byte spans. O(slots).
/// \throws as the overload above.
[[nodiscard]] inline annotated_text to_annotated_text(const annotated_tokens& a) {
    return to_annotated_text(a.text, a.tokens, a.slots);
}

/// BIO tags (`O`, `B-label`, `I-label`) for `token_count` tokens with the given spans. O(tokens).
/// \throws annotation_error when a span is empty, out of range, unsorted or overlapping.
[[nodiscard]] inline std::vector<std::string> to_bio(std::size_t token_count, std::span<const token_span> slots) {
    std::vector<std::string> tags(token_count, "O");
    std::size_t previous_end = 0;
    for (std::size_t k = 0; k < slots.size(); ++k) {
        const auto& s = slots[k];
        if (s.begin >= s.end || s.end > token_count || s.begin < previous_end) {
            throw annotation_error(fmt::format("token span {} ('{}') [{}, {}) is empty, overlaps the previous one or "
                                               "lies outside the {} tokens",
                                               k, s.label, s.begin, s.end, token_count),
                                   k);
        }
        detail::check_label(s.label, k);
        tags[s.begin] = "B-" + s.label;
        for (std::size_t t = s.begin + 1; t < s.end; ++t) tags[t] = "I-" + s.label;
        previous_end = s.end;
    }
    return tags;
}

/// Token spans from BIO tags. An `I-x` that does not continue a slot `x` is handled by `repair`
/// (default: it begins a new slot, the CoNLL convention). O(tokens).
/// \throws annotation_error naming the tag's index for a tag that is not `O`, `B-label` or `I-label`
///         with a valid label, and, with bio_repair::reject, for an `I-x` without its `B-x`.
[[nodiscard]] inline std::vector<token_span> from_bio(std::span<const std::string> tags,
                                                      bio_repair repair = bio_repair::begin_new) {
    std::vector<token_span> spans;
    bool open = false;
    for (std::size_t i = 0; i < tags.size(); ++i) {
        const std::string& tag = tags[i];
        if (tag == "O") {
            open = false;
            continue;
        }
        if (tag.size() < 3 || (tag[0] != 'B' && tag[0] != 'I') || tag[1] != '-') {
            throw annotation_error(fmt::format("tag {} is '{}'; expected 'O', 'B-label' or 'I-label'", i, tag), i);
        }
        const std::string_view label = std::string_view(tag).substr(2);
        detail::check_label(label, i);
        if (tag[0] == 'I' && open && spans.back().label == label) {
            spans.back().end = i + 1;
            continue;
        }
        if (tag[0] == 'I' && repair == bio_repair::reject) {
            throw annotation_error(fmt::format("tag {} is '{}' but no slot '{}' is open there", i, tag, label), i);
        }
        spans.push_back({std::string(label), i, i + 1});
        open = true;
    }
    return spans;
}

}  // namespace selflearn
