#pragma once
/// \file selflearn/detail/align_bitparallel.hpp
/// Internals of selflearn/align.hpp: bit-parallel unit-cost kernels.
///
/// The dynamic-programming matrix D[i][j] (i over the pattern, j over the text, D[i][0] = i, D[0][j] = j)
/// is represented column by column by its vertical deltas D[i][j] - D[i-1][j] in {-1, 0, +1}, 64 rows per
/// machine word (G. Myers, "A fast bit-vector algorithm for approximate string matching based on dynamic
/// programming", JACM 46(3), 1999; in the formulation of H. Hyyro, "A bit-vector algorithm for computing
/// Levenshtein and Damerau edit distances", Nordic J. of Computing 10, 2003). Patterns longer than 64
/// are cut into blocks chained by their horizontal deltas (Myers 1999, section 4); with a cutoff k only the
/// blocks meeting the diagonal band that a path of cost <= k can use are computed. Alignments are traced
/// back from the stored delta vectors (H. Hyyro, "A note on bit-parallel alignment computation", Proc.
/// PSC 2004) instead of a matrix of numbers; long inputs are split in Hirschberg's manner
/// (D. S. Hirschberg, CACM 18(6), 1975) with the bit-parallel kernel computing the middle rows.

#include <selflearn/detail/align_codes.hpp>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace selflearn::detail {

[[nodiscard]] constexpr std::size_t blocks_for(std::size_t m) noexcept { return (m + 63) / 64; }

/// Single-word kernel: distance between a pattern of m (1..64) elements and a text of n elements.
/// `peq(j)` is the match mask of text element j (bit i set iff pattern[i] == text[j]).
/// With Cutoff, returns max + 1 as soon as the distance is known to exceed `max`. O(n).
template <bool Cutoff, class Peq>
[[nodiscard]] std::size_t single_word_distance(std::size_t m, std::size_t n, const Peq& peq,
                                               std::size_t max = 0) {
    std::uint64_t pv = ~std::uint64_t{0};
    std::uint64_t mv = 0;
    std::size_t score = m;
    const unsigned last = static_cast<unsigned>(m - 1);
    for (std::size_t j = 0; j < n; ++j) {
        const std::uint64_t eq = peq(j);
        const std::uint64_t xv = eq | mv;
        const std::uint64_t xh = (((eq & pv) + pv) ^ pv) | eq;
        std::uint64_t ph = mv | ~(xh | pv);
        std::uint64_t mh = pv & xh;
        score += static_cast<std::size_t>((ph >> last) & 1U);
        score -= static_cast<std::size_t>((mh >> last) & 1U);
        if constexpr (Cutoff) {
            // Each remaining column lowers D[m][.] by at most one.
            if (score > max + (n - 1 - j)) return max + 1;
        }
        ph = (ph << 1) | 1U;
        mh <<= 1;
        pv = mh | ~(xv | ph);
        mv = ph & xv;
    }
    return score;
}

/// Advances one 64-row block by one column. `hin` is the horizontal delta entering above the block's first
/// row; returns the horizontal delta at row `out_bit` of the block. `ph_out`/`mh_out` receive the block's
/// horizontal delta vectors (+1 and -1 bits per row) when tracing.
struct block_step {
    std::uint64_t ph;
    std::uint64_t mh;
    int hout;
};

[[nodiscard]] inline block_step advance_block(std::uint64_t& pv, std::uint64_t& mv, std::uint64_t eq, int hin,
                                              unsigned out_bit) noexcept {
    const std::uint64_t hin_minus = hin < 0 ? 1U : 0U;
    const std::uint64_t hin_plus = hin > 0 ? 1U : 0U;
    const std::uint64_t xv = eq | mv;
    eq |= hin_minus;
    const std::uint64_t xh = (((eq & pv) + pv) ^ pv) | eq;
    const std::uint64_t ph = mv | ~(xh | pv);
    const std::uint64_t mh = pv & xh;
    const int hout = static_cast<int>((ph >> out_bit) & 1U) - static_cast<int>((mh >> out_bit) & 1U);
    const std::uint64_t phs = (ph << 1) | hin_plus;
    const std::uint64_t mhs = (mh << 1) | hin_minus;
    pv = mhs | ~(xv | phs);
    mv = phs & xv;
    return {ph, mh, hout};
}

