#pragma once
/// \file selflearn/detail/align_codes.hpp
/// Internals of selflearn/align.hpp: indexed access to the inputs, the classification of element types
/// (bytes, other integers, anything else), the remapping of elements to small codes, and the reusable
/// buffers of the alignment kernels.

#include <algorithm>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <ranges>
#include <type_traits>
#include <vector>

namespace selflearn::detail {

/// Indexed view of a random-access range: an iterator and a length, with size_t subscripts.
template <class It>
struct indexed {
    It first;
    std::size_t size;

    [[nodiscard]] decltype(auto) operator[](std::size_t i) const {
        return first[static_cast<std::iter_difference_t<It>>(i)];
    }
    [[nodiscard]] indexed sub(std::size_t begin, std::size_t length) const {
        return {first + static_cast<std::iter_difference_t<It>>(begin), length};
    }
};

template <class R>
[[nodiscard]] auto make_indexed(const R& r) {
    auto first = std::ranges::begin(r);
    return indexed<decltype(first)>{first, static_cast<std::size_t>(std::ranges::size(r))};
}

/// Length of the common prefix and of the common suffix (of what is left after the prefix).
struct affix_lengths {
    std::size_t prefix = 0;
    std::size_t suffix = 0;
};

template <class SA, class SB>
[[nodiscard]] affix_lengths common_affixes(const SA& a, const SB& b) {
    affix_lengths r;
    const std::size_t shortest = std::min(a.size, b.size);
    while (r.prefix < shortest && a[r.prefix] == b[r.prefix]) ++r.prefix;
    const std::size_t rest = shortest - r.prefix;
    while (r.suffix < rest && a[a.size - 1 - r.suffix] == b[b.size - 1 - r.suffix]) ++r.suffix;
    return r;
}

// ---- element classification ------------------------------------------------------------------

template <class T>
inline constexpr bool integer_like_v =
    (std::is_integral_v<T> || std::is_enum_v<T>) && !std::is_same_v<std::remove_cv_t<T>, bool>;

template <class T, bool = std::is_enum_v<T>>
struct underlying_integer {
    using type = T;
};
template <class T>
struct underlying_integer<T, true> {
    using type = std::underlying_type_t<T>;
};
template <class T>
using underlying_integer_t = typename underlying_integer<std::remove_cv_t<T>>::type;

/// How the elements of a pair of ranges are turned into table indices.
enum class code_kind {
    byte,     ///< both are the same one-byte integer type: the byte value is the code, alphabet 256
    integer,  ///< integers of the same signedness: values hashed to codes (values < 256 direct)
    generic,  ///< anything else: remapped with operator< (same totally ordered type) or operator==
};

template <class TA, class TB>
[[nodiscard]] consteval code_kind code_kind_of() {
    using A = std::remove_cvref_t<TA>;
    using B = std::remove_cvref_t<TB>;
    if constexpr (integer_like_v<A> && integer_like_v<B>) {
        if constexpr (std::is_same_v<A, B> && sizeof(A) == 1) {
            return code_kind::byte;
        } else if constexpr (std::is_same_v<A, B> ||
                             (!std::is_enum_v<A> && !std::is_enum_v<B> &&
                              std::is_signed_v<A> == std::is_signed_v<B>)) {
            return code_kind::integer;
        } else {
            return code_kind::generic;
        }
    } else {
        return code_kind::generic;
    }
}

/// The value of an integer-like element as a 64-bit key; equal values give equal keys.
template <class T>
[[nodiscard]] constexpr std::uint64_t integer_key(T v) noexcept {
    using U = underlying_integer_t<T>;
    const auto u = static_cast<U>(v);
    if constexpr (std::is_signed_v<U>) {
        return static_cast<std::uint64_t>(static_cast<std::int64_t>(u));
    } else {
        return static_cast<std::uint64_t>(u);
    }
}

template <class T>
[[nodiscard]] constexpr std::size_t byte_code(T v) noexcept {
    return static_cast<unsigned char>(static_cast<underlying_integer_t<T>>(v));
}

[[nodiscard]] constexpr std::size_t hash_slot(std::uint64_t key, int bits) noexcept {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
}

// ---- single-word pattern masks for integers (pattern of at most 64 elements) -----------------

/// Bit masks of a pattern of at most 64 integers, for the single-word kernel, on the stack.
/// Values below 256 use a direct table of which only the entries of the two inputs are initialised;
/// larger values go to a 128-slot open-addressing table, cleared only when the pattern has one.
struct small_integer_masks {
    std::uint64_t direct[256];
    std::uint64_t keys[128];
    std::uint64_t masks[128];
    bool has_large = false;

