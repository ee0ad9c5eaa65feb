// Fuzzes selflearn/annotation.hpp. Mode 0: the input is markup; when parse_markup accepts it, to_markup
// writes it back byte for byte and the annotation survives tokens and BIO. Mode 1: the input builds an
// annotated_text (text bytes, then slot labels and spans); when to_markup accepts it, parse_markup gives it
// back exactly, and tokenize_annotated / to_bio / from_bio round-trip the token spans.

#include <selflearn/annotation.hpp>

#include "fuzz_check.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

// Tokens and BIO: the token spans of a valid annotation go through BIO tags and back unchanged (with and
// without repair), and converting them back to bytes gives an annotation that markup can write.
void check_tokens(const selflearn::annotated_text& a) {
    selflearn::annotated_tokens t;
    try {
        t = selflearn::tokenize_annotated(a);
    } catch (const selflearn::annotation_error&) {
        return;  // a slot that covers no token (only white space inside it): documented rejection
    }
    const auto tags = selflearn::to_bio(t.tokens.size(), t.slots);
    SELFLEARN_FUZZ_CHECK(tags.size() == t.tokens.size(), "to_bio gave %zu tags for %zu tokens", tags.size(),
                         t.tokens.size());
    SELFLEARN_FUZZ_CHECK(selflearn::from_bio(tags) == t.slots, "BIO round trip changed the spans");
    SELFLEARN_FUZZ_CHECK(selflearn::from_bio(tags, selflearn::bio_repair::reject) == t.slots,
                         "BIO round trip (reject) changed the spans");
    const auto back = selflearn::to_annotated_text(t);
    const std::string markup = selflearn::to_markup(back);  // must not throw: token spans are never blank
    SELFLEARN_FUZZ_CHECK(selflearn::parse_markup(markup) == back, "markup of the token spans does not round-trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    if ((data[0] & 1u) == 0) {
        const std::string markup(reinterpret_cast<const char*>(data + 1), size - 1);
        selflearn::annotated_text a;
        try {
            a = selflearn::parse_markup(markup);
        } catch (const selflearn::annotation_error& e) {
            SELFLEARN_FUZZ_CHECK(e.position() <= markup.size(), "error position %zu past the markup", e.position());
            return 0;
        } catch (const selflearn::invalid_utf8&) {
            SELFLEARN_FUZZ_CHECK(!selflearn::is_valid_utf8(markup), "invalid_utf8 on valid UTF-8");
            return 0;
        }
        selflearn::validate(a);  // what parse_markup returns is valid
        SELFLEARN_FUZZ_CHECK(selflearn::to_markup(a) == markup, "to_markup(parse_markup(m)) != m");
        check_tokens(a);
        return 0;
    }
    FuzzedDataProvider in(data + 1, size - 1);
    selflearn::annotated_text a;
    a.text = in.ConsumeRandomLengthString(64);
    const auto slots = in.ConsumeIntegralInRange<std::size_t>(0, 4);
    std::size_t at = 0;
    for (std::size_t k = 0; k < slots; ++k) {
        std::string label = in.ConsumeRandomLengthString(8);
        const std::size_t begin = at + in.ConsumeIntegralInRange<std::size_t>(0, 4);
        const std::size_t end = begin + in.ConsumeIntegralInRange<std::size_t>(0, 8);
        a.slots.push_back({std::move(label), begin, end});
        at = end;
    }
    std::string markup;
    try {
        markup = selflearn::to_markup(a);
    } catch (const selflearn::annotation_error&) {
        return 0;
    } catch (const selflearn::invalid_utf8&) {
        return 0;
    }
    SELFLEARN_FUZZ_CHECK(selflearn::parse_markup(markup) == a, "parse_markup(to_markup(a)) != a for '%s'",
                         markup.c_str());
    check_tokens(a);
    return 0;
}