/// The pattern-match table of a pattern given by its codes: table[code * blocks + i / 64] has bit i % 64
/// set for each pattern position i. The table must be all zero before; clear() restores that.
template <class PatternCode>
class pattern_table {
public:
    pattern_table(std::vector<std::uint64_t>& storage, std::size_t alphabet, std::size_t m, const PatternCode& pc)
        : storage_(storage), m_(m), blocks_(blocks_for(m)), pc_(pc) {
        const std::size_t need = alphabet * blocks_;
        if (storage_.size() < need) storage_.resize(need, 0);
        for (std::size_t i = 0; i < m_; ++i) {
            storage_[pc_(i) * blocks_ + i / 64] |= std::uint64_t{1} << (i % 64);
        }
    }
    pattern_table(const pattern_table&) = delete;
    pattern_table& operator=(const pattern_table&) = delete;
    ~pattern_table() {
        for (std::size_t i = 0; i < m_; ++i) storage_[pc_(i) * blocks_ + i / 64] = 0;
    }
    [[nodiscard]] const std::uint64_t* row(std::size_t code) const noexcept { return storage_.data() + code * blocks_; }
    [[nodiscard]] std::size_t blocks() const noexcept { return blocks_; }

private:
    std::vector<std::uint64_t>& storage_;
    std::size_t m_;
    std::size_t blocks_;
    const PatternCode& pc_;
};

/// Diagonal band d = i - j in [lo, hi] holding every cell of a path of cost <= k from (0,0) to (m,n).
struct diagonal_band {
    long long lo;
    long long hi;
};

[[nodiscard]] inline diagonal_band band_for(std::size_t m, std::size_t n, std::size_t k) noexcept {
    const long long diff = static_cast<long long>(m) - static_cast<long long>(n);
    const long long slack = (static_cast<long long>(std::min<std::size_t>(k, m + n)) - (diff < 0 ? -diff : diff)) / 2;
    return {std::min(0LL, diff) - slack, std::max(0LL, diff) + slack};
}

