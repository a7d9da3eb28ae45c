package dev.propensity.common.explain;

/**
 * How a model's explained output becomes a probability of the positive class. Explanations are
 * exact in the model's own output space; {@link #toProbabilitySpace} carries them into
 * probability space for a soft vote.
 */
public enum Link {
  /** The output is the probability itself (MLlib decision trees and random forests). */
  IDENTITY(0),
  /** {@code p = 1 / (1 + exp(-m))}: logistic regression's margin (log-odds). */
  LOGISTIC(1),
  /** {@code p = 1 / (1 + exp(-2m))}: MLlib's gradient-boosted trees (log loss on labels +-1). */
  LOGISTIC_2X(2);

  private final double slope;

  Link(double slope) {
    this.slope = slope;
  }

  /** @return the probability of an output */
  public double probability(double output) {
    return slope == 0 ? output : 1.0 / (1.0 + Math.exp(-slope * output));
  }

  /** @return d probability / d output at an output */
  public double derivative(double output) {
    if (slope == 0) {
      return 1.0;
    }
    double p = probability(output);
    return slope * p * (1 - p);
  }

  /**
   * Carries contributions from output space into probability space, keeping additivity: each is
   * multiplied by {@code (p(output) - p(expected)) / (output - expected)} (the derivative when the
   * two are equal), so afterwards {@code sum(phi) + p(expected) == p(output)}. Signs and ratios
   * between features are kept. For a non-identity link this is an approximation: the results are
   * not the Shapley values of the probability function (those depend on the coalitions, not only
   * on the margins).
   *
   * @param phi the contributions in output space, rescaled in place
   * @param expected the expected output (the explanation's base value)
   * @param output the row's output, {@code expected + sum(phi)}
   * @return the base value in probability space, {@code p(expected)}
   */
  public double toProbabilitySpace(double[] phi, double expected, double output) {
    if (this == IDENTITY) {
      return expected;
    }
    double delta = output - expected;
    double factor = Math.abs(delta) > 1e-9 * Math.max(1.0, Math.abs(output))
        ? (probability(output) - probability(expected)) / delta
        : derivative(output);
    for (int j = 0; j < phi.length; j++) {
      phi[j] *= factor;
    }
    return probability(expected);
  }
}
