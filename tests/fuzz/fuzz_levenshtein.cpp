// Fuzzes selflearn/align.hpp against the Wagner-Fischer dynamic program. Two sequences (bytes, code points
// from the bytes, or 16-bit word ids, long enough to cross the 64-element bit-parallel word boundary) are cut
// from the input. Oracles: the distance equals the DP; the cutoff form gives the distance or nullopt exactly
// when it exceeds max; editops has distance-many operations, applies to a giving b, and is exactly the
// alignment of the documented tie rule (common prefix and suffix matched, then walking back from the end
// preferring an insertion, then a match or substitution, then a deletion), with the default buffers and with
// a tiny traceback budget (Hirschberg's linear-memory path).

#include <selflearn/align.hpp>

#include "fuzz_check.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace {

using selflearn::edit_kind;
using selflearn::edit_op;

template <class T>
std::vector<std::size_t> dp_table(const std::vector<T>& a, const std::vector<T>& b) {
    const std::size_t m = a.size(), n = b.size();
    std::vector<std::size_t> d((m + 1) * (n + 1));
    for (std::size_t i = 0; i <= m; ++i) d[i * (n + 1)] = i;
    for (std::size_t j = 0; j <= n; ++j) d[j] = j;
    for (std::size_t i = 1; i <= m; ++i) {
        for (std::size_t j = 1; j <= n; ++j) {
            const std::size_t sub = d[(i - 1) * (n + 1) + j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            d[i * (n + 1) + j] = std::min({sub, d[(i - 1) * (n + 1) + j] + 1, d[i * (n + 1) + j - 1] + 1});
        }
    }
    return d;
}

// The documented tie rule, from the definition.
template <class T>
std::vector<edit_op> reference_editops(const std::vector<T>& a, const std::vector<T>& b) {
    std::size_t prefix = 0;
    while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
    std::size_t suffix = 0;
    while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
           a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix]) {
        ++suffix;
    }
    const std::vector<T> ma(a.begin() + static_cast<std::ptrdiff_t>(prefix), a.end() - static_cast<std::ptrdiff_t>(suffix));
    const std::vector<T> mb(b.begin() + static_cast<std::ptrdiff_t>(prefix), b.end() - static_cast<std::ptrdiff_t>(suffix));
    const auto d = dp_table(ma, mb);
    const std::size_t w = mb.size() + 1;
    std::vector<edit_op> ops;
    std::size_t i = ma.size(), j = mb.size();
    while (i > 0 || j > 0) {
        const std::size_t here = d[i * w + j];
        if (j > 0 && d[i * w + j - 1] + 1 == here) {
            ops.push_back({edit_kind::insert, prefix + i, prefix + j - 1});
            --j;
        } else if (i > 0 && j > 0 && d[(i - 1) * w + j - 1] + (ma[i - 1] == mb[j - 1] ? 0 : 1) == here) {
            if (ma[i - 1] != mb[j - 1]) ops.push_back({edit_kind::replace, prefix + i - 1, prefix + j - 1});
            --i;
            --j;
        } else {
            ops.push_back({edit_kind::remove, prefix + i - 1, prefix + j});
            --i;
        }
    }
    std::reverse(ops.begin(), ops.end());
    return ops;
}

// Applies edit operations (positions as in a) and checks each target position on the way.
template <class T>
bool apply_gives(const std::vector<T>& a, const std::vector<T>& b, const std::vector<edit_op>& ops) {
    std::vector<T> out;
    std::size_t next = 0;  // next element of a to copy
    for (const auto& op : ops) {
        if (op.source_pos < next || op.source_pos > a.size()) return false;
        while (next < op.source_pos) out.push_back(a[next++]);
        if (out.size() != op.target_pos) return false;
        switch (op.kind) {
        case edit_kind::replace:
            if (op.source_pos >= a.size() || op.target_pos >= b.size()) return false;
            out.push_back(b[op.target_pos]);
            ++next;
            break;
        case edit_kind::insert:
            if (op.target_pos >= b.size()) return false;
            out.push_back(b[op.target_pos]);
            break;
        case edit_kind::remove:
            if (op.source_pos >= a.size()) return false;
            ++next;
            break;
        }
    }
    while (next < a.size()) out.push_back(a[next++]);
    return out == b;
}

template <class T>
void check(const std::vector<T>& a, const std::vector<T>& b, std::size_t max) {
    const std::size_t expected = dp_table(a, b).back();
    const std::size_t got = selflearn::levenshtein_distance(a, b);
    SELFLEARN_FUZZ_CHECK(got == expected, "distance %zu vs DP %zu (sizes %zu, %zu)", got, expected, a.size(), b.size());
    SELFLEARN_FUZZ_CHECK(selflearn::levenshtein_distance(b, a) == expected, "distance is not symmetric");
    const auto cut = selflearn::levenshtein_distance(a, b, max);
    SELFLEARN_FUZZ_CHECK(cut == (expected <= max ? std::optional<std::size_t>(expected) : std::nullopt),
                         "cutoff %zu gave %zu for distance %zu", max, cut.value_or(SIZE_MAX), expected);
    const auto reference = reference_editops(a, b);
    SELFLEARN_FUZZ_CHECK(reference.size() == expected, "reference editops broken");
    const auto ops = selflearn::levenshtein_editops(a, b);
    SELFLEARN_FUZZ_CHECK(ops.size() == expected, "%zu editops for distance %zu", ops.size(), expected);
    SELFLEARN_FUZZ_CHECK(apply_gives(a, b, ops), "editops do not turn a into b");
    SELFLEARN_FUZZ_CHECK(ops == reference, "editops differ from the tie rule's alignment");
    selflearn::levenshtein_workspace small;
    small.set_traceback_budget(64);
    SELFLEARN_FUZZ_CHECK(selflearn::levenshtein_editops(a, b, small) == reference,
                         "linear-memory editops differ from the tie rule's alignment");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const auto kind = in.ConsumeIntegralInRange<int>(0, 2);
    const auto max = in.ConsumeIntegralInRange<std::size_t>(0, 80);
    const auto alphabet = in.ConsumeIntegralInRange<unsigned>(1, 255);  // small alphabets: many matches
    const auto split = in.ConsumeIntegralInRange<std::size_t>(0, 300);
    std::vector<std::uint8_t> rest = in.ConsumeRemainingBytes<std::uint8_t>();
    if (rest.size() > 300) rest.resize(300);  // 300 elements in all: a side can pass 64, and runs stay fast
    for (auto& byte : rest) byte = static_cast<std::uint8_t>(byte % (alphabet + 1));
    const std::size_t cut = std::min(split, rest.size());
    if (kind == 0) {
        const std::vector<char> a(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(cut));
        const std::vector<char> b(rest.begin() + static_cast<std::ptrdiff_t>(cut), rest.end());
        check(a, b, max);
    } else if (kind == 1) {
        const std::vector<char32_t> a(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(cut));
        std::vector<char32_t> b(rest.begin() + static_cast<std::ptrdiff_t>(cut), rest.end());
        for (auto& c : b) c += 0x1F600 * (c & 1u);  // some code points outside the byte range
        check(a, b, max);
    } else {
        std::vector<std::uint32_t> a, b;
        for (std::size_t i = 0; i + 1 < cut; i += 2) a.push_back(rest[i] * 257u + rest[i + 1]);
        for (std::size_t i = cut; i + 1 < rest.size(); i += 2) b.push_back(rest[i] * 257u + rest[i + 1]);
        check(a, b, max);
    }
    return 0;
}
