// Fuzzes selflearn/tokenize.hpp: the first bytes pick options and forced boundaries, the rest is the text.
// Oracles (from the header's rules): invalid UTF-8 is rejected with the first bad offset; tokens are
// non-empty, in order, disjoint, on code-point boundaries, and their texts are the bytes they cover (or
// their case-folded form); everything between tokens is white space, and no token contains white space;
// a forced boundary never lies strictly inside a token; case folding changes no offset; same input, same
// output.

#include <selflearn/tokenize.hpp>

#include "fuzz_check.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const bool fold = (data[0] & 1u) != 0;
    const unsigned boundary_seed = data[1];
    const std::string text(reinterpret_cast<const char*>(data + 2), size - 2);

    const auto invalid = selflearn::find_invalid_utf8(text);
    if (invalid) {
        try {
            (void)selflearn::tokenize(text);
        } catch (const selflearn::invalid_utf8& e) {
            SELFLEARN_FUZZ_CHECK(e.byte_offset() == *invalid, "invalid_utf8 offset %zu vs %zu", e.byte_offset(),
                                 *invalid);
            return 0;
        }
        SELFLEARN_FUZZ_CHECK(false, "tokenize accepted invalid UTF-8");
    }

    // Code points and offsets, to check boundaries and gaps.
    std::vector<std::size_t> starts;
    std::vector<char32_t> values;
    for (const auto cp : selflearn::utf8_view(text)) {
        starts.push_back(cp.offset);
        values.push_back(cp.value);
    }
    // Forced boundaries: every code-point start whose index hashes to the seed's pattern, plus the end.
    std::vector<std::size_t> boundaries;
    if (boundary_seed != 0) {
        for (std::size_t k = 0; k < starts.size(); ++k) {
            if (((k * 2654435761u) >> 3 & 0xFFu) < boundary_seed / 4) boundaries.push_back(starts[k]);
        }
        boundaries.push_back(text.size());
    }

    const selflearn::tokenize_options plain{};
    const selflearn::tokenize_options folded{.fold_case = true};
    const auto tokens = selflearn::tokenize(text, fold ? folded : plain, boundaries);
    const auto again = selflearn::tokenize(text, fold ? folded : plain, boundaries);
    SELFLEARN_FUZZ_CHECK(tokens == again, "tokenize is not deterministic");

    const auto is_start = [&](std::size_t offset) {
        return offset == text.size() || std::binary_search(starts.begin(), starts.end(), offset);
    };
    // Prefix counts per byte offset: code points, and white-space code points, starting before it.
    std::vector<std::size_t> cps(text.size() + 1, 0), spaces(text.size() + 1, 0);
    for (std::size_t k = 0; k < starts.size(); ++k) {
        cps[starts[k] + 1] = 1;
        spaces[starts[k] + 1] = selflearn::detail::is_space(values[k]) ? 1 : 0;
    }
    for (std::size_t b = 1; b <= text.size(); ++b) {
        cps[b] += cps[b - 1];
        spaces[b] += spaces[b - 1];
    }
    const auto all_space = [&](std::size_t begin, std::size_t end) {
        return cps[end] - cps[begin] == spaces[end] - spaces[begin];
    };
    const auto any_space = [&](std::size_t begin, std::size_t end) { return spaces[end] != spaces[begin]; };
    std::size_t previous_end = 0;
    for (std::size_t t = 0; t < tokens.size(); ++t) {
        const auto& tok = tokens[t];
        SELFLEARN_FUZZ_CHECK(tok.begin < tok.end && tok.end <= text.size(), "token %zu [%zu, %zu)", t, tok.begin,
                             tok.end);
        SELFLEARN_FUZZ_CHECK(tok.begin >= previous_end, "token %zu overlaps the previous one", t);
        SELFLEARN_FUZZ_CHECK(is_start(tok.begin) && is_start(tok.end), "token %zu edge inside a code point", t);
        SELFLEARN_FUZZ_CHECK(all_space(previous_end, tok.begin), "non-space bytes before token %zu are lost", t);
        SELFLEARN_FUZZ_CHECK(!any_space(tok.begin, tok.end), "token %zu contains white space", t);
        const std::string_view covered(text.data() + tok.begin, tok.end - tok.begin);
        if (fold) {
            SELFLEARN_FUZZ_CHECK(tok.text == selflearn::fold_case(covered), "token %zu is not the folded text", t);
        } else {
            SELFLEARN_FUZZ_CHECK(tok.text == covered, "token %zu text differs from its bytes", t);
        }
        const auto inside = std::upper_bound(boundaries.begin(), boundaries.end(), tok.begin);
        SELFLEARN_FUZZ_CHECK(inside == boundaries.end() || *inside >= tok.end, "forced boundary inside token %zu", t);
        previous_end = tok.end;
    }
    SELFLEARN_FUZZ_CHECK(all_space(previous_end, text.size()), "non-space bytes after the last token are lost");

    // Folding changes texts only, never offsets or the number of tokens.
    const auto other = selflearn::tokenize(text, fold ? plain : folded, boundaries);
    SELFLEARN_FUZZ_CHECK(other.size() == tokens.size(), "folding changed the token count");
    for (std::size_t t = 0; t < tokens.size(); ++t) {
        SELFLEARN_FUZZ_CHECK(other[t].begin == tokens[t].begin && other[t].end == tokens[t].end,
                             "folding moved token %zu", t);
    }
    return 0;
}