    /// Zero the entries that `text` will read, then set the pattern's bits.
    template <class SP, class ST>
    void build(const SP& pattern, const ST& text) noexcept {
        for (std::size_t j = 0; j < text.size; ++j) {
            const std::uint64_t k = integer_key(text[j]);
            if (k < 256) direct[k] = 0;
        }
        for (std::size_t i = 0; i < pattern.size; ++i) {
            const std::uint64_t k = integer_key(pattern[i]);
            if (k < 256) {
                direct[k] = 0;
            } else if (!has_large) {
                has_large = true;
                std::memset(masks, 0, sizeof masks);
            }
        }
        for (std::size_t i = 0; i < pattern.size; ++i) {
            const std::uint64_t k = integer_key(pattern[i]);
            const std::uint64_t bit = std::uint64_t{1} << i;
            if (k < 256) {
                direct[k] |= bit;
                continue;
            }
            std::size_t s = hash_slot(k, 7);
            while (masks[s] != 0 && keys[s] != k) s = (s + 1) & 127U;
            keys[s] = k;
            masks[s] |= bit;
        }
    }

    [[nodiscard]] std::uint64_t get(std::uint64_t k) const noexcept {
        if (k < 256) return direct[k];
        if (!has_large) return 0;
        std::size_t s = hash_slot(k, 7);
        while (masks[s] != 0) {
            if (keys[s] == k) return masks[s];
            s = (s + 1) & 127U;
        }
        return 0;
    }
};

/// One edit operation in kernel form (converted to selflearn::edit_op by the public header).
enum class raw_kind : std::uint8_t { replace, insert, remove };
struct raw_op {
    raw_kind kind;
    std::size_t source_pos;
    std::size_t target_pos;
};

// ---- reusable buffers ------------------------------------------------------------------------

/// Every buffer the unit-cost kernels use; kept between calls so that loops allocate nothing once
/// the buffers have grown to the largest input seen.
struct align_buffers {
    // Pattern-match table: table[code * blocks + block]. All zero between calls (kernels clear the
    // entries they set), so a call costs O(m) to build it, not O(alphabet * blocks).
    std::vector<std::uint64_t> table;
    // Codes of the pattern and text (code_kind::integer and code_kind::generic).
    std::vector<std::uint32_t> code_a;
    std::vector<std::uint32_t> code_b;
    // Open-addressing map from integer keys to codes: keys and code + 1 (0 = empty slot).
    std::vector<std::uint64_t> map_keys;
    std::vector<std::uint32_t> map_codes;
    // Indices of the distinct pattern elements (code_kind::generic).
    std::vector<std::size_t> distinct;
    // Blocked kernel state: vertical deltas and bottom-row scores per block.
    std::vector<std::uint64_t> pv;
    std::vector<std::uint64_t> mv;
    std::vector<std::size_t> block_score;
    // Traceback: per column and block, vertical + and horizontal +/- delta vectors.
    std::vector<std::uint64_t> trace;
    // Edit operations of the alignment being built (kernel form).
    std::vector<raw_op> ops;
    // Hirschberg: last-row scores of the forward and backward halves.
    std::vector<std::size_t> forward_row;
    std::vector<std::size_t> backward_row;
    // Weighted kernels: DP rows or the full matrix.
    std::vector<double> cost_rows;
    std::vector<double> cost_matrix;
    // Largest traceback store (bytes) before the alignment switches to Hirschberg's linear-memory
    // divide and conquer.
    std::size_t traceback_budget = std::size_t{8} << 20;
    // Largest pattern-match table (in 64-bit words, alphabet * blocks) before the unit-cost kernels fall
    // back to the scalar recurrence for inputs with very many distinct elements; the table may always
    // take 8 words per input element.
    std::size_t table_limit_words = std::size_t{1} << 23;
    // Set while a call uses these buffers (guards the per-thread default against re-entry).
    bool in_use = false;

