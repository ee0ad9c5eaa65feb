#pragma once
/// \file selflearn/align.hpp
/// Edit-distance alignment between two sequences of any equality-comparable element type (bytes, code
/// points, interned word ids, user types): Levenshtein distance, a cutoff, normalised similarity, a full
/// minimum-cost alignment (edit operations and opcodes), weighted costs with a custom substitution
/// function, a cached one-vs-many form, and top-k extraction of the choices most similar to a query.
///
/// **Conventions.** `a` is the source, `b` the target. Edit operations follow python-Levenshtein's
/// `editops`: `replace (i, j)` replaces a[i] by b[j]; `insert (i, j)` inserts b[j] before a[i];
/// `remove (i, j)` ("delete") deletes a[i], j being the position reached in b. Applying them in order
/// to `a` (with positions read as in `a`) gives `b`.
///
/// **Tie rule.** Among the alignments of minimum cost, every function returns the same one: (1) the longest
/// common prefix of a and b, then the longest common suffix of what remains, are matched element by
/// element; (2) between them, walking back from the end of both sequences, each step prefers an
/// insertion, then a match or substitution, then a deletion, whenever that step keeps the cost minimal.
/// Equivalently, in the middle part the path through the dynamic-programming grid (rows over a, columns
/// over b) is the leftmost optimal one: deletions as early and insertions as late as possible. Unit-cost
/// and weighted functions, direct and linear-memory (Hirschberg) computations, all follow this rule; for
/// weighted costs that are not exactly representable (0.1, 1/3, ...), sums that tie in exact arithmetic
/// may round differently along different paths, so the chosen alignment is optimal up to rounding.
///
/// **Complexity.** Unit costs: O(ceil(m/64) * n) word operations after the common prefix and suffix are
/// stripped (Myers 1999 / Hyyro 2003 bit-parallel kernels), O(ceil(k/64) * n) with a cutoff k; alignments
/// add O(m + n) for the traceback from stored bit-vectors (Hyyro 2004) and switch to Hirschberg's linear
/// memory when the store would exceed the workspace's traceback budget. Weighted costs: O(m * n).

#include <selflearn/detail/align_bitparallel.hpp>
#include <selflearn/detail/align_codes.hpp>
#include <selflearn/detail/align_weighted.hpp>
#include <selflearn/error.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace selflearn {

namespace detail {
template <class R>
inline constexpr bool is_character_array_v =
    std::is_array_v<std::remove_cvref_t<R>> &&
    (std::is_same_v<std::remove_cv_t<std::remove_extent_t<std::remove_cvref_t<R>>>, char> ||
     std::is_same_v<std::remove_cv_t<std::remove_extent_t<std::remove_cvref_t<R>>>, wchar_t> ||
     std::is_same_v<std::remove_cv_t<std::remove_extent_t<std::remove_cvref_t<R>>>, char8_t> ||
     std::is_same_v<std::remove_cv_t<std::remove_extent_t<std::remove_cvref_t<R>>>, char16_t> ||
     std::is_same_v<std::remove_cv_t<std::remove_extent_t<std::remove_cvref_t<R>>>, char32_t>);
}  // namespace detail

/// A sequence the alignment functions accept: a random-access, sized range whose elements can be compared
/// with `==`. Character arrays (string literals) are not sequences, because their terminating NUL would
/// count as an element; the unit-cost functions and cached_levenshtein have overloads that take them, and
/// C strings, as text up to the first NUL (text_argument below).
template <class R>
concept alignable_sequence =
    std::ranges::random_access_range<const R> && std::ranges::sized_range<const R> &&
    std::equality_comparable<std::ranges::range_value_t<const R>> && !detail::is_character_array_v<R>;

/// Two sequences whose elements can be compared with each other.
template <class A, class B>
concept comparable_sequences =
    alignable_sequence<A> && alignable_sequence<B> &&
    std::equality_comparable_with<std::ranges::range_reference_t<const A>, std::ranges::range_reference_t<const B>>;

namespace detail {
template <class P>
inline constexpr bool is_character_pointer_v =
    std::is_pointer_v<P> && (std::is_same_v<std::remove_cv_t<std::remove_pointer_t<P>>, char> ||
                             std::is_same_v<std::remove_cv_t<std::remove_pointer_t<P>>, wchar_t> ||
                             std::is_same_v<std::remove_cv_t<std::remove_pointer_t<P>>, char8_t> ||
                             std::is_same_v<std::remove_cv_t<std::remove_pointer_t<P>>, char16_t> ||
                             std::is_same_v<std::remove_cv_t<std::remove_pointer_t<P>>, char32_t>);
}  // namespace detail

/// A string literal, character array or C string (pointer to a character type): read as the text up to its
/// first NUL (for an array, at most its extent; a null pointer is the empty text).
template <class R>
concept text_argument = detail::is_character_array_v<R> || detail::is_character_pointer_v<std::remove_cvref_t<R>>;

namespace detail {
/// The sequence an argument stands for: a text_argument as a basic_string_view up to its first NUL (O(n)),
/// any other argument itself.
template <class R>
[[nodiscard]] constexpr decltype(auto) as_sequence(const R& r) noexcept {
    if constexpr (is_character_array_v<R>) {
        using char_type = std::remove_cv_t<std::remove_extent_t<R>>;
        constexpr std::size_t extent = std::extent_v<R>;
        std::size_t n = 0;
        while (n < extent && r[n] != char_type{}) ++n;
        return std::basic_string_view<char_type>(r, n);
    } else if constexpr (is_character_pointer_v<R>) {
        using char_type = std::remove_cv_t<std::remove_pointer_t<R>>;
        return r == nullptr ? std::basic_string_view<char_type>() : std::basic_string_view<char_type>(r);
    } else {
        return (r);
    }
}

template <class R>
using sequence_t = std::remove_cvref_t<decltype(as_sequence(std::declval<const R&>()))>;
}  // namespace detail

/// Two arguments of which at least one is a text_argument, comparable once read as sequences: the
/// overloads that take them forward to the sequence forms.
template <class A, class B>
concept text_arguments = (text_argument<A> || text_argument<B>) &&
                         comparable_sequences<detail::sequence_t<A>, detail::sequence_t<B>>;

/// Kind of an edit operation (python-Levenshtein's editops names; `remove` prints as "delete").
enum class edit_kind : std::uint8_t { replace, insert, remove };

/// One edit operation turning the source into the target (conventions in the header's description).
struct edit_op {
    edit_kind kind;          ///< replace, insert or remove ("delete")
    std::size_t source_pos;  ///< position in the source
    std::size_t target_pos;  ///< position in the target
    friend bool operator==(const edit_op&, const edit_op&) = default;
};

