package dev.propensity.common.explain;

/**
 * Exact SHAP values of a linear model {@code f(x) = intercept + sum_j coef_j x_j} against a
 * reference mean (with independent features, the Shapley value of feature j is {@code coef_j
 * (x_j - mean_j)}). The expected value is {@code f(mean)}. Immutable.
 */
public final class LinearShap implements java.io.Serializable {

  private static final long serialVersionUID = 1L;

  private final double[] coefficients;
  private final double intercept;
  private final double[] means;
  private final double expectedValue;

  /**
   * @param coefficients one per feature
   * @param intercept the constant term
   * @param means the reference (training) mean of each feature
   * @throws IllegalArgumentException when the lengths differ or a value is not finite
   */
  public LinearShap(double[] coefficients, double intercept, double[] means) {
    if (coefficients.length != means.length) {
      throw new IllegalArgumentException("Invalid linear model: " + coefficients.length
          + " coefficients but " + means.length + " means");
    }
    double e = intercept;
    for (int j = 0; j < coefficients.length; j++) {
      if (!Double.isFinite(coefficients[j]) || !Double.isFinite(means[j])) {
        throw new IllegalArgumentException("Invalid linear model: feature " + j
            + " has coefficient " + coefficients[j] + " and mean " + means[j]);
      }
      e += coefficients[j] * means[j];
    }
    this.coefficients = coefficients.clone();
    this.intercept = intercept;
    this.means = means.clone();
    this.expectedValue = e;
  }

  /** @return the number of features */
  public int numFeatures() {
    return coefficients.length;
  }

  /** @return {@code intercept + coef . x} */
  public double predict(double[] x) {
    double sum = intercept;
    for (int j = 0; j < coefficients.length; j++) {
      sum += coefficients[j] * x[j];
    }
    return sum;
  }

  /** @return {@code f(mean)} */
  public double expectedValue() {
    return expectedValue;
  }

  /** Adds {@code coef_j (x_j - mean_j)} to {@code phi[j]} for every feature. */
  public void shap(double[] x, double[] phi) {
    for (int j = 0; j < coefficients.length; j++) {
      phi[j] += coefficients[j] * (x[j] - means[j]);
    }
  }
}