/// Blocked kernel: D[m][n] for a pattern of m >= 1 elements given by its table and a text given by
/// `tc(j)`, its codes. With Banded, only the blocks meeting the band of `band_for(m, n, max)` are
/// computed; cells outside it are over-estimated, so the result is exact when it is <= max and > max
/// otherwise. Time O(blocks * n) (banded: O((max / 64 + 1) * n)); memory O(blocks).
/// Unbanded blocked kernel: D[m][n], and D[m][j] for j = 0..n in `row` unless it is null.
template <class TextCode>
[[nodiscard]] std::size_t unbanded_distance(std::size_t m, std::size_t n, const std::uint64_t* table,
                                            std::size_t blocks, const TextCode& tc, align_buffers& buf,
                                            std::size_t* row) {
    grow(buf.pv, blocks);
    grow(buf.mv, blocks);
    std::uint64_t* pv = buf.pv.data();
    std::uint64_t* mv = buf.mv.data();
    const unsigned last_bit = static_cast<unsigned>((m - 1) % 64);
    for (std::size_t b = 0; b < blocks; ++b) {
        pv[b] = ~std::uint64_t{0};
        mv[b] = 0;
    }
    std::size_t result = m;
    if (row != nullptr) row[0] = m;
    std::size_t j = 0;
    // Two columns at a time: block b of column j + 1 needs block b of column j and block b - 1 of
    // column j + 1, so the two carry chains overlap instead of running one after the other.
    for (; j + 1 < n; j += 2) {
        const std::uint64_t* eq0 = table + tc(j) * blocks;
        const std::uint64_t* eq1 = table + tc(j + 1) * blocks;
        std::uint64_t hp0 = 1, hn0 = 0, ph0 = 0, mh0 = 0;
        std::uint64_t hp1 = 1, hn1 = 0, ph1 = 0, mh1 = 0;
        for (std::size_t b = 0; b < blocks; ++b) {
            std::uint64_t p = pv[b];
            std::uint64_t q = mv[b];
            {
                const std::uint64_t x = eq0[b] | hn0;
                const std::uint64_t xv = eq0[b] | q;
                const std::uint64_t xh = (((x & p) + p) ^ p) | x;
                ph0 = q | ~(xh | p);
                mh0 = p & xh;
                const std::uint64_t phs = (ph0 << 1) | hp0;
                const std::uint64_t mhs = (mh0 << 1) | hn0;
                hp0 = ph0 >> 63;
                hn0 = mh0 >> 63;
                p = mhs | ~(xv | phs);
                q = phs & xv;
            }
            {
                const std::uint64_t x = eq1[b] | hn1;
                const std::uint64_t xv = eq1[b] | q;
                const std::uint64_t xh = (((x & p) + p) ^ p) | x;
                ph1 = q | ~(xh | p);
                mh1 = p & xh;
                const std::uint64_t phs = (ph1 << 1) | hp1;
                const std::uint64_t mhs = (mh1 << 1) | hn1;
                hp1 = ph1 >> 63;
                hn1 = mh1 >> 63;
                pv[b] = mhs | ~(xv | phs);
                mv[b] = phs & xv;
            }
        }
        result += (ph0 >> last_bit) & 1U;
        result -= (mh0 >> last_bit) & 1U;
        if (row != nullptr) row[j + 1] = result;
        result += (ph1 >> last_bit) & 1U;
        result -= (mh1 >> last_bit) & 1U;
        if (row != nullptr) row[j + 2] = result;
    }
    for (; j < n; ++j) {
        const std::uint64_t* eq = table + tc(j) * blocks;
        // Horizontal delta entering each block as two carry bits (+1, -1); row 0 grows by one.
        std::uint64_t hp = 1;
        std::uint64_t hn = 0;
        std::uint64_t ph = 0;
        std::uint64_t mh = 0;
        for (std::size_t b = 0; b < blocks; ++b) {
            const std::uint64_t p = pv[b];
            const std::uint64_t q = mv[b];
            const std::uint64_t x = eq[b] | hn;
            const std::uint64_t xv = eq[b] | q;
            const std::uint64_t xh = (((x & p) + p) ^ p) | x;
            ph = q | ~(xh | p);
            mh = p & xh;
            const std::uint64_t phs = (ph << 1) | hp;
            const std::uint64_t mhs = (mh << 1) | hn;
            hp = ph >> 63;
            hn = mh >> 63;
            pv[b] = mhs | ~(xv | phs);
            mv[b] = phs & xv;
        }
        result += (ph >> last_bit) & 1U;
        result -= (mh >> last_bit) & 1U;
        if (row != nullptr) row[j + 1] = result;
    }
    return result;
}

/// `start_block(b)` is called (banded only) when block b first enters the band, before it is used: the
/// caller may fill the table's rows for that block lazily.
struct no_block_start {
    void operator()(std::size_t) const noexcept {}
};