/// "replace", "insert" or "delete". O(1), no throw.
[[nodiscard]] constexpr std::string_view to_string(edit_kind kind) noexcept {
    switch (kind) {
        case edit_kind::replace: return "replace";
        case edit_kind::insert: return "insert";
        case edit_kind::remove: return "delete";
    }
    return "?";
}

/// Kind of an opcode block (python-Levenshtein's opcodes names; `remove` prints as "delete").
enum class opcode_kind : std::uint8_t { equal, replace, insert, remove };

/// A block of the alignment: source [source_begin, source_end) becomes target [target_begin, target_end).
struct opcode {
    opcode_kind kind;
    std::size_t source_begin;
    std::size_t source_end;
    std::size_t target_begin;
    std::size_t target_end;
    friend bool operator==(const opcode&, const opcode&) = default;
};

/// "equal", "replace", "insert" or "delete". O(1), no throw.
[[nodiscard]] constexpr std::string_view to_string(opcode_kind kind) noexcept {
    switch (kind) {
        case opcode_kind::equal: return "equal";
        case opcode_kind::replace: return "replace";
        case opcode_kind::insert: return "insert";
        case opcode_kind::remove: return "delete";
    }
    return "?";
}

/// Reusable buffers for the alignment functions, so that a loop over many pairs allocates nothing once
/// they have grown to the largest input. Not thread-safe: use one per thread. The functions without a
/// workspace argument use one per thread of their own.
class levenshtein_workspace {
public:
    levenshtein_workspace() = default;

    /// Largest traceback store, in bytes, before an alignment switches to Hirschberg's linear-memory
    /// divide and conquer (default 8 MiB). The result does not depend on it. O(1), no throw.
    void set_traceback_budget(std::size_t bytes) noexcept { buffers_.traceback_budget = bytes; }
    /// The current traceback budget in bytes. O(1), no throw.
    [[nodiscard]] std::size_t traceback_budget() const noexcept { return buffers_.traceback_budget; }
    /// Bytes currently reserved by the buffers (their capacity). O(1), no throw.
    [[nodiscard]] std::size_t reserved_bytes() const noexcept { return buffers_.capacity_bytes(); }

    /// Internal: the buffers themselves.
    [[nodiscard]] detail::align_buffers& buffers() noexcept { return buffers_; }

private:
    detail::align_buffers buffers_;
};

namespace detail {

/// Distance between a pattern and a text with pattern.size >= text.size >= 1, nothing in common at
/// either end. Returns max + 1 when Cutoff and the distance exceeds max.
template <bool Cutoff, class SP, class ST>
[[nodiscard]] std::size_t coded_distance(const SP& p, const ST& t, std::size_t max, align_buffers& buf) {
    using TP = std::remove_cvref_t<decltype(p[0])>;
    using TT = std::remove_cvref_t<decltype(t[0])>;
    constexpr code_kind kind = code_kind_of<TP, TT>();
    const std::size_t m = p.size;
    const std::size_t n = t.size;
    auto run = [&](std::size_t alphabet, const auto& pc, const auto& tc) -> std::size_t {
        const std::size_t blocks = blocks_for(m);
        if (alphabet * blocks > std::max(buf.table_limit_words, 8 * (m + n))) {
            // Too many distinct elements for a pattern table: plain two-row recurrence on the codes.
            grow(buf.forward_row, 2 * (n + 1));
            std::size_t* prev = buf.forward_row.data();
            std::size_t* cur = prev + (n + 1);
            for (std::size_t j = 0; j <= n; ++j) prev[j] = j;
            for (std::size_t i = 1; i <= m; ++i) {
                cur[0] = i;
                const std::size_t ci = pc(i - 1);
                for (std::size_t j = 1; j <= n; ++j) {
                    cur[j] = std::min({prev[j - 1] + (ci == tc(j - 1) ? 0U : 1U), prev[j] + 1, cur[j - 1] + 1});
                }
                std::swap(prev, cur);
            }
            return (Cutoff && prev[n] > max) ? max + 1 : prev[n];
        }
        if constexpr (Cutoff) {
            if (m > 64) {
                // Fill the table one block at a time as the band reaches it: a cutoff often stops
                // after a few columns, long before the band has met every block.
                grow(buf.table, alphabet * blocks);
                std::uint64_t* tab = buf.table.data();
                std::size_t built = 0;
                auto build = [&](std::size_t b) {
                    const std::size_t end = std::min(64 * (b + 1), m);
                    for (std::size_t i = 64 * b; i < end; ++i) tab[pc(i) * blocks + b] |= std::uint64_t{1} << (i % 64);
                    built = b + 1;
                };
                const std::size_t d = blocked_distance<true>(m, n, tab, blocks, tc, buf, max, build);
                const std::size_t end = std::min(64 * built, m);
                for (std::size_t i = 0; i < end; ++i) tab[pc(i) * blocks + i / 64] = 0;
                return d;
            }
        }
        pattern_table<std::remove_cvref_t<decltype(pc)>> table(buf.table, alphabet, m, pc);
        if (m <= 64) {
            const std::uint64_t* rows = table.row(0);
            return single_word_distance<Cutoff>(m, n, [&](std::size_t j) { return rows[tc(j)]; }, max);
        }
        return blocked_distance<Cutoff>(m, n, table.row(0), blocks, tc, buf, max);
    };
    if constexpr (kind == code_kind::byte) {
        return run(
            256, [&](std::size_t i) { return byte_code(p[i]); }, [&](std::size_t j) { return byte_code(t[j]); });
    } else {
        const std::size_t k = remap_codes(p, t, buf);
        const std::uint32_t* ca = buf.code_a.data();
        const std::uint32_t* cb = buf.code_b.data();
        return run(
            k + 1, [ca](std::size_t i) -> std::size_t { return ca[i]; },
            [cb](std::size_t j) -> std::size_t { return cb[j]; });
    }
}

/// Pattern at least as long as the text (both non-empty, no common prefix or suffix).
template <bool Cutoff, class SP, class ST>
[[nodiscard]] std::size_t ordered_distance(const SP& p, const ST& t, std::size_t max, align_buffers* buf) {
    using TP = std::remove_cvref_t<decltype(p[0])>;
    using TT = std::remove_cvref_t<decltype(t[0])>;
    constexpr code_kind kind = code_kind_of<TP, TT>();
    if (p.size <= 64) {
        if constexpr (kind == code_kind::byte) {
            std::uint64_t table[256];
            if (p.size + t.size > 64) {
                std::memset(table, 0, sizeof table);
            } else {  // initialise only the entries the two inputs use
                for (std::size_t j = 0; j < t.size; ++j) table[byte_code(t[j])] = 0;
                for (std::size_t i = 0; i < p.size; ++i) table[byte_code(p[i])] = 0;
            }
            for (std::size_t i = 0; i < p.size; ++i) table[byte_code(p[i])] |= std::uint64_t{1} << i;
            return single_word_distance<Cutoff>(
                p.size, t.size, [&](std::size_t j) { return table[byte_code(t[j])]; }, max);
        } else if constexpr (kind == code_kind::integer) {
            small_integer_masks masks;
            masks.build(p, t);
            return single_word_distance<Cutoff>(
                p.size, t.size, [&](std::size_t j) { return masks.get(integer_key(t[j])); }, max);
        }
    }
    if (buf != nullptr) return coded_distance<Cutoff>(p, t, max, *buf);
    return with_thread_buffers([&](align_buffers& b) { return coded_distance<Cutoff>(p, t, max, b); });
}

template <bool Cutoff, class SA, class SB>
[[nodiscard]] std::size_t unit_distance(const SA& a, const SB& b, std::size_t max, align_buffers* buf) {
    if constexpr (Cutoff) {
        if (max >= a.size + b.size) return unit_distance<false>(a, b, 0, buf);
        const std::size_t diff = a.size > b.size ? a.size - b.size : b.size - a.size;
        if (diff > max) return max + 1;
    }
    const affix_lengths fix = common_affixes(a, b);
    const std::size_t m = a.size - fix.prefix - fix.suffix;
    const std::size_t n = b.size - fix.prefix - fix.suffix;
    if (m == 0 || n == 0) return m + n;
    const auto sa = a.sub(fix.prefix, m);
    const auto sb = b.sub(fix.prefix, n);
    if (m >= n) return ordered_distance<Cutoff>(sa, sb, max, buf);
    return ordered_distance<Cutoff>(sb, sa, max, buf);
}

[[nodiscard]] inline edit_op to_edit_op(const raw_op& op, std::size_t shift) noexcept {
    const edit_kind kind = op.kind == raw_kind::replace  ? edit_kind::replace
                           : op.kind == raw_kind::insert ? edit_kind::insert
                                                         : edit_kind::remove;
    return {kind, op.source_pos + shift, op.target_pos + shift};
}

/// A substitution-cost model over two indexed sequences: 0 for equal elements, otherwise the user's
/// function, checked to be finite and non-negative.
template <class SA, class SB, class Sub>
struct checked_cost {
    SA a;
    SB b;
    const Sub& sub;
    std::size_t shift;  // positions reported in errors are shift + local position

