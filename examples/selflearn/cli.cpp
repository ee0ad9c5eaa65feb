#include "cli.hpp"

#include <selflearn/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <cmath>
#include <iostream>

namespace cli {

namespace {
std::map<std::string, command>& registry() {
    static std::map<std::string, command> commands;
    return commands;
}

// "[json.exception.parse_error.101] parse error at ..." without the bracketed id.
std::string without_exception_id(std::string_view what) {
    if (what.starts_with("[json.exception.")) {
        if (const auto end = what.find("] "); end != std::string_view::npos) what.remove_prefix(end + 2);
    }
    return std::string(what);
}

// Members of all the objects in a value: equal to the keys the parser read unless a key repeats.
std::size_t members(const json& value) {
    std::size_t n = 0;
    if (value.is_object()) {
        n += value.size();
        for (const auto& [key, member] : value.items()) n += members(member);
    } else if (value.is_array()) {
        for (const auto& element : value) n += members(element);
    }
    return n;
}

// The message for a line with a repeated key (a slow path: the line is parsed again, keeping each
// object's keys).
std::string duplicate_key_message(std::string_view line) {
    std::vector<std::vector<std::string>> open;
    std::string duplicate;
    const json::parser_callback_t find = [&](int, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::object_start) {
            open.emplace_back();
        } else if (event == json::parse_event_t::object_end) {
            if (!open.empty()) open.pop_back();
        } else if (event == json::parse_event_t::key && !open.empty() && duplicate.empty()) {
            const auto& key = parsed.get_ref<const std::string&>();
            for (const auto& k : open.back()) {
                if (k == key) duplicate = key;
            }
            open.back().push_back(key);
        }
        return true;
    };
    const json reparsed = json::parse(line, find);
    static_cast<void>(reparsed);
    return fmt::format("key \"{}\" appears twice in one object", duplicate);
}
}  // namespace

registration::registration(command c) {
    if (!c.reads_input) {
        // Commands that name their inputs by options take no FILE arguments: an extra one is a mistake.
        c.run = [run = std::move(c.run)](const arguments& args) {
            if (!args.positional().empty()) {
                throw usage_error(fmt::format("unexpected argument '{}' (this command takes its files as options)",
                                              args.positional().front()));
            }
            return run(args);
        };
    }
    auto name = c.name;
    registry().emplace(std::move(name), std::move(c));
}

const std::map<std::string, command>& commands() { return registry(); }

std::vector<option> common_options(bool reads_input) {
    std::vector<option> options{{"help", "", "show this help and exit"}};
    if (reads_input) {
        options.push_back({"output", "FILE", "write the output lines to FILE instead of standard output"});
        options.push_back({"skip-invalid", "",
                           "count, report on stderr and skip malformed input lines instead of stopping"});
    }
    return options;
}

arguments parse_arguments(const std::vector<option>& options, const std::vector<std::string>& args) {
    arguments parsed;
    auto find = [&](std::string_view name) -> const option* {
        for (const auto& o : options) {
            if (o.name == name) return &o;
        }
        for (const auto& o : options) {
            if (std::find(o.deprecated.begin(), o.deprecated.end(), name) != o.deprecated.end()) {
                std::cerr << fmt::format("selflearn: option '--{}' is deprecated and will be removed in the next "
                                         "release; use '--{}'\n",
                                         name, o.name);
                return &o;
            }
        }
        return nullptr;
    };
    for (const auto& o : options) {
        if (!o.value_name.empty() && !o.default_value.empty()) parsed.defaults_[o.name] = o.default_value;
    }
    bool only_positional = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (only_positional || arg == "-" || !arg.starts_with("-")) {
            parsed.positional_.push_back(arg);
            continue;
        }
        if (!arg.starts_with("--")) {
            throw usage_error(fmt::format("unknown option '{}' (options start with '--'; give a file named '{}' after "
                                          "'--' or as './{}')",
                                          arg, arg, arg));
        }
        if (arg == "--") {
            only_positional = true;
            continue;
        }
        std::string name = arg.substr(2);
        std::optional<std::string> inline_value;
        if (auto eq = name.find('='); eq != std::string::npos) {
            inline_value = name.substr(eq + 1);
            name.resize(eq);
        }
        const option* spec = find(name);
        if (spec == nullptr) throw usage_error(fmt::format("unknown option '--{}'", name));
        name = spec->name;  // a deprecated spelling sets the option under its current name
        if (spec->value_name.empty()) {
            if (inline_value) throw usage_error(fmt::format("option '--{}' takes no value", name));
            parsed.values_[name] = "";
        } else if (inline_value) {
            parsed.values_[name] = *inline_value;
        } else {
            if (i + 1 >= args.size()) {
                throw usage_error(fmt::format("option '--{}' needs a value ({})", name, spec->value_name));
            }
            parsed.values_[name] = args[++i];
        }
    }
    return parsed;
}

