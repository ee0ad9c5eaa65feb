#pragma once
/// \file selflearn/vocabulary.hpp
/// Interning of tokens into dense integer ids, so that alignment runs on integers.

#include <selflearn/error.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <fmt/core.h>

namespace selflearn {

/// A bidirectional map between strings and dense ids 0, 1, 2, ... in order of first appearance.
/// Ids are stable: interning more words never changes an existing id.
class vocabulary {
public:
    using id_type = std::uint32_t;

    vocabulary() = default;
    /// Copies rebuild the index, whose keys point into this object's own strings.
    vocabulary(const vocabulary& other) : words_(other.words_) { reindex(); }
    vocabulary& operator=(const vocabulary& other) {
        if (this != &other) {
            words_ = other.words_;
            reindex();
        }
        return *this;
    }
    vocabulary(vocabulary&&) noexcept = default;  // a moved deque keeps its elements where they are
    vocabulary& operator=(vocabulary&&) noexcept = default;
    ~vocabulary() = default;

    /// The id of `word`, adding it when new. Amortised O(|word|).
    /// \throws invalid_argument when the vocabulary already holds 2^32 - 1 words.
    id_type intern(std::string_view word) {
        if (auto it = ids_.find(word); it != ids_.end()) return it->second;
        if (words_.size() >= std::numeric_limits<id_type>::max()) {
            throw invalid_argument("vocabulary is full: it cannot hold more than 2^32 - 1 words");
        }
        const auto id = static_cast<id_type>(words_.size());
        words_.emplace_back(word);
        ids_.emplace(std::string_view(words_.back()), id);  // deque keeps the string's address stable
        return id;
    }

    /// Interns each word of `words` and returns their ids in order. O(total length).
    template <class Range>
    std::vector<id_type> intern_all(const Range& words) {
        std::vector<id_type> result;
        for (const auto& w : words) result.push_back(intern(std::string_view(w)));
        return result;
    }

    /// The id of `word` if it is known, without adding it. O(|word|).
    [[nodiscard]] std::optional<id_type> find(std::string_view word) const {
        if (auto it = ids_.find(word); it != ids_.end()) return it->second;
        return std::nullopt;
    }

    /// The word with id `id`. O(1).
    /// \throws invalid_argument when `id` is not an id of this vocabulary.
    [[nodiscard]] const std::string& word(id_type id) const {
        if (id >= words_.size()) {
            throw invalid_argument(fmt::format("vocabulary has no id {} (it holds {} words)", id, words_.size()));
        }
        return words_[id];
    }

    /// Number of distinct words. O(1).
    [[nodiscard]] std::size_t size() const noexcept { return words_.size(); }

private:
    void reindex() {
        ids_.clear();
        for (std::size_t i = 0; i < words_.size(); ++i) ids_.emplace(std::string_view(words_[i]), static_cast<id_type>(i));
    }

    std::deque<std::string> words_;
    std::unordered_map<std::string_view, id_type> ids_;
};

}  // namespace selflearn
