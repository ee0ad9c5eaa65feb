#pragma once
/// \file selflearn/selflearn.hpp
/// Umbrella header: includes every public header of the library except the opt-in fmt formatters
/// (selflearn/format.hpp).

#include <selflearn/error.hpp>
#include <selflearn/version.hpp>

// Text and annotations: the vocabulary every primitive shares.
#include <selflearn/annotation.hpp>
#include <selflearn/session.hpp>
#include <selflearn/tokenize.hpp>
#include <selflearn/utf8.hpp>
#include <selflearn/vocabulary.hpp>

// Edit-distance alignment.
#include <selflearn/align.hpp>

// Label projection.
#include <selflearn/corroborate.hpp>
#include <selflearn/paraphrase.hpp>
#include <selflearn/project.hpp>

// Learned detectors: logistic regression, friction detection.
#include <selflearn/failure_point.hpp>
#include <selflearn/friction.hpp>
#include <selflearn/logistic.hpp>

// Absorbing Markov chains and rewrite mining.
#include <selflearn/markov.hpp>
#include <selflearn/rewrite.hpp>

// Rephrase span scoring and candidate windows.
#include <selflearn/span.hpp>
#include <selflearn/window.hpp>