template <bool Banded, class TextCode, class StartBlock = no_block_start>
[[nodiscard]] std::size_t blocked_distance(std::size_t m, std::size_t n, const std::uint64_t* table,
                                           std::size_t blocks, const TextCode& tc, align_buffers& buf,
                                           std::size_t max = 0, const StartBlock& start_block = {}) {
    if constexpr (!Banded) {
        return unbanded_distance(m, n, table, blocks, tc, buf, nullptr);
    } else {
        grow(buf.pv, blocks);
        grow(buf.mv, blocks);
        grow(buf.block_score, blocks);
        std::uint64_t* pv = buf.pv.data();
        std::uint64_t* mv = buf.mv.data();
        std::size_t* score = buf.block_score.data();
        const unsigned last_bit = static_cast<unsigned>((m - 1) % 64);
        const std::size_t last_block = blocks - 1;
        auto bottom = [&](std::size_t b) { return std::min(64 * (b + 1), m); };
        const diagonal_band band = band_for(m, n, max);
        const long long mm = static_cast<long long>(m);
        std::size_t first = 0;
        std::size_t started = 0;  // blocks [0, started) have been initialised
        for (std::size_t j = 1; j <= n; ++j) {
            const long long jj = static_cast<long long>(j);
            const long long top_row = std::max(1LL, jj + band.lo);
            const long long bottom_row = std::min(mm, jj + band.hi);
            if (top_row > bottom_row) return max + 1;
            const auto fb = static_cast<std::size_t>((top_row - 1) / 64);
            const auto lb = static_cast<std::size_t>((bottom_row - 1) / 64);
            while (started <= lb) {
                // A block entering the band starts from D[i][j-1] = D[top - 1][j-1] + (i - top + 1):
                // an over-estimate of cells that are all outside the band.
                const std::size_t b = started;
                start_block(b);
                const std::size_t above = b == 0 ? j - 1 : score[b - 1];
                pv[b] = ~std::uint64_t{0};
                mv[b] = 0;
                score[b] = above + (bottom(b) - (b == 0 ? 0 : bottom(b - 1)));
                ++started;
            }
            first = std::max(first, fb);
            const std::uint64_t* eq = table + tc(j - 1) * blocks;
            // Above the first computed block the row is taken to grow by one per column (an
            // over-estimate outside the band; exact on row 0).
            int hin = 1;
            for (std::size_t b = first; b <= lb; ++b) {
                const block_step s = advance_block(pv[b], mv[b], eq[b], hin, b == last_block ? last_bit : 63U);
                score[b] = static_cast<std::size_t>(static_cast<long long>(score[b]) + s.hout);
                hin = s.hout;
            }
            // Stop when no band cell of this column can be <= max: a path of cost <= max crosses the column
            // at a band cell whose computed value is exact. For the band rows [t, h] of a block,
            // D[t..h] >= D[h] - (number of +1 vertical deltas in rows t+1..h).
            bool alive = false;
            for (std::size_t b = first; b <= lb && !alive; ++b) {
                const long long base = static_cast<long long>(64 * b);
                const long long t = std::max(top_row, base + 1);
                const long long h = std::min(bottom_row, static_cast<long long>(bottom(b)));
                if (t > h) continue;
                const auto rows_after = [&](long long x, long long y) {  // bits of rows x+1..y
                    const auto upto = [](long long c) {
                        return c >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << c) - 1;
                    };
                    return upto(y - base) & ~upto(x - base);
                };
                const std::uint64_t below = rows_after(h, static_cast<long long>(bottom(b)));
                const long long d_h = static_cast<long long>(score[b]) - std::popcount(pv[b] & below) +
                                      std::popcount(mv[b] & below);
                const long long lower = d_h - std::popcount(pv[b] & rows_after(t, h));
                alive = lower <= static_cast<long long>(max);
            }
            if (!alive) return max + 1;
        }
        return score[last_block];
    }
}

/// Like blocked_distance without a band, but records D[m][j] for j = 0..n in `row`.
template <class TextCode>
void blocked_last_row(std::size_t m, std::size_t n, const std::uint64_t* table, std::size_t blocks,
                      const TextCode& tc, align_buffers& buf, std::size_t* row) {
    (void)unbanded_distance(m, n, table, blocks, tc, buf, row);
}

/// Bytes of traceback store for an m x n subproblem.
[[nodiscard]] constexpr std::size_t trace_bytes(std::size_t m, std::size_t n) noexcept {
    return blocks_for(m) * (n + 1) * 3 * sizeof(std::uint64_t);
}

