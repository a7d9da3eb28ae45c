package dev.propensity.common.bins;

import java.util.ArrayList;
import java.util.List;

/**
 * Per-bin statistics from per-bin counts (pure math): conversion rate, lift, cumulative gain.
 *
 * @param bin bin number, 1 = highest scores
 * @param customers rows in the bin
 * @param positives positive labels in the bin
 * @param conversionRate positives / customers
 * @param lift conversion rate / overall rate
 * @param cumulativeCustomers share of all rows in bins 1..bin
 * @param cumulativeGain share of all positives captured by bins 1..bin
 * @param cumulativeLift cumulative gain / cumulative customers
 * @param minScore lowest score in the bin
 * @param maxScore highest score in the bin
 */
public record BinStatistics(int bin, long customers, long positives, double conversionRate,
    double lift, double cumulativeCustomers, double cumulativeGain, double cumulativeLift,
    double minScore, double maxScore) {

  /** Counts for one bin, as aggregated from the data. */
  public record Counts(int bin, long customers, long positives, double minScore,
      double maxScore) {}

  /**
   * @param counts one entry per non-empty bin, in bin order (1 first)
   * @return the statistics per bin, same order
   */
  public static List<BinStatistics> of(List<Counts> counts) {
    long n = counts.stream().mapToLong(Counts::customers).sum();
    long pos = counts.stream().mapToLong(Counts::positives).sum();
    double overall = n == 0 ? 0 : (double) pos / n;
    List<BinStatistics> out = new ArrayList<>();
    long cumN = 0;
    long cumPos = 0;
    for (Counts c : counts) {
      cumN += c.customers();
      cumPos += c.positives();
      double rate = c.customers() == 0 ? 0 : (double) c.positives() / c.customers();
      double cumShare = n == 0 ? 0 : (double) cumN / n;
      double gain = pos == 0 ? 0 : (double) cumPos / pos;
      out.add(new BinStatistics(c.bin(), c.customers(), c.positives(), rate,
          overall == 0 ? 0 : rate / overall, cumShare, gain,
          cumShare == 0 ? 0 : gain / cumShare, c.minScore(), c.maxScore()));
    }
    return out;
  }
}