    [[nodiscard]] bool equal(std::size_t i, std::size_t j) const { return a[i] == b[j]; }
    [[nodiscard]] double operator()(std::size_t i, std::size_t j) const {
        if (a[i] == b[j]) return 0.0;
        const double c = static_cast<double>(std::invoke(sub, a[i], b[j]));
        if (!(c >= 0.0) || !std::isfinite(c)) {
            throw invalid_argument("weighted alignment: the substitution cost of source element " +
                                   std::to_string(shift + i) + " and target element " +
                                   std::to_string(shift + j) + " is " + std::to_string(c) +
                                   "; costs must be finite and non-negative");
        }
        return c;
    }
};

inline void check_cost(double value, const char* what) {
    if (!(value >= 0.0) || !std::isfinite(value)) {
        throw invalid_argument(std::string("weighted alignment: the ") + what + " cost is " + std::to_string(value) +
                               "; costs must be finite and non-negative");
    }
}

/// Unit-cost alignment of the stripped middle, ops appended with positions shifted by the prefix length.
template <class SA, class SB>
void unit_alignment(const SA& a, const SB& b, align_buffers& buf, std::vector<edit_op>& result) {
    const affix_lengths fix = common_affixes(a, b);
    const std::size_t m = a.size - fix.prefix - fix.suffix;
    const std::size_t n = b.size - fix.prefix - fix.suffix;
    const auto sa = a.sub(fix.prefix, m);
    const auto sb = b.sub(fix.prefix, n);
    std::vector<raw_op>& ops = buf.ops;
    ops.clear();
    using TA = std::remove_cvref_t<decltype(sa[0])>;
    using TB = std::remove_cvref_t<decltype(sb[0])>;
    constexpr code_kind kind = code_kind_of<TA, TB>();
    auto run = [&](std::size_t alphabet, const auto& pc, const auto& tc) {
        const std::size_t top_blocks = blocks_for(trace_bytes(m, n) <= buf.traceback_budget ? m : (m + 1) / 2);
        if (m > 0 && n > 0 && alphabet * top_blocks > std::max(buf.table_limit_words, 8 * (m + n))) {
            // Too many distinct elements for a pattern table: the scalar recurrence, same tie rule.
            struct code_cost {
                const std::remove_cvref_t<decltype(pc)>& pcr;
                const std::remove_cvref_t<decltype(tc)>& tcr;
                [[nodiscard]] bool equal(std::size_t i, std::size_t j) const { return pcr(i) == tcr(j); }
                [[nodiscard]] double operator()(std::size_t i, std::size_t j) const { return equal(i, j) ? 0.0 : 1.0; }
            };
            std::vector<double> costs;
            weighted_align_linear(0, m, 0, n, 1.0, 1.0, code_cost{pc, tc}, buf, ops, costs);
            return;
        }
        bitparallel_align_linear(0, m, 0, n, alphabet, pc, tc, buf, ops);
    };
    if constexpr (kind == code_kind::byte) {
        run(
            256, [&](std::size_t i) { return byte_code(sa[i]); }, [&](std::size_t j) { return byte_code(sb[j]); });
    } else {
        const std::size_t k = remap_codes(sa, sb, buf);
        const std::uint32_t* ca = buf.code_a.data();
        const std::uint32_t* cb = buf.code_b.data();
        run(
            k + 1, [ca](std::size_t i) -> std::size_t { return ca[i]; },
            [cb](std::size_t j) -> std::size_t { return cb[j]; });
    }
    result.resize(ops.size());
    for (std::size_t i = 0; i < ops.size(); ++i) result[i] = to_edit_op(ops[i], fix.prefix);
}

}  // namespace detail

namespace detail {
/// This thread's workspace for weighted alignments (separate from the unit-cost buffers, which a
/// substitution-cost function may use).
inline levenshtein_workspace& weighted_thread_workspace() {
    static thread_local levenshtein_workspace workspace;
    return workspace;
}
}  // namespace detail

// ---- unit-cost distance ------------------------------------------------------------------------

/// Levenshtein distance (unit-cost insertions, deletions and substitutions) between `a` and `b`.
/// Time O(ceil(m'/64) * n') after stripping the common prefix and suffix (m', n' what remains, m' the
/// longer); memory O(1) for byte or integer elements when the longer remainder has at most 64 elements,
/// otherwise this thread's reusable buffers (no allocation once grown). Throws only what the
/// elements' `==` (or `<`, for ordered user types) throws.
template <class A, class B>
    requires comparable_sequences<A, B>