bool arguments::flag(const std::string& name) const { return values_.contains(name); }

std::optional<std::string> arguments::value(const std::string& name) const {
    if (auto it = values_.find(name); it != values_.end()) return it->second;
    if (auto it = defaults_.find(name); it != defaults_.end()) return it->second;
    return std::nullopt;
}

std::string arguments::string(const std::string& name) const { return value(name).value_or(""); }

long long arguments::integer(const std::string& name, long long min, long long max) const {
    auto text = value(name);
    if (!text) throw usage_error(fmt::format("option '--{}' is required", name));
    long long result = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), result);
    if (ec != std::errc{} || end != text->data() + text->size()) {
        throw usage_error(fmt::format("option '--{}' expects an integer, got '{}'", name, *text));
    }
    if (result < min || result > max) {
        throw usage_error(fmt::format("option '--{}' must be between {} and {}, got {}", name, min, max, result));
    }
    return result;
}

double arguments::number(const std::string& name, double min, double max) const {
    auto text = value(name);
    if (!text) throw usage_error(fmt::format("option '--{}' is required", name));
    double result = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), result);
    if (ec != std::errc{} || end != text->data() + text->size() || !std::isfinite(result)) {
        throw usage_error(fmt::format("option '--{}' expects a number, got '{}'", name, *text));
    }
    if (result < min || result > max) {
        throw usage_error(fmt::format("option '--{}' must be between {} and {}, got {}", name, min, max, result));
    }
    return result;
}

input::input(const arguments& args, std::string command_name)
    : input(args.positional(), args.flag("skip-invalid"), std::move(command_name)) {}

input::input(std::vector<std::string> files, bool skip_invalid, std::string command_name)
    : files_(std::move(files)), skip_invalid_(skip_invalid), command_(std::move(command_name)) {
    if (files_.empty()) files_.emplace_back("-");
}

void input::for_each_line(const std::function<void(std::string_view, const location&)>& handle) {
    std::string line;
    for (const auto& file : files_) {
        std::ifstream stream;
        std::istream* in = &std::cin;
        location where{file == "-" ? std::string("<stdin>") : file, 0};
        if (file != "-") {
            stream.open(file, std::ios::binary);
            if (!stream) throw input_error(fmt::format("{}: cannot open for reading", file));
            in = &stream;
        }
        while (std::getline(*in, line)) {
            ++where.line;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.find_first_not_of(" \t") == std::string::npos) continue;
            ++lines_read_;
            std::string problem;
            try {
                handle(line, where);
                continue;
            } catch (const located_input_error&) {
                throw;
            } catch (const input_error& e) {
                problem = e.what();
            } catch (const selflearn::error& e) {
                problem = e.what();
            } catch (const json::exception& e) {
                problem = e.what();
            }
            auto message = fmt::format("{}:{}: {}", where.file, where.line, problem);
            if (!skip_invalid_) throw input_error(message);
            ++lines_skipped_;
            std::cerr << "selflearn " << command_ << ": skipped " << message << '\n';
        }
        if (in->bad()) throw input_error(fmt::format("{}: read error", where.file));
    }
    if (lines_skipped_ > 0) {
        std::cerr << "selflearn " << command_ << ": skipped " << lines_skipped_ << " invalid line(s) of "
                  << lines_read_ << '\n';
    }
}

