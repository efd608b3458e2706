#include "engine/explain/quadrature.h"

#include "engine/core/error.h"

#include <cmath>
#include <numbers>

namespace segxai {
namespace {

// Gauss-Legendre nodes and weights on [-1, 1] by Newton's method on P_n, mapped to [0, 1].
Quadrature gaussLegendre(int n) {
    Quadrature q;
    q.points.resize(size_t(n));
    q.weights.resize(size_t(n));
    for (int i = 0; i < (n + 1) / 2; ++i) {
        double x = std::cos(std::numbers::pi * (i + 0.75) / (n + 0.5));
        double derivative = 0.0;
        for (int iteration = 0; iteration < 100; ++iteration) {
            double p0 = 1.0, p1 = x;
            for (int k = 2; k <= n; ++k) {
                const double p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            derivative = n * (x * p1 - p0) / (x * x - 1.0);
            const double step = p1 / derivative;
            x -= step;
            if (std::abs(step) < 1e-15) break;
        }
        const double w = 2.0 / ((1.0 - x * x) * derivative * derivative);
        q.points[size_t(i)] = 0.5 * (1.0 - x);
        q.points[size_t(n - 1 - i)] = 0.5 * (1.0 + x);
        q.weights[size_t(i)] = q.weights[size_t(n - 1 - i)] = 0.5 * w;
    }
    return q;
}

} // namespace

Quadrature quadrature(QuadratureRule rule, int steps) {
    if (steps < 1 || steps > 100000) throw Error("the number of integration steps must be from 1 to 100000");
    Quadrature q;
    const double n = steps;
    switch (rule) {
    case QuadratureRule::RiemannLeft:
        for (int j = 0; j < steps; ++j)
            q.points.push_back(j / n);
        q.weights.assign(size_t(steps), 1.0 / n);
        break;
    case QuadratureRule::RiemannRight:
        for (int j = 1; j <= steps; ++j)
            q.points.push_back(j / n);
        q.weights.assign(size_t(steps), 1.0 / n);
        break;
    case QuadratureRule::RiemannMiddle:
        for (int j = 0; j < steps; ++j)
            q.points.push_back((j + 0.5) / n);
        q.weights.assign(size_t(steps), 1.0 / n);
        break;
    case QuadratureRule::Trapezoid:
        if (steps < 2) throw Error("the trapezoid rule needs at least 2 steps (both ends)");
        for (int j = 0; j < steps; ++j) {
            q.points.push_back(j / (n - 1.0));
            q.weights.push_back((j == 0 || j == steps - 1 ? 0.5 : 1.0) / (n - 1.0));
        }
        break;
    case QuadratureRule::GaussLegendre:
        return gaussLegendre(steps);
    }
    return q;
}

const char* quadratureName(QuadratureRule rule) {
    switch (rule) {
    case QuadratureRule::RiemannLeft:
        return "riemann-left";
    case QuadratureRule::RiemannRight:
        return "riemann-right";
    case QuadratureRule::RiemannMiddle:
        return "riemann-middle";
    case QuadratureRule::Trapezoid:
        return "trapezoid";
    case QuadratureRule::GaussLegendre:
        return "gauss-legendre";
    }
    return "";
}

QuadratureRule parseQuadratureRule(const std::string& name) {
    for (auto rule : {QuadratureRule::RiemannLeft, QuadratureRule::RiemannRight, QuadratureRule::RiemannMiddle,
                      QuadratureRule::Trapezoid, QuadratureRule::GaussLegendre}) {
        if (name == quadratureName(rule)) return rule;
    }
    throw Error("unknown integration rule '" + name +
                "' (riemann-left, riemann-right, riemann-middle, trapezoid, gauss-legendre)");
}

} // namespace segxai