[[nodiscard]] std::size_t levenshtein_distance(const A& a, const B& b) {
    return detail::unit_distance<false>(detail::make_indexed(a), detail::make_indexed(b), 0, nullptr);
}

/// levenshtein_distance(a, b) with the caller's workspace.
template <class A, class B>
    requires comparable_sequences<A, B>
[[nodiscard]] std::size_t levenshtein_distance(const A& a, const B& b, levenshtein_workspace& workspace) {
    return detail::unit_distance<false>(detail::make_indexed(a), detail::make_indexed(b), 0, &workspace.buffers());
}

/// The Levenshtein distance if it is at most `max`, std::nullopt otherwise ("more than max"). Stops early:
/// O(1) when the lengths differ by more than max; otherwise only the diagonal band of cells that a path
/// of cost <= max can use is computed, O(ceil(max/64) * n) for long inputs.
template <class A, class B>
    requires comparable_sequences<A, B>
[[nodiscard]] std::optional<std::size_t> levenshtein_distance(const A& a, const B& b, std::size_t max) {
    const std::size_t d = detail::unit_distance<true>(detail::make_indexed(a), detail::make_indexed(b), max, nullptr);
    if (d > max) return std::nullopt;
    return d;
}

/// levenshtein_distance(a, b, max) with the caller's workspace.
template <class A, class B>
    requires comparable_sequences<A, B>
[[nodiscard]] std::optional<std::size_t> levenshtein_distance(const A& a, const B& b, std::size_t max,
                                                              levenshtein_workspace& workspace) {
    const std::size_t d =
        detail::unit_distance<true>(detail::make_indexed(a), detail::make_indexed(b), max, &workspace.buffers());
    if (d > max) return std::nullopt;
    return d;
}

/// levenshtein_distance(a, b) / max(|a|, |b|), in [0, 1]; 0 when both are empty. Same cost as the distance.
template <class A, class B>
    requires comparable_sequences<A, B>
[[nodiscard]] double levenshtein_normalized_distance(const A& a, const B& b) {
    const auto longest = static_cast<std::size_t>(std::max<std::size_t>(std::ranges::size(a), std::ranges::size(b)));
    if (longest == 0) return 0.0;
    return static_cast<double>(levenshtein_distance(a, b)) / static_cast<double>(longest);
}

/// 1 - levenshtein_normalized_distance(a, b), in [0, 1]; 1 when both are empty.
template <class A, class B>
    requires comparable_sequences<A, B>
[[nodiscard]] double levenshtein_similarity(const A& a, const B& b) {
    return 1.0 - levenshtein_normalized_distance(a, b);
}

// ---- unit-cost alignment -----------------------------------------------------------------------

/// A minimum-cost list of edit operations turning `a` into `b` (python-Levenshtein editops convention,
/// tie rule in the header's description); its size is levenshtein_distance(a, b). Time
/// O(ceil(m/64) * n + m + n) after stripping the common prefix and suffix; memory linear in m + n
/// (Hirschberg beyond the workspace's traceback budget, doubling the time).
template <class A, class B>
    requires comparable_sequences<A, B>
[[nodiscard]] std::vector<edit_op> levenshtein_editops(const A& a, const B& b, levenshtein_workspace& workspace) {
    std::vector<edit_op> result;
    detail::unit_alignment(detail::make_indexed(a), detail::make_indexed(b), workspace.buffers(), result);
    return result;
}

/// levenshtein_editops(a, b, workspace) with this thread's buffers.
template <class A, class B>
    requires comparable_sequences<A, B>
[[nodiscard]] std::vector<edit_op> levenshtein_editops(const A& a, const B& b) {
    return detail::with_thread_buffers([&](detail::align_buffers& buf) {
        std::vector<edit_op> result;
        detail::unit_alignment(detail::make_indexed(a), detail::make_indexed(b), buf, result);
        return result;
    });
}

/// Opcodes of a list of edit operations between a source of `source_size` and a target of `target_size`
/// elements: consecutive operations of one kind form one block and the gaps between them are `equal`
/// blocks, so the blocks cover both sequences in order (python-Levenshtein's opcodes). O(ops).
/// \throws invalid_argument when the operations are out of order or outside the sizes.
[[nodiscard]] inline std::vector<opcode> opcodes_from_editops(const std::vector<edit_op>& ops, std::size_t source_size,
                                                              std::size_t target_size) {
    std::vector<opcode> blocks;
    std::size_t s = 0;
    std::size_t t = 0;
    auto bad = [&](std::size_t index) {
        return invalid_argument("opcodes_from_editops: edit operation " + std::to_string(index) +
                                " is out of order or outside the sequences (source size " +
                                std::to_string(source_size) + ", target size " + std::to_string(target_size) + ")");
    };
    auto add = [&](opcode_kind kind, std::size_t s_len, std::size_t t_len) {
        if (!blocks.empty() && blocks.back().kind == kind && blocks.back().source_end == s &&
            blocks.back().target_end == t) {
            blocks.back().source_end += s_len;
            blocks.back().target_end += t_len;
        } else {
            blocks.push_back({kind, s, s + s_len, t, t + t_len});
        }
        s += s_len;
        t += t_len;
    };
    for (std::size_t index = 0; index < ops.size(); ++index) {
        const edit_op& op = ops[index];
        if (op.source_pos < s || op.target_pos < t || op.source_pos - s != op.target_pos - t) throw bad(index);
        if (op.source_pos > s) add(opcode_kind::equal, op.source_pos - s, op.target_pos - t);
        switch (op.kind) {
            case edit_kind::replace:
                if (op.source_pos >= source_size || op.target_pos >= target_size) throw bad(index);
                add(opcode_kind::replace, 1, 1);
                break;
            case edit_kind::insert:
                if (op.source_pos > source_size || op.target_pos >= target_size) throw bad(index);
                add(opcode_kind::insert, 0, 1);
                break;
            case edit_kind::remove:
                if (op.source_pos >= source_size || op.target_pos > target_size) throw bad(index);
                add(opcode_kind::remove, 1, 0);
                break;
        }
    }
    if (source_size < s || target_size < t || source_size - s != target_size - t) {
        throw bad(ops.size());
    }
    if (source_size > s) add(opcode_kind::equal, source_size - s, target_size - t);
    return blocks;
}

/// The alignment of levenshtein_editops(a, b) as opcodes, including `equal` blocks. Same cost.
template <class A, class B>
    requires comparable_sequences<A, B>
