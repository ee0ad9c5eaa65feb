#pragma once
// The session-log simulator behind `selflearn simulate`: users pursue goals drawn from an annotated corpus
// with a Zipf-like popularity, first attempts fail for a reason (a misrecognised slot word, a long-tail
// carrier phrase, a truncated request, or the goal's slots said in another carrier phrase of the intent),
// users rephrase after realistic gaps until the assistant succeeds or they give up, and unrelated requests
// (some of the same intent) follow inside the rephrase window. Every turn carries the gold fields (goal id
// and correct markup) and friction signals (ASR confidence, handler status, barge-in); with stage failures,
// failed attempts fail at one of the stages asr, nlu, resolution, skill, with each stage's signals and a
// gold stage. Deterministic:
// session k depends only on the seed, the corpus and k.

#include "session_log.hpp"

#include <selflearn/annotation.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace simulator {

/// A fixed, portable pseudo-random generator (splitmix64 seeding an xoshiro256** state) with its own
/// distributions, so that a seed gives the same log with every standard library.
class prng {
public:
    /// Seeds the four state words with splitmix64 of (seed, 0..3).
    explicit prng(std::uint64_t seed);
    /// The next 64 random bits (xoshiro256**).
    std::uint64_t next();
    double uniform();                               ///< [0, 1)
    std::size_t below(std::size_t n);               ///< [0, n), n > 0, unbiased
    /// True with probability p.
    bool chance(double p) { return uniform() < p; }
    /// An exponential variate with the given mean (inversion of uniform()).
    double exponential(double mean);

private:
    std::array<std::uint64_t, 4> s_{};
};

/// Mixes a seed with a stream number into an independent seed (splitmix64 finaliser).
std::uint64_t mix(std::uint64_t seed, std::uint64_t stream);

/// Why a simulated attempt fails.
enum class failure_kind { misrecognition, carrier, truncation, other_phrasing, unresolved_entity, handler_error };

/// One way a goal's request goes wrong: the text the assistant heard and its correct markup.
struct failure {
    failure_kind kind;
    selflearn::annotated_text heard;
    std::string markup;     ///< gold annotation of `heard`
    bool misheard = false;  ///< a word was misrecognised (lowers the turn's ASR confidence)
};

/// A user goal: one annotated utterance of the corpus and the ways asking for it fails.
struct goal {
    std::string id;      ///< "g<line>", the 1-based line of the corpus
    std::string intent;
    std::string text;    ///< the canonical request, which the assistant understands
    std::string markup;  ///< its annotation
    std::vector<failure> failures;  ///< at most 3, most frequent first
    /// At most 2, most frequent first: the goal's slot values in the carrier phrase of another utterance
    /// of the intent with the same slot labels, lexically far from `text` (similarity below
    /// options::other_phrasing_max_similarity), some with a misheard slot word.
    std::vector<failure> other_phrasings;
    /// With options::related_follow_up_rate > 0: the goal users of this one often ask for next, of the
    /// same intent and slot labels when there is one, the most similar of a few (a hard negative: a rephrase
    /// look-alike with other slot values). Its index in the corpus; absent when the intent has one goal.
    std::optional<std::size_t> companion;
    double failure_rate = 0;        ///< probability that a first attempt fails
};

