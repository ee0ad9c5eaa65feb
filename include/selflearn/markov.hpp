#pragma once
/// \file selflearn/markov.hpp
/// Absorbing Markov chains (Kemeny and Snell, "Finite Markov Chains", 1960; Grinstead and Snell,
/// "Introduction to Probability", ch. 11) over states of any key type: mergeable and serialisable
/// transition counts, validation, the canonical form P = [[Q, R], [0, I]], absorption probabilities
/// B = N R, expected steps to absorption t = N 1 and their variance (2N - I) t - t*t, the fundamental
/// matrix N = (I - Q)^-1 and expected visits. Dense (Eigen matrices) and sparse (Eigen sparse) forms.
/// Knows nothing of text: the rewrite miner (rewrite.hpp) builds its chain from utterances.
///
/// Solving never forms an inverse unless N itself is asked for: it factorises I - Q (LU with partial
/// pivoting for dense blocks, Eigen's sparse LU for large strongly connected blocks) per connected
/// component of the transient graph, components in parallel. Results are checked: B >= 0 and every row
/// of B sums to 1 within the tolerance, or numerical_error is thrown.

#include <selflearn/detail/markov_codec.hpp>
#include <selflearn/detail/markov_graph.hpp>
#include <selflearn/detail/markov_solve.hpp>
#include <selflearn/error.hpp>

#include <Eigen/Core>
#include <Eigen/LU>
#include <Eigen/SparseCore>
#include <Eigen/SparseLU>

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>
#include <limits>
#include <optional>
#include <ostream>
#include <ranges>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace selflearn {

/// Some transient states can never reach an absorbing state (a closed class that is not absorbing), so
/// absorption probabilities do not exist. Found by a graph search before any solve. `states()` holds the
/// offending states' indices in the state order the chain was given (or built in); the message names up
/// to ten of them.
class unreachable_absorption : public invalid_argument {
public:
    unreachable_absorption(const std::string& message, std::vector<std::size_t> states)
        : invalid_argument(message), states_(std::move(states)) {}
    /// Indices of every transient state from which no absorbing state is reachable, ascending.
    [[nodiscard]] const std::vector<std::size_t>& states() const noexcept { return states_; }

private:
    std::vector<std::size_t> states_;
};

/// A transition given to absorbing_chain::from_probabilities is invalid: a probability outside [0, 1] or
/// not finite, a pair given twice, or a state whose probabilities do not sum to 1. `entry()` is the 0-based
/// index, in the order given, of the offending transition (the second of a pair given twice; the first
/// transition from the state whose row does not sum to 1), so a reader can name the file and line.
class transition_error : public invalid_argument {
public:
    /// O(message length).
    transition_error(const std::string& message, std::size_t entry) : invalid_argument(message), entry_(entry) {}
    /// Index of the offending transition in the input, 0-based. O(1).
    [[nodiscard]] std::size_t entry() const noexcept { return entry_; }

private:
    std::size_t entry_;
};

/// A line read by transition_counts::read is malformed or holds an invalid count. `line()` is the 1-based
/// line number in the stream (the message names it too), so a reader can report file:line.
class counts_line_error : public invalid_argument {
public:
    /// O(message length).
    counts_line_error(const std::string& message, std::size_t line) : invalid_argument(message), line_(line) {}
    /// The 1-based number of the offending line. O(1).
    [[nodiscard]] std::size_t line() const noexcept { return line_; }

private:
    std::size_t line_;
};

/// One transition of a chain given entry by entry: `value` is a count (transition_counts) or a
/// probability (absorbing_chain::from_probabilities).
template <class Key>
struct transition {
    Key from;
    Key to;
    double value;
    friend bool operator==(const transition&, const transition&) = default;
};

/// How keys are written in the text form of transition counts. Specialised for std::string and for
/// integral types; give your own type a codec with `static std::string encode(const Key&)` and
/// `static Key decode(std::string_view)` (decode throws invalid_argument on bad text).
template <class Key>
struct key_codec;

/// Keys that are strings are written as they are (escaped by the writer).
template <>
struct key_codec<std::string> {
    /// The key itself. O(length).
    static std::string encode(const std::string& key) { return key; }
    /// The text itself. O(length).
    static std::string decode(std::string_view text) { return std::string(text); }
};

/// Integral keys are written in decimal.
template <std::integral Key>
struct key_codec<Key> {
    /// Decimal text of the key.
    static std::string encode(Key key) { return fmt::format("{}", key); }
    /// Parses decimal text; throws invalid_argument if it is not an integer of the key's type.
    static Key decode(std::string_view text) {
        Key key{};
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), key);
        if (ec != std::errc{} || end != text.data() + text.size()) {
            throw invalid_argument(fmt::format("transition counts: '{}' is not a valid integer key", text));
        }
        return key;
    }
};

namespace detail {

template <class Key>
std::string describe_state(const Key& key, std::size_t index) {
    if constexpr (fmt::is_formattable<Key>::value) {
        return fmt::format("'{}'", key);
    } else {
        return fmt::format("#{}", index);
    }
}

/// The order in which a chain numbers its states: sorted when keys are totally ordered (so that the same
/// counts give the same chain, bit for bit, whatever order they were added or merged in), else first
/// appearance.
template <class Key>
void canonical_order(std::vector<const Key*>& keys) {
    if constexpr (std::totally_ordered<Key>) {
        std::sort(keys.begin(), keys.end(), [](const Key* a, const Key* b) { return *a < *b; });
    }
}

}  // namespace detail

/// Transition counts between states of type `Key`: a sparse table that can be added to, merged with
/// another table (counted on another shard) and written to / read from a text form, so a big log can be
/// counted in pieces and solved together. Counts are non-negative finite doubles (integer counts add
/// exactly up to 2^53, so merging in any order gives the same table).
template <class Key, class Hash = std::hash<Key>, class KeyEqual = std::equal_to<Key>>
class transition_counts {
public:
    using key_type = Key;

