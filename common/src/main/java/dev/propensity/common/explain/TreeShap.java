package dev.propensity.common.explain;

import java.util.Arrays;

/**
 * Exact path-dependent TreeSHAP: the Shapley values of one row's prediction when the value of a
 * coalition S of features is the tree's expected output given {@code x_S}, estimated by following
 * x on splits of features in S and the training cover shares on the others (the values of
 * Lundberg, Erion and Lee, 2018, Algorithm 2, kept as {@link ReferenceTreeShap}).
 *
 * <p>Written here because no Java library computes exact SHAP values over MLlib's trees. The
 * algorithm is the polynomial form of Linear TreeSHAP (Yu et al., "Linear TreeShap", NeurIPS
 * 2022), which computes the same values as Fast TreeSHAP v2 (Yang 2021) without its per-leaf
 * tables of 2^depth entries. For a leaf l with value v, the distinct features P of its path, each
 * with zero fraction {@code z_j} (the product of the cover shares of its splits on the path) and
 * one fraction {@code o_j} (1 when x follows all of them, else 0), feature i receives
 *
 * <pre>
 *   v (o_i - z_i) sum_{S in P\{i}} |S|! (|P|-|S|-1)! / |P|! prod_{j in S} o_j prod_{j not in S} z_j
 *     = v (o_i - z_i) integral_0^1 prod_{j in P\{i}} q_j(t) dt,   q_j(t) = z_j + (o_j - z_j) t
 * </pre>
 *
 * (the Shapley weights are Beta integrals). The integrand is a polynomial of degree below |P|, so
 * Gauss-Legendre quadrature with ceil(depth / 2) points is exact: every polynomial is kept as its
 * values at those points. One depth-first walk per tree and row multiplies the {@code q}s down the
 * path, sums {@code v prod q} back up, and at each split of feature i divides the sum of the
 * leaves below whose last split on i it is by {@code q_i} and integrates: O(nodes x depth / 2)
 * multiply-adds per tree and row instead of O(leaves x depth^2), no allocation, no per-tree
 * tables. The results agree with {@link ReferenceTreeShap} to rounding (about 1e-15).
 *
 * <p>An instance holds the buffers for trees up to a given depth; it is not thread-safe: use one
 * per thread (per Spark partition), and reuse it across rows and trees.
 */
public final class TreeShap {

  /** Gauss-Legendre points on [0, 1], {@code POINTS[m - 1]} for m points. */
  private static final double[][] POINTS;
  /** The matching quadrature weights. */
  private static final double[][] WEIGHTS;
  /** {@code WEIGHTS[m - 1][k] / (1 - POINTS[m - 1][k])}: the factor of a cold (o = 0) split. */
  private static final double[][] COLD;
  private static final int MAX_POINTS = 64;

  static {
    POINTS = new double[MAX_POINTS][];
    WEIGHTS = new double[MAX_POINTS][];
    COLD = new double[MAX_POINTS][];
    for (int m = 1; m <= MAX_POINTS; m++) {
      double[][] pw = gaussLegendre(m);
      POINTS[m - 1] = pw[0];
      WEIGHTS[m - 1] = pw[1];
      COLD[m - 1] = new double[m];
      for (int k = 0; k < m; k++) {
        COLD[m - 1][k] = pw[1][k] / (1 - pw[0][k]);
      }
    }
  }

  private final int maxDepth;
  private final int stride;
  // per recursion level, one slice of `stride` values at the quadrature points:
  // g = prod of the path's q, s = sum over the leaves below of v * prod q, saved = claimed on entry
  private final double[] g;
  private final double[] s;
  private final double[] saved;
  // per feature: its zero and one fractions on the current path (1 and 1 when not on it), and
  // the part of the sums below the current split already credited by deeper splits of it
  private double[] zero = new double[0];
  private double[] one = new double[0];
  private double[] claimed = new double[0];

  // the call being served (fields, not arguments, keep the recursion lean)
  private Tree tree;
  private double[] row;
  private double[] phi;
  private double scale;
  private int m;
  private double[] t;
  private double[] w;
  private double[] cold;

  /** @param maxDepth the deepest tree (in edges) this instance will explain */
  public TreeShap(int maxDepth) {
    if (maxDepth < 0) {
      throw new IllegalArgumentException("Invalid maxDepth " + maxDepth);
    }
    if (pointsFor(maxDepth) > MAX_POINTS) {
      throw new IllegalArgumentException("Invalid maxDepth " + maxDepth + ": at most "
          + (2 * MAX_POINTS) + " supported");
    }
    this.maxDepth = maxDepth;
    this.stride = pointsFor(maxDepth);
    int size = (maxDepth + 2) * stride;
    g = new double[size];
    s = new double[size];
    saved = new double[size];
  }

  /** @return the quadrature points that integrate paths of up to {@code features} exactly */
  private static int pointsFor(int features) {
    return Math.max(1, (features + 1) / 2);
  }

