// Tests of selflearn/align.hpp against the plain dynamic-programming references of
// selflearn/detail/align_reference.hpp: every pair of strings up to length 6 over a 3-letter alphabet and
// random pairs up to length 300 of several element types, for distance, cutoff, alignment, weighted costs
// and the cached form; the linear-memory alignment of 100,000-element sequences under a memory bound
// measured by a counting allocator; no allocation in the loops that promise none; error cases.

#include <selflearn/align.hpp>
#include <selflearn/detail/align_reference.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <list>
#include <new>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

// ---- counting allocator: every operator new of the program goes through here ---------------------

namespace {
std::atomic<std::size_t> live_bytes{0};
std::atomic<std::size_t> peak_bytes{0};
std::atomic<std::size_t> allocation_count{0};
constexpr std::size_t header = 16;  // keeps the 16-byte alignment of operator new

void* counted_allocate(std::size_t size) {
    void* block = std::malloc(size + header);
    if (block == nullptr) throw std::bad_alloc();
    *static_cast<std::size_t*>(block) = size;
    const std::size_t now = live_bytes.fetch_add(size) + size;
    std::size_t peak = peak_bytes.load();
    while (now > peak && !peak_bytes.compare_exchange_weak(peak, now)) {
    }
    allocation_count.fetch_add(1);
    return static_cast<char*>(block) + header;
}

void counted_free(void* p) noexcept {
    if (p == nullptr) return;
    void* block = static_cast<char*>(p) - header;
    live_bytes.fetch_sub(*static_cast<std::size_t*>(block));
    std::free(block);
}

/// Peak of live heap bytes above the level at construction, while it lives.
class heap_meter {
public:
    heap_meter() : base_(live_bytes.load()), count_(allocation_count.load()) { peak_bytes.store(base_); }
    [[nodiscard]] std::size_t peak() const { return peak_bytes.load() - base_; }
    [[nodiscard]] std::size_t allocations() const { return allocation_count.load() - count_; }

private:
    std::size_t base_;
    std::size_t count_;
};
}  // namespace