    /// Adds `count` observations of the transition from -> to (registering both states). O(1) expected.
    /// \throws invalid_argument when count is negative or not finite, or past 2^32 - 1 states.
    /// \throws invalid_argument (the table unchanged) when the sum of the pair's counts would overflow a
    ///         double, so that write() never writes a count that read() rejects.
    void add(const Key& from, const Key& to, double count = 1.0) {
        if (!(count >= 0.0) || !std::isfinite(count)) {
            throw invalid_argument(fmt::format("transition counts: count {} from state {} to state {} is {}",
                                               count, detail::describe_state(from, 0), detail::describe_state(to, 0),
                                               count < 0.0 ? "negative" : "not finite"));
        }
        const auto i = intern(from);
        const auto j = intern(to);
        if (count > 0.0) accumulate(pair_key(i, j), count, from, to);
    }

    /// Registers a state without transitions (an absorbing state unless transitions from it are added).
    /// O(1) expected. \throws invalid_argument past 2^32 - 1 states.
    void add_state(const Key& state) { intern(state); }

    /// Adds every count of `other` to this table. O(size of other) expected.
    /// \throws invalid_argument, this table unchanged, when a sum of counts would overflow a double.
    transition_counts& merge(const transition_counts& other) {
        for (const auto& [pair, count] : other.counts_) {
            const Key& from = *other.keys_[pair >> 32];
            const Key& to = *other.keys_[pair & 0xffffffffu];
            if (!std::isfinite(this->count(from, to) + count)) overflow(from, to, this->count(from, to), count);
        }
        for (const auto& [pair, count] : other.counts_) {
            const auto i = intern(*other.keys_[pair >> 32]);
            const auto j = intern(*other.keys_[pair & 0xffffffffu]);
            counts_[pair_key(i, j)] += count;
        }
        for (const Key* key : other.keys_) intern(*key);
        return *this;
    }
    /// Same as merge(other).
    transition_counts& operator+=(const transition_counts& other) { return merge(other); }

    /// Count of from -> to (0 when never seen). O(1) expected.
    [[nodiscard]] double count(const Key& from, const Key& to) const {
        const auto i = index_.find(from);
        const auto j = index_.find(to);
        if (i == index_.end() || j == index_.end()) return 0.0;
        const auto it = counts_.find(pair_key(i->second, j->second));
        return it == counts_.end() ? 0.0 : it->second;
    }

    /// Number of distinct states seen. O(1).
    [[nodiscard]] std::size_t state_count() const noexcept { return keys_.size(); }
    /// Number of distinct transitions with a positive count. O(1).
    [[nodiscard]] std::size_t size() const noexcept { return counts_.size(); }
    /// Whether no state was registered. O(1).
    [[nodiscard]] bool empty() const noexcept { return keys_.empty(); }

    /// The states, in the chain's canonical order (sorted when `Key` is totally ordered, else in order
    /// of first appearance). O(n log n).
    [[nodiscard]] std::vector<Key> states() const {
        auto order = ordered_keys();
        std::vector<Key> result;
        result.reserve(order.size());
        for (const Key* k : order) result.push_back(*k);
        return result;
    }

    /// Calls `f(const Key& from, const Key& to, double count)` for every transition, ordered by (from, to)
    /// in the canonical state order: the same table gives the same sequence however it was built.
    /// O(n log n + e log e).
    template <class F>
    void for_each(F&& f) const {
        auto order = ordered_keys();
        std::vector<std::uint32_t> rank(keys_.size());
        for (std::size_t r = 0; r < order.size(); ++r) rank[index_.find(*order[r])->second] = static_cast<std::uint32_t>(r);
        std::vector<std::pair<std::uint64_t, double>> entries;
        entries.reserve(counts_.size());
        for (const auto& [pair, count] : counts_) {
            entries.emplace_back(pair_key(rank[pair >> 32], rank[pair & 0xffffffffu]), count);
        }
        std::sort(entries.begin(), entries.end());
        for (const auto& [pair, count] : entries) f(*order[pair >> 32], *order[pair & 0xffffffffu], count);
    }

    /// Writes the table as text: one line per state with no outgoing transition ("S\t<state>") so that
    /// isolated states survive, then one line per transition ("<count>\t<from>\t<to>"), in the order of
    /// for_each. Tabs, newlines and backslashes in keys are escaped. O(n log n + e log e).
    template <class Codec = key_codec<Key>>
    void write(std::ostream& out) const {
        std::string line;
        std::vector<char> has_out(keys_.size(), 0);
        for (const auto& entry : counts_) has_out[entry.first >> 32] = 1;
        for (const Key* key : ordered_keys()) {
            if (has_out[index_.find(*key)->second] != 0) continue;
            line = "S\t";
            detail::escape_field(line, Codec::encode(*key));
            line += '\n';
            out << line;
        }
        for_each([&](const Key& from, const Key& to, double count) {
            line = detail::format_double(count);
            line += '\t';
            detail::escape_field(line, Codec::encode(from));
            line += '\t';
            detail::escape_field(line, Codec::encode(to));
            line += '\n';
            out << line;
        });
    }

    /// Reads lines written by write() and adds them to this table (so several files merge by reading
    /// them one after another). Blank lines are ignored.
    /// \throws counts_line_error (an invalid_argument) naming the line, with its number in line(), when a
    ///         line is malformed or a count or key is invalid.
    template <class Codec = key_codec<Key>>
    void read(std::istream& in) {
        std::string line;
        std::size_t number = 0;
        while (std::getline(in, line)) {
            ++number;
            try {
                read_line<Codec>(line, number);
            } catch (const counts_line_error&) {
                throw;
            } catch (const invalid_argument& e) {
                throw counts_line_error(e.what(), number);
            }
        }
    }

    /// Equal when both have the same states and the same counts. O(n + e) expected.
    friend bool operator==(const transition_counts& a, const transition_counts& b) {
        if (a.keys_.size() != b.keys_.size() || a.counts_.size() != b.counts_.size()) return false;
        for (const Key* key : a.keys_) {
            if (!b.index_.contains(*key)) return false;
        }
        for (const auto& [pair, count] : a.counts_) {
            if (b.count(*a.keys_[pair >> 32], *a.keys_[pair & 0xffffffffu]) != count) return false;
        }
        return true;
    }

