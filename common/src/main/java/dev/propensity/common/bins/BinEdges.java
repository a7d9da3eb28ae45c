package dev.propensity.common.bins;

import dev.propensity.common.psi.Psi;
import java.util.Arrays;

/**
 * Propensity bins from a reference population's score quantiles (pure math, no Spark).
 *
 * <p>Bins are numbered from 1 = the highest scores. A score equal to an edge goes to the lower
 * bin (the one with the higher number); scores above the reference maximum fall in bin 1, below
 * the minimum in the last bin. Duplicate quantiles collapse, so no bin is ever empty by
 * construction: there may be fewer bins than asked for.
 */
public final class BinEdges {

  private BinEdges() {}

  /** @return the probabilities 1/n, 2/n, ... (n-1)/n of the interior cut points */
  public static double[] quantileProbabilities(int bins) {
    if (bins < 2) {
      throw new IllegalArgumentException("Invalid bin count " + bins + ": expected at least 2");
    }
    double[] probs = new double[bins - 1];
    for (int i = 1; i < bins; i++) {
      probs[i - 1] = (double) i / bins;
    }
    return probs;
  }

  /**
   * @param quantiles the reference scores at {@link #quantileProbabilities}
   * @param min the reference minimum score
   * @return sorted distinct interior edges, excluding any equal to the minimum (which would leave
   *     the lowest bin empty)
   */
  public static double[] fromQuantiles(double[] quantiles, double min) {
    return Arrays.stream(Psi.distinctEdges(quantiles)).filter(e -> e > min).toArray();
  }

  /** @return the number of bins the edges make */
  public static int count(double[] edges) {
    return edges.length + 1;
  }

  /** @return the bin of a score: 1 for the highest, {@code edges.length + 1} for the lowest */
  public static int binOf(double score, double[] edges) {
    return edges.length + 1 - Psi.bucketOf(score, edges);
  }
}