[[nodiscard]] std::vector<opcode> levenshtein_opcodes(const A& a, const B& b) {
    return opcodes_from_editops(levenshtein_editops(a, b), static_cast<std::size_t>(std::ranges::size(a)),
                                static_cast<std::size_t>(std::ranges::size(b)));
}

// ---- string literals and C strings -------------------------------------------------------------
// levenshtein_distance("kitten", "sitting"), levenshtein_distance(name.c_str(), std::string("x")): each
// text_argument is read up to its first NUL (O(n) more), then the sequence form above runs.

template <class A, class B>
    requires text_arguments<A, B>
[[nodiscard]] std::size_t levenshtein_distance(const A& a, const B& b) {
    return levenshtein_distance(detail::as_sequence(a), detail::as_sequence(b));
}

template <class A, class B>
    requires text_arguments<A, B>
[[nodiscard]] std::size_t levenshtein_distance(const A& a, const B& b, levenshtein_workspace& workspace) {
    return levenshtein_distance(detail::as_sequence(a), detail::as_sequence(b), workspace);
}

template <class A, class B>
    requires text_arguments<A, B>
[[nodiscard]] std::optional<std::size_t> levenshtein_distance(const A& a, const B& b, std::size_t max) {
    return levenshtein_distance(detail::as_sequence(a), detail::as_sequence(b), max);
}

template <class A, class B>
    requires text_arguments<A, B>
[[nodiscard]] std::optional<std::size_t> levenshtein_distance(const A& a, const B& b, std::size_t max,
                                                              levenshtein_workspace& workspace) {
    return levenshtein_distance(detail::as_sequence(a), detail::as_sequence(b), max, workspace);
}

template <class A, class B>
    requires text_arguments<A, B>
[[nodiscard]] double levenshtein_normalized_distance(const A& a, const B& b) {
    return levenshtein_normalized_distance(detail::as_sequence(a), detail::as_sequence(b));
}

template <class A, class B>
    requires text_arguments<A, B>
[[nodiscard]] double levenshtein_similarity(const A& a, const B& b) {
    return levenshtein_similarity(detail::as_sequence(a), detail::as_sequence(b));
}

template <class A, class B>
    requires text_arguments<A, B>
[[nodiscard]] std::vector<edit_op> levenshtein_editops(const A& a, const B& b, levenshtein_workspace& workspace) {
    return levenshtein_editops(detail::as_sequence(a), detail::as_sequence(b), workspace);
}

template <class A, class B>
    requires text_arguments<A, B>
[[nodiscard]] std::vector<edit_op> levenshtein_editops(const A& a, const B& b) {
    return levenshtein_editops(detail::as_sequence(a), detail::as_sequence(b));
}

template <class A, class B>
    requires text_arguments<A, B>
[[nodiscard]] std::vector<opcode> levenshtein_opcodes(const A& a, const B& b) {
    return levenshtein_opcodes(detail::as_sequence(a), detail::as_sequence(b));
}

// ---- weighted costs ----------------------------------------------------------------------------

/// Costs of the three edit operations; equal elements always align at cost 0. All must be finite and
/// non-negative.
struct edit_costs {
    double insertion = 1.0;     ///< cost of inserting a target element
    double deletion = 1.0;      ///< cost of deleting a source element
    double substitution = 1.0;  ///< cost of replacing a source element by an unequal target element
};

/// A substitution-cost function: callable with a source and a target element, returning a cost
/// convertible to double (finite, non-negative; checked at each call). It is called only for unequal
/// elements, must be deterministic, and may itself call the functions of this header (for example the
/// normalised Levenshtein distance between two words).
template <class F, class A, class B>
concept substitution_cost_function =
    std::invocable<const F&, std::ranges::range_reference_t<const A>, std::ranges::range_reference_t<const B>> &&
    std::convertible_to<
        std::invoke_result_t<const F&, std::ranges::range_reference_t<const A>, std::ranges::range_reference_t<const B>>,
        double>;

/// A minimum-cost alignment and its total cost (the sum of its operations' costs, in order).
struct alignment {
    std::vector<edit_op> ops;  ///< edit operations, python-Levenshtein editops convention
    double cost = 0.0;         ///< total cost
};

/// Minimum total cost of turning `a` into `b` with the given insertion and deletion costs and
/// `substitution(a[i], b[j])` for unequal elements (equal elements cost 0). Wagner-Fischer with two rows
/// after stripping the common prefix and suffix: O(m * n) time and calls of `substitution`, O(n) memory.
/// \throws invalid_argument when a cost is negative, infinite or NaN (naming the positions for the
///         substitution function); whatever `substitution` throws.
template <class A, class B, class F>
    requires comparable_sequences<A, B> && substitution_cost_function<F, A, B>
[[nodiscard]] double weighted_distance(const A& a, const B& b, double insertion, double deletion, const F& substitution) {
    detail::check_cost(insertion, "insertion");
    detail::check_cost(deletion, "deletion");
    const auto ia = detail::make_indexed(a);
    const auto ib = detail::make_indexed(b);
    const detail::affix_lengths fix = detail::common_affixes(ia, ib);
    const std::size_t m = ia.size - fix.prefix - fix.suffix;
    const std::size_t n = ib.size - fix.prefix - fix.suffix;
    const auto sa = ia.sub(fix.prefix, m);
    const auto sb = ib.sub(fix.prefix, n);
    using cost_t = detail::checked_cost<decltype(sa), decltype(sb), F>;
    const cost_t cost{sa, sb, substitution, fix.prefix};
    return detail::with_thread_buffers([&](detail::align_buffers& buf) {
        detail::grow(buf.cost_rows, n + 1);
        detail::weighted_last_row(m, n, insertion, deletion, cost, buf.cost_rows.data());
        return buf.cost_rows[n];
    });
}

/// weighted_distance with constant costs. \throws invalid_argument when a cost is negative, infinite or NaN.
template <class A, class B>
    requires comparable_sequences<A, B>
[[nodiscard]] double weighted_distance(const A& a, const B& b, const edit_costs& costs = {}) {
    detail::check_cost(costs.substitution, "substitution");
    const double s = costs.substitution;
    return weighted_distance(a, b, costs.insertion, costs.deletion, [s](const auto&, const auto&) { return s; });
}

/// A minimum-cost alignment of `a` with `b` under the given insertion and deletion costs and
/// `substitution(a[i], b[j])` for unequal elements (equal elements align at cost 0, as matches, which are
/// not listed). This is the form label projection uses: words as elements and, as substitution cost,
/// the normalised character-level Levenshtein distance between two words:
///
///     auto r = weighted_alignment(words_a, words_b, 1.0, 1.0,
///         [](const std::string& x, const std::string& y) { return levenshtein_normalized_distance(x, y); });
///
/// Tie rule in the header's description. A full matrix when (m+1)(n+1) doubles fit the workspace's
/// traceback budget (O(m * n) time and memory), otherwise Hirschberg's divide and conquer: O(m * n) time
/// (about twice the calls of `substitution`), O(m + n) memory.
/// \throws invalid_argument when a cost is negative, infinite or NaN; whatever `substitution` throws.
template <class A, class B, class F>
    requires comparable_sequences<A, B> && substitution_cost_function<F, A, B>
