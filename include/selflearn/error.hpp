#pragma once
/// \file selflearn/error.hpp
/// The exception hierarchy: every error the library reports derives from selflearn::error.

#include <cstddef>
#include <stdexcept>
#include <string>

namespace selflearn {

/// Base of every exception thrown by selflearn. `what()` names the input and what is wrong with it.
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// An argument is outside the domain a function documents (a negative cost, an empty range where one
/// is required, a probability outside [0, 1], ...).
class invalid_argument : public error {
public:
    using error::error;
};

/// Input text is not valid UTF-8. `byte_offset()` is the offset of the first byte of the first bad sequence.
class invalid_utf8 : public error {
public:
    invalid_utf8(const std::string& message, std::size_t byte_offset)
        : error(message), byte_offset_(byte_offset) {}
    /// Offset, in bytes from the start of the checked text, of the first invalid sequence.
    [[nodiscard]] std::size_t byte_offset() const noexcept { return byte_offset_; }

private:
    std::size_t byte_offset_;
};

/// Slot markup (`[label : value]`) or BIO tags are malformed. `position()` is the byte offset in the
/// markup (or the tag index for BIO input) where the problem was found.
class annotation_error : public error {
public:
    annotation_error(const std::string& message, std::size_t position)
        : error(message), position_(position) {}
    /// Byte offset in the markup, or index in the tag sequence, of the problem.
    [[nodiscard]] std::size_t position() const noexcept { return position_; }

private:
    std::size_t position_;
};

}  // namespace selflearn
