#pragma once
/// \file selflearn/format.hpp
/// Opt-in fmt formatters for the library's text and annotation types. Include this header to write
/// `fmt::format("{}", value)` for them; the rest of the library does not include it.
///
/// - token: its text and byte range, `play@0..4`
/// - slot_span / token_span: `label[begin, end)`
/// - annotated_text: its `[label : value]` markup
/// - turn_outcome: `success` or `defect`

#include <selflearn/annotation.hpp>
#include <selflearn/session.hpp>
#include <selflearn/tokenize.hpp>

#include <fmt/format.h>

#include <string_view>

/// Formats a selflearn::token as `text@begin..end`.
template <>
struct fmt::formatter<selflearn::token> : fmt::formatter<std::string_view> {
    template <class Context>
    auto format(const selflearn::token& t, Context& ctx) const {
        return fmt::format_to(ctx.out(), "{}@{}..{}", t.text, t.begin, t.end);
    }
};

/// Formats a selflearn::slot_span as `label[begin, end)` (byte offsets).
template <>
struct fmt::formatter<selflearn::slot_span> : fmt::formatter<std::string_view> {
    template <class Context>
    auto format(const selflearn::slot_span& s, Context& ctx) const {
        return fmt::format_to(ctx.out(), "{}[{}, {})", s.label, s.begin, s.end);
    }
};

/// Formats a selflearn::token_span as `label[begin, end)` (token indices).
template <>
struct fmt::formatter<selflearn::token_span> : fmt::formatter<std::string_view> {
    template <class Context>
    auto format(const selflearn::token_span& s, Context& ctx) const {
        return fmt::format_to(ctx.out(), "{}[{}, {})", s.label, s.begin, s.end);
    }
};

/// Formats a selflearn::annotated_text as its markup.
/// \throws selflearn::annotation_error when the annotation is not valid (see selflearn::validate).
template <>
struct fmt::formatter<selflearn::annotated_text> : fmt::formatter<std::string_view> {
    template <class Context>
    auto format(const selflearn::annotated_text& a, Context& ctx) const {
        return fmt::formatter<std::string_view>::format(selflearn::to_markup(a), ctx);
    }
};

/// Formats a selflearn::turn_outcome as `success` or `defect`.
template <>
struct fmt::formatter<selflearn::turn_outcome> : fmt::formatter<std::string_view> {
    template <class Context>
    auto format(selflearn::turn_outcome o, Context& ctx) const {
        return fmt::formatter<std::string_view>::format(o == selflearn::turn_outcome::success ? "success" : "defect",
                                                        ctx);
    }
};