[[nodiscard]] alignment weighted_alignment(const A& a, const B& b, double insertion, double deletion,
                                           const F& substitution, levenshtein_workspace& workspace) {
    detail::check_cost(insertion, "insertion");
    detail::check_cost(deletion, "deletion");
    const auto ia = detail::make_indexed(a);
    const auto ib = detail::make_indexed(b);
    const detail::affix_lengths fix = detail::common_affixes(ia, ib);
    const std::size_t m = ia.size - fix.prefix - fix.suffix;
    const std::size_t n = ib.size - fix.prefix - fix.suffix;
    const auto sa = ia.sub(fix.prefix, m);
    const auto sb = ib.sub(fix.prefix, n);
    using cost_t = detail::checked_cost<decltype(sa), decltype(sb), F>;
    const cost_t cost{sa, sb, substitution, fix.prefix};
    std::vector<detail::raw_op> ops;
    std::vector<double> op_costs;
    ops.reserve(m + n);
    op_costs.reserve(m + n);
    detail::weighted_align_linear(0, m, 0, n, insertion, deletion, cost, workspace.buffers(), ops, op_costs);
    alignment result;
    result.ops.reserve(ops.size());
    for (const auto& op : ops) result.ops.push_back(detail::to_edit_op(op, fix.prefix));
    for (double c : op_costs) result.cost += c;
    return result;
}

/// weighted_alignment with this thread's buffers.
template <class A, class B, class F>
    requires comparable_sequences<A, B> && substitution_cost_function<F, A, B>
[[nodiscard]] alignment weighted_alignment(const A& a, const B& b, double insertion, double deletion,
                                           const F& substitution) {
    levenshtein_workspace& workspace = detail::weighted_thread_workspace();
    if (workspace.buffers().in_use) {
        levenshtein_workspace fresh;
        detail::buffers_lease lease(fresh.buffers());
        return weighted_alignment(a, b, insertion, deletion, substitution, fresh);
    }
    detail::buffers_lease lease(workspace.buffers());
    return weighted_alignment(a, b, insertion, deletion, substitution, workspace);
}

/// weighted_alignment with constant costs. \throws invalid_argument when a cost is negative, infinite or NaN.
template <class A, class B>
    requires comparable_sequences<A, B>
[[nodiscard]] alignment weighted_alignment(const A& a, const B& b, const edit_costs& costs = {}) {
    detail::check_cost(costs.substitution, "substitution");
    const double s = costs.substitution;
    return weighted_alignment(a, b, costs.insertion, costs.deletion, [s](const auto&, const auto&) { return s; });
}

/// weighted_alignment with constant costs and the caller's workspace.
template <class A, class B>
    requires comparable_sequences<A, B>
[[nodiscard]] alignment weighted_alignment(const A& a, const B& b, const edit_costs& costs,
                                           levenshtein_workspace& workspace) {
    detail::check_cost(costs.substitution, "substitution");
    const double s = costs.substitution;
    return weighted_alignment(
        a, b, costs.insertion, costs.deletion, [s](const auto&, const auto&) { return s; }, workspace);
}

// ---- one-vs-many -------------------------------------------------------------------------------

/// One sequence prepared for many Levenshtein distances against others: its pattern-match table is built
/// once (O(m + 256 * ceil(m/64)) time and memory), then each distance costs O(ceil(m/64) * n) with no
/// allocation (patterns of at most 64 elements also strip the common prefix and suffix; longer ones use
/// this thread's reusable buffers, allocated once). `T` is the element type; queries must have the same
/// element type. distance() is const and safe to call from several threads at once.
template <class T>
    requires std::equality_comparable<T>
class cached_levenshtein {
public:
    /// Prepares `pattern`. \throws std::bad_alloc only.
    template <class R>
        requires alignable_sequence<R> && std::same_as<std::ranges::range_value_t<const R>, T>
    explicit cached_levenshtein(const R& pattern)
        : pattern_(std::ranges::begin(pattern), std::ranges::end(pattern)), blocks_(detail::blocks_for(pattern_.size())) {
        build();
    }

    /// Prepares a string literal or C string, read up to its first NUL: cached_levenshtein q("play music")
    /// deduces cached_levenshtein<char>.
    template <class R>
        requires text_argument<R> && std::same_as<std::ranges::range_value_t<detail::sequence_t<R>>, T>
    explicit cached_levenshtein(const R& pattern) : cached_levenshtein(detail::as_sequence(pattern)) {}

    /// Length of the cached sequence. O(1).
    [[nodiscard]] std::size_t size() const noexcept { return pattern_.size(); }

    /// levenshtein_distance(cached sequence, text). No allocation.
    template <class R>
        requires alignable_sequence<R> && std::same_as<std::ranges::range_value_t<const R>, T>
    [[nodiscard]] std::size_t distance(const R& text) const {
        return compute<false>(detail::make_indexed(text), 0);
    }

    /// levenshtein_distance(cached sequence, text, max): std::nullopt when the distance exceeds max.
    template <class R>
        requires alignable_sequence<R> && std::same_as<std::ranges::range_value_t<const R>, T>
    [[nodiscard]] std::optional<std::size_t> distance(const R& text, std::size_t max) const {
        const std::size_t d = compute<true>(detail::make_indexed(text), max);
        if (d > max) return std::nullopt;
        return d;
    }

    /// levenshtein_normalized_distance(cached sequence, text).
    template <class R>
        requires alignable_sequence<R> && std::same_as<std::ranges::range_value_t<const R>, T>
    [[nodiscard]] double normalized_distance(const R& text) const {
        const auto longest = std::max<std::size_t>(pattern_.size(), static_cast<std::size_t>(std::ranges::size(text)));
        if (longest == 0) return 0.0;
        return static_cast<double>(distance(text)) / static_cast<double>(longest);
    }

    /// levenshtein_similarity(cached sequence, text).
    template <class R>
        requires alignable_sequence<R> && std::same_as<std::ranges::range_value_t<const R>, T>
    [[nodiscard]] double similarity(const R& text) const {
        return 1.0 - normalized_distance(text);
    }

    /// The same four with a string literal or C string, read up to its first NUL.
    template <class R>
        requires text_argument<R> && std::same_as<std::ranges::range_value_t<detail::sequence_t<R>>, T>
    [[nodiscard]] std::size_t distance(const R& text) const {
        return distance(detail::as_sequence(text));
    }