    [[nodiscard]] std::size_t capacity_bytes() const noexcept {
        return table.capacity() * 8 + code_a.capacity() * 4 + code_b.capacity() * 4 +
               map_keys.capacity() * 8 + map_codes.capacity() * 4 + distinct.capacity() * sizeof(std::size_t) +
               pv.capacity() * 8 + mv.capacity() * 8 + block_score.capacity() * sizeof(std::size_t) +
               trace.capacity() * 8 + ops.capacity() * sizeof(raw_op) + forward_row.capacity() * sizeof(std::size_t) +
               backward_row.capacity() * sizeof(std::size_t) + cost_rows.capacity() * 8 +
               cost_matrix.capacity() * 8;
    }
};

template <class T>
void grow(std::vector<T>& v, std::size_t n) {
    if (v.size() < n) v.resize(n);
}

/// Marks buffers as used for the lifetime of a call.
class buffers_lease {
public:
    explicit buffers_lease(align_buffers& b) noexcept : b_(b) { b_.in_use = true; }
    buffers_lease(const buffers_lease&) = delete;
    buffers_lease& operator=(const buffers_lease&) = delete;
    ~buffers_lease() { b_.in_use = false; }

private:
    align_buffers& b_;
};

/// Calls `f(buffers&)` with this thread's buffers, or with fresh ones if they are already in use
/// (a comparison or cost function that itself calls into the library).
/// This thread's buffers, shared by every unit-cost function called without a workspace.
inline align_buffers& thread_buffers() {
    static thread_local align_buffers buffers;
    return buffers;
}

template <class F>
decltype(auto) with_thread_buffers(F&& f) {
    align_buffers& buffers = thread_buffers();
    if (buffers.in_use) {
        align_buffers fresh;
        buffers_lease lease(fresh);
        return f(fresh);
    }
    buffers_lease lease(buffers);
    return f(buffers);
}

// ---- remapping to codes ----------------------------------------------------------------------

/// Codes of the pattern and text elements: code_a[i] in [0, k) for the k distinct pattern elements,
/// code_b[j] in [0, k] with k meaning "not in the pattern". Returns k. Byte ranges are not remapped
/// (their byte value is their code; see code_kind::byte).
/// Integers: O(m + n) expected (open addressing). Same totally ordered type: O((m + n) log m).
/// Otherwise: O((m + n) * k) equality comparisons.
template <class SP, class ST>
std::size_t remap_codes(const SP& pattern, const ST& text, align_buffers& buf) {
    using TA = std::remove_cvref_t<decltype(pattern[0])>;
    using TB = std::remove_cvref_t<decltype(text[0])>;
    constexpr code_kind kind = code_kind_of<TA, TB>();
    static_assert(kind != code_kind::byte, "byte ranges use their byte values as codes");
    const std::size_t m = pattern.size;
    const std::size_t n = text.size;
    grow(buf.code_a, m);
    grow(buf.code_b, n);
    std::uint32_t k = 0;
    if constexpr (kind == code_kind::integer) {
        const int bits = std::max(4, static_cast<int>(std::bit_width(std::max<std::size_t>(m, 1))) + 1);
        const std::size_t cap = std::size_t{1} << bits;
        grow(buf.map_keys, cap);
        grow(buf.map_codes, cap);
        std::fill_n(buf.map_codes.begin(), cap, 0U);
        const std::size_t wrap = cap - 1;
        for (std::size_t i = 0; i < m; ++i) {
            const std::uint64_t key = integer_key(pattern[i]);
            std::size_t s = hash_slot(key, bits);
            while (buf.map_codes[s] != 0 && buf.map_keys[s] != key) s = (s + 1) & wrap;
            if (buf.map_codes[s] == 0) {
                buf.map_keys[s] = key;
                buf.map_codes[s] = ++k;
            }
            buf.code_a[i] = buf.map_codes[s] - 1;
        }
        for (std::size_t j = 0; j < n; ++j) {
            const std::uint64_t key = integer_key(text[j]);
            std::size_t s = hash_slot(key, bits);
            std::uint32_t code = k;
            while (buf.map_codes[s] != 0) {
                if (buf.map_keys[s] == key) {
                    code = buf.map_codes[s] - 1;
                    break;
                }
                s = (s + 1) & wrap;
            }
            buf.code_b[j] = code;
        }
    } else if constexpr (std::is_same_v<TA, TB> && std::totally_ordered<TA>) {
        buf.distinct.resize(m);
        for (std::size_t i = 0; i < m; ++i) buf.distinct[i] = i;
        // Ties broken by position: deterministic, and std::sort allocates nothing (std::stable_sort would).
        std::sort(buf.distinct.begin(), buf.distinct.end(), [&](std::size_t x, std::size_t y) {
            if (pattern[x] < pattern[y]) return true;
            if (pattern[y] < pattern[x]) return false;
            return x < y;
        });
        // Codes in sorted order of the distinct values; the first index of each value represents it.
        std::size_t distinct_count = 0;
        for (std::size_t r = 0; r < m; ++r) {
            const std::size_t i = buf.distinct[r];
            if (distinct_count > 0 && !(pattern[buf.distinct[distinct_count - 1]] < pattern[i])) {
                buf.code_a[i] = static_cast<std::uint32_t>(distinct_count - 1);
            } else {
                buf.distinct[distinct_count] = i;
                buf.code_a[i] = static_cast<std::uint32_t>(distinct_count);
                ++distinct_count;
            }
        }
        k = static_cast<std::uint32_t>(distinct_count);
        const auto first = buf.distinct.begin();
        const auto last = first + static_cast<std::ptrdiff_t>(distinct_count);
        for (std::size_t j = 0; j < n; ++j) {
            const auto& x = text[j];
            auto it = std::lower_bound(first, last, std::size_t{0},
                                       [&](std::size_t i, std::size_t) { return pattern[i] < x; });
            buf.code_b[j] = (it != last && !(x < pattern[*it])) ? static_cast<std::uint32_t>(it - first) : k;
        }
    } else {
        buf.distinct.clear();
        for (std::size_t i = 0; i < m; ++i) {
            std::uint32_t code = 0;
            while (code < buf.distinct.size() && !(pattern[buf.distinct[code]] == pattern[i])) ++code;
            if (code == buf.distinct.size()) buf.distinct.push_back(i);
            buf.code_a[i] = code;
        }
        k = static_cast<std::uint32_t>(buf.distinct.size());
        for (std::size_t j = 0; j < n; ++j) {
            std::uint32_t code = 0;
            while (code < k && !(pattern[buf.distinct[code]] == text[j])) ++code;
            buf.code_b[j] = code;
        }
    }
    return k;
}

}  // namespace selflearn::detail