    /// The states in canonical order, as pointers into this table (valid until it is destroyed).
    [[nodiscard]] std::vector<const Key*> ordered_keys() const {
        auto order = keys_;
        detail::canonical_order(order);
        return order;
    }
    /// Calls f(i, j, count) with indices into the order of first appearance (internal use by the chain).
    template <class F>
    void for_each_indexed(F&& f) const {
        for (const auto& [pair, count] : counts_) f(pair >> 32, pair & 0xffffffffu, count);
    }
    /// The index of a key in order of first appearance, if registered. O(1) expected.
    [[nodiscard]] std::optional<std::size_t> index_of(const Key& key) const {
        const auto it = index_.find(key);
        if (it == index_.end()) return std::nullopt;
        return it->second;
    }

private:
    // Reads one line of the format of write() (number: its 1-based line number, for messages).
    // Throws invalid_argument naming the line; read() turns it into counts_line_error.
    template <class Codec>
    void read_line(std::string_view line, std::size_t number) {
        {
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (line.empty()) return;
            const auto first = line.find('\t');
            if (first == std::string::npos) {
                throw invalid_argument(fmt::format("transition counts, line {}: expected tab-separated fields", number));
            }
            const std::string_view head(line.data(), first);
            const std::string_view rest(line.data() + first + 1, line.size() - first - 1);
            if (head == "S") {
                if (rest.find('\t') != std::string_view::npos) {
                    throw invalid_argument(fmt::format("transition counts, line {}: a state line has one key", number));
                }
                const std::string key = detail::unescape_field(rest, number);
                try {
                    add_state(Codec::decode(key));
                } catch (const invalid_argument& e) {
                    throw invalid_argument(fmt::format("transition counts, line {}: {}", number, e.what()));
                }
                return;
            }
            const auto second = rest.find('\t');
            if (second == std::string_view::npos || rest.find('\t', second + 1) != std::string_view::npos) {
                throw invalid_argument(
                    fmt::format("transition counts, line {}: expected 'count<TAB>from<TAB>to'", number));
            }
            double count = 0;
            const auto [end, ec] = std::from_chars(head.data(), head.data() + head.size(), count);
            if (ec != std::errc{} || end != head.data() + head.size()) {
                throw invalid_argument(fmt::format("transition counts, line {}: '{}' is not a count", number, head));
            }
            const std::string from = detail::unescape_field(rest.substr(0, second), number);
            const std::string to = detail::unescape_field(rest.substr(second + 1), number);
            try {
                add(Codec::decode(from), Codec::decode(to), count);
            } catch (const invalid_argument& e) {
                throw invalid_argument(fmt::format("transition counts, line {}: {}", number, e.what()));
            }
        }
    }

    static std::uint64_t pair_key(std::uint64_t i, std::uint64_t j) noexcept { return (i << 32) | j; }

    void accumulate(std::uint64_t pair, double count, const Key& from, const Key& to) {
        double& slot = counts_[pair];
        if (!std::isfinite(slot + count)) {
            const double before = slot;
            if (before == 0.0) counts_.erase(pair);
            overflow(from, to, before, count);
        }
        slot += count;
    }

    [[noreturn]] static void overflow(const Key& from, const Key& to, double before, double count) {
        throw invalid_argument(fmt::format("transition counts: count {} from state {} to state {} overflows a double "
                                           "when added to {}",
                                           count, detail::describe_state(from, 0), detail::describe_state(to, 0),
                                           before));
    }

    std::uint32_t intern(const Key& key) {
        auto it = index_.find(key);
        if (it != index_.end()) return it->second;
        if (keys_.size() >= 0xffffffffu) throw invalid_argument("transition counts: more than 2^32 - 1 states");
        const auto id = static_cast<std::uint32_t>(keys_.size());
        it = index_.emplace(key, id).first;
        keys_.push_back(&it->first);
        return id;
    }

    std::unordered_map<Key, std::uint32_t, Hash, KeyEqual> index_;
    std::vector<const Key*> keys_;  // by id, pointing into index_ (node-based, so stable)
    std::unordered_map<std::uint64_t, double> counts_;
};

/// Options of solve().
struct solve_options {
    /// Worker threads for independent components; 0 means std::thread::hardware_concurrency().
    unsigned threads = 0;
    /// Strongly connected blocks up to this many states are factorised densely; larger ones with sparse LU.
    std::size_t dense_limit = 256;
    /// Tolerance of the result checks: rows of B sum to 1 and entries are >= 0 within it (entries in
    /// [-tolerance, 0) are rounding and stored as 0).
    double tolerance = 1e-9;
};

/// Absorption probabilities, expected steps and their variance of every transient state, indexed like
/// the chain's transient_states() (rows) and absorbing_states() (columns).
struct absorption {
    /// B(i, a): probability that the chain started in transient state i is absorbed in absorbing state a.
    /// Row-major sparse; only reachable absorbing states are stored, exact zeros are not.
    Eigen::SparseMatrix<double, Eigen::RowMajor> probabilities;
    /// t(i): expected number of steps before absorption from transient state i (t = N 1).
    Eigen::VectorXd expected_steps;
    /// Variance of the number of steps before absorption ((2N - I) t - t*t).
    Eigen::VectorXd variance;
    /// Number of connected components of the transient graph, the largest one's size, the largest
    /// strongly connected block and how many blocks were factorised by sparse LU.
    std::size_t components = 0;
    std::size_t largest_component = 0;
    std::size_t largest_block = 0;
    std::size_t sparse_factorisations = 0;
};