    template <class R>
        requires text_argument<R> && std::same_as<std::ranges::range_value_t<detail::sequence_t<R>>, T>
    [[nodiscard]] std::optional<std::size_t> distance(const R& text, std::size_t max) const {
        return distance(detail::as_sequence(text), max);
    }

    template <class R>
        requires text_argument<R> && std::same_as<std::ranges::range_value_t<detail::sequence_t<R>>, T>
    [[nodiscard]] double normalized_distance(const R& text) const {
        return normalized_distance(detail::as_sequence(text));
    }

    template <class R>
        requires text_argument<R> && std::same_as<std::ranges::range_value_t<detail::sequence_t<R>>, T>
    [[nodiscard]] double similarity(const R& text) const {
        return similarity(detail::as_sequence(text));
    }

private:
    static constexpr detail::code_kind kind_ = detail::code_kind_of<T, T>();

    void build() {
        const std::size_t m = pattern_.size();
        std::size_t rows = 256;
        if constexpr (kind_ == detail::code_kind::integer) {
            // Rows 0..255 for values below 256, then one row per distinct larger value, then a zero row.
            const int bits = std::max(4, static_cast<int>(std::bit_width(std::max<std::size_t>(m, 1))) + 1);
            map_bits_ = bits;
            map_keys_.assign(std::size_t{1} << bits, 0);
            map_codes_.assign(std::size_t{1} << bits, 0);
            codes_.resize(m);
            for (std::size_t i = 0; i < m; ++i) {
                const std::uint64_t key = detail::integer_key(pattern_[i]);
                if (key < 256) {
                    codes_[i] = static_cast<std::uint32_t>(key);
                    continue;
                }
                std::size_t s = detail::hash_slot(key, bits);
                while (map_codes_[s] != 0 && map_keys_[s] != key) s = (s + 1) & (map_codes_.size() - 1);
                if (map_codes_[s] == 0) {
                    map_keys_[s] = key;
                    map_codes_[s] = static_cast<std::uint32_t>(rows++) + 1;
                }
                codes_[i] = map_codes_[s] - 1;
            }
        } else if constexpr (kind_ == detail::code_kind::generic) {
            detail::align_buffers buf;
            const auto p = detail::make_indexed(pattern_);
            rows = detail::remap_codes(p, detail::indexed<typename std::vector<T>::const_iterator>{pattern_.begin(), 0},
                                       buf);
            codes_.assign(buf.code_a.begin(), buf.code_a.begin() + static_cast<std::ptrdiff_t>(m));
            // Distinct values in code order (sorted for ordered types, first appearance otherwise).
            for (std::size_t c = 0; c < rows; ++c) distinct_.push_back(pattern_[buf.distinct[c]]);
        }
        zero_row_ = rows;
        table_.assign((rows + 1) * blocks_, 0);
        for (std::size_t i = 0; i < m; ++i) {
            table_[code_of_pattern(i) * blocks_ + i / 64] |= std::uint64_t{1} << (i % 64);
        }
    }

    [[nodiscard]] std::size_t code_of_pattern(std::size_t i) const {
        if constexpr (kind_ == detail::code_kind::byte) {
            return detail::byte_code(pattern_[i]);
        } else {
            return codes_[i];
        }
    }

    /// Row of the table for a query element (the zero row when it is not in the pattern).
    [[nodiscard]] std::size_t row_of(const T& x) const {
        if constexpr (kind_ == detail::code_kind::byte) {
            return detail::byte_code(x);
        } else if constexpr (kind_ == detail::code_kind::integer) {
            const std::uint64_t key = detail::integer_key(x);
            if (key < 256) return static_cast<std::size_t>(key);
            std::size_t s = detail::hash_slot(key, map_bits_);
            while (map_codes_[s] != 0) {
                if (map_keys_[s] == key) return map_codes_[s] - 1;
                s = (s + 1) & (map_codes_.size() - 1);
            }
            return zero_row_;
        } else if constexpr (std::totally_ordered<T>) {
            auto it = std::lower_bound(distinct_.begin(), distinct_.end(), x);
            return (it != distinct_.end() && !(x < *it)) ? static_cast<std::size_t>(it - distinct_.begin()) : zero_row_;
        } else {
            for (std::size_t c = 0; c < distinct_.size(); ++c) {
                if (distinct_[c] == x) return c;
            }
            return zero_row_;
        }
    }

    template <bool Cutoff, class ST>
    [[nodiscard]] std::size_t compute(const ST& t, std::size_t max) const {
        const std::size_t m = pattern_.size();
        const std::size_t n = t.size;
        if constexpr (Cutoff) {
            if (max >= m + n) return compute<false>(t, 0);
            if ((m > n ? m - n : n - m) > max) return max + 1;
        }
        if (m == 0 || n == 0) return m + n;
        const std::uint64_t* table = table_.data();
        if (blocks_ == 1) {
            // Strip the common prefix and suffix by shifting the masks.
            const auto p = detail::make_indexed(pattern_);
            const detail::affix_lengths fix = detail::common_affixes(p, t);
            const std::size_t mm = m - fix.prefix - fix.suffix;
            const std::size_t nn = n - fix.prefix - fix.suffix;
            if (mm == 0 || nn == 0) return mm + nn;
            if (mm == m) {  // nothing in common at either end: the table as it is
                return detail::single_word_distance<Cutoff>(
                    m, n, [&](std::size_t j) { return table[row_of(t[j])]; }, max);
            }
            const std::uint64_t keep = mm == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << mm) - 1;
            const unsigned shift = static_cast<unsigned>(fix.prefix);
            return detail::single_word_distance<Cutoff>(
                mm, nn, [&](std::size_t j) { return (table[row_of(t[fix.prefix + j])] >> shift) & keep; }, max);
        }
        return detail::with_thread_buffers([&](detail::align_buffers& buf) {
            return detail::blocked_distance<Cutoff>(
                m, n, table, blocks_, [&](std::size_t j) { return row_of(t[j]); }, buf, max);
        });
    }

    std::vector<T> pattern_;
    std::size_t blocks_;
    std::vector<std::uint64_t> table_;
    std::vector<std::uint32_t> codes_;
    std::vector<std::uint64_t> map_keys_;
    std::vector<std::uint32_t> map_codes_;
    std::vector<T> distinct_;
    std::size_t zero_row_ = 256;
    int map_bits_ = 4;
};

/// cached_levenshtein q(std::string("play")) is a cached_levenshtein<char>: the element type of the sequence.
template <class R>
    requires alignable_sequence<R>
cached_levenshtein(const R&) -> cached_levenshtein<std::ranges::range_value_t<const R>>;