void* operator new(std::size_t size) { return counted_allocate(size); }
void* operator new[](std::size_t size) { return counted_allocate(size); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
// The nothrow forms too (std::stable_sort's temporary buffer uses them).
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    try {
        return counted_allocate(size);
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }

// ---- helpers ---------------------------------------------------------------------------------------

namespace {

using selflearn::edit_kind;
using selflearn::edit_op;
using selflearn::detail::reference_alignment;
using selflearn::detail::reference_op;

char kind_letter(edit_kind k) {
    switch (k) {
        case edit_kind::replace: return 'r';
        case edit_kind::insert: return 'i';
        case edit_kind::remove: return 'd';
    }
    return '?';
}

bool same_ops(const std::vector<edit_op>& ops, const std::vector<reference_op>& ref) {
    if (ops.size() != ref.size()) return false;
    for (std::size_t i = 0; i < ops.size(); ++i) {
        if (kind_letter(ops[i].kind) != ref[i].kind || ops[i].source_pos != ref[i].source_pos ||
            ops[i].target_pos != ref[i].target_pos) {
            return false;
        }
    }
    return true;
}

/// Applies edit operations (python-Levenshtein convention) to a and checks that they give b: the
/// positions must run in order, each replace and insert must take the target element named.
template <class A, class B>
bool ops_turn_a_into_b(const A& a, const B& b, const std::vector<edit_op>& ops) {
    std::vector<typename B::value_type> out;
    std::size_t s = 0;
    std::size_t t = 0;
    for (const auto& op : ops) {
        if (op.source_pos < s || op.target_pos < t || op.source_pos - s != op.target_pos - t) return false;
        while (s < op.source_pos) {
            if (s >= a.size() || t >= b.size() || !(a[s] == b[t])) return false;
            out.push_back(b[t]);
            ++s;
            ++t;
        }
        switch (op.kind) {
            case edit_kind::replace:
                if (s >= a.size() || t >= b.size() || a[s] == b[t]) return false;
                out.push_back(b[t]);
                ++s;
                ++t;
                break;
            case edit_kind::insert:
                if (t >= b.size()) return false;
                out.push_back(b[t]);
                ++t;
                break;
            case edit_kind::remove:
                if (s >= a.size()) return false;
                ++s;
                break;
        }
    }
    if (a.size() - s != b.size() - t) return false;
    while (s < a.size()) {
        if (!(a[s] == b[t])) return false;
        out.push_back(b[t]);
        ++s;
        ++t;
    }
    return std::equal(out.begin(), out.end(), b.begin(), b.end());
}

std::vector<std::string> all_strings(std::size_t max_length, const std::string& alphabet) {
    std::vector<std::string> result{""};
    std::size_t begin = 0;
    for (std::size_t length = 1; length <= max_length; ++length) {
        const std::size_t end = result.size();
        for (std::size_t i = begin; i < end; ++i) {
            for (char c : alphabet) result.push_back(result[i] + c);
        }
        begin = end;
    }
    return result;
}

/// A type with == only (no <, no hash): exercises the generic remapping.
struct tag {
    int value;
    friend bool operator==(const tag&, const tag&) = default;
};

template <class Seq, class Gen>
Seq edited(std::mt19937_64& rng, Seq s, std::size_t edits, Gen&& element) {
    for (std::size_t e = 0; e < edits; ++e) {
        const auto kind = std::uniform_int_distribution<int>(0, 2)(rng);
        if (s.empty() || kind == 0) {
            const auto pos = std::uniform_int_distribution<std::size_t>(0, s.size())(rng);
            s.insert(s.begin() + static_cast<std::ptrdiff_t>(pos), element());
        } else {
            const auto pos = std::uniform_int_distribution<std::size_t>(0, s.size() - 1)(rng);
            if (kind == 1) {
                s[pos] = element();
            } else {
                s.erase(s.begin() + static_cast<std::ptrdiff_t>(pos));
            }
        }
    }
    return s;
}

/// Random pair: related (a with random edits) or unrelated, lengths up to max_length.
template <class Seq, class Gen>
std::pair<Seq, Seq> random_pair(std::mt19937_64& rng, std::size_t max_length, Gen&& element) {
    Seq a(std::uniform_int_distribution<std::size_t>(0, max_length)(rng), element());
    for (auto& x : a) x = element();
    if (std::uniform_int_distribution<int>(0, 2)(rng) == 0) {
        Seq b(std::uniform_int_distribution<std::size_t>(0, max_length)(rng), element());
        for (auto& x : b) x = element();
        return {a, b};
    }
    const auto edits = std::uniform_int_distribution<std::size_t>(0, std::max<std::size_t>(1, a.size() / 4))(rng);
    return {a, edited(rng, a, edits, element)};
}

/// Checks every unit-cost function on one pair against the references.
template <class Seq>
void check_unit(const Seq& a, const Seq& b, std::mt19937_64& rng) {
    const std::size_t expected = selflearn::detail::naive_levenshtein(a, b);
    REQUIRE(selflearn::levenshtein_distance(a, b) == expected);
    REQUIRE(selflearn::levenshtein_distance(b, a) == expected);
    const std::size_t max = std::uniform_int_distribution<std::size_t>(0, expected + 3)(rng);
    const auto cut = selflearn::levenshtein_distance(a, b, max);
    if (expected <= max) {
        REQUIRE(cut.has_value());
        REQUIRE(*cut == expected);
    } else {
        REQUIRE_FALSE(cut.has_value());
    }
    const auto ops = selflearn::levenshtein_editops(a, b);
    const auto ref = reference_alignment(a, b);
    REQUIRE(ops.size() == expected);
    REQUIRE(same_ops(ops, ref.ops));
    REQUIRE(ops_turn_a_into_b(a, b, ops));
    using T = typename Seq::value_type;
    const selflearn::cached_levenshtein<T> cached(a);
    REQUIRE(cached.distance(b) == expected);
    const auto cached_cut = cached.distance(b, max);
    REQUIRE(cached_cut.has_value() == (expected <= max));
    if (cached_cut) REQUIRE(*cached_cut == expected);
}

}  // namespace

// ---- compile-time contract -----------------------------------------------------------------------

struct no_equality {
    int x;
};

static_assert(selflearn::alignable_sequence<std::string>);
static_assert(selflearn::alignable_sequence<std::u32string>);
static_assert(selflearn::alignable_sequence<std::vector<std::uint32_t>>);
static_assert(selflearn::alignable_sequence<std::vector<tag>>);
static_assert(!selflearn::alignable_sequence<std::list<int>>, "not random access");
static_assert(!selflearn::alignable_sequence<std::vector<no_equality>>, "elements without ==");
static_assert(!selflearn::alignable_sequence<decltype("abc")>, "string literal: its NUL would count");
static_assert(!selflearn::comparable_sequences<std::string, std::vector<no_equality>>);
static_assert(selflearn::text_argument<decltype("abc")> && selflearn::text_argument<const char*> &&
              selflearn::text_argument<char32_t*> && !selflearn::text_argument<std::string>);
static_assert(selflearn::text_arguments<decltype("a"), std::string> && !selflearn::text_arguments<std::string, std::string>);
static_assert(!selflearn::text_arguments<decltype("a"), std::vector<no_equality>>);

// ---- string literals and C strings ---------------------------------------------------------------

TEST_CASE("string literals and C strings are read up to their first NUL") {
    using namespace std::string_literals;
    CHECK(selflearn::levenshtein_distance("a", "b") == 1);
    CHECK(selflearn::levenshtein_distance("kitten", "sitting") == 3);
    CHECK(selflearn::levenshtein_distance("", "abc") == 3);
    CHECK(selflearn::levenshtein_distance("", "") == 0);
    CHECK(selflearn::levenshtein_distance("kitten", "sitting"s) == 3);  // one literal, one string
    CHECK(selflearn::levenshtein_distance(std::string_view("flaw"), "lawn") == 2);
    const char* c_string = "sitting";
    const char* null_string = nullptr;
    CHECK(selflearn::levenshtein_distance("kitten", c_string) == 3);
    CHECK(selflearn::levenshtein_distance(null_string, "ab") == 2);
    CHECK(selflearn::levenshtein_distance(U"caf\u00e9", U"cafe") == 1);  // one code point, not bytes
    CHECK(selflearn::levenshtein_distance("kitten", "sitting", 3) == std::optional<std::size_t>(3));
    CHECK(selflearn::levenshtein_distance("kitten", "sitting", 2) == std::nullopt);
    selflearn::levenshtein_workspace workspace;
    CHECK(selflearn::levenshtein_distance("kitten", "sitting", workspace) == 3);
    CHECK(selflearn::levenshtein_distance("kitten", "sitting", 5, workspace) == std::optional<std::size_t>(3));
    CHECK(selflearn::levenshtein_normalized_distance("ab", "ac") == doctest::Approx(0.5));
    CHECK(selflearn::levenshtein_similarity("abcd", "abce") == doctest::Approx(0.75));
    CHECK(selflearn::levenshtein_similarity("", "") == 1.0);
    const std::vector<edit_op> kitten{{edit_kind::replace, 0, 0}, {edit_kind::replace, 4, 4}, {edit_kind::insert, 6, 6}};
    CHECK(selflearn::levenshtein_editops("kitten", "sitting") == kitten);
    CHECK(selflearn::levenshtein_editops("kitten", "sitting", workspace) == kitten);
    CHECK(selflearn::levenshtein_opcodes("kitten", "sitting") == selflearn::levenshtein_opcodes("kitten"s, "sitting"s));
    // An array holding a shorter text: the characters after the NUL do not count; without a NUL, the extent.
    const char buffer[8] = {'a', 'b', '\0', 'x', 'x', 'x', 'x', 'x'};
    CHECK(selflearn::levenshtein_distance(buffer, "ab") == 0);
    const char full[3] = {'a', 'b', 'c'};
    CHECK(selflearn::levenshtein_distance(full, "abc") == 0);
}

TEST_CASE("cached_levenshtein from a string literal deduces its element type") {
    using namespace std::string_literals;
    const selflearn::cached_levenshtein q("play music");
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(q)>, selflearn::cached_levenshtein<char>>);
    CHECK(q.size() == 10);
    CHECK(q.distance("play musik") == 1);
    CHECK(q.distance("pause music"s) == 4);
    CHECK(q.distance("play musik", 0) == std::nullopt);
    CHECK(q.normalized_distance("play musik") == doctest::Approx(0.1));
    CHECK(q.similarity("play music") == 1.0);
    const selflearn::cached_levenshtein from_string(std::string("abc"));
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(from_string)>, selflearn::cached_levenshtein<char>>);
    const selflearn::cached_levenshtein wide(U"na\u00efve");
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(wide)>, selflearn::cached_levenshtein<char32_t>>);
    CHECK(wide.size() == 5);
    CHECK(wide.distance(U"naive") == 1);
    const std::vector<std::string> choices{"play musik", "pause music", "play music"};
    CHECK(selflearn::extract_one(q, choices, 0.95)->index == 2);
}

