// `selflearn chain`: solve an absorbing Markov chain given as transition lines.

#include "cli.hpp"

#include <selflearn/markov.hpp>

#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <map>
#include <set>
#include <utility>
#include <optional>
#include <string>
#include <vector>

namespace {

// One transition line as read, with where it came from.
struct entry {
    std::string to;
    double value;
    cli::location where;
};

// "FILE:LINE" or "FILE:LINE, LINE, ..." (at most five lines named) for the lines of a state's row.
std::string lines_of(const std::vector<entry>& row) {
    std::string text = fmt::format("{}:{}", row.front().where.file, row.front().where.line);
    for (std::size_t i = 1; i < row.size() && i < 5; ++i) text += fmt::format(",{}", row[i].where.line);
    if (row.size() > 5) text += fmt::format(" (and {} more lines)", row.size() - 5);
    return text;
}

// Checks the chain read from the lines before the library builds it, so that errors name files and
// lines: rows of probabilities that do not sum to 1, and transient states that cannot reach an absorbing
// state. A bad state is an error, or with --skip-invalid it is reported and removed with every
// transition into it (which may make other rows bad in turn: repeated until none is).
void validate_rows(std::map<std::string, std::vector<entry>>& rows, bool by_probability, double tolerance,
                   const cli::input& in) {
    const auto reject = [&](const std::string& state, const std::string& problem) {
        const auto message = fmt::format("{}: state \"{}\": {}", lines_of(rows.at(state)), state, problem);
        if (!in.skip_invalid()) throw cli::located_input_error(message);
        std::cerr << "selflearn chain: skipped " << message << '\n';
    };
    const auto remove = [&](const std::set<std::string>& states) {
        for (const auto& state : states) rows.erase(state);
        for (auto& [from, row] : rows) {
            std::erase_if(row, [&](const entry& e) { return states.contains(e.to); });
        }
        std::erase_if(rows, [](const auto& row) { return row.second.empty(); });
    };
    for (bool changed = true; changed;) {
        changed = false;
        std::set<std::string> bad;
        if (by_probability) {
            for (const auto& [from, row] : rows) {
                double sum = 0;
                for (const auto& e : row) sum += e.value;
                if (std::abs(sum - 1.0) > tolerance) {
                    reject(from, fmt::format("probabilities sum to {:.17g}, not 1 within --tolerance {}", sum, tolerance));
                    bad.insert(from);
                }
            }
        }
        if (bad.empty()) {
            // Absorbing: no transition to another state with a positive value. Then every state that can
            // reach one, by a backward search over positive transitions.
            std::map<std::string, std::vector<std::string>> into;
            std::set<std::string> reaches;
            std::vector<std::string> stack;
            for (const auto& [from, row] : rows) {
                bool leaves = false;
                for (const auto& e : row) {
                    if (e.value > 0.0 && e.to != from) {
                        leaves = true;
                        into[e.to].push_back(from);
                    }
                }
                if (!leaves) stack.push_back(from);
                for (const auto& e : row) {
                    if (!rows.contains(e.to)) stack.push_back(e.to);  // no row: absorbing
                }
            }
            for (const auto& s : stack) reaches.insert(s);
            while (!stack.empty()) {
                const std::string state = std::move(stack.back());
                stack.pop_back();
                for (const auto& from : into[state]) {
                    if (reaches.insert(from).second) stack.push_back(from);
                }
            }
            for (const auto& [from, row] : rows) {
                if (!reaches.contains(from)) {
                    reject(from, "cannot reach any absorbing state (its transitions stay in a closed class of "
                                 "transient states)");
                    bad.insert(from);
                }
            }
        }
        if (!bad.empty()) {
            remove(bad);
            changed = true;
        }
    }
}

int run_chain(const cli::arguments& args) {
    const bool fundamental = args.flag("fundamental");
    const auto threads = static_cast<unsigned>(args.integer("threads", 0, 1024));
    const double tolerance = args.number("tolerance", 0.0, 1e-3);
    cli::input in(args, "chain");
    cli::output out(args);

    std::map<std::string, std::vector<entry>> rows;  // by state, the transitions from it in input order
    std::map<std::pair<std::string, std::string>, std::size_t> given;  // (from, to) -> line, for "p" input
    std::optional<bool> by_probability;  // decided by the first line
    in.for_each([&](const cli::json& line, const cli::location& where) {
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
        const double value = is_p ? p->get<double>() : count->get<double>();
        if (is_p && !(value >= 0.0 && value <= 1.0)) {
            throw cli::input_error(fmt::format("\"p\" is {}, outside [0, 1]", value));
        }
        if (!is_p && !(value >= 0.0 && std::isfinite(value))) {
            throw cli::input_error(fmt::format("\"count\" is {}, not a finite non-negative number", value));
        }
        if (is_p) {
            const auto [it, inserted] = given.try_emplace({from, to}, where.line);
            if (!inserted) {
                throw cli::input_error(fmt::format("the transition from \"{}\" to \"{}\" is given twice (first at line {})",
                                                   from, to, it->second));
            }
        }
        by_probability = is_p;
        rows[from].push_back({to, value, where});
    });
    given.clear();
    validate_rows(rows, by_probability.value_or(false), tolerance, in);
    selflearn::transition_counts<std::string> counts;
    std::vector<selflearn::transition<std::string>> probabilities;
    for (const auto& [from, row] : rows) {
        for (const auto& e : row) {
            if (by_probability.value_or(false)) {
                probabilities.push_back({from, e.to, e.value});
            } else {
                counts.add(from, e.to, e.value);
            }
        }
    }
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
        "Fails naming the states and their file:lines when some transient state cannot reach any absorbing\n"
        "state, when a state's probabilities do not sum to 1, or when a pair is given twice (\"p\" input).\n"
        "With --skip-invalid such a line is skipped, and such a state is reported on stderr and removed with\n"
        "every transition into it (with \"p\" input, the rows that pointed to it may then be skipped too).",
    .options = {{"fundamental", "", "add the row of the fundamental matrix N (expected visits) as \"N\""},
                {"threads", "N", "threads solving independent components (0: one per core)", "0"},
                {"tolerance", "EPS", "row sums of probabilities and of the results must be 1 within EPS", "1e-9"}},
    .run = run_chain,
}};

}  // namespace
