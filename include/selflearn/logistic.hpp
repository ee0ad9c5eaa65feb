#pragma once
/// \file selflearn/logistic.hpp
/// L2-penalised binary logistic regression on Eigen, fitted by Newton's method (iteratively reweighted
/// least squares) with a backtracking line search, and a small versioned text file for the model.
///
/// **Objective.** With features standardised column by column (x' = (x - mean) / scale, scale the
/// population standard deviation, 1 for a constant column), labels y in {0, 1}, coefficients w and an
/// intercept b, the fit minimises exactly scikit-learn's `LogisticRegression(penalty="l2", C=C)`
/// objective:
///
///     C * sum_i logloss(y_i, w . x'_i + b) + 0.5 * ||w||^2,  logloss(y, z) = log(1 + e^z) - y z,
///
/// the intercept not penalised. So `LogisticRegression(C=C, solver="newton-cg", tol=1e-12)` fitted on the
/// standardised features gives the same coefficients (within 1e-6 on SNIPS paraphrase features; lbfgs
/// stops earlier, on a relative decrease of the objective, at a minimum no lower than this one).
///
/// **Determinism.** The fit is sequential dense linear algebra on the caller's order of rows: the same
/// input gives the same model bit for bit on one platform and build.
///
/// **File format** (version 1), one field per line, written and parsed by hand:
///
///     selflearn-logistic-model 1
///     kind <kind>
///     c <C>
///     features <d> <name_1> ... <name_d>
///     intercept <b>
///     coefficients <w_1> ... <w_d>
///     mean <m_1> ... <m_d>
///     scale <s_1> ... <s_d>
///     end
///
/// Numbers are written with 17 significant digits (they read back bit for bit); names and the kind are
/// words of letters, digits, `_`, `-` and `.`.

#include <selflearn/error.hpp>

#include <Eigen/Core>
#include <Eigen/Cholesky>
#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <istream>
#include <limits>
#include <ostream>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace selflearn {

/// A model file (or text) that cannot be read: malformed, another format version, or another kind of
/// model. `line()` is the 1-based line of the problem (0 when it is not about one line).
class model_format_error : public error {
public:
    /// A message naming the source and the line, and the line number.
    model_format_error(const std::string& message, std::size_t line) : error(message), line_(line) {}
    /// 1-based line of the problem in the file, 0 when not about one line.
    [[nodiscard]] std::size_t line() const noexcept { return line_; }

private:
    std::size_t line_;
};

/// The version of the model file format that this header writes and reads.
inline constexpr int logistic_model_format_version = 1;

/// Options of fit_logistic(). Defaults in brackets.
struct logistic_options {
    /// Inverse regularisation strength C (> 0, finite) [1]: the weight of the summed log-loss against
    /// 0.5 ||w||^2, as scikit-learn's C.
    double c = 1.0;
    /// Maximum Newton steps [100].
    std::size_t max_iterations = 100;
    /// Stop when the largest absolute component of the gradient of the objective is at most
    /// tolerance * max(1, C * rows) [1e-12].
    double tolerance = 1e-12;
};

/// A fitted logistic regression model: standardisation, coefficients on the standardised features, and
/// an intercept. probability(x) = 1 / (1 + exp(-(w . (x - mean) / scale + b))).
class logistic_model {
public:
    /// An empty model (no features; probability = 1 / (1 + e^-intercept)).
    logistic_model() = default;