// ---- known values --------------------------------------------------------------------------------

TEST_CASE("known distances, edit operations and opcodes (python-Levenshtein conventions)") {
    using namespace std::string_literals;
    CHECK(selflearn::levenshtein_distance("kitten"s, "sitting"s) == 3);
    CHECK(selflearn::levenshtein_distance(""s, "abc"s) == 3);
    CHECK(selflearn::levenshtein_distance("abc"s, ""s) == 3);
    CHECK(selflearn::levenshtein_distance(""s, ""s) == 0);
    CHECK(selflearn::levenshtein_distance("flaw"s, "lawn"s) == 2);
    const std::vector<edit_op> kitten{{edit_kind::replace, 0, 0}, {edit_kind::replace, 4, 4}, {edit_kind::insert, 6, 6}};
    CHECK(selflearn::levenshtein_editops("kitten"s, "sitting"s) == kitten);
    const std::vector<selflearn::opcode> blocks{{selflearn::opcode_kind::replace, 0, 1, 0, 1},
                                                {selflearn::opcode_kind::equal, 1, 4, 1, 4},
                                                {selflearn::opcode_kind::replace, 4, 5, 4, 5},
                                                {selflearn::opcode_kind::equal, 5, 6, 5, 6},
                                                {selflearn::opcode_kind::insert, 6, 6, 6, 7}};
    CHECK(selflearn::levenshtein_opcodes("kitten"s, "sitting"s) == blocks);
    CHECK(selflearn::to_string(edit_kind::remove) == "delete");
    CHECK(selflearn::to_string(selflearn::opcode_kind::equal) == "equal");
    CHECK(selflearn::levenshtein_normalized_distance("kitten"s, "sitting"s) == doctest::Approx(3.0 / 7.0));
    CHECK(selflearn::levenshtein_similarity("kitten"s, "sitting"s) == doctest::Approx(4.0 / 7.0));
    CHECK(selflearn::levenshtein_normalized_distance(""s, ""s) == 0.0);
    CHECK(selflearn::levenshtein_similarity(""s, ""s) == 1.0);
    // The tie rule: the common prefix "a" is matched, so the second a is the one inserted.
    CHECK(selflearn::levenshtein_editops("a"s, "aa"s) == std::vector<edit_op>{{edit_kind::insert, 1, 1}});
    // Between the matched ends, insertions as late and deletions as early as possible.
    CHECK(selflearn::levenshtein_editops("xab"s, "aby"s) ==
          std::vector<edit_op>{{edit_kind::remove, 0, 0}, {edit_kind::insert, 3, 2}});
}

// ---- exhaustive small cases ----------------------------------------------------------------------