/// Simulation parameters (defaults documented in docs/pipeline.md).
struct options {
    std::uint64_t seed = 1;
    double zipf_exponent = 1.0;      ///< popularity of the goal of rank r is proportional to r^-s
    double failure_rate = 0.35;      ///< mean probability that a first attempt fails
    double retry_failure_rate = 0.2; ///< probability that a rephrase fails again
    double abandon_rate = 0.2;       ///< probability of giving up after each failed attempt
    int max_attempts = 4;            ///< attempts per goal before giving up
    double nlu_error_rate = 0.03;    ///< probability that a successful turn's NLU annotation is wrong
    double more_requests = 0.45;     ///< probability of another request in the session (geometric)
    double follow_up_rate = 0.5;     ///< probability that the next request comes inside the rephrase window
    double switch_rate = 0.5;        ///< after giving up: probability of a related request (same intent) at once
    /// Target share of failed attempts that are other-phrasing failures (0: none, the log of earlier
    /// versions). Goals without a compatible other phrasing fail otherwise, so the others take a larger
    /// share to keep the overall fraction near the target.
    double other_phrasing = 0.0;
    double other_phrasing_max_similarity = 0.4;  ///< an other phrasing's maximum lexical similarity to `text`
    double other_phrasing_misheard = 0.3;        ///< probability that an other phrasing also has a misheard word
    /// After a success, probability that a request that follows within seconds is another goal of the
    /// same intent (other slot values): an unrelated follow-up that looks like a rephrase. When it is
    /// above 0, such follow-ups (and the related requests of users who give up) are the goal's companion
    /// with probability `companion_rate`, so that the same look-alike pair recurs across users.
    double related_follow_up_rate = 0.0;
    double companion_rate = 0.7;  ///< see related_follow_up_rate
    /// Failures injected at all four stages (asr, nlu, resolution, skill), with each turn's stage signals
    /// (NLU intent, annotation and confidence on defects too, entity resolution, a handler status that
    /// follows the stage) and a gold stage per defect. Off: the log of earlier versions, draw for draw.
    bool stage_failures = false;
    double resolution_failure_rate = 0.2;  ///< with stage_failures: share of failed attempts (of goals with slots) whose entity does not resolve
    double skill_failure_rate = 0.2;       ///< with stage_failures: share of failed attempts that are a transient handler error
};

/// Friction signals of a simulated turn, overlapping between successes and defects as real ones do.
struct signals {
    double asr_confidence = 1;  ///< in [0, 1], two decimals; lower for misheard requests
    std::string status = "ok";  ///< handler status: "ok", "handler_error" or "timeout"
    bool barge_in = false;      ///< the user interrupted the answer
};

/// A simulated turn: the log line, its friction signals and, for a defect, why it failed.
struct simulated_turn {
    cli::log_turn log;
    signals friction;
    /// Empty for a success; else "misrecognition", "carrier", "truncation", "other_phrasing" or
    /// "other_phrasing_misheard", with options::stage_failures also "unresolved_entity" or
    /// "handler_error" (written as "gold_failure" by `simulate --gold-failure on`).
    std::string cause;
    /// With options::stage_failures, a defect's gold failure point: "asr", "nlu", "resolution" or "skill".
    std::string stage;
};

/// Character Levenshtein similarity of the normalised texts (tokens with case folding joined by single
/// spaces), 1 - distance / longer length: the lexical rephrase scorer's measure. O(n m / 64).
double lexical_similarity(const std::string& a, const std::string& b);

/// Reads a JSON Lines corpus with fields "text", "annotation" and "intent" (SNIPS format).
/// Throws cli::input_error naming the file and line of a bad entry; with `skip_invalid`, bad entries are
/// reported on stderr and skipped instead.
std::vector<goal> load_corpus(const std::string& path, bool skip_invalid = false);

/// Generates sessions over a corpus.
class generator {
public:
    generator(std::vector<goal> goals, const options& o);
    /// The turns of session `index` (0-based), in time order; id "s<index+1>".
    [[nodiscard]] std::vector<simulated_turn> session(std::uint64_t index) const;
    [[nodiscard]] const std::vector<goal>& goals() const { return goals_; }

private:
    std::size_t draw_goal(prng& rng) const;

    std::vector<goal> goals_;
    options options_;
    std::vector<std::size_t> by_rank_;   ///< goal index of each popularity rank
    std::vector<double> cumulative_;     ///< cumulative Zipf weights by rank
    double other_share_ = 0;             ///< probability that a failed attempt of a goal with other phrasings uses one
};

}  // namespace simulator
