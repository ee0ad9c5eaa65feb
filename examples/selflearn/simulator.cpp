#include "simulator.hpp"

#include <selflearn/align.hpp>
#include <selflearn/tokenize.hpp>
#include <selflearn/utf8.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <string_view>
#include <unordered_set>

namespace simulator {

std::uint64_t mix(std::uint64_t seed, std::uint64_t stream) {
    std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

prng::prng(std::uint64_t seed) {
    for (std::size_t i = 0; i < s_.size(); ++i) s_[i] = mix(seed, i);
}

std::uint64_t prng::next() {
    const auto rotl = [](std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

double prng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

std::size_t prng::below(std::size_t n) {
    const std::uint64_t bound = static_cast<std::uint64_t>(n);
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    std::uint64_t x = next();
    while (x >= limit) x = next();
    return static_cast<std::size_t>(x % bound);
}

double prng::exponential(double mean) { return -mean * std::log1p(-uniform()); }

namespace {

// An utterance as alternating carrier and slot segments, so that edits keep the gold spans right.
struct segment {
    std::string text;
    std::string label;  // empty for carrier text
};

// Carrier and slot segments alternate, starting and ending with a carrier segment (possibly empty).
std::vector<segment> segments_of(const selflearn::annotated_text& a) {
    std::vector<segment> result;
    std::size_t at = 0;
    for (const auto& s : a.slots) {
        result.push_back({a.text.substr(at, s.begin - at), {}});
        result.push_back({a.text.substr(s.begin, s.end - s.begin), s.label});
        at = s.end;
    }
    result.push_back({a.text.substr(at), {}});
    return result;
}

selflearn::annotated_text join(const std::vector<segment>& segments) {
    selflearn::annotated_text a;
    for (const auto& s : segments) {
        if (s.text.empty()) continue;
        const std::size_t begin = a.text.size();
        a.text += s.text;
        if (!s.label.empty()) a.slots.push_back({s.label, begin, a.text.size()});
    }
    return a;
}

bool ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
std::string lowered(std::string_view s) {
    std::string r(s);
    for (char& c : r) c = lower(c);
    return r;
}

// Word boundaries [begin, end) of the space-separated words of `s`.
std::vector<std::pair<std::size_t, std::size_t>> words_of(const std::string& s) {
    std::vector<std::pair<std::size_t, std::size_t>> words;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ') ++i;
        const std::size_t begin = i;
        while (i < s.size() && s[i] != ' ') ++i;
        if (i > begin) words.emplace_back(begin, i);
    }
    return words;
}

// Sound-alike spellings a speech recogniser confuses.
constexpr std::array<std::pair<std::string_view, std::string_view>, 30> sound_alikes{{
    {"ph", "f"},   {"ck", "k"},   {"ee", "ea"}, {"ea", "ee"},  {"ou", "ow"},   {"er", "a"},
    {"c", "k"},    {"s", "z"},    {"y", "ie"},  {"tion", "shun"}, {"th", "d"}, {"v", "b"},
    {"ight", "ite"}, {"oo", "u"}, {"ai", "ay"}, {"qu", "kw"},  {"x", "ks"},    {"ll", "l"},
    {"ss", "s"},   {"tt", "t"},   {"nn", "n"},  {"mm", "m"},   {"ie", "y"},    {"wh", "w"},
    {"kn", "n"},   {"gh", "g"},   {"i", "ee"},  {"or", "er"},  {"an", "en"},   {"ar", "er"},
}};

// A misheard spelling of an ASCII word of at least three letters.
std::string mishear(const std::string& word, prng& rng) {
    const std::string low = lowered(word);
    for (int attempt = 0; attempt < 8; ++attempt) {
        std::string result = word;
        const std::size_t rule = rng.below(10);
        if (rule < 5) {  // sound-alike spelling at a random applicable place
            std::vector<std::pair<std::size_t, std::size_t>> places;  // (position, rule index)
            for (std::size_t r = 0; r < sound_alikes.size(); ++r) {
                const auto& from = sound_alikes[r].first;
                for (std::size_t p = low.find(from); p != std::string::npos; p = low.find(from, p + 1)) {
                    places.emplace_back(p, r);
                }
            }
            if (places.empty()) continue;
            const auto [p, r] = places[rng.below(places.size())];
            result.replace(p, sound_alikes[r].first.size(), sound_alikes[r].second);
        } else if (rule < 7) {  // a vowel heard as a neighbouring one
            std::vector<std::size_t> vowels;
            for (std::size_t p = 1; p < low.size(); ++p) {
                if (std::string_view("aeiou").find(low[p]) != std::string_view::npos) vowels.push_back(p);
            }
            if (vowels.empty()) continue;
            const std::size_t p = vowels[rng.below(vowels.size())];
            constexpr std::string_view from = "aeiou", to = "eieuo";
            result[p] = to[from.find(low[p])];
        } else if (rule < 9) {  // a letter swallowed
            result.erase(1 + rng.below(word.size() - 2), 1);
        } else {  // one word heard as two
            if (word.size() < 6) continue;
            result.insert(2 + rng.below(word.size() - 3), " ");
        }
        if (lowered(result) != low) return result;
    }
    return word + word.substr(word.size() - 1);  // a doubled last letter, always different
}

// Openers, closers and word choices the assistant's NLU has rarely seen.
constexpr std::array<std::string_view, 12> long_tail_openers{
    "i was wondering if you could", "hey can you please", "would you mind to", "yo",
    "i'd really like you to",       "could you kindly",   "please go ahead and", "um can you",
    "so basically i want to",       "ok so",              "listen",              "quick one",
};
constexpr std::array<std::string_view, 7> long_tail_closers{
    "for me", "please", "right now", "if you can", "thanks", "asap", "would ya",
};
constexpr std::array<std::pair<std::string_view, std::string_view>, 20> long_tail_words{{
    {"play", "put on"},        {"add", "stick"},        {"book", "reserve"},     {"find", "look up"},
    {"show", "pull up"},       {"search", "hunt for"},  {"rate", "score"},       {"give", "hand out"},
    {"forecast", "outlook"},   {"movie", "flick"},      {"schedule", "timetable"}, {"playlist", "mix"},
    {"song", "tune"},          {"restaurant", "eatery"}, {"table", "spot"},      {"want", "wanna"},
    {"what", "wot"},           {"listen", "tune in"},    {"need", "gotta have"}, {"reservation", "booking"},
}};

std::optional<failure> misrecognise(const std::vector<segment>& original, prng& rng) {
    std::vector<std::pair<std::size_t, std::pair<std::size_t, std::size_t>>> choices;  // (segment, word)
    for (std::size_t k = 0; k < original.size(); ++k) {
        if (original[k].label.empty()) continue;
        for (auto w : words_of(original[k].text)) {
            const std::string_view word(original[k].text.data() + w.first, w.second - w.first);
            if (word.size() >= 3 && std::all_of(word.begin(), word.end(), ascii_alpha)) choices.push_back({k, w});
        }
    }
    if (choices.empty()) return std::nullopt;
    auto segments = original;
    const auto [k, w] = choices[rng.below(choices.size())];
    auto& text = segments[k].text;
    text.replace(w.first, w.second - w.first, mishear(text.substr(w.first, w.second - w.first), rng));
    auto heard = join(segments);
    return failure{failure_kind::misrecognition, heard, selflearn::to_markup(heard), true};
}

std::optional<failure> long_tail(const std::vector<segment>& original, prng& rng) {
    auto segments = original;
    bool changed = false;
    if (rng.chance(0.5)) {  // an unusual word choice in the carrier
        std::vector<std::pair<std::size_t, std::pair<std::size_t, std::size_t>>> places;
        for (std::size_t k = 0; k < segments.size(); ++k) {
            if (!segments[k].label.empty()) continue;
            for (auto w : words_of(segments[k].text)) {
                const std::string word = lowered(std::string_view(segments[k].text).substr(w.first, w.second - w.first));
                for (std::size_t r = 0; r < long_tail_words.size(); ++r) {
                    if (word == long_tail_words[r].first) places.push_back({k, {w.first, r}});
                }
            }
        }
        if (!places.empty()) {
            const auto [k, place] = places[rng.below(places.size())];
            const auto& [from, to] = long_tail_words[place.second];
            segments[k].text.replace(place.first, from.size(), to);
            changed = true;
        }
    }
    if (!changed || rng.chance(0.5)) {  // an opener
        const auto opener = long_tail_openers[rng.below(long_tail_openers.size())];
        auto& first = segments.front().text;
        if (!first.empty()) first[0] = lower(first[0]);
        first = fmt::format("{} {}", opener, first);
        changed = true;
    }
    if (rng.chance(0.35)) {  // a closer, before any final punctuation
        const auto closer = long_tail_closers[rng.below(long_tail_closers.size())];
        auto& last = segments.back().text;
        while (!last.empty() && (last.back() == '.' || last.back() == '?' || last.back() == '!')) last.pop_back();
        if (last.empty() || last.back() != ' ') last += ' ';
        last += closer;
    }
    auto heard = join(segments);
    return failure{failure_kind::carrier, heard, selflearn::to_markup(heard), false};
}

std::optional<failure> truncate(const selflearn::annotated_text& original, prng& rng) {
    const auto tokens = selflearn::tokenize(original.text);
    if (tokens.size() < 3) return std::nullopt;
    const std::size_t low = std::max<std::size_t>(2, (tokens.size() + 1) / 2);
    const std::size_t kept = low + rng.below(tokens.size() - low);  // in [low, size - 1]
    const std::size_t cut = tokens[kept - 1].end;
    selflearn::annotated_text heard{original.text.substr(0, cut), {}};
    for (const auto& s : original.slots) {
        if (s.begin >= cut) break;
        heard.slots.push_back({s.label, s.begin, std::min(s.end, cut)});
    }
    return failure{failure_kind::truncation, heard, selflearn::to_markup(heard), false};
}

// Up to three distinct failures of a goal, drawn from the goal's own random stream.
std::vector<failure> failures_of(const selflearn::annotated_text& canonical, prng& rng) {
    const auto segments = segments_of(canonical);
    std::vector<failure> result;
    for (int attempt = 0; attempt < 12 && result.size() < 3; ++attempt) {
        const double u = rng.uniform();
        std::optional<failure> f;
        if (u < 0.45) {
            f = misrecognise(segments, rng);
        } else if (u < 0.8) {
            f = long_tail(segments, rng);
        } else {
            f = truncate(canonical, rng);
        }
        if (!f || f->heard.text == canonical.text) continue;
        const bool seen = std::any_of(result.begin(), result.end(),
                                      [&](const failure& g) { return g.heard.text == f->heard.text; });
        if (!seen) result.push_back(std::move(*f));
    }
    return result;
}

// The NLU gets a successful turn's slots slightly wrong: a slot missed, or cut short by its last word.
std::string noisy_markup(const selflearn::annotated_text& canonical, prng& rng) {
    auto wrong = canonical;
    if (wrong.slots.empty()) return selflearn::to_markup(wrong);
    const std::size_t k = rng.below(wrong.slots.size());
    auto& s = wrong.slots[k];
    const auto space = wrong.text.rfind(' ', s.end - 1);
    if (rng.chance(0.5) && space != std::string::npos && space > s.begin) {
        s.end = space;
    } else {
        wrong.slots.erase(wrong.slots.begin() + static_cast<std::ptrdiff_t>(k));
    }
    return selflearn::to_markup(wrong);
}

double rounded(double t) { return std::round(t * 10.0) / 10.0; }

// Tokens with case folding joined by single spaces: the form the rephrase scorers compare.
std::string normalised(const std::string& text) {
    std::string result;
    for (const auto& t : selflearn::tokenize(text, {.fold_case = true})) {
        if (!result.empty()) result += ' ';
        result += t.text;
    }
    return result;
}

// Group of goals that can lend each other carrier phrases: the intent and the sorted slot labels.
std::string phrasing_key(const std::string& intent, const selflearn::annotated_text& a) {
    std::vector<std::string> labels;
    for (const auto& s : a.slots) labels.push_back(s.label);
    std::sort(labels.begin(), labels.end());
    std::string key = intent;
    for (const auto& l : labels) key += '\n' + l;
    return key;
}

// Up to two other phrasings of goal `self`: another goal's carrier phrase of the same group filled with
// this goal's slot values (label by label, in order), lexically far from the canonical text and not a text
// the assistant understands (a canonical text of the corpus); some with a misheard slot word.
std::vector<failure> other_phrasings_of(std::size_t self, const std::vector<goal>& goals,
                                        const std::vector<std::size_t>& group,
                                        const std::unordered_set<std::string>& understood, const options& o,
                                        prng& rng) {
    std::vector<failure> result;
    if (group.size() < 2) return result;
    const auto canonical = selflearn::parse_markup(goals[self].markup);
    std::map<std::string, std::vector<std::string>> values;  // label -> values in order
    for (const auto& s : canonical.slots) values[s.label].push_back(canonical.text.substr(s.begin, s.end - s.begin));
    for (int attempt = 0; attempt < 32 && result.size() < 2; ++attempt) {
        const std::size_t other = group[rng.below(group.size())];
        if (other == self) continue;
        auto segments = segments_of(selflearn::parse_markup(goals[other].markup));
        std::map<std::string, std::size_t> used;
        for (auto& seg : segments) {
            if (!seg.label.empty()) seg.text = values.at(seg.label)[used[seg.label]++];
        }
        auto heard = join(segments);
        if (understood.contains(normalised(heard.text))) continue;
        if (lexical_similarity(heard.text, canonical.text) >= o.other_phrasing_max_similarity) continue;
        bool misheard = false;
        if (rng.chance(o.other_phrasing_misheard)) {
            if (auto m = misrecognise(segments, rng);
                m && lexical_similarity(m->heard.text, canonical.text) < o.other_phrasing_max_similarity) {
                heard = m->heard;
                misheard = true;
            }
        }
        const bool seen = std::any_of(result.begin(), result.end(),
                                      [&](const failure& f) { return f.heard.text == heard.text; });
        if (!seen) result.push_back(failure{failure_kind::other_phrasing, heard, selflearn::to_markup(heard), misheard});
    }
    return result;
}

// Friction signals of a turn, from the session's own signal stream. Defects and successes overlap.
signals friction_of(bool understood, const failure* f, prng& rng) {
    signals s;
    const double u = rng.uniform();
    double confidence = 0;
    if (understood) {
        confidence = 0.98 - 0.30 * u * u;  // [0.68, 0.98], mostly high
    } else if (f != nullptr && f->misheard) {
        confidence = 0.45 + 0.40 * u;      // [0.45, 0.85]
    } else {
        confidence = 0.93 - 0.35 * u * u;  // [0.58, 0.93]
    }
    s.asr_confidence = std::round(confidence * 100.0) / 100.0;
    const double v = rng.uniform();
    if (understood) {
        if (v < 0.02) s.status = "handler_error";
    } else if (v < 0.3) {
        s.status = "handler_error";
    } else if (v < 0.4) {
        s.status = "timeout";
    }
    s.barge_in = rng.chance(understood ? 0.03 : 0.3);
    return s;
}

// The stage signals of a turn with options::stage_failures (draws from the turn's own stream). Each
// failure shows at its own stage and often downstream (an error propagates), and the signals of the
// stages overlap between causes: a misheard slot word lowers the ASR confidence and often leaves the
// entity unresolved; a phrasing the NLU misreads gets another intent or wrong slots with a lowish NLU
// confidence; an entity that does not resolve and a transient handler error look like successes upstream.
void stage_signals(cli::log_turn& t, signals& friction, const goal& g, const failure* f, const std::string& stage,
                   const std::vector<goal>& goals, prng& rng) {
    const double u = rng.uniform();
    double nlu = 0.98 - 0.40 * u * u;  // successes, and failures downstream of the NLU: [0.58, 0.98]
    t.turn.resolution = selflearn::entity_resolution::resolved;
    if (stage.empty()) {
        t.turn.confidence = std::round(nlu * 100.0) / 100.0;
        return;
    }
    t.turn.intent = g.intent;
    t.turn.annotation = f->markup;
    friction.status = rng.chance(0.08) ? "handler_error" : "ok";  // an upstream failure may also break the handler
    if (stage == "asr") {
        nlu = 0.90 - 0.45 * rng.uniform();  // [0.45, 0.90]: the misheard words still parse
        if (rng.chance(0.6)) t.turn.resolution = selflearn::entity_resolution::unresolved;
        if (rng.chance(0.15)) t.turn.intent = goals[rng.below(goals.size())].intent;
    } else if (stage == "nlu") {
        nlu = 0.25 + 0.50 * rng.uniform();  // [0.25, 0.75]
        const bool has_slots = f->heard.slots.size() > 0;
        if (!has_slots || rng.chance(0.5)) {  // another intent, its slots unlabelled
            for (int tries = 0; tries < 16 && *t.turn.intent == g.intent; ++tries) {
                t.turn.intent = goals[rng.below(goals.size())].intent;
            }
            t.turn.annotation = f->heard.text;
        } else {
            t.turn.annotation = noisy_markup(f->heard, rng);
        }
        if (has_slots && rng.chance(0.3)) t.turn.resolution = selflearn::entity_resolution::unresolved;
    } else if (stage == "resolution") {
        friction.asr_confidence = std::max(friction.asr_confidence, std::round((0.98 - 0.30 * u * u) * 100.0) / 100.0);
        t.turn.resolution = rng.chance(0.35) ? selflearn::entity_resolution::ambiguous
                                             : selflearn::entity_resolution::unresolved;
        if (rng.chance(0.5)) friction.status = "no_result";
    } else {  // skill
        friction.asr_confidence = std::max(friction.asr_confidence, std::round((0.98 - 0.30 * u * u) * 100.0) / 100.0);
        friction.status = rng.chance(0.7) ? "handler_error" : "timeout";
    }
    t.turn.confidence = std::round(nlu * 100.0) / 100.0;
}

}  // namespace

double lexical_similarity(const std::string& a, const std::string& b) {
    return selflearn::levenshtein_similarity(selflearn::decode_utf8(normalised(a)), selflearn::decode_utf8(normalised(b)));
}

std::vector<goal> load_corpus(const std::string& path, bool skip_invalid) {
    cli::input in({path}, skip_invalid, "simulate");
    std::vector<goal> goals;
    in.for_each([&](const cli::json& line, const cli::location& where) {
        goal g;
        g.id = fmt::format("g{}", where.line);
        g.intent = cli::require_string(line, "intent");
        g.markup = cli::require_string(line, "annotation");
        const auto parsed = selflearn::parse_markup(g.markup);
        g.text = parsed.text;
        if (line.contains("text") && cli::require_string(line, "text") != g.text) {
            throw cli::input_error("field \"text\" differs from the text of \"annotation\"");
        }
        if (g.text.find_first_not_of(' ') == std::string::npos) throw cli::input_error("empty utterance");
        goals.push_back(std::move(g));
    });
    if (goals.empty()) throw cli::input_error(fmt::format("{}: the corpus has no utterances", path));
    return goals;
}

generator::generator(std::vector<goal> goals, const options& o) : goals_(std::move(goals)), options_(o) {
    prng rng(mix(o.seed, 0x676f616c73ull));  // "goals"
    // Popular requests tend to be short ones: goals are ranked by their length times a random factor
    // in [0.5, 1.5), ties by corpus order.
    std::vector<std::pair<double, std::size_t>> keys;
    keys.reserve(goals_.size());
    for (std::size_t i = 0; i < goals_.size(); ++i) {
        keys.emplace_back(static_cast<double>(goals_[i].text.size()) * (0.5 + rng.uniform()), i);
    }
    std::sort(keys.begin(), keys.end());
    by_rank_.reserve(goals_.size());
    for (const auto& k : keys) by_rank_.push_back(k.second);
    cumulative_.reserve(goals_.size());
    double total = 0;
    for (std::size_t r = 0; r < goals_.size(); ++r) {
        total += std::pow(static_cast<double>(r + 1), -o.zipf_exponent);
        cumulative_.push_back(total);
    }
    for (std::size_t i = 0; i < goals_.size(); ++i) {
        prng own(mix(o.seed, 0x100000000ull + i));
        auto& g = goals_[i];
        g.failures = failures_of(selflearn::parse_markup(g.markup), own);
        // Goals differ in how hard they are: a failure rate around the mean, from 0.4x to 1.6x of it.
        g.failure_rate = g.failures.empty() ? 0.0 : std::min(1.0, o.failure_rate * (0.4 + 1.2 * own.uniform()));
    }
    if (o.other_phrasing <= 0 && o.related_follow_up_rate <= 0) return;  // the log of earlier versions, draw for draw
    std::map<std::string, std::vector<std::size_t>> groups, intents;
    std::unordered_set<std::string> understood;
    for (std::size_t i = 0; i < goals_.size(); ++i) {
        groups[phrasing_key(goals_[i].intent, selflearn::parse_markup(goals_[i].markup))].push_back(i);
        intents[goals_[i].intent].push_back(i);
        understood.insert(normalised(goals_[i].text));
    }
    if (o.related_follow_up_rate > 0) {
        for (std::size_t i = 0; i < goals_.size(); ++i) {
            prng own(mix(o.seed, 0x600000000ull + i));
            auto& g = goals_[i];
            const auto& same = groups.at(phrasing_key(g.intent, selflearn::parse_markup(g.markup)));
            const auto& pool = same.size() > 1 ? same : intents.at(g.intent);
            if (pool.size() < 2) continue;
            double best = -1;
            for (int k = 0; k < 8; ++k) {
                const std::size_t j = pool[own.below(pool.size())];
                if (j == i || normalised(goals_[j].text) == normalised(g.text)) continue;
                const double s = lexical_similarity(goals_[j].text, g.text);
                if (s > best) {
                    best = s;
                    g.companion = j;
                }
            }
        }
    }
    if (o.other_phrasing <= 0) return;
    for (std::size_t i = 0; i < goals_.size(); ++i) {
        prng own(mix(o.seed, 0x300000000ull + i));  // a stream of its own: the other failures stay as they were
        auto& g = goals_[i];
        g.other_phrasings = other_phrasings_of(i, goals_, groups.at(phrasing_key(g.intent, selflearn::parse_markup(g.markup))),
                                               understood, o, own);
        if (g.failures.empty() && !g.other_phrasings.empty()) {
            g.failure_rate = std::min(1.0, o.failure_rate * (0.4 + 1.2 * own.uniform()));
        }
    }
    // Failed attempts by goal, weighted by popularity: the share of those that can be other phrasings.
    double failing = 0, covered = 0;
    for (std::size_t r = 0; r < by_rank_.size(); ++r) {
        const auto& g = goals_[by_rank_[r]];
        const double w = std::pow(static_cast<double>(r + 1), -o.zipf_exponent) * g.failure_rate;
        failing += w;
        if (!g.other_phrasings.empty()) covered += w;
    }
    other_share_ = covered > 0 ? std::min(1.0, o.other_phrasing * failing / covered) : 0.0;
}

std::size_t generator::draw_goal(prng& rng) const {
    const double u = rng.uniform() * cumulative_.back();
    const auto rank = static_cast<std::size_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), u) -
                                               cumulative_.begin());
    return by_rank_[std::min(rank, by_rank_.size() - 1)];
}

