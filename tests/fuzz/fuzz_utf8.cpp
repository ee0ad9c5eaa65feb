// Fuzzes selflearn/utf8.hpp against a reference decoder written from the Unicode Standard's table of
// well-formed UTF-8 byte sequences (Unicode 15, ch. 3, table 3-7), independent of the library's decoder.
// Oracles: the first invalid offset, the decoded code points, the invalid_utf8 offset, encode(decode(x)) == x,
// utf8_view's code points and offsets, and encode_utf8 on arbitrary 32-bit values.

#include <selflearn/utf8.hpp>

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct reference_result {
    std::u32string code_points;
    std::vector<std::size_t> offsets;
    std::optional<std::size_t> first_invalid;
};

// Table 3-7: each row gives the allowed range of the first byte and of each following byte.
struct row {
    unsigned char lead_lo, lead_hi;
    int length;
    unsigned char second_lo, second_hi;
};
constexpr row table[] = {
    {0x00, 0x7F, 1, 0, 0},       {0xC2, 0xDF, 2, 0x80, 0xBF}, {0xE0, 0xE0, 3, 0xA0, 0xBF},
    {0xE1, 0xEC, 3, 0x80, 0xBF}, {0xED, 0xED, 3, 0x80, 0x9F}, {0xEE, 0xEF, 3, 0x80, 0xBF},
    {0xF0, 0xF0, 4, 0x90, 0xBF}, {0xF1, 0xF3, 4, 0x80, 0xBF}, {0xF4, 0xF4, 4, 0x80, 0x8F},
};

reference_result reference_decode(const std::vector<unsigned char>& bytes) {
    reference_result r;
    std::size_t i = 0;
    while (i < bytes.size()) {
        const unsigned char lead = bytes[i];
        const row* match = nullptr;
        for (const row& t : table) {
            if (lead >= t.lead_lo && lead <= t.lead_hi) match = &t;
        }
        bool ok = match != nullptr && bytes.size() - i >= static_cast<std::size_t>(match->length);
        if (ok && match->length >= 2) {
            ok = bytes[i + 1] >= match->second_lo && bytes[i + 1] <= match->second_hi;
            for (int k = 2; ok && k < match->length; ++k) {
                const unsigned char b = bytes[i + static_cast<std::size_t>(k)];
                ok = b >= 0x80 && b <= 0xBF;
            }
        }
        if (!ok) {
            r.first_invalid = i;
            return r;
        }
        // Value: the lead's payload bits, then 6 bits per continuation byte.
        const int length = match->length;
        std::uint32_t cp = length == 1 ? lead : length == 2 ? (lead & 0x1Fu) : length == 3 ? (lead & 0x0Fu) : (lead & 0x07u);
        for (int k = 1; k < length; ++k) cp = cp * 64u + (bytes[i + static_cast<std::size_t>(k)] & 0x3Fu);
        r.code_points.push_back(static_cast<char32_t>(cp));
        r.offsets.push_back(i);
        i += static_cast<std::size_t>(length);
    }
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::vector<unsigned char> bytes(data, data + size);
    const std::string text(bytes.begin(), bytes.end());
    const reference_result ref = reference_decode(bytes);

    const auto invalid = selflearn::find_invalid_utf8(text);
    SELFLEARN_FUZZ_CHECK(invalid == ref.first_invalid, "find_invalid_utf8 %zu vs reference %zu",
                         invalid.value_or(SIZE_MAX), ref.first_invalid.value_or(SIZE_MAX));
    SELFLEARN_FUZZ_CHECK(selflearn::is_valid_utf8(text) == !ref.first_invalid.has_value(), "is_valid_utf8");
    if (ref.first_invalid) {
        bool threw = false;
        try {
            (void)selflearn::decode_utf8(text);
        } catch (const selflearn::invalid_utf8& e) {
            threw = true;
            SELFLEARN_FUZZ_CHECK(e.byte_offset() == *ref.first_invalid, "invalid_utf8 offset %zu vs %zu",
                                 e.byte_offset(), *ref.first_invalid);
        }
        SELFLEARN_FUZZ_CHECK(threw, "decode_utf8 accepted invalid input");
    } else {
        const std::u32string decoded = selflearn::decode_utf8(text);
        SELFLEARN_FUZZ_CHECK(decoded == ref.code_points, "decode_utf8 differs from the reference");
        SELFLEARN_FUZZ_CHECK(selflearn::encode_utf8(decoded) == text, "encode_utf8(decode_utf8(x)) != x");
        std::size_t k = 0;
        for (const auto cp : selflearn::utf8_view(text)) {
            SELFLEARN_FUZZ_CHECK(k < ref.code_points.size(), "utf8_view yields too many code points");
            SELFLEARN_FUZZ_CHECK(cp.value == ref.code_points[k] && cp.offset == ref.offsets[k],
                                 "utf8_view code point %zu", k);
            ++k;
        }
        SELFLEARN_FUZZ_CHECK(k == ref.code_points.size(), "utf8_view yields too few code points");
    }

    // The same bytes read as 32-bit values: encoding accepts exactly the Unicode scalar values, and what it
    // writes decodes back.
    std::u32string values;
    for (std::size_t i = 0; i + 4 <= size; i += 4) {
        std::uint32_t v = 0;
        for (std::size_t b = 0; b < 4; ++b) v |= static_cast<std::uint32_t>(data[i + b]) << (8 * b);
        values.push_back(static_cast<char32_t>(v % 0x120000u));  // mostly in range, some above U+10FFFF
    }
    bool scalar = true;
    for (char32_t c : values) scalar = scalar && c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF);
    try {
        const std::string encoded = selflearn::encode_utf8(values);
        SELFLEARN_FUZZ_CHECK(scalar, "encode_utf8 accepted a surrogate or a value above U+10FFFF");
        const std::vector<unsigned char> encoded_bytes(encoded.begin(), encoded.end());
        const reference_result back = reference_decode(encoded_bytes);
        SELFLEARN_FUZZ_CHECK(!back.first_invalid && back.code_points == values, "encode_utf8 wrote bad UTF-8");
    } catch (const selflearn::invalid_argument&) {
        SELFLEARN_FUZZ_CHECK(!scalar, "encode_utf8 rejected valid scalar values");
    }
    return 0;
}
