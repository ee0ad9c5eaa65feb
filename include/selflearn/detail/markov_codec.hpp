#pragma once
/// \file selflearn/detail/markov_codec.hpp
/// Escaping of keys in the text form of transition counts: one entry per line, fields separated by tabs.

#include <selflearn/error.hpp>

#include <fmt/core.h>

#include <charconv>
#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace selflearn::detail {

/// Escapes backslash, tab, newline and carriage return so that a key fits in one tab-separated field.
inline void escape_field(std::string& out, std::string_view text) {
    for (char c : text) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '\t': out += "\\t"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            default: out += c;
        }
    }
}

/// Inverse of escape_field. Throws invalid_argument on a dangling or unknown escape.
inline std::string unescape_field(std::string_view text, std::size_t line) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            out += text[i];
            continue;
        }
        if (i + 1 == text.size()) {
            throw invalid_argument(fmt::format("transition counts, line {}: a backslash ends a field", line));
        }
        switch (text[++i]) {
            case '\\': out += '\\'; break;
            case 't': out += '\t'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            default:
                throw invalid_argument(
                    fmt::format("transition counts, line {}: unknown escape '\\{}'", line, text[i]));
        }
    }
    return out;
}

/// Shortest text that reads back to the same double.
inline std::string format_double(double value) {
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return {buffer, result.ptr};
}

}  // namespace selflearn::detail