void input::for_each(const std::function<void(const json&, const location&)>& handle) {
    for_each_line([&](std::string_view line, const location& where) {
        json value;
        std::size_t keys = 0;
        const json::parser_callback_t count_keys = [&keys](int, json::parse_event_t event, json&) {
            if (event == json::parse_event_t::key) ++keys;
            return true;
        };
        try {
            value = json::parse(line, count_keys);
        } catch (const json::parse_error& e) {
            throw input_error(fmt::format("not valid JSON ({})", without_exception_id(e.what())));
        } catch (const json::out_of_range& e) {
            // nlohmann reports "number overflow parsing '1e400'" (error 406).
            throw input_error(fmt::format("a number does not fit a double ({})", without_exception_id(e.what())));
        }
        if (!value.is_object()) throw input_error("expected a JSON object");
        if (members(value) != keys) throw input_error(duplicate_key_message(line));
        handle(value, where);
    });
}

output::output(const arguments& args) : output(args.string("output")) {}

output::output(const std::string& path) : out_(&std::cout), name_(path.empty() || path == "-" ? "<stdout>" : path) {
    if (!path.empty() && path != "-") {
        file_ = std::make_unique<std::ofstream>(path, std::ios::binary | std::ios::trunc);
        if (!*file_) throw output_error(fmt::format("cannot open '{}' for writing: {}", path, std::strerror(errno)));
        out_ = file_.get();
    }
}

void output::write(const json& value) {
    write_raw(value.dump(-1, ' ', false, json::error_handler_t::strict));
}

void output::write_raw(std::string_view line) {
    out_->write(line.data(), static_cast<std::streamsize>(line.size()));
    out_->put('\n');
}

void output::flush() {
    out_->flush();
    if (!*out_) throw output_error(fmt::format("write error on {}", name_));
}

const json& require(const json& object, const char* field, json::value_t type) {
    auto it = object.find(field);
    if (it == object.end()) throw input_error(fmt::format("missing field \"{}\"", field));
    bool ok = it->type() == type ||
              (type == json::value_t::number_float && it->is_number()) ||
              (type == json::value_t::number_integer && it->is_number_integer());
    if (!ok) {
        throw input_error(fmt::format("field \"{}\" must be {}, got {}", field, json(type).type_name(),
                                      it->type_name()));
    }
    return *it;
}

const std::string& require_string(const json& object, const char* field) {
    return require(object, field, json::value_t::string).get_ref<const std::string&>();
}

const json* optional_field(const json& object, const char* field, json::value_t type) {
    auto it = object.find(field);
    if (it == object.end() || it->is_null()) return nullptr;
    return &require(object, field, type);
}

std::string help_text(const command& c) {
    std::string text = fmt::format("usage: selflearn {} {}\n\n{}\n\n{}\n\noptions:\n", c.name, c.usage, c.summary,
                                   c.description);
    auto all = c.options;
    for (auto& o : common_options(c.reads_input)) all.push_back(o);
    for (const auto& o : all) {
        std::string left = "--" + o.name + (o.value_name.empty() ? "" : " " + o.value_name);
        text += fmt::format("  {:<24} {}", left, o.help);
        if (!o.default_value.empty()) text += fmt::format(" (default: {})", o.default_value);
        for (const auto& old : o.deprecated) text += fmt::format(" (formerly --{}, deprecated)", old);
        text += '\n';
    }
    return text;
}

}  // namespace cli
