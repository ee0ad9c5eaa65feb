#pragma once
/// \file selflearn/detail/rewrite_state.hpp
/// Interning of utterances and the compact keys of the rewrite miner's counts.

#include <selflearn/error.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace selflearn::detail {

/// Transparent hash so that lookups by string_view do not allocate.
struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

/// Distinct utterances, numbered in order of first appearance. Memory: one copy of each distinct text.
class utterance_table {
public:
    std::uint32_t intern(std::string_view text) {
        if (auto it = index_.find(text); it != index_.end()) return it->second;
        if (texts_.size() >= 0x7fffffffu) throw invalid_argument("rewrite counts: more than 2^31 - 1 utterances");
        const auto id = static_cast<std::uint32_t>(texts_.size());
        auto it = index_.emplace(std::string(text), id).first;
        texts_.push_back(&it->first);
        return id;
    }
    [[nodiscard]] const std::string& text(std::uint32_t id) const noexcept { return *texts_[id]; }
    [[nodiscard]] std::size_t size() const noexcept { return texts_.size(); }
    [[nodiscard]] const std::uint32_t* find(std::string_view text) const {
        auto it = index_.find(text);
        return it == index_.end() ? nullptr : &it->second;
    }

private:
    std::unordered_map<std::string, std::uint32_t, string_hash, std::equal_to<>> index_;
    std::vector<const std::string*> texts_;
};

/// The key with the largest count (ties: the first in the map's order, the smallest text).
template <class Map>
std::string_view most_frequent(const Map& counts) {
    std::string_view best;
    std::uint64_t best_count = 0;
    for (const auto& [text, count] : counts) {
        if (count > best_count) {
            best = text;
            best_count = count;
        }
    }
    return best;
}

/// Key of a (from, to) transition: from id in the high half, the target code in the low half; the
/// target code is 2 * id for an utterance, 2 * id + 1 for "success at id", and 0xffffffff for failure.
inline constexpr std::uint32_t failure_code = 0xffffffffu;

inline std::uint64_t pair_key(std::uint32_t high, std::uint32_t low) noexcept {
    return (static_cast<std::uint64_t>(high) << 32) | low;
}

}  // namespace selflearn::detail
