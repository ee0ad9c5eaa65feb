#pragma once
// Plumbing shared by every subcommand of the `selflearn` program: option parsing, JSON Lines input and
// output, error reporting and the subcommand registry. A subcommand lives in its own cmd_<name>.cpp and
// registers itself with a static `cli::registration`.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cli {

using json = nlohmann::json;

/// Wrong use of the program (unknown option, bad option value): exit status 2.
class usage_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A bad input line or file: exit status 1. The message already names the file and line.
class input_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// An input error whose message already names its file and line(s): reported as it is, never skipped
/// line by line (the code that throws it has applied --skip-invalid itself).
class located_input_error : public input_error {
public:
    using input_error::input_error;
};

/// A write failure (an output file that cannot be created, e.g. in a missing folder, or a full disk): exit
/// status 1, like bad input. Never skipped by --skip-invalid.
class output_error : public located_input_error {
public:
    using located_input_error::located_input_error;
};

/// One option a subcommand accepts. An empty `value_name` makes it a flag.
struct option {
    std::string name;         // without the leading "--"
    std::string value_name;   // e.g. "K"; empty for a flag
    std::string help;
    std::string default_value = {};  // shown in --help and returned when the option is absent
    /// Old spellings (without "--") still accepted for one release: each use prints a one-line deprecation
    /// note on stderr and sets this option (docs/cli.md, "Option names").
    std::vector<std::string> deprecated = {};
};

/// The parsed command line of one subcommand.
class arguments {
public:
    [[nodiscard]] bool flag(const std::string& name) const;
    [[nodiscard]] std::optional<std::string> value(const std::string& name) const;
    [[nodiscard]] std::string string(const std::string& name) const;  // value or declared default
    [[nodiscard]] long long integer(const std::string& name, long long min, long long max) const;
    [[nodiscard]] double number(const std::string& name, double min, double max) const;
    [[nodiscard]] const std::vector<std::string>& positional() const { return positional_; }

private:
    friend arguments parse_arguments(const std::vector<option>&, const std::vector<std::string>&);
    std::map<std::string, std::string> values_;
    std::map<std::string, std::string> defaults_;
    std::vector<std::string> positional_;
};

/// Where a line came from, for error messages.
struct location {
    std::string file;  // "<stdin>" for standard input
    std::size_t line = 0;
};

class output;

/// JSON Lines reader over the positional files of a command (standard input when there are none or for
/// "-"). Each line is parsed and handed to `handle`; a line that does not parse (a repeated key in an
/// object, or a number that does not fit a double, counts as not parsing), or for which `handle`
/// throws (a selflearn::error, a JSON type error or an input_error), stops the run with an input_error
/// naming file and line, unless --skip-invalid was given: then it is counted, reported on stderr and
/// skipped. Blank lines are ignored.
class input {
public:
    input(const arguments& args, std::string command_name);
    input(std::vector<std::string> files, bool skip_invalid, std::string command_name);
    void for_each(const std::function<void(const json&, const location&)>& handle);
    /// Raw lines, for commands that parse lazily (the pipeline); same error handling as for_each.
    void for_each_line(const std::function<void(std::string_view, const location&)>& handle);
    [[nodiscard]] std::size_t lines_read() const { return lines_read_; }
    [[nodiscard]] std::size_t lines_skipped() const { return lines_skipped_; }
    [[nodiscard]] bool skip_invalid() const { return skip_invalid_; }
    [[nodiscard]] const std::string& command_name() const { return command_; }

private:
    std::vector<std::string> files_;
    bool skip_invalid_;
    std::string command_;
    std::size_t lines_read_ = 0;
    std::size_t lines_skipped_ = 0;
};

/// JSON Lines writer to --output FILE or standard output. \throws output_error when the file cannot be
/// created (constructor) or written (flush).
class output {
public:
    explicit output(const arguments& args);
    explicit output(const std::string& path);  // "" or "-" for stdout
    void write(const json& value);
    void write_raw(std::string_view line);  // one line, newline added
    void flush();

private:
    std::unique_ptr<std::ofstream> file_;
    std::ostream* out_;
    std::string name_;  // for error messages
};

/// Fetch a required field of a given JSON type; throws input_error with the field's name otherwise.
const json& require(const json& object, const char* field, json::value_t type);
/// The string value of a required string field.
const std::string& require_string(const json& object, const char* field);
/// An optional field of the given type: nullptr when absent or null; input_error if of another type.
const json* optional_field(const json& object, const char* field, json::value_t type);

/// One subcommand of the program.
struct command {
    std::string name;
    std::string summary;          // one line for the program's --help
    std::string usage;            // e.g. "[options] [FILE...]"
    std::string description;      // paragraphs for the subcommand's --help
    std::vector<option> options;  // besides the common ones (--help, --output, --skip-invalid)
    std::function<int(const arguments&)> run;
    bool reads_input = true;      // whether the common input/output options apply
};

/// Registers a subcommand at start-up: `static cli::registration r{command{...}};` in its cmd_*.cpp.
struct registration {
    explicit registration(command c);
};

/// All registered subcommands, by name.
const std::map<std::string, command>& commands();

/// Parse `args` against `options` (plus the common ones); throws usage_error.
arguments parse_arguments(const std::vector<option>& options, const std::vector<std::string>& args);

/// The options every input-reading command accepts.
std::vector<option> common_options(bool reads_input);

/// Human-readable help of a command.
std::string help_text(const command& c);

}  // namespace cli