TEST_CASE("every pair of strings up to length 6 over {a, b, c}: distance, cutoff, alignment, cached") {
    const auto strings = all_strings(6, "abc");
    REQUIRE(strings.size() == 1093);
    selflearn::levenshtein_workspace workspace;
    std::size_t pairs = 0;
    std::size_t failures = 0;
    std::string first_failure;
    for (const auto& a : strings) {
        const selflearn::cached_levenshtein<char> cached(a);
        for (const auto& b : strings) {
            ++pairs;
            const std::size_t expected = selflearn::detail::naive_levenshtein(a, b);
            bool ok = selflearn::levenshtein_distance(a, b, workspace) == expected && cached.distance(b) == expected;
            // The cutoff at the distance and just below it (every max below gives nullopt the same way).
            ok = ok && selflearn::levenshtein_distance(a, b, expected) == expected &&
                 cached.distance(b, expected) == expected;
            if (expected > 0) {
                ok = ok && !selflearn::levenshtein_distance(a, b, expected - 1) && !cached.distance(b, expected - 1);
            }
            const auto ops = selflearn::levenshtein_editops(a, b, workspace);
            const auto ref = reference_alignment(a, b);
            ok = ok && ref.cost == static_cast<double>(expected) && same_ops(ops, ref.ops) && ops_turn_a_into_b(a, b, ops);
            if (!ok && failures++ == 0) first_failure = "'" + a + "' -> '" + b + "'";
        }
    }
    INFO("first failing pair: " << first_failure);
    CHECK(pairs == 1093 * 1093);
    CHECK(failures == 0);
}

TEST_CASE("every pair of strings up to length 6 over {a, b, c}: weighted costs (cost functions: up to length 5)") {
    const auto strings = all_strings(6, "abc");
    // Dyadic costs are exact in binary, so ties are exact and the alignment must match the reference.
    const selflearn::edit_costs costs{0.5, 1.5, 1.75};
    auto by_letters = [](char x, char y) { return 0.25 * std::abs(x - y); };
    std::size_t failures = 0;
    std::string first_failure;
    for (const auto& a : strings) {
        for (const auto& b : strings) {
            const auto ref = reference_alignment(a, b, costs.insertion, costs.deletion,
                                                 [&](char, char) { return costs.substitution; });
            const auto got = selflearn::weighted_alignment(a, b, costs);
            bool ok = selflearn::weighted_distance(a, b, costs) == ref.cost && got.cost == ref.cost &&
                      same_ops(got.ops, ref.ops) && ops_turn_a_into_b(a, b, got.ops);

            if (a.size() <= 5 && b.size() <= 5) {
                const auto ref_fn = reference_alignment(a, b, 1.0, 0.75, by_letters);
                const auto got_fn = selflearn::weighted_alignment(a, b, 1.0, 0.75, by_letters);
                ok = ok && selflearn::weighted_distance(a, b, 1.0, 0.75, by_letters) == ref_fn.cost &&
                     got_fn.cost == ref_fn.cost && same_ops(got_fn.ops, ref_fn.ops);
            }

            // Unit weights give the unit-cost alignment, tie rule included.
            ok = ok && selflearn::weighted_alignment(a, b).ops == selflearn::levenshtein_editops(a, b);
            if (!ok && failures++ == 0) first_failure = "'" + a + "' -> '" + b + "'";
        }
    }
    INFO("first failing pair: " << first_failure);
    CHECK(failures == 0);
}

// ---- random pairs of several element types -------------------------------------------------------

TEST_CASE("random pairs up to length 300: bytes, code points, word ids, signed ints, words, ==-only types") {
    std::mt19937_64 rng(2024);
    for (int round = 0; round < 300; ++round) {
        const std::size_t max_length = round % 3 == 0 ? 300 : (round % 3 == 1 ? 70 : 20);
        const int letters = round % 2 == 0 ? 4 : 26;
        std::uniform_int_distribution<int> letter(0, letters - 1);
        {
            auto [a, b] = random_pair<std::string>(rng, max_length, [&] { return static_cast<char>('a' + letter(rng)); });
            check_unit(a, b, rng);
        }
        {
            // Code points both below and above 256 (direct table and hashed).
            auto [a, b] = random_pair<std::u32string>(rng, max_length, [&] {
                const int x = letter(rng);
                return static_cast<char32_t>(x % 2 == 0 ? 0x61 + x : 0x4E00 + x);
            });
            check_unit(a, b, rng);
        }
        {
            std::uniform_int_distribution<std::uint32_t> word(0, round % 2 == 0 ? 20U : 100000U);
            auto [a, b] = random_pair<std::vector<std::uint32_t>>(rng, max_length, [&] { return word(rng); });
            check_unit(a, b, rng);
        }
        {
            std::uniform_int_distribution<int> value(-300, 300);
            auto [a, b] = random_pair<std::vector<int>>(rng, max_length, [&] { return value(rng) * (letters == 4 ? 1 : 1000); });
            check_unit(a, b, rng);
        }
        {
            const std::vector<std::string> vocabulary{"play", "the", "song", "by", "queen", "on", "spotify", "please"};
            std::uniform_int_distribution<std::size_t> pick(0, vocabulary.size() - 1);
            auto [a, b] = random_pair<std::vector<std::string>>(rng, max_length / 2, [&] { return vocabulary[pick(rng)]; });
            check_unit(a, b, rng);
        }
        {
            auto [a, b] = random_pair<std::vector<tag>>(rng, max_length / 2, [&] { return tag{letter(rng)}; });
            check_unit(a, b, rng);
        }
    }
}