    /// A model from its parts (all of size d). O(d).
    /// \throws invalid_argument when sizes differ, a value is not finite, a scale is <= 0, or C <= 0.
    logistic_model(std::vector<std::string> names, Eigen::VectorXd coefficients, double intercept, Eigen::VectorXd mean,
                   Eigen::VectorXd scale, double c, std::size_t iterations = 0)
        : names_(std::move(names)), w_(std::move(coefficients)), b_(intercept), mean_(std::move(mean)),
          scale_(std::move(scale)), c_(c), iterations_(iterations) {
        const auto d = static_cast<Eigen::Index>(names_.size());
        if (w_.size() != d || mean_.size() != d || scale_.size() != d) {
            throw invalid_argument(fmt::format("logistic model: {} names, {} coefficients, {} means, {} scales", d,
                                               w_.size(), mean_.size(), scale_.size()));
        }
        if (!std::isfinite(b_) || !w_.allFinite() || !mean_.allFinite() || !scale_.allFinite()) {
            throw invalid_argument("logistic model: a coefficient, mean, scale or the intercept is not finite");
        }
        if ((scale_.array() <= 0.0).any()) throw invalid_argument("logistic model: a scale is <= 0");
        if (!(c_ > 0.0) || !std::isfinite(c_)) throw invalid_argument(fmt::format("logistic model: C {} is not > 0", c_));
    }

    /// Number of features d. O(1).
    [[nodiscard]] std::size_t size() const noexcept { return names_.size(); }
    /// Feature names, in order. O(1).
    [[nodiscard]] const std::vector<std::string>& feature_names() const noexcept { return names_; }
    /// Coefficients w on the standardised features. O(1).
    [[nodiscard]] const Eigen::VectorXd& coefficients() const noexcept { return w_; }
    /// The intercept b. O(1).
    [[nodiscard]] double intercept() const noexcept { return b_; }
    /// Per-feature means used for standardisation. O(1).
    [[nodiscard]] const Eigen::VectorXd& mean() const noexcept { return mean_; }
    /// Per-feature scales (population standard deviations; 1 for a constant feature). O(1).
    [[nodiscard]] const Eigen::VectorXd& scale() const noexcept { return scale_; }
    /// The C the model was fitted with. O(1).
    [[nodiscard]] double c() const noexcept { return c_; }
    /// Newton steps taken by the fit (0 for a loaded model). O(1).
    [[nodiscard]] std::size_t iterations() const noexcept { return iterations_; }

    /// The decision value w . (x - mean) / scale + b. O(d).
    /// \throws invalid_argument when x.size() != size().
    [[nodiscard]] double decision(std::span<const double> x) const {
        if (x.size() != names_.size()) {
            throw invalid_argument(fmt::format("logistic model: {} features given, the model has {}", x.size(), names_.size()));
        }
        double z = b_;
        for (std::size_t k = 0; k < x.size(); ++k) {
            const auto e = static_cast<Eigen::Index>(k);
            z += w_[e] * ((x[k] - mean_[e]) / scale_[e]);
        }
        return z;
    }

    /// The probability 1 / (1 + exp(-decision(x))), in [0, 1]. O(d). \throws as decision().
    [[nodiscard]] double probability(std::span<const double> x) const { return sigmoid(decision(x)); }

    /// The logistic function, computed without overflow. O(1).
    [[nodiscard]] static double sigmoid(double z) noexcept {
        if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
        const double e = std::exp(z);
        return e / (1.0 + e);
    }

    /// Writes the model in the format of the header's description with the given kind (a word naming
    /// what the model is for, such as "paraphrase"). O(d).
    /// \throws invalid_argument when the kind or a feature name is not a word of [A-Za-z0-9_.-].
    void save(std::ostream& out, std::string_view kind) const {
        check_word(kind, "kind");
        for (const auto& n : names_) check_word(n, "feature name");
        out << "selflearn-logistic-model " << logistic_model_format_version << '\n';
        out << "kind " << kind << '\n';
        out << "c " << number(c_) << '\n';
        out << "features " << names_.size();
        for (const auto& n : names_) out << ' ' << n;
        out << '\n' << "intercept " << number(b_) << '\n';
        write_vector(out, "coefficients", w_);
        write_vector(out, "mean", mean_);
        write_vector(out, "scale", scale_);
        out << "end\n";
    }