  /**
   * Adds {@code scale} times the tree's SHAP values for row {@code x} to {@code phi}.
   * Their sum is {@code scale * (tree.predict(x) - tree.expectedValue())}.
   *
   * @param tree the tree, no deeper than this instance's {@code maxDepth}
   * @param x the row's feature values, indexed as the tree's features
   * @param scale the tree's weight in a sum of trees (1 for a single tree)
   * @param phi one slot per feature; accumulated into
   * @throws IllegalArgumentException when the tree is deeper than this instance's maxDepth
   */
  public void accumulate(Tree tree, double[] x, double scale, double[] phi) {
    if (tree.maxDepth() > maxDepth) {
      throw new IllegalArgumentException("Tree of depth " + tree.maxDepth()
          + " exceeds this TreeShap's maxDepth " + maxDepth);
    }
    if (tree.isLeaf(0)) {
      return;
    }
    int features = tree.maxFeature() + 1;
    if (features > zero.length) {
      grow(features);
    }
    this.tree = tree;
    this.row = x;
    this.phi = phi;
    this.scale = scale;
    this.m = pointsFor(tree.maxPathFeatures());
    this.t = POINTS[m - 1];
    this.w = WEIGHTS[m - 1];
    this.cold = COLD[m - 1];
    Arrays.fill(g, 0, m, 1.0);
    try {
      recurse(0, 0);
    } finally {
      this.tree = null;
      this.row = null;
      this.phi = null;
    }
  }

  private void grow(int features) {
    zero = new double[features];
    one = new double[features];
    claimed = new double[features * stride];
    Arrays.fill(zero, 1.0);
    Arrays.fill(one, 1.0);
  }

  /** Fills {@code s} at {@code level} with the sum of {@code v prod q} over the leaves below. */
  private void recurse(int node, int level) {
    int base = level * stride;
    if (tree.isLeaf(node)) {
      double v = scale * tree.value(node);
      for (int k = 0; k < m; k++) {
        s[base + k] = v * g[base + k];
      }
      return;
    }
    int f = tree.feature(node);
    boolean left = tree.goesLeft(node, row);
    double share = tree.leftShare(node);
    double zOld = zero[f];
    double oOld = one[f];
    int cf = f * stride;
    for (int k = 0; k < m; k++) {
      saved[base + k] = claimed[cf + k];
      s[base + k] = 0;
    }
    // the same products as ReferenceTreeShap: hot = the side x takes
    child(left ? tree.left(node) : tree.right(node), level, f, zOld, oOld,
        (left ? share : 1 - share) * zOld, oOld);
    child(left ? tree.right(node) : tree.left(node), level, f, zOld, oOld,
        (left ? 1 - share : share) * zOld, 0);
    zero[f] = zOld;
    one[f] = oOld;
    for (int k = 0; k < m; k++) {
      claimed[cf + k] = saved[base + k] + s[base + k];
    }
  }

  /** One child of a split of feature f: moves f's fractions from (zOld, oOld) to (z, o). */
  private void child(int node, int level, int f, double zOld, double oOld, double z, double o) {
    if (z == 0 && o == 0) {
      // no coalition reaches it with positive weight: it adds nothing
      return;
    }
    int base = level * stride;
    int next = base + stride;
    int cf = f * stride;
    double slope = o - z;
    if (zOld == 1 && oOld == 1) {
      // the first split of f on the path (q_old = 1)
      for (int k = 0; k < m; k++) {
        g[next + k] = g[base + k] * (z + slope * t[k]);
      }
    } else if (oOld == 0) {
      // cold before and after: q_new / q_old = z / zOld, the cover share
      double ratio = z / zOld;
      for (int k = 0; k < m; k++) {
        g[next + k] = g[base + k] * ratio;
      }
    } else {
      double slopeOld = 1 - zOld;
      for (int k = 0; k < m; k++) {
        g[next + k] = g[base + k] * (z + slope * t[k]) / (zOld + slopeOld * t[k]);
      }
    }
    zero[f] = z;
    one[f] = o;
    for (int k = 0; k < m; k++) {
      claimed[cf + k] = 0;
    }
    recurse(node, level + 1);
    // the leaves below whose last split on f is this one: integrate (o - z) sum / q_f
    double sum = 0;
    if (o == 0) {
      for (int k = 0; k < m; k++) {
        sum -= cold[k] * (s[next + k] - claimed[cf + k]);
      }
    } else if (slope != 0) {
      for (int k = 0; k < m; k++) {
        sum += w[k] * slope * (s[next + k] - claimed[cf + k]) / (z + slope * t[k]);
      }
    }
    phi[f] += sum;
    for (int k = 0; k < m; k++) {
      s[base + k] += s[next + k];
    }
  }

  /** @return {points, weights} of m-point Gauss-Legendre quadrature on [0, 1] */
  static double[][] gaussLegendre(int m) {
    double[] x = new double[m];
    double[] wt = new double[m];
    for (int i = 0; i < (m + 1) / 2; i++) {
      double z = Math.cos(Math.PI * (i + 0.75) / (m + 0.5));
      double dp = 0;
      for (int iter = 0; iter < 100; iter++) {
        double p0 = 1;
        double p1 = z;
        for (int j = 2; j <= m; j++) {
          double p2 = ((2 * j - 1) * z * p1 - (j - 1) * p0) / j;
          p0 = p1;
          p1 = p2;
        }
        dp = m * (z * p1 - p0) / (z * z - 1);
        double dz = p1 / dp;
        z -= dz;
        if (Math.abs(dz) < 1e-15) {
          break;
        }
      }
      // recompute the derivative at the converged root for the weight
      double p0 = 1;
      double p1 = z;
      for (int j = 2; j <= m; j++) {
        double p2 = ((2 * j - 1) * z * p1 - (j - 1) * p0) / j;
        p0 = p1;
        p1 = p2;
      }
      dp = m * (z * p1 - p0) / (z * z - 1);
      double weight = 2 / ((1 - z * z) * dp * dp);
      // on [0, 1]: t = (1 - z) / 2 ascending, weight / 2
      x[i] = (1 - z) / 2;
      wt[i] = weight / 2;
      x[m - 1 - i] = (1 + z) / 2;
      wt[m - 1 - i] = weight / 2;
    }
    return new double[][] {x, wt};
  }
}