TEST_CASE("random pairs up to length 300: weighted distance and alignment against the reference") {
    std::mt19937_64 rng(77);
    std::uniform_int_distribution<int> letter(0, 3);
    auto element = [&] { return static_cast<char>('a' + letter(rng)); };
    auto by_letters = [](char x, char y) { return 0.5 + 0.25 * std::abs(x - y); };
    for (int round = 0; round < 60; ++round) {
        auto [a, b] = random_pair<std::string>(rng, round % 2 == 0 ? 300 : 40, element);
        const auto ref = reference_alignment(a, b, 1.25, 0.75, by_letters);
        CHECK(selflearn::weighted_distance(a, b, 1.25, 0.75, by_letters) == ref.cost);
        const auto got = selflearn::weighted_alignment(a, b, 1.25, 0.75, by_letters);
        CHECK(got.cost == ref.cost);
        CHECK(same_ops(got.ops, ref.ops));
        CHECK(ops_turn_a_into_b(a, b, got.ops));
    }
}

TEST_CASE("label projection form: words aligned with the normalised character distance as substitution cost") {
    auto word_cost = [](const std::string& x, const std::string& y) {
        return selflearn::levenshtein_normalized_distance(x, y);
    };
    const std::vector<std::string> a{"play", "maj", "and", "dragons"};
    const std::vector<std::string> b{"play", "imagine", "dragons"};
    const auto got = selflearn::weighted_alignment(a, b, 1.0, 1.0, word_cost);
    const auto ref = reference_alignment(a, b, 1.0, 1.0, word_cost);
    CHECK(got.cost == doctest::Approx(ref.cost));
    CHECK(same_ops(got.ops, ref.ops));
    CHECK(ops_turn_a_into_b(a, b, got.ops));
    // "maj" -> "imagine" and "and" -> "imagine" both cost 5/7: a tie, which the rule settles by deleting as
    // early as possible: "maj" is deleted and "and" replaced by "imagine".
    CHECK(got.cost == doctest::Approx(5.0 / 7.0 + 1.0));
    CHECK(got.ops == std::vector<edit_op>{{edit_kind::remove, 1, 1}, {edit_kind::replace, 2, 1}});
}

// ---- linear memory -------------------------------------------------------------------------------

TEST_CASE("Hirschberg gives the same alignment as the direct traceback (unit and weighted)") {
    std::mt19937_64 rng(5);
    selflearn::levenshtein_workspace tiny;
    tiny.set_traceback_budget(0);  // every split that can be made is made
    std::uniform_int_distribution<int> letter(0, 2);
    auto element = [&] { return static_cast<char>('a' + letter(rng)); };
    for (int round = 0; round < 80; ++round) {
        auto [a, b] = random_pair<std::string>(rng, 300, element);
        const auto ref = reference_alignment(a, b);
        const auto ops = selflearn::levenshtein_editops(a, b, tiny);
        REQUIRE(same_ops(ops, ref.ops));
        const selflearn::edit_costs costs{0.75, 1.25, 1.5};
        const auto wref = reference_alignment(a, b, costs.insertion, costs.deletion, [&](char, char) { return costs.substitution; });
        const auto w = selflearn::weighted_alignment(a, b, costs, tiny);
        REQUIRE(w.cost == wref.cost);
        REQUIRE(same_ops(w.ops, wref.ops));
    }
}

TEST_CASE("very many distinct elements: the scalar fallback keeps results and tie rule") {
    std::mt19937_64 rng(9);
    std::uniform_int_distribution<std::uint32_t> word(0, 1U << 30);
    std::vector<std::uint32_t> a(2000);
    for (auto& x : a) x = word(rng);
    const auto b = edited(rng, a, 300, [&] { return word(rng); });
    selflearn::levenshtein_workspace workspace;
    workspace.buffers().table_limit_words = 0;  // 2001 codes x 32 blocks > 8 * (m + n) words
    const std::size_t expected = selflearn::detail::naive_levenshtein(a, b);
    CHECK(selflearn::levenshtein_distance(a, b, workspace) == expected);
    const auto ops = selflearn::levenshtein_editops(a, b, workspace);
    CHECK(ops == selflearn::levenshtein_editops(a, b));
    CHECK(ops.size() == expected);
    CHECK(ops_turn_a_into_b(a, b, ops));
}

TEST_CASE("alignment of two 100,000-element sequences in memory linear in their lengths") {
    std::mt19937_64 rng(100000);
    std::uniform_int_distribution<int> letter(0, 3);
    std::string a(100000, ' ');
    for (auto& c : a) c = static_cast<char>('a' + letter(rng));
    const std::string b = edited(rng, a, 3000, [&] { return static_cast<char>('a' + letter(rng)); });
    const std::size_t total = a.size() + b.size();
    // The matrix would take m * n / 8 bytes even at one bit per cell (1.2 GB); the bound is 128 bytes per
    // input element (about 25 MB), all allocations of the call included (workspace, result).
    const std::size_t bound = 128 * total;
    std::vector<edit_op> ops;
    std::size_t peak = 0;
    {
        selflearn::levenshtein_workspace workspace;
        const heap_meter meter;
        ops = selflearn::levenshtein_editops(a, b, workspace);
        peak = meter.peak();
        CHECK(workspace.reserved_bytes() <= bound);
    }
    INFO("peak heap bytes: " << peak << ", bound: " << bound);
    CHECK(peak <= bound);
    CHECK(peak > 0);
    CHECK(ops.size() == selflearn::levenshtein_distance(a, b));
    CHECK(ops.size() <= 3000);
    CHECK(ops_turn_a_into_b(a, b, ops));
}