/// An absorbing chain in canonical form: transient states (Q is transient -> transient), absorbing
/// states (R is transient -> absorbing), both as row-major sparse matrices. The near-absorbing rule,
/// applied the same way by every constructor, solve, solve_dense, fundamental_matrix and
/// expected_visits: a state is absorbing exactly when it has no transition of positive probability to
/// another state (no outgoing transition, or only its self loop). A state whose self loop is 1.0 in
/// double next to a tiny exit (say 1e-24) is transient; its exits decide where it is absorbed, and the
/// diagonal of I - Q is the sum of its exits, never 1 - P(i, i) (which would be 0). Closed recurrent
/// classes of more than one state are not absorbing (R's markovchain absorbs into them): transient
/// states that can only reach such a class raise unreachable_absorption. Construction validates the chain and
/// throws on negative or non-finite entries, rows that do not sum to 1 (probability input) and transient
/// states that cannot reach an absorbing state (unreachable_absorption, found by graph search).
template <class Key, class Hash = std::hash<Key>, class KeyEqual = std::equal_to<Key>>
class absorbing_chain {
public:
    using key_type = Key;
    using sparse_matrix = Eigen::SparseMatrix<double, Eigen::RowMajor>;

    /// Chain whose transition probabilities are the counts divided by their row sums (a row whose sum
    /// overflows a double is divided by its largest count first, so it keeps its proportions). States are in
    /// canonical order (sorted when Key is totally ordered, else first appearance). O(e log e + n log n).
    /// \throws unreachable_absorption (see class).
    static absorbing_chain from_counts(const transition_counts<Key, Hash, KeyEqual>& counts) {
        const auto order = counts.ordered_keys();
        std::vector<std::size_t> rank(order.size());
        for (std::size_t r = 0; r < order.size(); ++r) rank[*counts.index_of(*order[r])] = r;
        std::vector<Key> states;
        states.reserve(order.size());
        for (const Key* k : order) states.push_back(*k);
        std::vector<entry> entries;
        entries.reserve(counts.size());
        counts.for_each_indexed([&](std::size_t i, std::size_t j, double c) { entries.push_back({rank[i], rank[j], c, no_source}); });
        return build(std::move(states), std::move(entries), std::nullopt);
    }

    /// Chain from transition probabilities given entry by entry (a state that only appears as `to` is
    /// absorbing; a pair given twice is an error). Rows must sum to 1 within `tolerance` and are then
    /// rescaled to sum to 1. States in canonical order. O(e log e + n log n).
    /// \throws transition_error (an invalid_argument; entry() is the index of the offending transition) for
    ///         a probability outside [0, 1] or not finite, a pair given twice, or a row whose sum is off by
    ///         more than `tolerance` (naming the state and the sum); unreachable_absorption.
    template <std::ranges::input_range Range>
        requires std::convertible_to<std::ranges::range_reference_t<Range>, const transition<Key>&>
    static absorbing_chain from_probabilities(const Range& transitions, double tolerance = 1e-9) {
        transition_counts<Key, Hash, KeyEqual> seen;
        std::vector<std::tuple<std::size_t, std::size_t, double>> raw;
        for (const transition<Key>& tr : transitions) {
            try {
                check_probability(tr.value, detail::describe_state(tr.from, 0), detail::describe_state(tr.to, 0));
            } catch (const invalid_argument& e) {
                throw transition_error(e.what(), raw.size());
            }
            seen.add_state(tr.from);
            seen.add_state(tr.to);
            raw.emplace_back(*seen.index_of(tr.from), *seen.index_of(tr.to), tr.value);
        }
        const auto order = seen.ordered_keys();
        std::vector<std::size_t> rank(order.size());
        for (std::size_t r = 0; r < order.size(); ++r) rank[*seen.index_of(*order[r])] = r;
        std::vector<Key> states;
        states.reserve(order.size());
        for (const Key* k : order) states.push_back(*k);
        std::vector<entry> entries;
        entries.reserve(raw.size());
        for (std::size_t e = 0; e < raw.size(); ++e) {
            const auto& [i, j, p] = raw[e];
            entries.push_back({rank[i], rank[j], p, e});
        }
        return build(std::move(states), std::move(entries), tolerance);
    }

    /// Chain from a dense transition matrix P (row i: probabilities from states[i]); rows of zeros are
    /// absorbing states, as are rows whose only non-zero is P(i, i) (the near-absorbing rule of the
    /// class). States keep the given order. O(n^2).
    /// \throws invalid_argument when P is not square or does not match `states`, a key repeats, an
    ///         entry is outside [0, 1] or not finite, or a non-zero row does not sum to 1 within
    ///         `tolerance`; unreachable_absorption.
    static absorbing_chain from_dense(std::vector<Key> states, const Eigen::Ref<const Eigen::MatrixXd>& p,
                                      double tolerance = 1e-9) {
        check_shape(states.size(), p.rows(), p.cols());
        std::vector<entry> entries;
        for (Eigen::Index i = 0; i < p.rows(); ++i) {
            for (Eigen::Index j = 0; j < p.cols(); ++j) {
                const double v = p(i, j);
                if (v != 0.0 || !std::isfinite(v)) {
                    check_probability(v, fmt::format("row {}", i), fmt::format("column {}", j));
                    entries.push_back({static_cast<std::size_t>(i), static_cast<std::size_t>(j), v, no_source});
                }
            }
        }
        return build(std::move(states), std::move(entries), tolerance);
    }

    /// Chain from a sparse transition matrix (any storage order); same rules as from_dense.
    /// O(nnz log nnz + n). \throws as from_dense.
    template <int Options, class Index>
    static absorbing_chain from_sparse(std::vector<Key> states, const Eigen::SparseMatrix<double, Options, Index>& p,
                                       double tolerance = 1e-9) {
        check_shape(states.size(), p.rows(), p.cols());
        std::vector<entry> entries;
        entries.reserve(static_cast<std::size_t>(p.nonZeros()));
        for (Eigen::Index o = 0; o < p.outerSize(); ++o) {
            for (typename Eigen::SparseMatrix<double, Options, Index>::InnerIterator it(p, o); it; ++it) {
                if (it.value() == 0.0) continue;
                check_probability(it.value(), fmt::format("row {}", it.row()), fmt::format("column {}", it.col()));
                entries.push_back(
                    {static_cast<std::size_t>(it.row()), static_cast<std::size_t>(it.col()), it.value(), no_source});
            }
        }
        return build(std::move(states), std::move(entries), tolerance);
    }