    /// save() into a string. O(d).
    [[nodiscard]] std::string to_text(std::string_view kind) const {
        std::ostringstream out;
        save(out, kind);
        return out.str();
    }

    /// Reads a model written by save(). `source` names the input in error messages (a file name);
    /// `expected_kind`, when not empty, must equal the file's kind. O(file size).
    /// \throws model_format_error naming the source, the line and the field for a malformed file, another
    ///         format version, another kind, or values that are not finite (or scales <= 0, C <= 0).
    [[nodiscard]] static logistic_model load(std::istream& in, std::string_view source, std::string_view expected_kind = {}) {
        std::string line;
        std::size_t line_no = 0;
        auto fail = [&](const std::string& what) -> model_format_error {
            return model_format_error(fmt::format("{}:{}: {}", source, line_no, what), line_no);
        };
        // Returns the fields of the next line, which must start with `key`.
        auto next = [&](std::string_view key) {
            if (!std::getline(in, line)) {
                line_no += 1;
                throw fail(fmt::format("the file ends where the field '{}' was expected", key));
            }
            ++line_no;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            std::vector<std::string_view> fields;
            std::string_view rest = line;
            while (!rest.empty()) {
                const auto start = rest.find_first_not_of(' ');
                if (start == std::string_view::npos) break;
                rest.remove_prefix(start);
                const auto stop = std::min(rest.find(' '), rest.size());
                fields.push_back(rest.substr(0, stop));
                rest.remove_prefix(stop);
            }
            if (fields.empty() || fields[0] != key) {
                throw fail(fmt::format("expected the field '{}', found '{}'", key, line.substr(0, 60)));
            }
            return fields;
        };
        auto to_number = [&](std::string_view text, std::string_view field) {
            double v = 0.0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v)) {
                throw fail(fmt::format("field '{}': '{}' is not a finite number", field, text));
            }
            return v;
        };
        auto one = [&](std::string_view key) {
            const auto f = next(key);
            if (f.size() != 2) throw fail(fmt::format("field '{}' takes one value, found {}", key, f.size() - 1));
            return f[1];
        };
        const auto header = next("selflearn-logistic-model");
        if (header.size() != 2) throw fail("the first line must be 'selflearn-logistic-model <version>'");
        if (header[1] != std::to_string(logistic_model_format_version)) {
            throw fail(fmt::format("format version '{}', this library reads version {}", header[1],
                                   logistic_model_format_version));
        }
        const std::string kind(one("kind"));
        if (!expected_kind.empty() && kind != expected_kind) {
            throw fail(fmt::format("field 'kind': a '{}' model, expected a '{}' model", kind, expected_kind));
        }
        const double c = to_number(one("c"), "c");
        if (!(c > 0.0)) throw fail(fmt::format("field 'c': {} is not > 0", c));
        const auto names_line = next("features");
        if (names_line.size() < 2) throw fail("field 'features': missing the feature count");
        std::size_t d = 0;
        {
            const auto t = names_line[1];
            const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
            if (ec != std::errc{} || end != t.data() + t.size() || d > 100'000'000) {
                throw fail(fmt::format("field 'features': '{}' is not a feature count", t));
            }
        }
        if (names_line.size() != d + 2) {
            throw fail(fmt::format("field 'features': {} names for a count of {}", names_line.size() - 2, d));
        }
        std::vector<std::string> names;
        for (std::size_t k = 0; k < d; ++k) names.emplace_back(names_line[k + 2]);
        const double b = to_number(one("intercept"), "intercept");
        auto vector = [&](std::string_view key) {
            const auto f = next(key);
            if (f.size() != d + 1) throw fail(fmt::format("field '{}': {} values for {} features", key, f.size() - 1, d));
            Eigen::VectorXd v(static_cast<Eigen::Index>(d));
            for (std::size_t k = 0; k < d; ++k) v[static_cast<Eigen::Index>(k)] = to_number(f[k + 1], key);
            return v;
        };
        Eigen::VectorXd w = vector("coefficients");
        Eigen::VectorXd mean = vector("mean");
        Eigen::VectorXd scale = vector("scale");
        if ((scale.array() <= 0.0).any()) throw fail("field 'scale': a scale is <= 0");
        const auto end = next("end");
        if (end.size() != 1) throw fail("field 'end' takes no value");
        return logistic_model(std::move(names), std::move(w), b, std::move(mean), std::move(scale), c);
    }

    /// load() from a string. \throws as load().
    [[nodiscard]] static logistic_model from_text(std::string_view text, std::string_view source,
                                                  std::string_view expected_kind = {}) {
        std::istringstream in{std::string(text)};
        return load(in, source, expected_kind);
    }

    /// Equal parts (names, coefficients, intercept, standardisation, C), bit for bit. O(d).
    friend bool operator==(const logistic_model& a, const logistic_model& b) {
        return a.names_ == b.names_ && a.w_ == b.w_ && a.b_ == b.b_ && a.mean_ == b.mean_ && a.scale_ == b.scale_ &&
               a.c_ == b.c_;
    }

