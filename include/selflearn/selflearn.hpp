#pragma once
/// \file selflearn/selflearn.hpp
/// Umbrella header: includes every public header of the library except the opt-in fmt formatters
/// (selflearn/format.hpp).

#include <selflearn/annotation.hpp>
#include <selflearn/error.hpp>
#include <selflearn/session.hpp>
#include <selflearn/tokenize.hpp>
#include <selflearn/utf8.hpp>
#include <selflearn/version.hpp>
#include <selflearn/vocabulary.hpp>
