#pragma once
/// \file selflearn/selflearn.hpp
/// Umbrella header: includes every public header of the library.

#include <selflearn/annotation.hpp>
#include <selflearn/error.hpp>
#include <selflearn/session.hpp>
#include <selflearn/tokenize.hpp>
#include <selflearn/utf8.hpp>
#include <selflearn/version.hpp>
#include <selflearn/vocabulary.hpp>