/// cached_levenshtein q("play") is a cached_levenshtein<char>: the character type of the text.
template <class R>
    requires text_argument<R>
cached_levenshtein(const R&) -> cached_levenshtein<std::ranges::range_value_t<detail::sequence_t<R>>>;

/// One result of extract(): the position of a choice in the choices range, its Levenshtein distance to the
/// query and levenshtein_similarity (1 - distance / max(|query|, |choice|); 1 when both are empty).
struct extract_match {
    std::size_t index = 0;
    std::size_t distance = 0;
    double similarity = 0.0;
    friend bool operator==(const extract_match&, const extract_match&) = default;
};

/// A range of choices for extract(): a forward range whose elements are sequences of element type `T`.
template <class C, class T>
concept extract_choices = std::ranges::forward_range<const C> &&
                          alignable_sequence<std::remove_cvref_t<std::ranges::range_reference_t<const C>>> &&
                          std::same_as<std::ranges::range_value_t<std::remove_cvref_t<std::ranges::range_reference_t<const C>>>, T>;

namespace detail {
/// Largest distance d in [0, longest] whose similarity 1 - d / longest is >= cutoff (Strict: > cutoff),
/// computed with the same floating-point expression as levenshtein_similarity, so the bound never
/// disagrees with the reported similarity. Returns longest + 1 as "none" when even d = 0 fails.
template <bool Strict>
[[nodiscard]] inline std::size_t max_distance_for(double cutoff, std::size_t longest) noexcept {
    if (longest == 0) return (Strict ? 1.0 > cutoff : 1.0 >= cutoff) ? 0 : 1;
    const auto passes = [&](std::size_t d) {
        const double sim = 1.0 - static_cast<double>(d) / static_cast<double>(longest);
        return Strict ? sim > cutoff : sim >= cutoff;
    };
    const double estimate = std::floor((1.0 - cutoff) * static_cast<double>(longest));
    std::size_t d = estimate <= 0.0 ? 0
                    : estimate >= static_cast<double>(longest) ? longest
                                                              : static_cast<std::size_t>(estimate);
    while (d < longest && passes(d + 1)) ++d;
    while (!passes(d)) {
        if (d == 0) return longest + 1;
        --d;
    }
    return d;
}

/// Order of extract(): higher similarity first, then lower index.
[[nodiscard]] inline bool extract_better(const extract_match& a, const extract_match& b) noexcept {
    return a.similarity > b.similarity || (a.similarity == b.similarity && a.index < b.index);
}
}  // namespace detail

/// The `k` choices most similar to the cached query whose levenshtein_similarity is at least
/// `score_cutoff`, best first (higher similarity, then lower index), written to `out` (cleared first), as
/// rapidfuzz's process.extract with a score cutoff. Exact: the same list as computing every similarity and
/// sorting. Each choice is checked with the cutoff form of the distance under the tightest bound known so
/// far (the cutoff, then, once k matches are held, what beating the k-th needs), so most choices stop
/// early. Time O(N * ceil(m/64) * n) at worst for N choices, plus O(N log k); allocates nothing once `out`
/// has capacity for min(k, N) matches (the cached form's own buffers aside, see cached_levenshtein).
/// k = 0 gives an empty list. \throws invalid_argument when score_cutoff is not in [0, 1] (or NaN).
template <class T, class C>
    requires extract_choices<C, T>
void extract(const cached_levenshtein<T>& query, const C& choices, std::size_t k, double score_cutoff,
             std::vector<extract_match>& out) {
    if (!(score_cutoff >= 0.0 && score_cutoff <= 1.0)) {
        throw invalid_argument("extract: score_cutoff must be in [0, 1], got " + std::to_string(score_cutoff));
    }
    out.clear();
    if (k == 0) return;
    std::size_t index = 0;
    for (const auto& choice : choices) {
        const std::size_t i = index++;
        const auto n = static_cast<std::size_t>(std::ranges::size(choice));
        const std::size_t longest = std::max(query.size(), n);
        const bool full = out.size() == k;
        // out is a heap whose front is the worst match held; a later index must beat it strictly.
        const std::size_t bound = full ? detail::max_distance_for<true>(out.front().similarity, longest)
                                       : detail::max_distance_for<false>(score_cutoff, longest);
        if (bound > longest) continue;
        const auto d = query.distance(choice, bound);
        if (!d) continue;
        const double sim = longest == 0 ? 1.0 : 1.0 - static_cast<double>(*d) / static_cast<double>(longest);
        const extract_match match{i, *d, sim};
        if (full) {
            std::pop_heap(out.begin(), out.end(), detail::extract_better);
            out.back() = match;
        } else {
            out.push_back(match);
        }
        std::push_heap(out.begin(), out.end(), detail::extract_better);
    }
    std::sort_heap(out.begin(), out.end(), detail::extract_better);
}

/// extract(query, choices, k, score_cutoff, out) into a new vector (which allocates).
template <class T, class C>
    requires extract_choices<C, T>
[[nodiscard]] std::vector<extract_match> extract(const cached_levenshtein<T>& query, const C& choices, std::size_t k,
                                                 double score_cutoff = 0.0) {
    std::vector<extract_match> out;
    extract(query, choices, k, score_cutoff, out);
    return out;
}

/// The best choice (highest similarity, lowest index among ties) with similarity at least `score_cutoff`,
/// or std::nullopt (rapidfuzz's process.extractOne). Allocates nothing (cached form's buffers aside);
/// same time as extract() with k = 1. \throws invalid_argument when score_cutoff is not in [0, 1].
template <class T, class C>
    requires extract_choices<C, T>
[[nodiscard]] std::optional<extract_match> extract_one(const cached_levenshtein<T>& query, const C& choices,
                                                       double score_cutoff = 0.0) {
    if (!(score_cutoff >= 0.0 && score_cutoff <= 1.0)) {
        throw invalid_argument("extract_one: score_cutoff must be in [0, 1], got " + std::to_string(score_cutoff));
    }
    std::optional<extract_match> best;
    std::size_t index = 0;
    for (const auto& choice : choices) {
        const std::size_t i = index++;
        const auto n = static_cast<std::size_t>(std::ranges::size(choice));
        const std::size_t longest = std::max(query.size(), n);
        const std::size_t bound = best ? detail::max_distance_for<true>(best->similarity, longest)
                                       : detail::max_distance_for<false>(score_cutoff, longest);
        if (bound > longest) continue;
        const auto d = query.distance(choice, bound);
        if (!d) continue;
        best = extract_match{i, *d, longest == 0 ? 1.0 : 1.0 - static_cast<double>(*d) / static_cast<double>(longest)};
    }
    return best;
}

}  // namespace selflearn