TEST_CASE("weighted alignment of long inputs in memory linear in their lengths") {
    std::mt19937_64 rng(3000);
    std::uniform_int_distribution<int> letter(0, 3);
    std::string a(3000, ' ');
    for (auto& c : a) c = static_cast<char>('a' + letter(rng));
    const std::string b = edited(rng, a, 200, [&] { return static_cast<char>('a' + letter(rng)); });
    selflearn::levenshtein_workspace workspace;
    workspace.set_traceback_budget(std::size_t{256} << 10);
    const std::size_t bound = workspace.traceback_budget() + 128 * (a.size() + b.size());
    selflearn::alignment got;
    std::size_t peak = 0;
    {
        const heap_meter meter;
        got = selflearn::weighted_alignment(a, b, selflearn::edit_costs{1.0, 1.0, 1.5}, workspace);
        peak = meter.peak();
    }
    INFO("peak heap bytes: " << peak << ", bound: " << bound << ", matrix: " << 8 * a.size() * b.size());
    CHECK(peak <= bound);
    CHECK(got.cost == selflearn::weighted_distance(a, b, selflearn::edit_costs{1.0, 1.0, 1.5}));
    CHECK(ops_turn_a_into_b(a, b, got.ops));
}

// ---- no allocation in loops ----------------------------------------------------------------------

TEST_CASE("loops over many pairs allocate nothing once the buffers have grown") {
    std::mt19937_64 rng(11);
    std::uniform_int_distribution<int> letter(0, 25);
    std::vector<std::string> texts;
    for (int i = 0; i < 200; ++i) {
        std::string s(std::uniform_int_distribution<std::size_t>(0, 150)(rng), ' ');
        for (auto& c : s) c = static_cast<char>('a' + letter(rng));
        texts.push_back(s);
    }
    std::vector<std::vector<std::uint32_t>> ids;
    for (int i = 0; i < 200; ++i) {
        std::vector<std::uint32_t> s(std::uniform_int_distribution<std::size_t>(0, 100)(rng));
        for (auto& x : s) x = std::uniform_int_distribution<std::uint32_t>(0, 5000)(rng);
        ids.push_back(s);
    }
    const std::vector<std::string> vocabulary{"play", "the", "song", "by", "queen", "on", "spotify", "please"};
    std::vector<std::vector<std::string>> sentences;
    for (int i = 0; i < 200; ++i) {
        std::vector<std::string> s(std::uniform_int_distribution<std::size_t>(0, 80)(rng));
        for (auto& w : s) w = vocabulary[std::uniform_int_distribution<std::size_t>(0, vocabulary.size() - 1)(rng)];
        sentences.push_back(s);
    }
    const selflearn::cached_levenshtein<char> short_query(texts[1].substr(0, 20));
    const selflearn::cached_levenshtein<char> long_query(texts[0] + texts[1]);
    const selflearn::cached_levenshtein<std::uint32_t> id_query(ids[0]);
    selflearn::levenshtein_workspace workspace;
    std::size_t sum = 0;
    auto run = [&] {
        for (std::size_t i = 0; i + 1 < texts.size(); ++i) {
            sum += selflearn::levenshtein_distance(texts[i], texts[i + 1]);
            sum += selflearn::levenshtein_distance(texts[i], texts[i + 1], workspace);
            sum += selflearn::levenshtein_distance(texts[i], texts[i + 1], 10).value_or(11);
            sum += selflearn::levenshtein_distance(ids[i], ids[i + 1]);
            sum += selflearn::levenshtein_distance(ids[i], ids[i + 1], workspace);
            sum += selflearn::levenshtein_distance(sentences[i], sentences[i + 1], workspace);
            sum += selflearn::levenshtein_distance(sentences[i], sentences[i + 1]);
            sum += short_query.distance(texts[i]) + long_query.distance(texts[i]) + id_query.distance(ids[i]);
            sum += short_query.distance(texts[i], 5).value_or(6);
            sum += static_cast<std::size_t>(selflearn::weighted_distance(texts[i], texts[i + 1]));
        }
    };
    run();  // the buffers grow to the largest input
    const heap_meter meter;
    run();
    const std::size_t allocations = meter.allocations();
    CHECK(allocations == 0);
    CHECK(sum > 0);
}

// ---- one-vs-many top-k (extract) -------------------------------------------------------------------

