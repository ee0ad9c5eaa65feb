// `selflearn project`: carries the slot labels of a successful rephrase onto the failed request.

#include "cli.hpp"

#include <selflearn/annotation.hpp>
#include <selflearn/project.hpp>
#include <selflearn/tokenize.hpp>

#include <fmt/format.h>

#include <string>

namespace {

selflearn::slot_policy policy(const cli::arguments& args, const char* name) {
    const auto value = args.string(name);
    if (value == "keep") return selflearn::slot_policy::keep;
    if (value == "drop") return selflearn::slot_policy::drop_slot;
    if (value == "reject") return selflearn::slot_policy::reject_example;
    throw cli::usage_error(fmt::format("option '--{}' expects keep, drop or reject, got '{}'", name, value));
}

cli::json span_json(const selflearn::token_span& s) { return cli::json::array({s.begin, s.end}); }

int run_project(const cli::arguments& args) {
    selflearn::projection_options options;
    try {
        options.method = selflearn::parse_projection_method(args.string("projection"));
    } catch (const selflearn::invalid_argument& e) {
        throw cli::usage_error(e.what());
    }
    options.threshold = args.number("threshold", 0, 1e9);
    options.context_weight = args.number("context-weight", 0, 1e9);
    options.on_partial = policy(args, "on-partial");
    options.on_split = policy(args, "on-split");
    options.on_unmapped = policy(args, "on-unmapped");
    if (options.on_unmapped == selflearn::slot_policy::keep) {
        throw cli::usage_error("option '--on-unmapped' expects drop or reject (an unmapped slot lands nowhere)");
    }
    options.join_split_words = !args.flag("no-join");
    const bool details = args.flag("details");
    selflearn::projector<> projector(options);

    cli::input in(args, "project");
    cli::output out(args);
    in.for_each([&](const cli::json& line, const cli::location&) {
        const auto source = selflearn::parse_markup_tokens(cli::require_string(line, "source"));
        const auto& target_text = cli::require_string(line, "target");
        const auto target = selflearn::tokenize(target_text);
        const auto result = projector.project(source, target);
        cli::json record;
        if (auto markup = selflearn::projected_markup(target_text, target, result)) {
            record["target"] = *markup;
        } else {
            record["target"] = nullptr;
            record["reason"] = result.reason;
        }
        if (const auto* intent = cli::optional_field(line, "intent", cli::json::value_t::string)) {
            record["intent"] = *intent;
        }
        if (details) {
            cli::json slots = cli::json::array();
            for (const auto& d : result.details) {
                slots.push_back({{"label", d.source.label},
                                 {"status", std::string(selflearn::to_string(d.status))},
                                 {"kept", d.kept},
                                 {"source", span_json(d.source)},
                                 {"target", d.target ? span_json(*d.target) : cli::json(nullptr)},
                                 {"mapped_words", d.mapped_words},
                                 {"cost", d.cost}});
            }
            cli::json map = cli::json::array();
            for (auto j : result.word_map) map.push_back(j == selflearn::no_word ? cli::json(nullptr) : cli::json(j));
            record["slots"] = std::move(slots);
            record["word_map"] = std::move(map);
            record["cost"] = result.cost;
        }
        out.write(record);
    });
    out.flush();
    return 0;
}

const cli::registration project_command{cli::command{
    .name = "project",
    .summary = "carry slot labels from a successful rephrase onto the failed request",
    .usage = "[options] [FILE...]",
    .description =
        "Reads lines {\"source\": \"play [artist : the weeknd]\", \"target\": \"play the weekend\"} (source: the\n"
        "successful utterance in slot markup; target: the failed utterance, plain text; an optional \"intent\"\n"
        "is copied to the output) and writes {\"target\": \"play [artist : the weekend]\"}, or\n"
        "{\"target\": null, \"reason\": \"...\"} when a slot policy rejects the example. Each source word maps\n"
        "onto one target word or onto nothing (word cost: normalised code-point Levenshtein distance, case-\n"
        "folded); --details adds per-slot outcomes, the word map and the cost.",
    .options = {{"projection", "M", "greedy (the paper's), optimal (Hungarian) or monotone (order-preserving)", "optimal",
                 {"method"}},
                {"threshold", "T", "largest word cost at which a word maps", "0.5"},
                {"context-weight", "W", "weight of the neighbour-context term (0: plain word costs)", "0.01"},
                {"on-partial", "P", "a slot with some words unmapped: keep, drop or reject", "keep"},
                {"on-split", "P", "a slot on non-contiguous words: keep (covering span), drop or reject", "reject"},
                {"on-unmapped", "P", "a slot with no word mapped: drop or reject", "reject"},
                {"no-join", "", "do not join words split by misrecognition at slot edges"},
                {"details", "", "add per-slot outcomes, the word map and the total cost"}},
    .run = run_project,
}};

}  // namespace
