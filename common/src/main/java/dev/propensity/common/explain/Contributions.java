package dev.propensity.common.explain;

/** Helpers over per-row contribution vectors: folding model slots into features, top k. */
public final class Contributions {

  private Contributions() {}

  /**
   * Adds {@code scale * slots[i]} to {@code features[slotToFeature[i]]}, e.g. the one-hot slots of
   * a categorical feature into that feature. A slot mapped to {@code -1} is dropped.
   */
  public static void fold(double[] slots, int[] slotToFeature, double scale, double[] features) {
    if (slots.length != slotToFeature.length) {
      throw new IllegalArgumentException("Invalid slot map: " + slots.length + " slots but "
          + slotToFeature.length + " entries");
    }
    for (int i = 0; i < slots.length; i++) {
      int f = slotToFeature[i];
      if (f >= 0) {
        features[f] += scale * slots[i];
      }
    }
  }

  /**
   * @param contributions one per feature
   * @param k how many to keep
   * @return the indices of the {@code k} largest contributions by absolute value, largest first
   *     (ties: lower index first); fewer when there are fewer features
   */
  public static int[] topK(double[] contributions, int k) {
    // insertion into a k-slot ranking: no boxing or full sort per row (k is usually 3)
    int n = Math.max(0, Math.min(k, contributions.length));
    int[] out = new int[n];
    if (n == 0) {
      return out;
    }
    double[] magnitude = new double[n];
    int size = 0;
    for (int i = 0; i < contributions.length; i++) {
      double a = Math.abs(contributions[i]);
      if (size == n && Double.compare(a, magnitude[n - 1]) <= 0) {
        continue;
      }
      int j = size < n ? size++ : n - 1;
      while (j > 0 && Double.compare(a, magnitude[j - 1]) > 0) {
        out[j] = out[j - 1];
        magnitude[j] = magnitude[j - 1];
        j--;
      }
      out[j] = i;
      magnitude[j] = a;
    }
    return out;
  }
}