private:
    static std::string number(double v) { return fmt::format("{:.17g}", v); }
    static void write_vector(std::ostream& out, std::string_view key, const Eigen::VectorXd& v) {
        out << key;
        for (Eigen::Index k = 0; k < v.size(); ++k) out << ' ' << number(v[k]);
        out << '\n';
    }
    static void check_word(std::string_view w, std::string_view what) {
        const bool ok = !w.empty() && std::all_of(w.begin(), w.end(), [](char ch) {
            return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                   ch == '-' || ch == '.';
        });
        if (!ok) throw invalid_argument(fmt::format("logistic model: {} '{}' is not a word of [A-Za-z0-9_.-]", what, w));
    }

    std::vector<std::string> names_;
    Eigen::VectorXd w_;
    double b_ = 0.0;
    Eigen::VectorXd mean_, scale_;
    double c_ = 1.0;
    std::size_t iterations_ = 0;
};

namespace detail {

/// log(1 + e^z), without overflow.
inline double log1p_exp(double z) noexcept { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }

/// The objective of the header's description at (b, w) = theta on standardised features.
inline double logistic_objective(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, const Eigen::VectorXd& theta,
                                 double c) {
    const Eigen::Index d = x.cols();
    const Eigen::VectorXd z = (x * theta.tail(d)).array() + theta[0];
    double loss = 0.0;
    for (Eigen::Index i = 0; i < z.size(); ++i) loss += log1p_exp(z[i]) - y[i] * z[i];
    return c * loss + 0.5 * theta.tail(d).squaredNorm();
}

}  // namespace detail

