// ln Σ_{s} e^{s·x} over one unit's values: softplus(x) = ln(1 + eˣ) for {0,1} units, ln 2cosh(x) for ±1
// units (override `isingUnits`), written to avoid overflow. The free-energy term of a marginalised unit.

override isingUnits: bool = false;

fn activationTerm(x: f32) -> f32 {
  if (isingUnits) {
    let ax = abs(x);
    return ax + log(1.0 + exp(-2.0 * ax));
  }
  return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}
