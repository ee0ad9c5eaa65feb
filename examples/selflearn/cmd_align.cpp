// `selflearn align`: edit distance and edit operations between two texts, by bytes, code points or words.

#include "cli.hpp"

#include <selflearn/align.hpp>
#include <selflearn/error.hpp>
#include <selflearn/tokenize.hpp>
#include <selflearn/utf8.hpp>
#include <selflearn/vocabulary.hpp>

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

enum class unit { byte, code_point, word };

unit parse_unit(const std::string& text) {
    if (text == "char") return unit::code_point;
    if (text == "word") return unit::word;
    if (text == "byte") return unit::byte;
    throw cli::usage_error(fmt::format("option '--unit' must be char, word or byte, got '{}'", text));
}

std::u32string code_points(const std::string& text, const char* field) {
    try {
        return selflearn::decode_utf8(text);
    } catch (const selflearn::invalid_utf8& e) {
        throw cli::input_error(fmt::format("field \"{}\": {}", field, e.what()));
    }
}

std::vector<std::uint32_t> word_ids(const std::string& text, const char* field, selflearn::vocabulary& words,
                                    const selflearn::tokenize_options& options) {
    std::vector<selflearn::token> tokens;
    try {
        tokens = selflearn::tokenize(text, options);
    } catch (const selflearn::invalid_utf8& e) {
        throw cli::input_error(fmt::format("field \"{}\": {}", field, e.what()));
    }
    std::vector<std::uint32_t> ids;
    ids.reserve(tokens.size());
    for (const auto& t : tokens) ids.push_back(words.intern(t.text));
    return ids;
}

/// Distance (or null beyond --max) and, with --ops, the edit operations of one pair.
template <class Seq>
cli::json align_pair(const Seq& a, const Seq& b, std::optional<std::size_t> max, bool with_ops,
                     selflearn::levenshtein_workspace& workspace) {
    cli::json result = cli::json::object();
    std::optional<std::size_t> distance;
    if (max) {
        distance = selflearn::levenshtein_distance(a, b, *max, workspace);
    } else {
        distance = selflearn::levenshtein_distance(a, b, workspace);
    }
    result["distance"] = distance ? cli::json(*distance) : cli::json(nullptr);
    if (with_ops) {
        if (!distance) {
            result["ops"] = nullptr;
        } else {
            cli::json ops = cli::json::array();
            for (const auto& op : selflearn::levenshtein_editops(a, b, workspace)) {
                ops.push_back(cli::json::array({std::string(selflearn::to_string(op.kind)), op.source_pos, op.target_pos}));
            }
            result["ops"] = std::move(ops);
        }
    }
    return result;
}

int run_align(const cli::arguments& args) {
    const unit u = parse_unit(args.string("unit"));
    std::optional<std::size_t> max;
    if (args.value("max")) {
        max = static_cast<std::size_t>(args.integer("max", 0, std::numeric_limits<std::int32_t>::max()));
    }
    const bool with_ops = args.flag("ops");
    const selflearn::tokenize_options options{.fold_case = args.flag("fold-case")};
    if (options.fold_case && u != unit::word) throw cli::usage_error("option '--fold-case' needs '--unit word'");
    selflearn::levenshtein_workspace workspace;
    selflearn::vocabulary words;
    cli::input in(args, "align");
    cli::output out(args);
    in.for_each([&](const cli::json& line, const cli::location&) {
        const std::string& a = cli::require_string(line, "a");
        const std::string& b = cli::require_string(line, "b");
        switch (u) {
            case unit::byte: out.write(align_pair(std::string_view(a), std::string_view(b), max, with_ops, workspace)); break;
            case unit::code_point:
                out.write(align_pair(code_points(a, "a"), code_points(b, "b"), max, with_ops, workspace));
                break;
            case unit::word:
                out.write(align_pair(word_ids(a, "a", words, options), word_ids(b, "b", words, options), max, with_ops,
                                     workspace));
                break;
        }
    });
    out.flush();
    return 0;
}

const cli::registration align_command{cli::command{
    .name = "align",
    .summary = "Levenshtein distance and edit operations between two texts",
    .usage = "[options] [FILE...]",
    .description =
        "Reads lines {\"a\": \"...\", \"b\": \"...\"} and writes one line per input, in order:\n"
        "{\"distance\": 3}, with --ops also \"ops\": [[\"replace\", 0, 0], [\"insert\", 4, 4], ...]\n"
        "(python-Levenshtein editops: kind, position in a, position in b). Positions count the --unit:\n"
        "char (Unicode code points), word (tokens of the tokenizer) or byte. With --max K the distance is\n"
        "null (and the ops too) when it exceeds K.",
    .options = {{"unit", "UNIT", "what to align: char (code points), word (tokens) or byte", "char"},
                {"max", "K", "cutoff: report null when the distance exceeds K"},
                {"ops", "", "also write the edit operations"},
                {"fold-case", "", "with --unit word, fold the case of the tokens before comparing them"}},
    .run = run_align,
}};

}  // namespace
