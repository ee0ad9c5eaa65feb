#pragma once
/// \file selflearn/utf8.hpp
/// UTF-8 validation, decoding and encoding (RFC 3629: no overlong forms, no surrogates, nothing above
/// U+10FFFF), and iteration by code point.

#include <selflearn/error.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/core.h>

namespace selflearn {

namespace detail {

/// Decodes the sequence starting at `pos`. On success returns the code point and advances `pos`; on an
/// invalid sequence returns nullopt and leaves `pos` unchanged.
constexpr std::optional<char32_t> decode_one(std::string_view text, std::size_t& pos) noexcept {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(pos);
    if (lead < 0x80) {
        ++pos;
        return char32_t{lead};
    }
    std::size_t length = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2, cp = lead & 0x1Fu, min = 0x80;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3, cp = lead & 0x0Fu, min = 0x800;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4, cp = lead & 0x07u, min = 0x10000;
    } else {
        return std::nullopt;
    }
    if (text.size() - pos < length) return std::nullopt;
    for (std::size_t i = 1; i < length; ++i) {
        const unsigned char next = byte(pos + i);
        if ((next & 0xC0u) != 0x80u) return std::nullopt;
        cp = (cp << 6) | (next & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    pos += length;
    return cp;
}

}  // namespace detail

/// Returns the byte offset of the first invalid UTF-8 sequence in `text`, or nullopt when it is all valid.
/// O(n); never throws.
[[nodiscard]] constexpr std::optional<std::size_t> find_invalid_utf8(std::string_view text) noexcept {
    std::size_t pos = 0;
    while (pos < text.size()) {
        if (!detail::decode_one(text, pos)) return pos;
    }
    return std::nullopt;
}

/// True when `text` is valid UTF-8. O(n); never throws.
[[nodiscard]] constexpr bool is_valid_utf8(std::string_view text) noexcept { return !find_invalid_utf8(text); }

/// Checks that `text` is valid UTF-8. O(n).
/// \throws invalid_utf8 naming `what` (e.g. "utterance") and the byte offset of the first bad sequence.
inline void validate_utf8(std::string_view text, std::string_view what = "text") {
    if (auto bad = find_invalid_utf8(text)) {
        throw invalid_utf8(fmt::format("{} is not valid UTF-8: invalid sequence at byte offset {} (byte 0x{:02X})",
                                       what, *bad, static_cast<unsigned char>(text[*bad])),
                           *bad);
    }
}

/// Appends the UTF-8 encoding of `cp` to `out`. O(1).
/// \throws invalid_argument when `cp` is a surrogate or above U+10FFFF.
inline void append_utf8(std::string& out, char32_t cp) {
    const auto u = static_cast<std::uint32_t>(cp);
    if (u > 0x10FFFF || (u >= 0xD800 && u <= 0xDFFF)) {
        throw invalid_argument(fmt::format("code point U+{:04X} cannot be encoded in UTF-8", u));
    }
    const auto put = [&](std::uint32_t b) { out.push_back(static_cast<char>(static_cast<unsigned char>(b))); };
    if (u < 0x80) {
        put(u);
    } else if (u < 0x800) {
        put(0xC0 | (u >> 6)), put(0x80 | (u & 0x3F));
    } else if (u < 0x10000) {
        put(0xE0 | (u >> 12)), put(0x80 | ((u >> 6) & 0x3F)), put(0x80 | (u & 0x3F));
    } else {
        put(0xF0 | (u >> 18)), put(0x80 | ((u >> 12) & 0x3F)), put(0x80 | ((u >> 6) & 0x3F)), put(0x80 | (u & 0x3F));
    }
}

/// Decodes UTF-8 into code points. O(n).
/// \throws invalid_utf8 with the byte offset of the first bad sequence.
[[nodiscard]] inline std::u32string decode_utf8(std::string_view text) {
    std::u32string result;
    result.reserve(text.size());
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto cp = detail::decode_one(text, pos);
        if (!cp) validate_utf8(text);  // throws with the offset
        result.push_back(*cp);
    }
    return result;
}

/// Encodes code points as UTF-8. O(n).
/// \throws invalid_argument for a surrogate or a value above U+10FFFF.
[[nodiscard]] inline std::string encode_utf8(std::u32string_view code_points) {
    std::string result;
    result.reserve(code_points.size());
    for (char32_t cp : code_points) append_utf8(result, cp);
    return result;
}

/// A forward view over the code points of a UTF-8 string, with each code point's byte offset.
/// Iterating an invalid sequence throws invalid_utf8; validate first to avoid exceptions mid-loop.
class utf8_view {
public:
    /// One decoded code point and where it lies in the text.
    struct code_point {
        char32_t value;
        std::size_t offset;  ///< byte offset of its first byte
        std::size_t length;  ///< its length in bytes (1 to 4)
    };

    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = code_point;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = code_point;

        iterator() = default;
        iterator(std::string_view text, std::size_t pos) : text_(text), pos_(pos) { load(); }
        code_point operator*() const { return current_; }
        iterator& operator++() {
            pos_ = next_;
            load();
            return *this;
        }
        iterator operator++(int) {
            auto copy = *this;
            ++*this;
            return copy;
        }
        friend bool operator==(const iterator& a, const iterator& b) { return a.pos_ == b.pos_; }

    private:
        void load() {
            if (pos_ >= text_.size()) return;
            std::size_t next = pos_;
            auto cp = detail::decode_one(text_, next);
            if (!cp) validate_utf8(text_);
            current_ = {*cp, pos_, next - pos_};
            next_ = next;
        }
        std::string_view text_;
        std::size_t pos_ = 0;
        std::size_t next_ = 0;
        code_point current_{};
    };

    explicit utf8_view(std::string_view text) : text_(text) {}
    [[nodiscard]] iterator begin() const { return {text_, 0}; }
    [[nodiscard]] iterator end() const { return {text_, text_.size()}; }

private:
    std::string_view text_;
};

}  // namespace selflearn
