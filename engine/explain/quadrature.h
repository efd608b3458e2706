#pragma once
#include <string>
#include <vector>

namespace segxai {

// Integration rules on [0, 1] for Integrated Gradients: the path points alpha_j and their
// weights w_j, so that IG = (x - x0) * sum_j w_j dS/dx(x0 + alpha_j (x - x0)).
enum class QuadratureRule { RiemannLeft, RiemannRight, RiemannMiddle, Trapezoid, GaussLegendre };

struct Quadrature {
    std::vector<double> points;
    std::vector<double> weights;
};

// `steps` >= 1 (>= 2 for the trapezoid, which includes both ends). Throws segxai::Error.
Quadrature quadrature(QuadratureRule rule, int steps);

const char* quadratureName(QuadratureRule rule);
// "riemann-left", "riemann-right", "riemann-middle", "trapezoid", "gauss-legendre"
QuadratureRule parseQuadratureRule(const std::string& name);

} // namespace segxai