    /// The transient states, in canonical order (the rows of Q, R and of every result). O(1).
    [[nodiscard]] const std::vector<Key>& transient_states() const noexcept { return transient_; }
    /// The absorbing states, in canonical order (the columns of R and B). O(1).
    [[nodiscard]] const std::vector<Key>& absorbing_states() const noexcept { return absorbing_; }
    /// Index of a transient state, or nullopt (unknown or absorbing). O(1) expected.
    [[nodiscard]] std::optional<std::size_t> transient_index(const Key& key) const { return lookup(key, false); }
    /// Index of an absorbing state, or nullopt (unknown or transient). O(1) expected.
    [[nodiscard]] std::optional<std::size_t> absorbing_index(const Key& key) const { return lookup(key, true); }
    /// Q: transient -> transient probabilities (row-major sparse). O(1).
    [[nodiscard]] const sparse_matrix& q() const noexcept { return q_; }
    /// R: transient -> absorbing probabilities (row-major sparse). O(1).
    [[nodiscard]] const sparse_matrix& r() const noexcept { return r_; }

    /// The canonical form P = [[Q, R], [0, I]] as a dense matrix (transient states first, then absorbing).
    /// O(n^2) memory. \throws invalid_argument when there are more than `max_states` states.
    [[nodiscard]] Eigen::MatrixXd canonical_matrix(std::size_t max_states = 4096) const {
        const std::size_t n = transient_.size() + absorbing_.size();
        guard(n, max_states, "canonical_matrix");
        const auto t = static_cast<Eigen::Index>(transient_.size());
        Eigen::MatrixXd p = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
        p.topLeftCorner(t, t) = Eigen::MatrixXd(q_);
        p.topRightCorner(t, r_.cols()) = Eigen::MatrixXd(r_);
        p.bottomRightCorner(r_.cols(), r_.cols()).setIdentity();
        return p;
    }

private:
    static constexpr std::size_t no_source = std::numeric_limits<std::size_t>::max();
    struct entry {
        std::size_t from;
        std::size_t to;
        double value;
        std::size_t source;  // index in the input of from_probabilities, or no_source
    };

    static void check_probability(double v, const std::string& from, const std::string& to) {
        if (!std::isfinite(v) || v < 0.0 || v > 1.0) {
            throw invalid_argument(fmt::format("absorbing chain: probability {} from {} to {} is {}", v, from, to,
                                               !std::isfinite(v) ? "not finite" : "outside [0, 1]"));
        }
    }

    static void check_shape(std::size_t states, Eigen::Index rows, Eigen::Index cols) {
        if (rows != cols || static_cast<std::size_t>(rows) != states) {
            throw invalid_argument(fmt::format("absorbing chain: transition matrix is {}x{} for {} states", rows,
                                               cols, states));
        }
    }

    static void guard(std::size_t n, std::size_t max_states, const char* what) {
        if (n > max_states) {
            throw invalid_argument(fmt::format("absorbing chain: {} of {} states exceeds the size guard of {} "
                                               "(raise max_states to allow it)",
                                               what, n, max_states));
        }
    }

    std::optional<std::size_t> lookup(const Key& key, bool absorbing) const {
        const auto it = index_.find(key);
        if (it == index_.end() || it->second.second != absorbing) return std::nullopt;
        return it->second.first;
    }