/// Fits the model of the header's description to rows `x` (n x d) with labels `y` (n values, each 0 or
/// 1) by Newton's method on the standardised features: each step solves (C X^T S X + P) delta = -g by a
/// Cholesky (LDL^T) factorisation, S = diag(p (1 - p)), P = diag(0, 1, ..., 1), g the gradient, and
/// halves the step until the objective does not increase. `names` (d names, or empty for f0 ... f{d-1})
/// go into the model. Time O(iterations * (n d^2 + d^3)); memory O(n d + d^2).
/// A step that cannot decrease the objective ends the fit early (iterations() tells how many were taken).
/// \throws invalid_argument when n == 0, sizes differ, a value is not finite, a label is not 0 or 1, or
///         the options are bad (C <= 0 or not finite, tolerance <= 0).
[[nodiscard]] inline logistic_model fit_logistic(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                                                 const logistic_options& options = {},
                                                 std::vector<std::string> names = {}) {
    const Eigen::Index n = x.rows(), d = x.cols();
    if (n == 0) throw invalid_argument("fit_logistic: no rows");
    if (y.size() != n) throw invalid_argument(fmt::format("fit_logistic: {} rows but {} labels", n, y.size()));
    if (!x.allFinite()) throw invalid_argument("fit_logistic: a feature value is not finite");
    for (Eigen::Index i = 0; i < n; ++i) {
        if (y[i] != 0.0 && y[i] != 1.0) {
            throw invalid_argument(fmt::format("fit_logistic: label {} of row {} is not 0 or 1", y[i], i));
        }
    }
    if (!(options.c > 0.0) || !std::isfinite(options.c)) {
        throw invalid_argument(fmt::format("fit_logistic: C {} must be > 0 and finite", options.c));
    }
    if (!(options.tolerance > 0.0)) throw invalid_argument("fit_logistic: tolerance must be > 0");
    if (names.empty()) {
        for (Eigen::Index k = 0; k < d; ++k) names.push_back(fmt::format("f{}", k));
    }
    if (static_cast<Eigen::Index>(names.size()) != d) {
        throw invalid_argument(fmt::format("fit_logistic: {} names for {} features", names.size(), d));
    }
    // Standardise: population standard deviation, 1 for a constant column.
    Eigen::VectorXd mean = x.colwise().mean().transpose();
    Eigen::VectorXd scale(d);
    Eigen::MatrixXd xs = x.rowwise() - mean.transpose();
    for (Eigen::Index k = 0; k < d; ++k) {
        const double s = std::sqrt(xs.col(k).squaredNorm() / static_cast<double>(n));
        scale[k] = s > 0.0 ? s : 1.0;
        xs.col(k) /= scale[k];
    }
    const double c = options.c;
    Eigen::VectorXd theta = Eigen::VectorXd::Zero(d + 1);
    double objective = detail::logistic_objective(xs, y, theta, c);
    const double stop = options.tolerance * std::max(1.0, c * static_cast<double>(n));
    std::size_t iterations = 0;
    for (; iterations < options.max_iterations; ++iterations) {
        const Eigen::VectorXd z = (xs * theta.tail(d)).array() + theta[0];
        Eigen::VectorXd r(n), s(n);
        for (Eigen::Index i = 0; i < n; ++i) {
            const double p = logistic_model::sigmoid(z[i]);
            r[i] = p - y[i];
            s[i] = p * (1.0 - p);
        }
        Eigen::VectorXd g(d + 1);
        g[0] = c * r.sum();
        g.tail(d) = c * (xs.transpose() * r) + theta.tail(d);
        if (g.cwiseAbs().maxCoeff() <= stop) break;
        Eigen::MatrixXd h(d + 1, d + 1);
        h(0, 0) = c * s.sum();
        const Eigen::VectorXd xs_s = xs.transpose() * s;
        h.block(1, 0, d, 1) = c * xs_s;
        h.block(0, 1, 1, d) = c * xs_s.transpose();
        const Eigen::MatrixXd weighted = xs.array().colwise() * s.array().sqrt();
        h.block(1, 1, d, d) = c * (weighted.transpose() * weighted);
        h.block(1, 1, d, d).diagonal().array() += 1.0;
        // A tiny ridge on the intercept keeps the system solvable when every p is 0 or 1.
        h(0, 0) += 1e-12 * std::max(1.0, c * static_cast<double>(n));
        const Eigen::VectorXd delta = h.ldlt().solve(-g);
        if (!delta.allFinite()) break;
        double step = 1.0;
        bool moved = false;
        for (int halving = 0; halving < 60; ++halving, step *= 0.5) {
            const Eigen::VectorXd candidate = theta + step * delta;
            const double value = detail::logistic_objective(xs, y, candidate, c);
            if (value <= objective) {
                moved = candidate != theta;
                theta = candidate;
                objective = value;
                break;
            }
        }
        if (!moved) break;
    }
    return logistic_model(std::move(names), theta.tail(d), theta[0], std::move(mean), std::move(scale), c, iterations);
}

}  // namespace selflearn
