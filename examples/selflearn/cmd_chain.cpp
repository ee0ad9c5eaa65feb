// `selflearn chain`: solve an absorbing Markov chain given as transition lines.

#include "cli.hpp"

#include <selflearn/markov.hpp>

#include <fmt/format.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace {

int run_chain(const cli::arguments& args) {
    const bool fundamental = args.flag("fundamental");
    const auto threads = static_cast<unsigned>(args.integer("threads", 0, 1024));
    const double tolerance = args.number("tolerance", 0.0, 1e-3);
    cli::input in(args, "chain");
    cli::output out(args);

    selflearn::transition_counts<std::string> counts;
    std::vector<selflearn::transition<std::string>> probabilities;
    std::optional<bool> by_probability;  // decided by the first line
    in.for_each([&](const cli::json& line, const cli::location&) {
        const std::string& from = cli::require_string(line, "from");
        const std::string& to = cli::require_string(line, "to");
        const cli::json* count = cli::optional_field(line, "count", cli::json::value_t::number_float);
        const cli::json* p = cli::optional_field(line, "p", cli::json::value_t::number_float);
        if ((count == nullptr) == (p == nullptr)) {
            throw cli::input_error("expected exactly one of \"count\" (a non-negative number) and \"p\" (a probability)");
        }
        const bool is_p = p != nullptr;
        if (by_probability && *by_probability != is_p) {
            throw cli::input_error("all lines must give \"count\" or all must give \"p\"; this one differs from the first");
        }
        by_probability = is_p;
        if (is_p) {
            const double value = p->get<double>();
            if (!(value >= 0.0 && value <= 1.0)) throw cli::input_error(fmt::format("\"p\" is {}, outside [0, 1]", value));
            probabilities.push_back({from, to, value});
        } else {
            counts.add(from, to, count->get<double>());
        }
    });
    const auto chain = by_probability.value_or(false)
                           ? selflearn::absorbing_chain<std::string>::from_probabilities(probabilities, tolerance)
                           : selflearn::absorbing_chain<std::string>::from_counts(counts);
    const auto result = selflearn::solve(chain, {.threads = threads, .tolerance = tolerance});
    const auto& transient = chain.transient_states();
    const auto& absorbing = chain.absorbing_states();
    for (std::size_t i = 0; i < transient.size(); ++i) {
        const auto row = static_cast<Eigen::Index>(i);
        cli::json absorption = cli::json::object();
        for (decltype(result.probabilities)::InnerIterator it(result.probabilities, row); it; ++it) {
            absorption[absorbing[static_cast<std::size_t>(it.col())]] = it.value();
        }
        cli::json line = {{"state", transient[i]},
                          {"absorption", std::move(absorption)},
                          {"expected_steps", result.expected_steps[row]},
                          {"variance", result.variance[row]}};
        if (fundamental) {
            cli::json n = cli::json::object();
            const auto visits = selflearn::expected_visits(chain, transient[i]);
            for (Eigen::SparseVector<double>::InnerIterator it(visits); it; ++it) {
                n[transient[static_cast<std::size_t>(it.index())]] = it.value();
            }
            line["N"] = std::move(n);
        }
        out.write(line);
    }
    out.flush();
    return 0;
}

const cli::registration chain_command{cli::command{
    .name = "chain",
    .summary = "solve an absorbing Markov chain: absorption probabilities, expected steps, variance",
    .usage = "[options] [FILE...]",
    .description =
        "Reads transition lines {\"from\": \"A\", \"to\": \"B\", \"count\": 3} (counts add up; rows are divided\n"
        "by their sums) or {\"from\": \"A\", \"to\": \"B\", \"p\": 0.5} (probabilities; each row must sum to 1\n"
        "within --tolerance). A state with no outgoing transition, or only to itself, is absorbing.\n"
        "Writes one line per transient state, sorted by name:\n"
        "{\"state\": \"A\", \"absorption\": {\"S\": 0.75, \"F\": 0.25}, \"expected_steps\": 3.0, \"variance\": 2.0}\n"
        "(absorbing states that cannot be reached from A are left out). With --fundamental, \"N\" holds the\n"
        "row of the fundamental matrix: expected visits to each transient state reachable from A.\n"
        "Fails naming the states when some transient state cannot reach any absorbing state.",
    .options = {{"fundamental", "", "add the row of the fundamental matrix N (expected visits) as \"N\""},
                {"threads", "N", "threads solving independent components (0: one per core)", "0"},
                {"tolerance", "EPS", "row sums of probabilities and of the results must be 1 within EPS", "1e-9"}},
    .run = run_chain,
}};

}  // namespace
