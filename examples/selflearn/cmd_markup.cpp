// `selflearn markup`: slot markup to text, tokens and BIO tags.

#include "cli.hpp"

#include <selflearn/annotation.hpp>

namespace {

int run_markup(const cli::arguments& args) {
    const bool fold = args.flag("fold-case");
    cli::input in(args, "markup");
    cli::output out(args);
    in.for_each([&](const cli::json& line, const cli::location&) {
        const auto parsed = selflearn::parse_markup_tokens(cli::require_string(line, "annotation"), {.fold_case = fold});
        cli::json tokens = cli::json::array();
        for (const auto& t : parsed.tokens) tokens.push_back(t.text);
        out.write({{"text", parsed.text},
                   {"tokens", std::move(tokens)},
                   {"bio", selflearn::to_bio(parsed.tokens.size(), parsed.slots)}});
    });
    out.flush();
    return 0;
}

const cli::registration markup_command{cli::command{
    .name = "markup",
    .summary = "parse [slot : value] markup into text, tokens and BIO tags",
    .usage = "[options] [FILE...]",
    .description = "Reads lines {\"annotation\": \"play [artist : the weeknd]\"} and writes\n"
                   "{\"text\": \"play the weeknd\", \"tokens\": [\"play\", \"the\", \"weeknd\"],\n"
                   " \"bio\": [\"O\", \"B-artist\", \"I-artist\"]}. Slot edges are token boundaries.",
    .options = {{"fold-case", "", "fold the case of the tokens (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic)"}},
    .run = run_markup,
}};

}  // namespace