    // Shared construction: `entries` index `states`; tolerance is set for probability input (row sums are
    // checked and rescaled), unset for counts (rows are divided by their sums).
    static absorbing_chain build(std::vector<Key> states, std::vector<entry> entries, std::optional<double> tolerance) {
        const std::size_t n = states.size();
        absorbing_chain chain;
        chain.index_.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            if (!chain.index_.emplace(states[i], std::pair<std::size_t, bool>{i, false}).second) {
                throw invalid_argument(fmt::format("absorbing chain: state {} is given twice",
                                                   detail::describe_state(states[i], i)));
            }
        }
        std::sort(entries.begin(), entries.end(),
                  [](const entry& a, const entry& b) { return a.from != b.from ? a.from < b.from : a.to < b.to; });
        std::vector<double> row_sum(n, 0.0);
        std::vector<std::size_t> row_source(n, no_source);  // first input entry of each row
        for (std::size_t e = 0; e < entries.size(); ++e) {
            if (e > 0 && entries[e].from == entries[e - 1].from && entries[e].to == entries[e - 1].to) {
                const std::string message = fmt::format(
                    "absorbing chain: transition from {} to {} is given twice",
                    detail::describe_state(states[entries[e].from], entries[e].from),
                    detail::describe_state(states[entries[e].to], entries[e].to));
                if (entries[e].source == no_source) throw invalid_argument(message);
                // The second occurrence in input order: the second smallest source of the group of equal
                // pairs, which starts at e - 1 (std::sort is not stable).
                std::size_t first = no_source, second = no_source;
                for (std::size_t f = e - 1;
                     f < entries.size() && entries[f].from == entries[e].from && entries[f].to == entries[e].to; ++f) {
                    if (entries[f].source < first) {
                        second = first;
                        first = entries[f].source;
                    } else if (entries[f].source < second) {
                        second = entries[f].source;
                    }
                }
                throw transition_error(message, second);
            }
            row_sum[entries[e].from] += entries[e].value;
            row_source[entries[e].from] = std::min(row_source[entries[e].from], entries[e].source);
        }
        // A row whose sum overflows a double (counts near DBL_MAX) is divided by its largest entry first;
        // every other row keeps scale 1, so its probabilities are value / sum exactly as before.
        std::vector<double> row_scale(n, 1.0);
        for (std::size_t e = 0; e < entries.size();) {
            const std::size_t from = entries[e].from;
            std::size_t end = e;
            double largest = 0.0;
            while (end < entries.size() && entries[end].from == from) largest = std::max(largest, entries[end++].value);
            if (!std::isfinite(row_sum[from])) {
                row_scale[from] = largest;
                row_sum[from] = 0.0;
                for (std::size_t f = e; f < end; ++f) row_sum[from] += entries[f].value / largest;
            }
            e = end;
        }
        // Classify (the near-absorbing rule): a state is absorbing exactly when it has no transition of
        // positive probability to another state. A self loop of 1.0 next to a tiny exit is transient.
        // Transitions of probability 0 are not transitions: they neither make a state transient nor appear in Q or R.
        std::erase_if(entries, [](const entry& e) { return e.value == 0.0; });
        std::vector<char> is_absorbing(n, 1);
        for (const auto& e : entries) {
            if (e.from != e.to) is_absorbing[e.from] = 0;
        }
        for (std::size_t i = 0; i < n; ++i) {
            if (row_sum[i] != 0.0 && tolerance && !(std::abs(row_sum[i] - 1.0) <= *tolerance)) {
                const std::string message = fmt::format(
                    "absorbing chain: probabilities from state {} sum to {:.17g}, not 1 (tolerance {})",
                    detail::describe_state(states[i], i), row_sum[i], *tolerance);
                if (row_source[i] == no_source) throw invalid_argument(message);
                throw transition_error(message, row_source[i]);
            }
        }
        std::vector<std::size_t> position(n);
        std::size_t transient = 0, absorbing = 0;
        for (std::size_t i = 0; i < n; ++i) {
            position[i] = is_absorbing[i] != 0 ? absorbing++ : transient++;
            chain.index_.find(states[i])->second = {position[i], is_absorbing[i] != 0};
        }
        chain.transient_.reserve(transient);
        chain.absorbing_.reserve(absorbing);
        std::vector<std::size_t> transient_to_state;
        transient_to_state.reserve(transient);
        for (std::size_t i = 0; i < n; ++i) {
            if (is_absorbing[i] != 0) {
                chain.absorbing_.push_back(std::move(states[i]));
            } else {
                chain.transient_.push_back(std::move(states[i]));
                transient_to_state.push_back(i);
            }
        }
        // Fill Q and R in CSR form directly: entries are sorted by row, then column, and positions keep the
        // state order within each class, so rows come in order with ascending columns (no triplet copies).
        using storage = typename sparse_matrix::StorageIndex;
        chain.q_.resize(static_cast<Eigen::Index>(transient), static_cast<Eigen::Index>(transient));
        chain.r_.resize(static_cast<Eigen::Index>(transient), static_cast<Eigen::Index>(absorbing));
        std::size_t q_nonzeros = 0, r_nonzeros = 0;
        for (const auto& e : entries) {
            if (is_absorbing[e.from] == 0) ++(is_absorbing[e.to] != 0 ? r_nonzeros : q_nonzeros);
        }
        chain.q_.resizeNonZeros(static_cast<Eigen::Index>(q_nonzeros));
        chain.r_.resizeNonZeros(static_cast<Eigen::Index>(r_nonzeros));
        storage q_next = 0, r_next = 0;
        std::size_t e = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (is_absorbing[i] != 0) {
                while (e < entries.size() && entries[e].from == i) ++e;
                continue;
            }
            chain.q_.outerIndexPtr()[position[i]] = q_next;
            chain.r_.outerIndexPtr()[position[i]] = r_next;
            for (; e < entries.size() && entries[e].from == i; ++e) {
                const double p = entries[e].value / row_scale[i] / row_sum[i];
                const auto col = static_cast<storage>(position[entries[e].to]);
                if (is_absorbing[entries[e].to] != 0) {
                    chain.r_.innerIndexPtr()[r_next] = col;
                    chain.r_.valuePtr()[r_next++] = p;
                } else {
                    chain.q_.innerIndexPtr()[q_next] = col;
                    chain.q_.valuePtr()[q_next++] = p;
                }
            }
        }
        chain.q_.outerIndexPtr()[transient] = q_next;
        chain.r_.outerIndexPtr()[transient] = r_next;
        std::vector<entry>().swap(entries);
        const auto stuck = detail::unreachable_states(chain.q_, chain.r_);
        if (!stuck.empty()) {
            std::string names;
            std::vector<std::size_t> original;
            original.reserve(stuck.size());
            for (std::size_t k = 0; k < stuck.size(); ++k) {
                original.push_back(transient_to_state[stuck[k]]);
                if (k < 10) {
                    names += (k == 0 ? "" : ", ") +
                             detail::describe_state(chain.transient_[stuck[k]], transient_to_state[stuck[k]]);
                }
            }
            if (stuck.size() > 10) names += fmt::format(" and {} more", stuck.size() - 10);
            throw unreachable_absorption(
                fmt::format("absorbing chain: no absorbing state can be reached from {} transient state{}: {}",
                            stuck.size(), stuck.size() == 1 ? "" : "s", names),
                std::move(original));
        }
        return chain;
    }

    std::vector<Key> transient_;
    std::vector<Key> absorbing_;
    std::unordered_map<Key, std::pair<std::size_t, bool>, Hash, KeyEqual> index_;  // (position, absorbing)
    sparse_matrix q_;
    sparse_matrix r_;
};

/// Absorption probabilities B = N R, expected steps t = N 1 and their variance (2N - I) t - t*t of every
/// transient state. Solved per connected component of the transient graph (components in parallel on
/// `options.threads` threads; the result does not depend on the thread count), and inside a component
/// per strongly connected block in reverse topological order: a one-state block is a division, a block
/// of up to options.dense_limit states is factorised by dense LU with partial pivoting, a larger one by
/// Eigen's sparse LU. Time: O(nnz(Q) + nnz(R) + the fill of the blocks' factorisations + nnz(B) times the
/// out-degree); memory proportional to nnz(Q) + nnz(R) + nnz(B).
/// \throws numerical_error when a check fails (B < -tolerance, or a row of B does not sum to 1 within
///         the tolerance), naming the state; invalid_argument when the tolerance is negative or not
///         finite or dense_limit is 0.
template <class Key, class Hash, class KeyEqual>
[[nodiscard]] absorption solve(const absorbing_chain<Key, Hash, KeyEqual>& chain, const solve_options& options = {}) {
    if (!(options.tolerance >= 0.0) || !std::isfinite(options.tolerance) || options.dense_limit == 0) {
        throw invalid_argument(fmt::format("solve: tolerance must be finite and >= 0 (got {}) and dense_limit >= 1 "
                                           "(got {})",
                                           options.tolerance, options.dense_limit));
    }
    const std::function<std::string(std::size_t)> name_of = [&](std::size_t i) {
        return detail::describe_state(chain.transient_states()[i], i);
    };
    auto out = detail::solve_components(chain.q(), chain.r(),
                                        {.threads = options.threads, .dense_limit = options.dense_limit,
                                         .tolerance = options.tolerance},
                                        name_of);
    absorption result;
    result.probabilities = std::move(out.b);
    result.expected_steps = std::move(out.t);
    result.variance = std::move(out.variance);
    result.components = out.components;
    result.largest_component = out.largest_component;
    result.largest_block = out.largest_block;
    result.sparse_factorisations = out.sparse_factorisations;
    return result;
}

