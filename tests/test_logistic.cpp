// Logistic regression: the Newton fit against an independent minimiser (plain gradient descent on the
// documented objective) and finite differences, determinism, the model file round trip and its errors.

#include <selflearn/logistic.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

using namespace selflearn;

namespace {

struct lcg {
    std::uint64_t state;
    double uniform() {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<double>(state >> 11) * 0x1.0p-53;
    }
};

struct problem {
    Eigen::MatrixXd x;
    Eigen::VectorXd y;
};

// Noisy labels from a random linear rule, so the problem is not separable.
problem random_problem(Eigen::Index n, Eigen::Index d, std::uint64_t seed) {
    lcg rng{seed};
    problem p{Eigen::MatrixXd(n, d), Eigen::VectorXd(n)};
    Eigen::VectorXd truth(d);
    for (Eigen::Index k = 0; k < d; ++k) truth[k] = 4.0 * rng.uniform() - 2.0;
    for (Eigen::Index i = 0; i < n; ++i) {
        for (Eigen::Index k = 0; k < d; ++k) p.x(i, k) = 3.0 * rng.uniform() + static_cast<double>(k);
        const double z = (p.x.row(i).transpose() - Eigen::VectorXd::LinSpaced(d, 1.5, 1.5 + static_cast<double>(d - 1)))
                             .dot(truth);
        p.y[i] = rng.uniform() < 1.0 / (1.0 + std::exp(-z)) ? 1.0 : 0.0;
    }
    return p;
}

// The documented objective, computed here from its definition on the model's standardisation.
double objective(const problem& p, const Eigen::VectorXd& mean, const Eigen::VectorXd& scale, double b,
                 const Eigen::VectorXd& w, double c) {
    double loss = 0.0;
    for (Eigen::Index i = 0; i < p.x.rows(); ++i) {
        double z = b;
        for (Eigen::Index k = 0; k < w.size(); ++k) z += w[k] * (p.x(i, k) - mean[k]) / scale[k];
        loss += std::log(1.0 + std::exp(z)) - p.y[i] * z;
    }
    return c * loss + 0.5 * w.squaredNorm();
}

}  // namespace

TEST_CASE("the Newton fit minimises the documented objective") {
    for (std::uint64_t seed : {1u, 2u, 3u}) {
        for (double c : {0.01, 1.0, 10.0}) {
            const auto p = random_problem(200, 3, seed);
            const auto m = fit_logistic(p.x, p.y, {.c = c});
            // Standardisation: population mean and deviation.
            for (Eigen::Index k = 0; k < 3; ++k) {
                const double mu = p.x.col(k).mean();
                CHECK(m.mean()[k] == doctest::Approx(mu).epsilon(1e-12));
                CHECK(m.scale()[k] ==
                      doctest::Approx(std::sqrt((p.x.col(k).array() - mu).square().mean())).epsilon(1e-12));
            }
            // Finite differences of the objective vanish at the solution.
            const double h = 1e-5;
            const double base = objective(p, m.mean(), m.scale(), m.intercept(), m.coefficients(), c);
            for (Eigen::Index k = -1; k < 3; ++k) {
                Eigen::VectorXd wp = m.coefficients(), wm = m.coefficients();
                double bp = m.intercept(), bm = m.intercept();
                if (k < 0) {
                    bp += h;
                    bm -= h;
                } else {
                    wp[k] += h;
                    wm[k] -= h;
                }
                const double grad = (objective(p, m.mean(), m.scale(), bp, wp, c) -
                                     objective(p, m.mean(), m.scale(), bm, wm, c)) / (2 * h);
                CHECK(std::abs(grad) < 1e-5 * std::max(1.0, c * 200));
                // And it is a minimum: both neighbours are no lower.
                CHECK(objective(p, m.mean(), m.scale(), bp, wp, c) >= base - 1e-9);
                CHECK(objective(p, m.mean(), m.scale(), bm, wm, c) >= base - 1e-9);
            }
            // An independent minimiser: gradient descent on the same objective, from zero.
            Eigen::VectorXd w = Eigen::VectorXd::Zero(3);
            double b = 0.0;
            Eigen::MatrixXd xs = p.x;
            for (Eigen::Index k = 0; k < 3; ++k) xs.col(k) = (xs.col(k).array() - m.mean()[k]) / m.scale()[k];
            const double rate = 1.0 / (0.25 * c * 200 * 4 + 1.0);
            for (int it = 0; it < 200000; ++it) {
                Eigen::VectorXd r(200);
                for (Eigen::Index i = 0; i < 200; ++i) r[i] = 1.0 / (1.0 + std::exp(-(xs.row(i).dot(w) + b))) - p.y[i];
                const Eigen::VectorXd gw = c * (xs.transpose() * r) + w;
                const double gb = c * r.sum();
                w -= rate * gw;
                b -= rate * gb;
                if (std::max(gw.cwiseAbs().maxCoeff(), std::abs(gb)) < 1e-10) break;
            }
            for (Eigen::Index k = 0; k < 3; ++k) CHECK(m.coefficients()[k] == doctest::Approx(w[k]).epsilon(1e-6));
            CHECK(m.intercept() == doctest::Approx(b).epsilon(1e-6));
            CHECK(m.iterations() < 50);
        }
    }
}