namespace {
/// Brute force for extract: every distance by the plain dynamic program, filtered by similarity, ordered
/// by exact rational comparison of d / longest (ascending), then index; the first k.
template <class Seq>
std::vector<selflearn::extract_match> brute_extract(const Seq& query, const std::vector<Seq>& choices, std::size_t k,
                                                    double cutoff) {
    struct row {
        std::size_t index, distance, longest;
        double similarity;
    };
    std::vector<row> rows;
    for (std::size_t i = 0; i < choices.size(); ++i) {
        const std::size_t d = selflearn::detail::naive_levenshtein(query, choices[i]);
        const std::size_t longest = std::max(query.size(), choices[i].size());
        const double sim = longest == 0 ? 1.0 : 1.0 - static_cast<double>(d) / static_cast<double>(longest);
        if (sim >= cutoff) rows.push_back({i, d, std::max<std::size_t>(longest, 1), sim});
    }
    std::sort(rows.begin(), rows.end(), [](const row& a, const row& b) {
        const std::size_t lhs = a.distance * b.longest;
        const std::size_t rhs = b.distance * a.longest;
        return lhs < rhs || (lhs == rhs && a.index < b.index);
    });
    std::vector<selflearn::extract_match> out;
    for (std::size_t r = 0; r < rows.size() && r < k; ++r) out.push_back({rows[r].index, rows[r].distance, rows[r].similarity});
    return out;
}

template <class Seq, class Element>
void check_extract_random(std::mt19937_64& rng, Element element, std::size_t max_length, int rounds) {
    const std::vector<double> cutoffs{0.0, 0.25, 0.5, 2.0 / 3.0, 0.75, 0.8, 0.9, 1.0};
    std::vector<selflearn::extract_match> out;
    for (int round = 0; round < rounds; ++round) {
        auto random_seq = [&] {
            Seq s;
            s.resize(std::uniform_int_distribution<std::size_t>(0, max_length)(rng));
            for (auto& x : s) x = element();
            return s;
        };
        const Seq query = random_seq();
        std::vector<Seq> choices(std::uniform_int_distribution<std::size_t>(0, 40)(rng));
        for (auto& c : choices) {
            // Half near the query (a few edits), half unrelated, so both early stops and matches occur.
            if (std::uniform_int_distribution<int>(0, 1)(rng) == 0 && !query.empty()) {
                c = query;
                const auto edits = std::uniform_int_distribution<std::size_t>(0, 3)(rng);
                for (std::size_t e = 0; e < edits && !c.empty(); ++e) {
                    c[std::uniform_int_distribution<std::size_t>(0, c.size() - 1)(rng)] = element();
                }
                if (std::uniform_int_distribution<int>(0, 2)(rng) == 0) c.push_back(element());
            } else {
                c = random_seq();
            }
        }
        const std::size_t k = std::uniform_int_distribution<std::size_t>(0, 12)(rng);
        const double cutoff = std::uniform_int_distribution<int>(0, 1)(rng) == 0
                                  ? cutoffs[std::uniform_int_distribution<std::size_t>(0, cutoffs.size() - 1)(rng)]
                                  : std::uniform_real_distribution<double>(0.0, 1.0)(rng);
        using T = typename Seq::value_type;
        const selflearn::cached_levenshtein<T> cached(query);
        const auto expected = brute_extract(query, choices, k, cutoff);
        selflearn::extract(cached, choices, k, cutoff, out);
        INFO("round " << round << ", k " << k << ", cutoff " << cutoff << ", choices " << choices.size());
        REQUIRE(out == expected);
        const auto one = selflearn::extract_one(cached, choices, cutoff);
        const auto expected_one = brute_extract(query, choices, 1, cutoff);
        REQUIRE(one.has_value() == !expected_one.empty());
        if (one) REQUIRE(*one == expected_one.front());
    }
}
}  // namespace

TEST_CASE("extract and extract_one equal a brute-force sort of every similarity") {
    std::mt19937_64 rng(20261202);
    SUBCASE("short strings over 3 letters (many ties)") {
        check_extract_random<std::string>(rng, [&] { return static_cast<char>('a' + rng() % 3); }, 8, 3000);
    }
    SUBCASE("strings longer than 64 (blocked kernel)") {
        check_extract_random<std::string>(rng, [&] { return static_cast<char>('a' + rng() % 4); }, 150, 150);
    }
    SUBCASE("word ids above 255 (hashed codes)") {
        check_extract_random<std::vector<std::uint32_t>>(
            rng, [&] { return static_cast<std::uint32_t>(1000 + rng() % 6); }, 10, 2000);
    }
}

TEST_CASE("extract: documented example, k larger than the choices, cutoff 1 keeps exact matches only") {
    const std::vector<std::string> choices{"play musik", "pause music", "play music", "", "play music"};
    const selflearn::cached_levenshtein<char> query(std::string_view("play music"));
    const auto top = selflearn::extract(query, choices, 2, 0.5);
    REQUIRE(top.size() == 2);
    CHECK(top[0] == selflearn::extract_match{2, 0, 1.0});
    CHECK(top[1] == selflearn::extract_match{4, 0, 1.0});
    const auto all = selflearn::extract(query, choices, 100, 0.0);
    REQUIRE(all.size() == 5);
    CHECK(all[2] == selflearn::extract_match{0, 1, 0.9});
    CHECK(all[3].index == 1);  // distance 4 over 11
    CHECK(all[4] == selflearn::extract_match{3, 10, 0.0});
    CHECK(selflearn::extract(query, choices, 100, 1.0).size() == 2);
    CHECK(selflearn::extract(query, choices, 0, 0.0).empty());
    CHECK(selflearn::extract_one(query, choices, 0.95)->index == 2);
    const selflearn::cached_levenshtein<char> empty(std::string_view(""));
    const auto e = selflearn::extract_one(empty, choices, 1.0);
    REQUIRE(e.has_value());
    CHECK(*e == selflearn::extract_match{3, 0, 1.0});
    CHECK_FALSE(selflearn::extract_one(query, std::vector<std::string>{}, 0.0));
}

