package dev.propensity.common.psi;

import java.util.Arrays;

/**
 * Population stability index, pure math on bucket counts (no Spark), so it is testable with plain
 * arrays. {@code PSI = sum_i (a_i - e_i) * ln(a_i / e_i)} where {@code e_i} and {@code a_i} are
 * the baseline (expected) and current (actual) shares of bucket {@code i}; a zero share is replaced
 * by {@code epsilon} so an empty bucket contributes a large but finite term.
 */
public final class Psi {

  /** Default share used for an empty bucket. */
  public static final double DEFAULT_EPSILON = 1e-4;

  private Psi() {}

  /**
   * @param expected baseline counts per bucket
   * @param actual current counts per bucket, same buckets in the same order
   * @param epsilon share substituted for an empty bucket (greater than 0)
   * @return the PSI, 0 for identical distributions
   * @throws IllegalArgumentException if the arrays differ in length or a side has no rows
   */
  public static double psi(double[] expected, double[] actual, double epsilon) {
    if (expected.length != actual.length) {
      throw new IllegalArgumentException("Invalid PSI input: " + expected.length
          + " baseline buckets but " + actual.length + " current buckets");
    }
    if (!(epsilon > 0)) {
      throw new IllegalArgumentException("Invalid PSI epsilon: " + epsilon + ", expected > 0");
    }
    double e = total(expected, "baseline");
    double a = total(actual, "current");
    double psi = 0;
    for (int i = 0; i < expected.length; i++) {
      double ei = Math.max(expected[i] / e, epsilon);
      double ai = Math.max(actual[i] / a, epsilon);
      psi += (ai - ei) * Math.log(ai / ei);
    }
    return psi;
  }

  /**
   * The bucket of a value given sorted interior edges: bucket {@code i} holds
   * {@code edges[i-1] < x <= edges[i]}, so a value equal to an edge goes to the lower bucket;
   * values below the first edge go to bucket 0, above the last to bucket {@code edges.length}.
   */
  public static int bucketOf(double x, double[] edges) {
    int b = 0;
    while (b < edges.length && x > edges[b]) {
      b++;
    }
    return b;
  }

  /**
   * @param quantiles raw quantile values (may repeat, e.g. for a skewed column)
   * @return the distinct values, sorted: interior bucket edges with no empty duplicate buckets
   */
  public static double[] distinctEdges(double[] quantiles) {
    return Arrays.stream(quantiles).filter(d -> !Double.isNaN(d)).sorted().distinct().toArray();
  }

  /**
   * @return {@code stable} below {@code moderate}, {@code moderate} below {@code significant},
   *     else {@code significant}
   */
  public static String level(double psi, double moderate, double significant) {
    if (psi < moderate) {
      return "stable";
    }
    return psi < significant ? "moderate" : "significant";
  }

  private static double total(double[] counts, String side) {
    double sum = 0;
    for (double c : counts) {
      if (c < 0) {
        throw new IllegalArgumentException("Invalid PSI input: negative " + side + " count " + c);
      }
      sum += c;
    }
    if (sum <= 0) {
      throw new IllegalArgumentException("Invalid PSI input: the " + side + " has no rows");
    }
    return sum;
  }
}