/// bitparallel_align for a pattern of at most 64 elements: the column vectors stay in registers, the store
/// holds 4 words per column (match mask, vertical +1, horizontal +1 and -1) and the walk is branch-free.
template <class TextCode>
void single_word_align(std::size_t m, std::size_t n, const std::uint64_t* rows, const TextCode& tc,
                       align_buffers& buf, std::size_t i0, std::size_t j0, std::vector<raw_op>& out) {
    grow(buf.trace, (n + 1) * 4);
    std::uint64_t* trace = buf.trace.data();
    std::uint64_t pv = ~std::uint64_t{0};
    std::uint64_t mv = 0;
    trace[1] = pv;
    for (std::size_t j = 0; j < n; ++j) {
        const std::uint64_t eq = rows[tc(j)];
        const std::uint64_t xv = eq | mv;
        const std::uint64_t xh = (((eq & pv) + pv) ^ pv) | eq;
        const std::uint64_t ph = mv | ~(xh | pv);
        const std::uint64_t mh = pv & xh;
        const std::uint64_t phs = (ph << 1) | 1U;
        const std::uint64_t mhs = mh << 1;
        pv = mhs | ~(xv | phs);
        mv = phs & xv;
        std::uint64_t* col = trace + (j + 1) * 4;
        col[0] = eq;
        col[1] = pv;
        col[2] = ph;
        col[3] = mh;
    }
    const std::size_t first_new = out.size();
    out.resize(first_new + m + n);
    raw_op* o = out.data() + first_new;
    std::size_t count = 0;
    std::size_t i = m;
    std::size_t j = n;
    while (i > 0 && j > 0) {
        const unsigned bit = static_cast<unsigned>(i - 1);
        const std::uint64_t* col = trace + j * 4;
        const std::size_t ins = (col[2] >> bit) & 1U;
        const std::size_t match = (col[0] >> bit) & 1U;
        const std::size_t rep = (~(col[3] >> bit) & 1U) & (((col - 4)[1] >> bit) & 1U);
        const std::size_t diagonal = (1U - ins) & (match | rep);
        const std::size_t del = (1U - ins) & (1U - diagonal);
        o[count] = {ins ? raw_kind::insert : (diagonal ? raw_kind::replace : raw_kind::remove), i0 + i - (1U - ins),
                    j0 + j - (1U - del)};
        count += 1U - (diagonal & match);
        i -= 1U - ins;
        j -= 1U - del;
    }
    for (; j > 0; --j) o[count++] = {raw_kind::insert, i0, j0 + j - 1};
    for (; i > 0; --i) o[count++] = {raw_kind::remove, i0 + i - 1, j0};
    out.resize(first_new + count);
    std::reverse(out.begin() + static_cast<std::ptrdiff_t>(first_new), out.end());
}

/// Aligns pattern positions [0, m) with text positions [0, n) (m >= 1) by the tie rule of align.hpp:
/// walking back from (m, n), prefer an insertion, then a match or substitution, then a deletion. Stores
/// the delta vectors of every column (Hyyro 2004), then walks. Appends the operations in order to `out`,
/// with positions shifted by (i0, j0). Time O(blocks * n + m + n); memory trace_bytes(m, n).
template <class PatternCode, class TextCode>
void bitparallel_align(std::size_t m, std::size_t n, const std::uint64_t* table, std::size_t blocks,
                       const PatternCode& pc, const TextCode& tc, align_buffers& buf, std::size_t i0,
                       std::size_t j0, std::vector<raw_op>& out) {
    if (blocks == 1) {
        single_word_align(m, n, table, tc, buf, i0, j0, out);
        return;
    }
    grow(buf.pv, blocks);
    grow(buf.mv, blocks);
    const std::size_t stride = blocks * 3;
    grow(buf.trace, (n + 1) * stride);
    std::uint64_t* pv = buf.pv.data();
    std::uint64_t* mv = buf.mv.data();
    std::uint64_t* trace = buf.trace.data();
    for (std::size_t b = 0; b < blocks; ++b) {
        pv[b] = ~std::uint64_t{0};
        mv[b] = 0;
        trace[b * 3] = pv[b];
    }
    const unsigned last_bit = static_cast<unsigned>((m - 1) % 64);
    for (std::size_t j = 0; j < n; ++j) {
        const std::uint64_t* eq = table + tc(j) * blocks;
        std::uint64_t* col = trace + (j + 1) * stride;
        int hin = 1;
        for (std::size_t b = 0; b < blocks; ++b) {
            const block_step s = advance_block(pv[b], mv[b], eq[b], hin, b + 1 == blocks ? last_bit : 63U);
            col[b * 3] = pv[b];
            col[b * 3 + 1] = s.ph;
            col[b * 3 + 2] = s.mh;
            hin = s.hout;
        }
    }
    const std::size_t first_new = out.size();
    std::size_t i = m;
    std::size_t j = n;
    while (i > 0 && j > 0) {
        const std::size_t blk = (i - 1) / 64;
        const unsigned bit = static_cast<unsigned>((i - 1) % 64);
        const std::uint64_t* cell = trace + j * stride + blk * 3;
        if ((cell[1] >> bit) & 1U) {  // D[i][j-1] + 1 == D[i][j]
            out.push_back({raw_kind::insert, i0 + i, j0 + j - 1});
            --j;
        } else if (pc(i - 1) == tc(j - 1)) {
            --i;
            --j;
        } else if (((cell[2] >> bit) & 1U) == 0 && ((trace[(j - 1) * stride + blk * 3] >> bit) & 1U)) {
            // horizontal delta 0 at (i, j) and vertical +1 at (i, j-1): D[i-1][j-1] + 1 == D[i][j]
            out.push_back({raw_kind::replace, i0 + i - 1, j0 + j - 1});
            --i;
            --j;
        } else {
            out.push_back({raw_kind::remove, i0 + i - 1, j0 + j});
            --i;
        }
    }
    for (; j > 0; --j) out.push_back({raw_kind::insert, i0, j0 + j - 1});
    for (; i > 0; --i) out.push_back({raw_kind::remove, i0 + i - 1, j0});
    std::reverse(out.begin() + static_cast<std::ptrdiff_t>(first_new), out.end());
}

