#include <selflearn/format.hpp>

#include <doctest/doctest.h>

#include <fmt/format.h>

using namespace selflearn;

TEST_CASE("fmt formatters print tokens, spans, markup and outcomes") {
    const auto parsed = parse_markup("play [artist : the weeknd]");
    CHECK(fmt::format("{}", parsed) == "play [artist : the weeknd]");
    CHECK(fmt::format("{}", parsed.slots[0]) == "artist[5, 15)");
    const auto tokens = parse_markup_tokens("play [artist : the weeknd]");
    CHECK(fmt::format("{}", tokens.tokens[1]) == "the@5..8");
    CHECK(fmt::format("{}", tokens.slots[0]) == "artist[1, 3)");
    CHECK(fmt::format("{}|{}", turn_outcome::success, turn_outcome::defect) == "success|defect");
    CHECK(fmt::format("{:>8}", turn_outcome::defect) == "  defect");
    CHECK_THROWS_AS((void)fmt::format("{}", annotated_text{"a[b", {}}), annotation_error);
}
