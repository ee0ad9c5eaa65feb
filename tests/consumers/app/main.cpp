// A user's program (also the README's example): one call into each primitive.
#include <selflearn/selflearn.hpp>

#include <fmt/core.h>

#include <string>
#include <vector>

int main() {
    // A request the assistant failed, and the rephrase that succeeded and was understood.
    const std::string failed = "play imagin dragons";
    const auto understood = selflearn::parse_markup_tokens("play [artist : imagine dragons]");

    // Edit-distance alignment: how far apart the two are, in code points.
    const auto distance = selflearn::levenshtein_distance(selflearn::decode_utf8(failed),
                                                          selflearn::decode_utf8(understood.text));

    // Label projection: carry the slot labels of the rephrase onto the failed request.
    const auto target = selflearn::tokenize(failed);
    const auto projected = selflearn::project(understood, target);
    const auto markup = selflearn::projected_markup(failed, target, projected);

    // Absorbing Markov chain: rephrase transitions pooled across users.
    selflearn::transition_counts<std::string> counts;
    counts.add("play imagin dragons", "play imagine dragons", 8);
    counts.add("play imagin dragons", "<abandoned>", 2);
    counts.add("play imagine dragons", "<success: play imagine dragons>", 8);
    const auto chain = selflearn::absorbing_chain<std::string>::from_counts(counts);
    const auto solved = selflearn::solve(chain);
    const auto from = *chain.transient_index("play imagin dragons");
    const auto to = *chain.absorbing_index("<success: play imagine dragons>");
    const double p_success = solved.probabilities.coeff(static_cast<Eigen::Index>(from), static_cast<Eigen::Index>(to));

    // Rephrase span scoring: the best span of per-token start/end log-scores, at most 3 tokens long.
    const std::vector<double> start = {-3.0, -0.2, -2.0, -4.0};
    const std::vector<double> end = {-4.0, -3.0, -0.1, -0.5};
    const auto best = selflearn::best_span(selflearn::log_scores(start, end), {.max_length = 3});

    fmt::print("selflearn {}\n", selflearn::version_string);
    fmt::print("distance: {}\n", distance);
    fmt::print("projected: {}\n", markup.value_or("(rejected: " + projected.reason + ")"));
    fmt::print("P(success at 'play imagine dragons' | 'play imagin dragons') = {:.2f}\n", p_success);
    fmt::print("best span: [{}, {}] score {:.2f}\n", best->start, best->end, best->score);
    const bool ok = distance == 1 && markup == "play [artist : imagin dragons]" && p_success > 0.79 &&
                    p_success < 0.81 && best->start == 1 && best->end == 2;
    return ok ? 0 : 1;
}
