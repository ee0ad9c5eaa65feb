#pragma once
/// \file selflearn/version.hpp
/// The library's version, as macros and as constants.

#define SELFLEARN_VERSION_MAJOR 0
#define SELFLEARN_VERSION_MINOR 1
#define SELFLEARN_VERSION_PATCH 0
/// The version as one number: major * 10000 + minor * 100 + patch.
#define SELFLEARN_VERSION (SELFLEARN_VERSION_MAJOR * 10000 + SELFLEARN_VERSION_MINOR * 100 + SELFLEARN_VERSION_PATCH)

namespace selflearn {
/// The version as "major.minor.patch".
inline constexpr const char* version_string = "0.1.0";
inline constexpr int version_major = SELFLEARN_VERSION_MAJOR;
inline constexpr int version_minor = SELFLEARN_VERSION_MINOR;
inline constexpr int version_patch = SELFLEARN_VERSION_PATCH;
}  // namespace selflearn