TEST_CASE("fit is deterministic; probabilities and decision") {
    const auto p = random_problem(300, 4, 9);
    const auto a = fit_logistic(p.x, p.y, {.c = 2.0});
    const auto b = fit_logistic(p.x, p.y, {.c = 2.0});
    CHECK(a == b);
    std::vector<double> row = {1.0, 2.0, 3.0, 4.0};
    CHECK(a.probability(row) == b.probability(row));
    CHECK(a.probability(row) == doctest::Approx(1.0 / (1.0 + std::exp(-a.decision(row)))));
    CHECK(logistic_model::sigmoid(-800.0) >= 0.0);
    CHECK(logistic_model::sigmoid(800.0) == 1.0);
    CHECK_THROWS_WITH_AS((void)a.probability(std::vector<double>{1.0}), doctest::Contains("1 features given, the model has 4"),
                         invalid_argument);
}

TEST_CASE("separable data and constant columns stay finite") {
    Eigen::MatrixXd x(6, 2);
    x << 0, 5, 1, 5, 2, 5, 3, 5, 4, 5, 5, 5;
    Eigen::VectorXd y(6);
    y << 0, 0, 0, 1, 1, 1;
    const auto m = fit_logistic(x, y, {.c = 1000.0});
    CHECK(m.scale()[1] == 1.0);
    CHECK(m.coefficients()[1] == doctest::Approx(0.0).epsilon(1e-12));
    CHECK(m.coefficients().allFinite());
    CHECK(m.probability(std::vector<double>{0.0, 5.0}) < 0.01);
    CHECK(m.probability(std::vector<double>{5.0, 5.0}) > 0.99);
}

TEST_CASE("bad fit input is reported") {
    Eigen::MatrixXd x(2, 1);
    x << 1, 2;
    Eigen::VectorXd y(2);
    y << 0, 2;
    CHECK_THROWS_WITH_AS((void)fit_logistic(x, y), doctest::Contains("label 2 of row 1 is not 0 or 1"), invalid_argument);
    y << 0, 1;
    CHECK_THROWS_WITH_AS((void)fit_logistic(x, y, {.c = 0.0}), doctest::Contains("C 0 must be > 0"), invalid_argument);
    CHECK_THROWS_WITH_AS((void)fit_logistic(Eigen::MatrixXd(0, 1), Eigen::VectorXd(0)), doctest::Contains("no rows"),
                         invalid_argument);
    CHECK_THROWS_WITH_AS((void)fit_logistic(x, Eigen::VectorXd(3)), doctest::Contains("2 rows but 3 labels"),
                         invalid_argument);
    x(0, 0) = std::nan("");
    CHECK_THROWS_WITH_AS((void)fit_logistic(x, y), doctest::Contains("not finite"), invalid_argument);
}

TEST_CASE("model file round trip is bit-exact") {
    const auto p = random_problem(250, 5, 4);
    const auto m = fit_logistic(p.x, p.y, {.c = 0.3}, {"a", "b", "c_1", "d.x", "e-y"});
    const std::string text = m.to_text("test");
    CHECK(text.rfind("selflearn-logistic-model 1\nkind test\n", 0) == 0);
    const auto back = logistic_model::from_text(text, "model.txt", "test");
    CHECK(back == m);
    CHECK(back.to_text("test") == text);
    for (Eigen::Index i = 0; i < p.x.rows(); ++i) {
        std::vector<double> r(5);
        for (Eigen::Index k = 0; k < 5; ++k) r[static_cast<std::size_t>(k)] = p.x(i, k);
        CHECK(back.probability(r) == m.probability(r));
    }
    CHECK_THROWS_WITH_AS((void)m.to_text("two words"), doctest::Contains("kind 'two words'"), invalid_argument);
}

TEST_CASE("malformed or other-version model files name the line and field") {
    const auto p = random_problem(50, 2, 5);
    const std::string good = fit_logistic(p.x, p.y).to_text("paraphrase");
    auto replace_line = [&](std::size_t line, const std::string& with) {
        std::istringstream in(good);
        std::string out, l;
        for (std::size_t k = 1; std::getline(in, l); ++k) out += (k == line ? with : l) + "\n";
        return out;
    };
    auto fails = [](const std::string& text, const std::string& message, std::size_t line) {
        try {
            (void)logistic_model::from_text(text, "m.model", "paraphrase");
            FAIL("no error for: " << text);
        } catch (const model_format_error& e) {
            CHECK_MESSAGE(std::string(e.what()).find(message) != std::string::npos, e.what());
            CHECK(e.line() == line);
        }
    };
    fails(replace_line(1, "selflearn-logistic-model 2"), "m.model:1: format version '2', this library reads version 1", 1);
    fails(replace_line(1, "{\"json\": true}"), "m.model:1: expected the field 'selflearn-logistic-model'", 1);
    fails(replace_line(2, "kind friction"), "m.model:2: field 'kind': a 'friction' model, expected a 'paraphrase' model", 2);
    fails(replace_line(3, "c -1"), "m.model:3: field 'c': -1 is not > 0", 3);
    fails(replace_line(4, "features 3 f0 f1"), "m.model:4: field 'features': 2 names for a count of 3", 4);
    fails(replace_line(5, "intercept nan"), "m.model:5: field 'intercept': 'nan' is not a finite number", 5);
    fails(replace_line(6, "coefficients 1"), "m.model:6: field 'coefficients': 1 values for 2 features", 6);
    fails(replace_line(6, "coefficients 1 x2"), "m.model:6: field 'coefficients': 'x2' is not a finite number", 6);
    fails(replace_line(8, "scale 1 0"), "m.model:8: field 'scale': a scale is <= 0", 8);
    fails(good.substr(0, good.find("end")), "m.model:9: the file ends where the field 'end' was expected", 9);
    fails("", "m.model:1: the file ends where the field 'selflearn-logistic-model' was expected", 1);
    // Any kind is accepted when none is expected.
    CHECK(logistic_model::from_text(good, "m.model").size() == 2);
}