/// The fundamental matrix N = (I - Q)^-1 as a dense matrix: N(i, j) is the expected number of visits to
/// transient state j starting from transient state i. O(n^3) time, O(n^2) memory.
/// \throws invalid_argument when there are more than `max_states` transient states.
template <class Key, class Hash, class KeyEqual>
[[nodiscard]] Eigen::MatrixXd fundamental_matrix(const absorbing_chain<Key, Hash, KeyEqual>& chain,
                                                 std::size_t max_states = 4096) {
    const auto n = static_cast<Eigen::Index>(chain.transient_states().size());
    if (chain.transient_states().size() > max_states) {
        throw invalid_argument(fmt::format("absorbing chain: fundamental matrix of {} transient states exceeds the "
                                           "size guard of {} (raise max_states to allow it)",
                                           n, max_states));
    }
    Eigen::MatrixXd a = -Eigen::MatrixXd(chain.q());
    for (Eigen::Index i = 0; i < n; ++i) a(i, i) = detail::exit_sum(chain.q(), chain.r(), i);
    return Eigen::PartialPivLU<Eigen::MatrixXd>(a).inverse();
}

/// Expected visits to every transient state starting from transient state `from`: row `from` of N, as a
/// sparse vector over the transient states (only states reachable from `from` are stored). Solves
/// (I - Q_SS)^T x = e_from over the set S reachable from `from` with sparse LU, without forming N.
/// \throws invalid_argument when `from` is not a transient state of the chain.
template <class Key, class Hash, class KeyEqual>
[[nodiscard]] Eigen::SparseVector<double> expected_visits(const absorbing_chain<Key, Hash, KeyEqual>& chain,
                                                          const Key& from) {
    const auto start = chain.transient_index(from);
    if (!start) {
        throw invalid_argument(fmt::format("expected_visits: {} is not a transient state of the chain",
                                           detail::describe_state(from, 0)));
    }
    const auto& q = chain.q();
    const auto n = static_cast<std::size_t>(q.rows());
    std::vector<std::size_t> reach{*start};
    std::vector<std::ptrdiff_t> local(n, -1);
    local[*start] = 0;
    for (std::size_t head = 0; head < reach.size(); ++head) {
        for (typename absorbing_chain<Key, Hash, KeyEqual>::sparse_matrix::InnerIterator it(
                 q, static_cast<Eigen::Index>(reach[head]));
             it; ++it) {
            const auto j = static_cast<std::size_t>(it.col());
            if (local[j] < 0) {
                local[j] = static_cast<std::ptrdiff_t>(reach.size());
                reach.push_back(j);
            }
        }
    }
    const auto m = static_cast<Eigen::Index>(reach.size());
    std::vector<Eigen::Triplet<double>> triplets;
    for (std::size_t a = 0; a < reach.size(); ++a) {
        const auto g = static_cast<Eigen::Index>(reach[a]);
        triplets.emplace_back(static_cast<int>(a), static_cast<int>(a), detail::exit_sum(q, chain.r(), g));
        for (typename absorbing_chain<Key, Hash, KeyEqual>::sparse_matrix::InnerIterator it(q, g); it; ++it) {
            if (it.col() == g) continue;  // the diagonal is the sum of the exits
            // Transposed: entry (col, row) of I - Q.
            triplets.emplace_back(static_cast<int>(local[static_cast<std::size_t>(it.col())]), static_cast<int>(a),
                                  -it.value());
        }
    }
    Eigen::SparseMatrix<double> at(m, m);
    at.setFromTriplets(triplets.begin(), triplets.end());
    Eigen::SparseLU<Eigen::SparseMatrix<double>, Eigen::COLAMDOrdering<int>> lu;
    lu.analyzePattern(at);
    lu.factorize(at);
    if (lu.info() != Eigen::Success) {
        throw numerical_error(fmt::format("expected_visits: sparse LU failed from state {}: {}",
                                          detail::describe_state(from, 0), lu.lastErrorMessage()));
    }
    Eigen::VectorXd e = Eigen::VectorXd::Zero(m);
    e[0] = 1.0;
    const Eigen::VectorXd x = lu.solve(e);
    std::vector<std::pair<std::size_t, double>> sorted;
    sorted.reserve(reach.size());
    for (std::size_t a = 0; a < reach.size(); ++a) sorted.emplace_back(reach[a], x[static_cast<Eigen::Index>(a)]);
    std::sort(sorted.begin(), sorted.end());
    Eigen::SparseVector<double> result(static_cast<Eigen::Index>(n));
    result.reserve(static_cast<Eigen::Index>(sorted.size()));
    for (const auto& [j, v] : sorted) result.insertBack(static_cast<Eigen::Index>(j)) = v;
    return result;
}

/// Absorption results of a dense chain in canonical form (solve_dense, dense_solver).
struct dense_absorption {
    /// B = N R: transient x absorbing absorption probabilities.
    Eigen::MatrixXd probabilities;
    /// t = N 1: expected steps before absorption.
    Eigen::VectorXd expected_steps;
    /// (2N - I) t - t*t: variance of the steps before absorption.
    Eigen::VectorXd variance;
};