/// Unit-cost alignment of pattern [i0, i0 + m) with text [j0, j0 + n) in memory linear in m + n:
/// direct traceback when its store fits `buf.traceback_budget` (or the pattern fits one word),
/// otherwise Hirschberg's split at the middle pattern row, at the leftmost column where forward and
/// backward scores sum to the minimum (which keeps the tie rule of bitparallel_align).
template <class PatternCode, class TextCode>
void bitparallel_align_linear(std::size_t i0, std::size_t m, std::size_t j0, std::size_t n, std::size_t alphabet,
                              const PatternCode& pc, const TextCode& tc, align_buffers& buf,
                              std::vector<raw_op>& out) {
    if (m == 0) {
        for (std::size_t j = 0; j < n; ++j) out.push_back({raw_kind::insert, i0, j0 + j});
        return;
    }
    if (n == 0) {
        for (std::size_t i = 0; i < m; ++i) out.push_back({raw_kind::remove, i0 + i, j0});
        return;
    }
    if (m <= 64 || trace_bytes(m, n) <= buf.traceback_budget) {
        auto spc = [&](std::size_t i) { return pc(i0 + i); };
        auto stc = [&](std::size_t j) { return tc(j0 + j); };
        pattern_table<decltype(spc)> table(buf.table, alphabet, m, spc);
        bitparallel_align(m, n, table.row(0), table.blocks(), spc, stc, buf, i0, j0, out);
        return;
    }
    const std::size_t mid = m / 2;
    grow(buf.forward_row, n + 1);
    grow(buf.backward_row, n + 1);
    {
        auto fpc = [&](std::size_t i) { return pc(i0 + i); };
        auto ftc = [&](std::size_t j) { return tc(j0 + j); };
        pattern_table<decltype(fpc)> table(buf.table, alphabet, mid, fpc);
        blocked_last_row(mid, n, table.row(0), table.blocks(), ftc, buf, buf.forward_row.data());
    }
    {
        const std::size_t rm = m - mid;
        auto bpc = [&](std::size_t i) { return pc(i0 + m - 1 - i); };
        auto btc = [&](std::size_t j) { return tc(j0 + n - 1 - j); };
        pattern_table<decltype(bpc)> table(buf.table, alphabet, rm, bpc);
        blocked_last_row(rm, n, table.row(0), table.blocks(), btc, buf, buf.backward_row.data());
    }
    std::size_t split = 0;
    std::size_t best = buf.forward_row[0] + buf.backward_row[n];
    for (std::size_t j = 1; j <= n; ++j) {
        const std::size_t total = buf.forward_row[j] + buf.backward_row[n - j];
        if (total < best) {
            best = total;
            split = j;
        }
    }
    bitparallel_align_linear(i0, mid, j0, split, alphabet, pc, tc, buf, out);
    bitparallel_align_linear(i0 + mid, m - mid, j0 + split, n - split, alphabet, pc, tc, buf, out);
}

}  // namespace selflearn::detail
