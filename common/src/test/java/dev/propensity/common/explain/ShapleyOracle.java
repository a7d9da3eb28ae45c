package dev.propensity.common.explain;

import java.util.List;

/**
 * Brute-force Shapley values, written independently of {@link TreeShap}: enumerate every
 * coalition S of the M features and take the value of S as the path-dependent expectation
 * E[f(x) | x_S] (follow x on splits of features in S, the children's cover shares elsewhere),
 * computed directly on the {@link Tree.Node} records. O(2^M) per row; for small M only.
 */
public final class ShapleyOracle {

  private ShapleyOracle() {}

  /** A weighted sum of trees given as their roots, plus an offset. */
  public record Model(List<Tree.Node> roots, double[] weights, double offset) {
    public double value(double[] x, boolean[] known) {
      double v = offset;
      for (int t = 0; t < roots.size(); t++) {
        v += weights[t] * expectation(roots.get(t), x, known);
      }
      return v;
    }
  }

  static double expectation(Tree.Node node, double[] x, boolean[] known) {
    if (node instanceof Tree.Leaf leaf) {
      return leaf.value();
    }
    Tree.Split s = (Tree.Split) node;
    if (known[s.feature()]) {
      return expectation(left(s, x) ? s.left() : s.right(), x, known);
    }
    double l = s.left().cover();
    double r = s.right().cover();
    double wl = l + r == 0 ? 0.5 : l / (l + r);
    double wr = l + r == 0 ? 0.5 : r / (l + r);
    return wl * expectation(s.left(), x, known) + wr * expectation(s.right(), x, known);
  }

  private static boolean left(Tree.Split s, double[] x) {
    double v = x[s.feature()];
    if (s.categories() == null) {
      return v <= s.threshold() || s.missingGoesLeft() && Double.isNaN(v);
    }
    boolean in = false;
    for (double c : s.categories()) {
      in |= c == v;
    }
    return s.inSetGoesLeft() ? in : !in;
  }

  /** @return phi_i = sum over S not containing i of |S|!(M-|S|-1)!/M! (v(S+i) - v(S)) */
  public static double[] shapley(Model model, double[] x, int m) {
    double[] phi = new double[m];
    double[] factorial = new double[m + 1];
    factorial[0] = 1;
    for (int i = 1; i <= m; i++) {
      factorial[i] = factorial[i - 1] * i;
    }
    for (int i = 0; i < m; i++) {
      for (int mask = 0; mask < (1 << m); mask++) {
        if ((mask & (1 << i)) != 0) {
          continue;
        }
        boolean[] without = new boolean[m];
        int size = 0;
        for (int j = 0; j < m; j++) {
          without[j] = (mask & (1 << j)) != 0;
          size += without[j] ? 1 : 0;
        }
        boolean[] with = without.clone();
        with[i] = true;
        double weight = factorial[size] * factorial[m - size - 1] / factorial[m];
        phi[i] += weight * (model.value(x, with) - model.value(x, without));
      }
    }
    return phi;
  }
}
