// `selflearn spans`: the best (or k best) rephrase spans from per-position start and end scores.

#include "cli.hpp"

#include <selflearn/span.hpp>

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace {

std::vector<double> number_array(const cli::json& line, const char* field) {
    const cli::json& array = cli::require(line, field, cli::json::value_t::array);
    std::vector<double> values;
    values.reserve(array.size());
    for (std::size_t i = 0; i < array.size(); ++i) {
        if (!array[i].is_number()) {
            throw cli::input_error(
                fmt::format("field \"{}\" entry {} must be a number, got {}", field, i, array[i].type_name()));
        }
        values.push_back(array[i].get<double>());
    }
    return values;
}

std::vector<std::uint8_t> mask_array(const cli::json& array, std::size_t positions) {
    if (array.size() != positions) {
        throw cli::input_error(
            fmt::format("field \"mask\" has {} entries for {} positions", array.size(), positions));
    }
    std::vector<std::uint8_t> mask;
    mask.reserve(array.size());
    for (std::size_t i = 0; i < array.size(); ++i) {
        const cli::json& v = array[i];
        if (v.is_boolean()) {
            mask.push_back(v.get<bool>() ? 1 : 0);
        } else if (v.is_number_integer() && (v.get<long long>() == 0 || v.get<long long>() == 1)) {
            mask.push_back(v.get<long long>() == 1 ? 1 : 0);
        } else {
            throw cli::input_error(fmt::format("field \"mask\" entry {} must be 0, 1, true or false, got {}", i,
                                               v.dump()));
        }
    }
    return mask;
}

selflearn::null_rule null_of(const cli::json& line, double threshold) {
    auto it = line.find("null");
    if (it == line.end() || it->is_null()) {
        if (threshold != 0.0) {
            throw cli::input_error(fmt::format("--threshold {} needs a \"null\" field to compare with", threshold));
        }
        return selflearn::null_rule::none();
    }
    if (it->is_number()) return selflearn::null_rule::value(it->get<double>(), threshold);
    if (it->is_string() && it->get_ref<const std::string&>() == "position0") {
        return selflearn::null_rule::position_zero(threshold);
    }
    throw cli::input_error(
        fmt::format("field \"null\" must be a number or \"position0\", got {}", it->dump()));
}

int run_spans(const cli::arguments& args) {
    const auto max_length = static_cast<std::size_t>(args.integer("max-length", 1, 1'000'000'000));
    const auto k = static_cast<std::size_t>(args.integer("top-k", 1, 1'000'000));
    const std::string kind = args.string("scores");
    if (kind != "log" && kind != "prob") {
        throw cli::usage_error(fmt::format("option '--scores' must be 'log' or 'prob', got '{}'", kind));
    }
    const double threshold = args.number("threshold", -1e300, 1e300);
    const auto mode = args.flag("non-overlapping") ? selflearn::overlap::forbidden : selflearn::overlap::allowed;

    selflearn::span_decoder decoder;
    std::vector<selflearn::scored_span> spans;
    cli::input in(args, "spans");
    cli::output out(args);
    in.for_each([&](const cli::json& line, const cli::location&) {
        const std::vector<double> start = number_array(line, "start");
        const std::vector<double> end = number_array(line, "end");
        if (start.size() != end.size()) {
            throw cli::input_error(fmt::format("fields \"start\" and \"end\" have {} and {} entries", start.size(),
                                               end.size()));
        }
        std::vector<std::uint8_t> mask;
        if (const cli::json* m = cli::optional_field(line, "mask", cli::json::value_t::array)) {
            mask = mask_array(*m, start.size());
        }
        selflearn::span_context context;
        const cli::json* tokens = cli::optional_field(line, "tokens", cli::json::value_t::array);
        if (tokens != nullptr) {
            if (tokens->size() != start.size()) {
                throw cli::input_error(
                    fmt::format("field \"tokens\" has {} entries for {} positions", tokens->size(), start.size()));
            }
            std::vector<std::string> words;
            for (std::size_t i = 0; i < tokens->size(); ++i) {
                if (!(*tokens)[i].is_string()) {
                    throw cli::input_error(fmt::format("field \"tokens\" entry {} must be a string, got {}", i,
                                                       (*tokens)[i].type_name()));
                }
                words.push_back((*tokens)[i].get<std::string>());
            }
            context.add_turn(std::move(words));
        }
        selflearn::span_options options;
        options.max_length = max_length;
        options.start_mask = mask;
        options.end_mask = mask;
        options.null = null_of(line, threshold);
        if (kind == "log") {
            decoder.top(selflearn::log_scores(start, end), k, spans, options, mode);
        } else {
            decoder.top(selflearn::probabilities(start, end), k, spans, options, mode);
        }
        cli::json result = cli::json::array();
        cli::json texts = cli::json::array();
        for (const auto& s : spans) {
            result.push_back(cli::json::array({s.start, s.end, s.score}));
            if (tokens != nullptr) texts.push_back(context.text(s));
        }
        cli::json record = {{"spans", std::move(result)}};
        if (tokens != nullptr) record["text"] = std::move(texts);
        out.write(record);
    });
    out.flush();
    return 0;
}

const cli::registration spans_command{cli::command{
    .name = "spans",
    .summary = "decode the best (or k best) rephrase spans from start/end scores",
    .usage = "[options] [FILE...]",
    .description =
        "Reads lines {\"start\": [...], \"end\": [...]} with optional \"null\", \"mask\" and \"tokens\", and writes\n"
        "{\"spans\": [[i, j, score], ...]}, best first: spans [i, j] (inclusive) with j - i + 1 <= L, scored\n"
        "start[i] + end[j] (--scores log) or start[i] * end[j] (--scores prob); ties go to the smaller i, then\n"
        "the smaller j. \"null\" is a null score, or \"position0\" for the score of [0, 0] (position 0 then\n"
        "starts no span); spans scoring below null + threshold are dropped, so {\"spans\": []} means the null\n"
        "wins. \"mask\" (0/1 or booleans, one per position) marks the positions allowed to start or end a span.\n"
        "With \"tokens\" (one string per position), \"text\" lists each span's tokens joined by spaces.",
    .options = {{"max-length", "L", "longest span, in positions", "30"},
                {"top-k", "K", "number of spans to write", "1"},
                {"scores", "KIND", "'log' for log-scores (added) or 'prob' for probabilities (multiplied)", "log"},
                {"threshold", "T", "margin over the null a span needs: score - null >= T", "0"},
                {"non-overlapping", "", "keep only spans that share no position with a better kept span"}},
    .run = run_spans,
}};

}  // namespace
