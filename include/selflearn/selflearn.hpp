#pragma once
/// \file selflearn/selflearn.hpp
/// Umbrella header: includes every public header of the library.

#include <selflearn/error.hpp>
#include <selflearn/version.hpp>
