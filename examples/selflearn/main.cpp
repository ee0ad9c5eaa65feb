// The `selflearn` program: the reference composition of the library's primitives.
// Each subcommand lives in its own cmd_<name>.cpp; this file dispatches to them.

#include "cli.hpp"

#include <selflearn/error.hpp>
#include <selflearn/version.hpp>

#include <fmt/format.h>

#include <exception>
#include <iostream>

namespace {

std::string program_help() {
    std::string text =
        "usage: selflearn COMMAND [options] [FILE...]\n"
        "       selflearn --help | --version\n\n"
        "Self-learning primitives for conversational assistants, on JSON Lines.\n"
        "Commands read JSON Lines from the FILEs (standard input when none is given) and write JSON Lines\n"
        "to standard output or --output FILE.\n\ncommands:\n";
    for (const auto& [name, command] : cli::commands()) text += fmt::format("  {:<16} {}\n", name, command.summary);
    text +=
        "\nRun 'selflearn COMMAND --help' for a command's options.\n"
        "Exit status: 0 success, 1 bad input (the message names file and line) or a write failure, 2 usage\n"
        "error, 3 internal error (a bug: please report it).\n";
    return text;
}

int run(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::cerr << program_help();
        return 2;
    }
    if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::cout << program_help();
        return 0;
    }
    if (args[0] == "--version") {
        std::cout << "selflearn " << selflearn::version_string << '\n';
        return 0;
    }
    const auto& commands = cli::commands();
    auto it = commands.find(args[0]);
    if (it == commands.end()) {
        std::cerr << fmt::format("selflearn: unknown command '{}'\n\n{}", args[0], program_help());
        return 2;
    }
    const cli::command& command = it->second;
    std::vector<std::string> rest(args.begin() + 1, args.end());
    auto options = command.options;
    for (auto& o : cli::common_options(command.reads_input)) options.push_back(o);
    try {
        cli::arguments parsed = cli::parse_arguments(options, rest);
        if (parsed.flag("help")) {
            std::cout << cli::help_text(command);
            return 0;
        }
        return command.run(parsed);
    } catch (const cli::usage_error& e) {
        std::cerr << fmt::format("selflearn {}: {}\nRun 'selflearn {} --help' for usage.\n", command.name,
                                 e.what(), command.name);
        return 2;
    } catch (const cli::input_error& e) {
        std::cerr << fmt::format("selflearn {}: {}\n", command.name, e.what());
        return 1;
    } catch (const selflearn::error& e) {
        std::cerr << fmt::format("selflearn {}: {}\n", command.name, e.what());
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::ios::sync_with_stdio(false);
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "selflearn: internal error: " << e.what() << '\n';
        return 3;
    }
}