TEST_CASE("extract rejects a score cutoff outside [0, 1]") {
    const std::vector<std::string> choices{"a"};
    const selflearn::cached_levenshtein<char> query(std::string_view("a"));
    CHECK_THROWS_AS((void)selflearn::extract(query, choices, 1, -0.1), selflearn::invalid_argument);
    CHECK_THROWS_AS((void)selflearn::extract(query, choices, 1, 1.5), selflearn::invalid_argument);
    CHECK_THROWS_AS((void)selflearn::extract(query, choices, 1, std::nan("")), selflearn::invalid_argument);
    CHECK_THROWS_AS((void)selflearn::extract_one(query, choices, -1.0), selflearn::invalid_argument);
}

TEST_CASE("extract allocates nothing once its output has grown") {
    std::mt19937_64 rng(7);
    std::vector<std::string> choices(2000);
    for (auto& c : choices) {
        c.resize(std::uniform_int_distribution<std::size_t>(0, 100)(rng));
        for (auto& x : c) x = static_cast<char>('a' + rng() % 5);
    }
    const selflearn::cached_levenshtein<char> short_query(choices[3]);
    const selflearn::cached_levenshtein<char> long_query(choices[5] + choices[6]);
    std::vector<selflearn::extract_match> out;
    std::size_t sum = 0;
    auto run = [&] {
        for (const double cutoff : {0.0, 0.3, 0.6}) {
            selflearn::extract(short_query, choices, 10, cutoff, out);
            sum += out.size();
            selflearn::extract(long_query, choices, 10, cutoff, out);
            sum += out.size();
            sum += selflearn::extract_one(short_query, choices, cutoff).has_value() ? 1U : 0U;
        }
    };
    run();
    const heap_meter meter;
    run();
    CHECK(meter.allocations() == 0);
    CHECK(sum > 0);
}

// ---- errors --------------------------------------------------------------------------------------

TEST_CASE("bad costs and bad edit operations are reported") {
    using namespace std::string_literals;
    CHECK_THROWS_WITH_AS((void)selflearn::weighted_distance("ab"s, "ba"s, selflearn::edit_costs{-1.0, 1.0, 1.0}),
                         doctest::Contains("insertion cost is -1"), selflearn::invalid_argument);
    CHECK_THROWS_WITH_AS((void)selflearn::weighted_alignment("ab"s, "ba"s, selflearn::edit_costs{1.0, std::nan(""), 1.0}),
                         doctest::Contains("deletion cost"), selflearn::invalid_argument);
    CHECK_THROWS_WITH_AS(
        (void)selflearn::weighted_alignment("ab"s, "ba"s,
                                            selflearn::edit_costs{1.0, 1.0, std::numeric_limits<double>::infinity()}),
        doctest::Contains("substitution cost"), selflearn::invalid_argument);
    auto negative = [](char, char) { return -0.5; };
    CHECK_THROWS_WITH_AS((void)selflearn::weighted_alignment("xab"s, "xba"s, 1.0, 1.0, negative),
                         doctest::Contains("source element 1 and target element 1"), selflearn::invalid_argument);
    CHECK_THROWS_AS((void)selflearn::weighted_distance("ab"s, "ba"s, 1.0, 1.0, negative), selflearn::error);
    const std::vector<edit_op> backwards{{edit_kind::replace, 2, 2}, {edit_kind::replace, 0, 0}};
    CHECK_THROWS_WITH_AS((void)selflearn::opcodes_from_editops(backwards, 3, 3),
                         doctest::Contains("edit operation 1 is out of order"), selflearn::invalid_argument);
    const std::vector<edit_op> outside{{edit_kind::remove, 5, 5}};
    CHECK_THROWS_AS((void)selflearn::opcodes_from_editops(outside, 3, 3), selflearn::invalid_argument);
    const std::vector<edit_op> short_of_end{{edit_kind::insert, 0, 0}};
    CHECK_THROWS_AS((void)selflearn::opcodes_from_editops(short_of_end, 2, 2), selflearn::invalid_argument);
}

TEST_CASE("opcodes cover both sequences and agree with the edit operations") {
    std::mt19937_64 rng(3);
    std::uniform_int_distribution<int> letter(0, 2);
    for (int round = 0; round < 500; ++round) {
        auto [a, b] = random_pair<std::string>(rng, 30, [&] { return static_cast<char>('a' + letter(rng)); });
        const auto blocks = selflearn::levenshtein_opcodes(a, b);
        std::size_t s = 0;
        std::size_t t = 0;
        std::size_t changed = 0;
        for (const auto& block : blocks) {
            REQUIRE(block.source_begin == s);
            REQUIRE(block.target_begin == t);
            const std::size_t ls = block.source_end - block.source_begin;
            const std::size_t lt = block.target_end - block.target_begin;
            switch (block.kind) {
                case selflearn::opcode_kind::equal:
                    REQUIRE(ls == lt);
                    REQUIRE(a.compare(s, ls, b, t, lt) == 0);
                    break;
                case selflearn::opcode_kind::replace: REQUIRE(ls == lt); changed += ls; break;
                case selflearn::opcode_kind::insert: REQUIRE(ls == 0); changed += lt; break;
                case selflearn::opcode_kind::remove: REQUIRE(lt == 0); changed += ls; break;
            }
            s = block.source_end;
            t = block.target_end;
        }
        REQUIRE(s == a.size());
        REQUIRE(t == b.size());
        REQUIRE(changed == selflearn::levenshtein_distance(a, b));
    }
}
