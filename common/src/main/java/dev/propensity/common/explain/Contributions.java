package dev.propensity.common.explain;

import java.util.Arrays;

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
    Integer[] order = new Integer[contributions.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> {
      int c = Double.compare(Math.abs(contributions[b]), Math.abs(contributions[a]));
      return c != 0 ? c : Integer.compare(a, b);
    });
    int n = Math.max(0, Math.min(k, order.length));
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = order[i];
    }
    return out;
  }
}