/// Solves dense chains given in canonical form (Q: transient x transient, R: transient x absorbing),
/// reusing its workspace between calls: for batches of small chains. Not thread-safe; use one per thread.
class dense_solver {
public:
    /// Validates (entries finite and in [0, 1], rows of [Q R] summing to 1 within `tolerance`, an
    /// absorbing state reachable from every transient state) and solves (I - Q) [B t] = [R 1] and
    /// (I - Q) y = t with one LU factorisation (partial pivoting), then checks B. The result stays valid
    /// until the next call. O(n^3 + n^2 a).
    /// \throws invalid_argument (shapes, entries, row sums), unreachable_absorption, numerical_error.
    const dense_absorption& solve(const Eigen::Ref<const Eigen::MatrixXd>& q, const Eigen::Ref<const Eigen::MatrixXd>& r,
                                  double tolerance = 1e-9) {
        const Eigen::Index n = q.rows();
        const Eigen::Index a = r.cols();
        if (q.cols() != n || r.rows() != n) {
            throw invalid_argument(fmt::format("dense chain: Q is {}x{} and R is {}x{}; Q must be square and R "
                                               "must have as many rows",
                                               q.rows(), q.cols(), r.rows(), r.cols()));
        }
        for (Eigen::Index i = 0; i < n; ++i) {
            double sum = 0.0;
            for (Eigen::Index j = 0; j < n; ++j) sum += checked(q(i, j), "Q", i, j);
            for (Eigen::Index j = 0; j < a; ++j) sum += checked(r(i, j), "R", i, j);
            if (!(std::abs(sum - 1.0) <= tolerance)) {
                throw invalid_argument(fmt::format("dense chain: row {} of [Q R] sums to {:.17g}, not 1 (tolerance {})",
                                                   i, sum, tolerance));
            }
        }
        check_reachable(q, r);
        // I - Q with its diagonal from the row's exits (the near-absorbing rule of absorbing_chain).
        a_ = -q;
        for (Eigen::Index i = 0; i < n; ++i) {
            double exits = 0.0;
            for (Eigen::Index j = 0; j < a; ++j) exits += r(i, j);
            for (Eigen::Index j = 0; j < n; ++j) {
                if (j != i) exits += q(i, j);
            }
            a_(i, i) = exits;
        }
        lu_.compute(a_);
        rhs_.resize(n, a + 1);
        rhs_.leftCols(a) = r;
        rhs_.col(a).setOnes();
        x_.noalias() = lu_.solve(rhs_);
        result_.probabilities = x_.leftCols(a);
        result_.expected_steps = x_.col(a);
        y_.noalias() = lu_.solve(result_.expected_steps);
        result_.variance.resize(n);
        for (Eigen::Index i = 0; i < n; ++i) {
            double sum = 0.0;
            for (Eigen::Index j = 0; j < a; ++j) {
                double& b = result_.probabilities(i, j);
                if (!(b >= -tolerance)) {
                    throw numerical_error(fmt::format("dense chain: absorption probability {} < 0 from row {} into "
                                                      "column {}",
                                                      b, i, j));
                }
                if (b < 0.0) b = 0.0;
                sum += b;
            }
            if (!(std::abs(sum - 1.0) <= tolerance)) {
                throw numerical_error(fmt::format("dense chain: absorption probabilities of row {} sum to {:.17g}, "
                                                  "not 1 (tolerance {})",
                                                  i, sum, tolerance));
            }
            const double t = result_.expected_steps[i];
            const double v = 2.0 * y_[i] - t - t * t;
            result_.variance[i] = v < 0.0 && v >= -tolerance * std::max(1.0, t * t) ? 0.0 : v;
        }
        return result_;
    }

private:
    static double checked(double v, const char* block, Eigen::Index i, Eigen::Index j) {
        if (!std::isfinite(v) || v < 0.0 || v > 1.0) {
            throw invalid_argument(fmt::format("dense chain: {}({}, {}) = {} is {}", block, i, j, v,
                                               !std::isfinite(v) ? "not finite" : "outside [0, 1]"));
        }
        return v;
    }

    void check_reachable(const Eigen::Ref<const Eigen::MatrixXd>& q, const Eigen::Ref<const Eigen::MatrixXd>& r) {
        const Eigen::Index n = q.rows();
        reached_.assign(static_cast<std::size_t>(n), 0);
        queue_.clear();
        for (Eigen::Index i = 0; i < n; ++i) {
            if ((r.row(i).array() > 0.0).any()) {
                reached_[static_cast<std::size_t>(i)] = 1;
                queue_.push_back(i);
            }
        }
        for (std::size_t head = 0; head < queue_.size(); ++head) {
            const Eigen::Index j = queue_[head];
            for (Eigen::Index i = 0; i < n; ++i) {
                if (reached_[static_cast<std::size_t>(i)] == 0 && q(i, j) > 0.0) {
                    reached_[static_cast<std::size_t>(i)] = 1;
                    queue_.push_back(i);
                }
            }
        }
        std::vector<std::size_t> stuck;
        std::string names;
        for (Eigen::Index i = 0; i < n; ++i) {
            if (reached_[static_cast<std::size_t>(i)] != 0) continue;
            if (stuck.size() < 10) names += fmt::format("{}{}", stuck.empty() ? "" : ", ", i);
            stuck.push_back(static_cast<std::size_t>(i));
        }
        if (!stuck.empty()) {
            if (stuck.size() > 10) names += fmt::format(" and {} more", stuck.size() - 10);
            auto message = fmt::format("dense chain: no absorbing state can be reached from {} transient row{}: {}",
                                       stuck.size(), stuck.size() == 1 ? "" : "s", names);
            throw unreachable_absorption(message, std::move(stuck));
        }
    }

    Eigen::MatrixXd a_, rhs_, x_;
    Eigen::VectorXd y_;
    Eigen::PartialPivLU<Eigen::MatrixXd> lu_;
    dense_absorption result_;
    std::vector<char> reached_;
    std::vector<Eigen::Index> queue_;
};

/// Solves one dense chain in canonical form (see dense_solver::solve). O(n^3 + n^2 a).
/// \throws as dense_solver::solve.
[[nodiscard]] inline dense_absorption solve_dense(const Eigen::Ref<const Eigen::MatrixXd>& q,
                                                  const Eigen::Ref<const Eigen::MatrixXd>& r, double tolerance = 1e-9) {
    dense_solver solver;
    return solver.solve(q, r, tolerance);
}

}  // namespace selflearn