std::vector<simulated_turn> generator::session(std::uint64_t index) const {
    prng rng(mix(options_.seed, 0x200000000ull + index));
    prng signal_rng(mix(options_.seed, 0x500000000ull + index));  // friction signals: a stream of their own
    prng stage_rng(mix(options_.seed, 0x700000000ull + index));   // stage failures and signals: another
    const std::string id = fmt::format("s{}", index + 1);
    std::vector<simulated_turn> turns;
    double time = rounded(rng.uniform() * 86400.0);
    const auto say = [&](const goal& g, const failure* f, bool understood) {
        const std::string& text = f != nullptr ? f->heard.text : g.text;
        const std::string& gold = f != nullptr ? f->markup : g.markup;
        cli::log_turn t;
        t.turn.session = id;
        t.turn.time = time;
        t.turn.text = text;
        t.turn.outcome = understood ? selflearn::turn_outcome::success : selflearn::turn_outcome::defect;
        if (understood) {
            t.turn.annotation = rng.chance(options_.nlu_error_rate) ? noisy_markup(selflearn::parse_markup(g.markup), rng)
                                                                    : g.markup;
            t.turn.intent = g.intent;
        }
        t.gold_goal = g.id;
        t.gold_annotation = gold;
        std::string cause, stage;
        if (f != nullptr) {
            switch (f->kind) {
                case failure_kind::misrecognition: cause = "misrecognition"; break;
                case failure_kind::carrier: cause = "carrier"; break;
                case failure_kind::truncation: cause = "truncation"; break;
                case failure_kind::other_phrasing: cause = f->misheard ? "other_phrasing_misheard" : "other_phrasing"; break;
                case failure_kind::unresolved_entity: cause = "unresolved_entity"; break;
                case failure_kind::handler_error: cause = "handler_error"; break;
            }
            stage = f->kind == failure_kind::unresolved_entity ? "resolution"
                    : f->kind == failure_kind::handler_error   ? "skill"
                    : f->misheard                              ? "asr"
                                                               : "nlu";
        }
        signals friction = friction_of(understood, f, signal_rng);
        if (options_.stage_failures) stage_signals(t, friction, g, f, stage, goals_, stage_rng);
        turns.push_back({std::move(t), friction, std::move(cause), options_.stage_failures ? std::move(stage) : std::string()});
    };
    const goal* gave_up = nullptr;     // the goal just abandoned, if any
    const goal* related_to = nullptr;  // a goal just achieved whose follow-up is of the same intent
    do {
        std::size_t drawn = draw_goal(rng);
        if (gave_up != nullptr && rng.chance(options_.switch_rate)) {
            // Giving up on a request, users often ask right away for a related one of the same intent.
            if (options_.related_follow_up_rate > 0 && gave_up->companion && rng.chance(options_.companion_rate)) {
                drawn = *gave_up->companion;
            } else {
                for (int tries = 0; tries < 64 && goals_[drawn].intent != gave_up->intent; ++tries) drawn = draw_goal(rng);
            }
        } else if (related_to != nullptr && related_to->companion && rng.chance(options_.companion_rate)) {
            drawn = *related_to->companion;
        } else if (related_to != nullptr) {
            // Another request of the same intent with other slot values, seconds after a success.
            for (int tries = 0; tries < 64 && (goals_[drawn].intent != related_to->intent || &goals_[drawn] == related_to);
                 ++tries) {
                drawn = draw_goal(rng);
            }
        }
        const goal& g = goals_[drawn];
        gave_up = nullptr;
        related_to = nullptr;
        if (!rng.chance(g.failure_rate)) {
            say(g, nullptr, true);
        } else {
            // The goal's first failure is the most common one: weights 6:3:1.
            const auto pick = [&] {
                const std::size_t n = g.failures.size();
                const double u = rng.uniform() * (n == 1 ? 6.0 : n == 2 ? 9.0 : 10.0);
                return u < 6.0 ? 0 : u < 9.0 ? 1 : 2;
            };
            // Other phrasings take their share of failed attempts (weights 2:1 between the two).
            const auto pick_failure = [&]() -> const failure* {
                if (!g.other_phrasings.empty() && (g.failures.empty() || rng.chance(other_share_))) {
                    return &g.other_phrasings[g.other_phrasings.size() == 1 || rng.uniform() < 2.0 / 3.0 ? 0 : 1];
                }
                return &g.failures[static_cast<std::size_t>(pick())];
            };
            // With stage failures, some failed attempts are said right but fail downstream: the entity does
            // not resolve (goals with slots) or the handler fails transiently (a retry of the same words works).
            std::optional<failure> unresolved, handler;
            if (options_.stage_failures) {
                auto canonical = selflearn::parse_markup(g.markup);
                if (!canonical.slots.empty()) unresolved = failure{failure_kind::unresolved_entity, canonical, g.markup};
                handler = failure{failure_kind::handler_error, std::move(canonical), g.markup};
            }
            const auto choose = [&]() -> const failure* {
                const failure* f = pick_failure();
                if (!options_.stage_failures) return f;
                const double v = stage_rng.uniform();
                if (v < options_.skill_failure_rate) return &*handler;
                if (unresolved && v < options_.skill_failure_rate + options_.resolution_failure_rate) return &*unresolved;
                return f;
            };
            const failure* current = choose();
            say(g, current, false);
            for (int attempt = 1;; ++attempt) {
                if (attempt >= options_.max_attempts || rng.chance(options_.abandon_rate)) {
                    gave_up = &g;
                    break;
                }
                time = rounded(time + 2.0 + rng.exponential(4.0));
                if (rng.chance(options_.retry_failure_rate)) {
                    if (rng.chance(0.5)) current = choose();
                    say(g, current, false);
                } else {
                    say(g, nullptr, true);
                    break;
                }
            }
        }
        const bool soon = gave_up != nullptr ? rng.chance(options_.switch_rate) : rng.chance(options_.follow_up_rate);
        if (gave_up == nullptr && soon && options_.related_follow_up_rate > 0 &&
            rng.chance(options_.related_follow_up_rate)) {
            related_to = &g;
        }
        time = rounded(time + (soon ? 4.0 + rng.exponential(8.0) : 60.0 + rng.exponential(300.0)));
    } while (gave_up != nullptr || rng.chance(options_.more_requests));
    return turns;
}

}  // namespace simulator
