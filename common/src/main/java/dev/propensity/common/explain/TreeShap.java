package dev.propensity.common.explain;

import java.util.Arrays;

/**
 * Exact path-dependent TreeSHAP: the Shapley values of one row's prediction when the value of a
 * coalition S of features is the tree's expected output given {@code x_S}, estimated by following
 * x on splits of features in S and the training cover shares on the others (the values of
 * Lundberg, Erion and Lee, 2018, Algorithm 2, kept as {@link ReferenceTreeShap}).
 *
 * <p>Written here because no Java library computes exact SHAP values over MLlib's trees. The
 * algorithm is a polynomial formulation in the spirit of Linear TreeSHAP (Yu et al., NeurIPS
 * 2022, "Linear TreeShap"); it computes the values Fast TreeSHAP v2 (Yang 2021) does, without
 * that one's per-leaf tables of 2^depth entries. For a leaf l with value v, the distinct features
 * P of its path, each with zero fraction {@code z_j} (the product of the cover shares of its
 * splits on the path) and one fraction {@code o_j} (1 when x follows all of them, else 0),
 * feature i receives
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
 * multiply-adds per tree and row instead of O(leaves x depth^2), and no allocation.
 *
 * <p>What does not depend on the row is computed once per tree ({@code Plan}, cached in the
 * {@link Tree} and shared by all rows and threads): each node's zero fraction, the reciprocals of
 * its {@code q} at the points, where its feature was split before on the path, and for nodes whose
 * two children are leaves their whole contribution as two vectors per case (x left, x right, the
 * feature already cold), so half the nodes cost 2 m multiply-adds at m points. Two unrolled
 * kernels keep the path's values in locals: a 4-point one for trees whose paths test at most 8
 * distinct features (depth 8 and less: the default forest and GBT) and a 6-point one for 9 to 12
 * (depth 12, the grid's other value; those needing 5 points take 6, still exact, rather than a
 * third kernel). Trees with longer paths take a general loop over the points. The results agree
 * with {@link ReferenceTreeShap} to rounding (about 1e-15; {@code FastTreeShapTest}).
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
  /** The 4-point unrolled kernel's points: exact for paths of up to 8 distinct features. */
  static final int UNROLLED = 4;
  private static final double T0;
  private static final double T1;
  private static final double T2;
  private static final double T3;
  private static final double U0;
  private static final double U1;
  private static final double U2;
  private static final double U3;
  private static final double C0;
  private static final double C1;
  private static final double C2;
  private static final double C3;
  /** The 6-point unrolled kernel's: exact up to 12 distinct features (it serves 9 to 12). */
  static final int UNROLLED_6 = 6;
  // its points and cold factors as constants (the JIT folds them; array elements it would load)
  private static final double T6_0;
  private static final double T6_1;
  private static final double T6_2;
  private static final double T6_3;
  private static final double T6_4;
  private static final double T6_5;
  private static final double C6_0;
  private static final double C6_1;
  private static final double C6_2;
  private static final double C6_3;
  private static final double C6_4;
  private static final double C6_5;

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
    double[] t = POINTS[UNROLLED - 1];
    double[] c = COLD[UNROLLED - 1];
    T0 = t[0];
    T1 = t[1];
    T2 = t[2];
    T3 = t[3];
    U0 = 1 - t[0];
    U1 = 1 - t[1];
    U2 = 1 - t[2];
    U3 = 1 - t[3];
    C0 = c[0];
    C1 = c[1];
    C2 = c[2];
    C3 = c[3];
    double[] t6 = POINTS[UNROLLED_6 - 1];
    double[] c6 = COLD[UNROLLED_6 - 1];
    T6_0 = t6[0];
    T6_1 = t6[1];
    T6_2 = t6[2];
    T6_3 = t6[3];
    T6_4 = t6[4];
    T6_5 = t6[5];
    C6_0 = c6[0];
    C6_1 = c6[1];
    C6_2 = c6[2];
    C6_3 = c6[3];
    C6_4 = c6[4];
    C6_5 = c6[5];
  }

  private final int maxDepth;
  private final int stride;
  // per recursion level, one slice of `stride` values at the quadrature points:
  // g = prod of the path's q, s = sum over the leaves below of v * prod q, saved = claimed on entry
  private final double[] g;
  private final double[] s;
  private final double[] saved;
  // the pushdown factor of the child being entered
  private final double[] factor;
  // per feature: its one fraction on the current path (1 when not on it), and the part of the sums
  // below the current split already credited by deeper splits of it
  private double[] one = new double[0];
  private double[] claimed = new double[0];

  // the leaf-table kernel's per-node buffers
  private int[] pattern = new int[0];
  private boolean[] decision = new boolean[0];

  // the call being served (fields, not arguments, keep the recursion lean)
  private Tree tree;
  private Plan plan;
  private double[] row;
  private double[] phi;
  private double scale;
  private int m;

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
    // a tree's Plan may round its points up to the next unrolled kernel's (see Plan)
    int points = pointsFor(maxDepth);
    this.stride = points <= UNROLLED ? UNROLLED : Math.max(UNROLLED_6, points);
    int size = (maxDepth + 2) * stride;
    g = new double[size];
    s = new double[size];
    saved = new double[size];
    factor = new double[stride];
  }

  /** @return the quadrature points that integrate paths of up to {@code features} exactly */
  static int pointsFor(int features) {
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
    if (features > one.length) {
      one = new double[features];
      claimed = new double[features * stride];
      Arrays.fill(one, 1.0);
    }
    this.tree = tree;
    this.plan = tree.shapPlan();
    this.row = x;
    this.phi = phi;
    this.scale = scale;
    this.m = plan.m;
    try {
      if (m == UNROLLED) {
        // everything below is linear in g: starting from scale instead of 1 applies it
        node4(0, 0, scale, scale, scale, scale);
        return;
      }
      if (m == UNROLLED_6) {
        node6(0, 0, scale, scale, scale, scale, scale, scale);
        return;
      }
      Arrays.fill(g, 0, m, scale);
      recurse(0, 0);
    } finally {
      this.tree = null;
      this.plan = null;
      this.row = null;
      this.phi = null;
    }
  }

  /** The same as {@link #accumulate(Tree, double[], double, double[])} by the tree's tables. */
  void accumulate(LeafTables tables, Tree tree, double[] x, double scale, double[] phi) {
    if (pattern.length < tree.size()) {
      pattern = new int[tree.size()];
      decision = new boolean[tree.size()];
    }
    tables.accumulate(x, scale, phi, pattern, decision);
  }

  /** Fills {@code s} at {@code level} with the sum of {@code v prod q} over the leaves below. */
  private void recurse(int node, int level) {
    int base = level * stride;
    int f = tree.feature(node);
    int bottom = plan.bottom[node];
    if (bottom >= 0) {
      // both children are leaves: g times precomputed vectors (see node4)
      int at = bottom + (one[f] == 0 ? 0 : tree.goesLeft(node, row) ? 2 * m : 4 * m);
      double[] b = plan.bottomTables;
      double credit = 0;
      for (int k = 0; k < m; k++) {
        double gk = g[base + k];
        s[base + k] = gk * b[at + k];
        credit += gk * b[at + m + k];
      }
      phi[f] += credit;
      if (plan.repeatsAbove[node]) {
        int cf = f * stride;
        for (int k = 0; k < m; k++) {
          claimed[cf + k] += s[base + k];
        }
      }
      return;
    }
    boolean left = tree.goesLeft(node, row);
    double share = tree.leftShare(node);
    double oOld = one[f];
    boolean below = plan.repeatsBelow[node];
    int cf = f * stride;
    for (int k = 0; k < m; k++) {
      s[base + k] = 0;
    }
    if (below) {
      System.arraycopy(claimed, cf, saved, base, m);
    }
    // the same products as ReferenceTreeShap: hot = the side x takes
    child(left ? tree.left(node) : tree.right(node), level, f, below, oOld,
        left ? share : 1 - share, oOld);
    child(left ? tree.right(node) : tree.left(node), level, f, below, oOld,
        left ? 1 - share : share, 0);
    one[f] = oOld;
    if (below) {
      for (int k = 0; k < m; k++) {
        claimed[cf + k] = saved[base + k] + s[base + k];
      }
    } else if (plan.repeatsAbove[node]) {
      for (int k = 0; k < m; k++) {
        claimed[cf + k] += s[base + k];
      }
    }
  }

  /**
   * One child of a split of feature f, which moves f's one fraction from oOld to o and its zero
   * fraction to the child's {@code plan.zero}; adds the child's leaves to {@code s} at level and
   * credits f with the part of them whose last split on f is this one.
   */
  private void child(int node, int level, int f, boolean below, double oOld, double share,
      double o) {
    Plan p = plan;
    double z = p.zero[node];
    if (z == 0 && o == 0) {
      // no coalition reaches it with positive weight: it adds nothing
      return;
    }
    int base = level * stride;
    int prev = p.previous[node];
    double[] fac = factor;
    double[] t = p.t;
    if (prev >= 0 && oOld == 0) {
      // cold before and after: q_new / q_old = z / zOld, the cover share
      for (int k = 0; k < m; k++) {
        fac[k] = share;
      }
    } else {
      if (o != 0) {
        double slope = 1 - z;
        for (int k = 0; k < m; k++) {
          fac[k] = z + slope * t[k];
        }
      } else {
        double[] oneMinusT = p.oneMinusT;
        for (int k = 0; k < m; k++) {
          fac[k] = z * oneMinusT[k];
        }
      }
      if (prev >= 0) {
        // undo the earlier split of f (it was hot: q_old = 1 / invHot of that node)
        double[] inv = p.invHot;
        int pi = prev * m;
        for (int k = 0; k < m; k++) {
          fac[k] *= inv[pi + k];
        }
      }
    }
    double sum = 0;
    if (tree.isLeaf(node)) {
      double v = tree.value(node);
      if (o == 0) {
        double[] cold = p.cold;
        for (int k = 0; k < m; k++) {
          double sk = v * (g[base + k] * fac[k]);
          s[base + k] += sk;
          sum -= cold[k] * sk;
        }
      } else {
        double[] w = p.w;
        double[] inv = p.invHot;
        int ni = node * m;
        for (int k = 0; k < m; k++) {
          double sk = v * (g[base + k] * fac[k]);
          s[base + k] += sk;
          sum += w[k] * sk * inv[ni + k];
        }
        sum *= 1 - z;
      }
      phi[f] += sum;
      return;
    }
    int next = base + stride;
    for (int k = 0; k < m; k++) {
      g[next + k] = g[base + k] * fac[k];
    }
    int cf = f * stride;
    one[f] = o;
    if (below) {
      for (int k = 0; k < m; k++) {
        claimed[cf + k] = 0;
      }
    }
    recurse(node, level + 1);
    // the leaves below whose last split on f is this one: integrate (o - z) sum / q_f
    if (o == 0) {
      double[] cold = p.cold;
      if (below) {
        for (int k = 0; k < m; k++) {
          sum -= cold[k] * (s[next + k] - claimed[cf + k]);
        }
      } else {
        for (int k = 0; k < m; k++) {
          sum -= cold[k] * s[next + k];
        }
      }
    } else {
      double[] w = p.w;
      double[] inv = p.invHot;
      int ni = node * m;
      if (below) {
        for (int k = 0; k < m; k++) {
          sum += w[k] * (s[next + k] - claimed[cf + k]) * inv[ni + k];
        }
      } else {
        for (int k = 0; k < m; k++) {
          sum += w[k] * s[next + k] * inv[ni + k];
        }
      }
      sum *= 1 - z;
    }
    phi[f] += sum;
    for (int k = 0; k < m; k++) {
      s[base + k] += s[next + k];
    }
  }

  // ---- the unrolled kernel for trees whose paths test at most 8 distinct features (4 points):
  // the same steps as recurse / child, with the path product g passed in locals

  /** Writes the sum of {@code v prod q} over the leaves below {@code node} to s at level. */
  private void node4(int node, int level, double g0, double g1, double g2, double g3) {
    Tree tr = tree;
    int f = tr.feature(node);
    double oOld = one[f];
    Plan p = plan;
    int bottom = p.bottom[node];
    if (bottom >= 0) {
      // both children are leaves: their sums and f's credit are g times precomputed vectors
      int at = bottom + (oOld == 0 ? 0 : tr.goesLeft(node, row) ? 8 : 16);
      double[] b = p.bottomTables;
      double a0 = g0 * b[at];
      double a1 = g1 * b[at + 1];
      double a2 = g2 * b[at + 2];
      double a3 = g3 * b[at + 3];
      phi[f] += g0 * b[at + 4] + g1 * b[at + 5] + g2 * b[at + 6] + g3 * b[at + 7];
      int base = level * stride;
      s[base] = a0;
      s[base + 1] = a1;
      s[base + 2] = a2;
      s[base + 3] = a3;
      if (p.repeatsAbove[node]) {
        int cf = f * stride;
        claimed[cf] += a0;
        claimed[cf + 1] += a1;
        claimed[cf + 2] += a2;
        claimed[cf + 3] += a3;
      }
      return;
    }
    // branch-free in x: the children in a fixed order, the side x takes as a 0/1 factor
    double oLeft = tr.goesLeft(node, row) ? oOld : 0;
    boolean below = p.repeatsBelow[node];
    int cf = f * stride;
    double c0 = 0;
    double c1 = 0;
    double c2 = 0;
    double c3 = 0;
    if (below) {
      c0 = claimed[cf];
      c1 = claimed[cf + 1];
      c2 = claimed[cf + 2];
      c3 = claimed[cf + 3];
    }
    int next = (level + 1) * stride;
    child4(tr.left(node), next, f, below, oOld, oLeft, g0, g1, g2, g3);
    double a0 = s[next];
    double a1 = s[next + 1];
    double a2 = s[next + 2];
    double a3 = s[next + 3];
    child4(tr.right(node), next, f, below, oOld, oOld - oLeft, g0, g1, g2, g3);
    a0 += s[next];
    a1 += s[next + 1];
    a2 += s[next + 2];
    a3 += s[next + 3];
    one[f] = oOld;
    int base = level * stride;
    s[base] = a0;
    s[base + 1] = a1;
    s[base + 2] = a2;
    s[base + 3] = a3;
    if (below) {
      claimed[cf] = c0 + a0;
      claimed[cf + 1] = c1 + a1;
      claimed[cf + 2] = c2 + a2;
      claimed[cf + 3] = c3 + a3;
    } else if (p.repeatsAbove[node]) {
      claimed[cf] += a0;
      claimed[cf + 1] += a1;
      claimed[cf + 2] += a2;
      claimed[cf + 3] += a3;
    }
  }

  /**
   * One child, reached with f's one fraction {@code o} (0 or 1): writes its leaves' sum to s at
   * {@code next} and credits f (see child). {@code q = z + (o - z) t} covers both sides.
   */
  private void child4(int node, int next, int f, boolean below, double oOld, double o,
      double g0, double g1, double g2, double g3) {
    Plan p = plan;
    double z = p.zero[node];
    if (z == 0 && o == 0) {
      // no coalition reaches it with positive weight: it adds nothing
      s[next] = 0;
      s[next + 1] = 0;
      s[next + 2] = 0;
      s[next + 3] = 0;
      return;
    }
    double slope = o - z;
    double h0 = g0 * (z + slope * T0);
    double h1 = g1 * (z + slope * T1);
    double h2 = g2 * (z + slope * T2);
    double h3 = g3 * (z + slope * T3);
    int prev = p.previous[node];
    if (prev >= 0) {
      // undo the earlier split of f: divide by its q (hot or cold as x went there)
      double[] hot = p.invHot;
      double[] cold = p.invCold;
      int pi = prev * UNROLLED;
      double notOld = 1 - oOld;
      h0 *= oOld * hot[pi] + notOld * cold[pi];
      h1 *= oOld * hot[pi + 1] + notOld * cold[pi + 1];
      h2 *= oOld * hot[pi + 2] + notOld * cold[pi + 2];
      h3 *= oOld * hot[pi + 3] + notOld * cold[pi + 3];
    }
    double t0;
    double t1;
    double t2;
    double t3;
    Tree tr = tree;
    if (tr.isLeaf(node)) {
      double v = tr.value(node);
      t0 = v * h0;
      t1 = v * h1;
      t2 = v * h2;
      t3 = v * h3;
      s[next] = t0;
      s[next + 1] = t1;
      s[next + 2] = t2;
      s[next + 3] = t3;
    } else {
      one[f] = o;
      int cf = f * stride;
      if (below) {
        claimed[cf] = 0;
        claimed[cf + 1] = 0;
        claimed[cf + 2] = 0;
        claimed[cf + 3] = 0;
      }
      node4(node, next / stride, h0, h1, h2, h3);
      t0 = s[next];
      t1 = s[next + 1];
      t2 = s[next + 2];
      t3 = s[next + 3];
      if (below) {
        t0 -= claimed[cf];
        t1 -= claimed[cf + 1];
        t2 -= claimed[cf + 2];
        t3 -= claimed[cf + 3];
      }
    }
    // integrate (o - z) t / q: -t w / (1 - t) on the cold side, t w (1 - z) / q on the hot one
    double[] hc = p.hotCoef;
    int ni = node * UNROLLED;
    double hotSum = hc[ni] * t0 + hc[ni + 1] * t1 + hc[ni + 2] * t2 + hc[ni + 3] * t3;
    double coldSum = C0 * t0 + C1 * t1 + C2 * t2 + C3 * t3;
    phi[f] += o * hotSum - (1 - o) * coldSum;
  }

  // ---- the unrolled kernel for trees whose paths test 9 to 12 distinct features (6 points): the
  // same steps as node4 / child4 with six values (on the general loop, through arrays, full
  // depth-12 trees took 2.3 to 3.4 times the CPU: TreeShapKernelBenchmark)

  /** Writes the sum of {@code v prod q} over the leaves below {@code node} to s at level. */
  private void node6(int node, int level, double g0, double g1, double g2, double g3, double g4,
      double g5) {
    Tree tr = tree;
    int f = tr.feature(node);
    double oOld = one[f];
    Plan p = plan;
    int bottom = p.bottom[node];
    if (bottom >= 0) {
      // both children are leaves: their sums and f's credit are g times precomputed vectors
      int at = bottom + (oOld == 0 ? 0 : tr.goesLeft(node, row) ? 12 : 24);
      double[] b = p.bottomTables;
      double a0 = g0 * b[at];
      double a1 = g1 * b[at + 1];
      double a2 = g2 * b[at + 2];
      double a3 = g3 * b[at + 3];
      double a4 = g4 * b[at + 4];
      double a5 = g5 * b[at + 5];
      phi[f] += g0 * b[at + 6] + g1 * b[at + 7] + g2 * b[at + 8] + g3 * b[at + 9]
          + g4 * b[at + 10] + g5 * b[at + 11];
      int base = level * stride;
      s[base] = a0;
      s[base + 1] = a1;
      s[base + 2] = a2;
      s[base + 3] = a3;
      s[base + 4] = a4;
      s[base + 5] = a5;
      if (p.repeatsAbove[node]) {
        int cf = f * stride;
        claimed[cf] += a0;
        claimed[cf + 1] += a1;
        claimed[cf + 2] += a2;
        claimed[cf + 3] += a3;
        claimed[cf + 4] += a4;
        claimed[cf + 5] += a5;
      }
      return;
    }
    // branch-free in x: the children in a fixed order, the side x takes as a 0/1 factor
    double oLeft = tr.goesLeft(node, row) ? oOld : 0;
    boolean below = p.repeatsBelow[node];
    int cf = f * stride;
    double c0 = 0;
    double c1 = 0;
    double c2 = 0;
    double c3 = 0;
    double c4 = 0;
    double c5 = 0;
    if (below) {
      c0 = claimed[cf];
      c1 = claimed[cf + 1];
      c2 = claimed[cf + 2];
      c3 = claimed[cf + 3];
      c4 = claimed[cf + 4];
      c5 = claimed[cf + 5];
    }
    int next = (level + 1) * stride;
    child6(tr.left(node), next, f, below, oOld, oLeft, g0, g1, g2, g3, g4, g5);
    double a0 = s[next];
    double a1 = s[next + 1];
    double a2 = s[next + 2];
    double a3 = s[next + 3];
    double a4 = s[next + 4];
    double a5 = s[next + 5];
    child6(tr.right(node), next, f, below, oOld, oOld - oLeft, g0, g1, g2, g3, g4, g5);
    a0 += s[next];
    a1 += s[next + 1];
    a2 += s[next + 2];
    a3 += s[next + 3];
    a4 += s[next + 4];
    a5 += s[next + 5];
    one[f] = oOld;
    int base = level * stride;
    s[base] = a0;
    s[base + 1] = a1;
    s[base + 2] = a2;
    s[base + 3] = a3;
    s[base + 4] = a4;
    s[base + 5] = a5;
    if (below) {
      claimed[cf] = c0 + a0;
      claimed[cf + 1] = c1 + a1;
      claimed[cf + 2] = c2 + a2;
      claimed[cf + 3] = c3 + a3;
      claimed[cf + 4] = c4 + a4;
      claimed[cf + 5] = c5 + a5;
    } else if (p.repeatsAbove[node]) {
      claimed[cf] += a0;
      claimed[cf + 1] += a1;
      claimed[cf + 2] += a2;
      claimed[cf + 3] += a3;
      claimed[cf + 4] += a4;
      claimed[cf + 5] += a5;
    }
  }

  /** As {@link #child4}, at 6 points. */
  private void child6(int node, int next, int f, boolean below, double oOld, double o,
      double g0, double g1, double g2, double g3, double g4, double g5) {
    Plan p = plan;
    double z = p.zero[node];
    if (z == 0 && o == 0) {
      // no coalition reaches it with positive weight: it adds nothing
      s[next] = 0;
      s[next + 1] = 0;
      s[next + 2] = 0;
      s[next + 3] = 0;
      s[next + 4] = 0;
      s[next + 5] = 0;
      return;
    }
    double slope = o - z;
    double h0 = g0 * (z + slope * T6_0);
    double h1 = g1 * (z + slope * T6_1);
    double h2 = g2 * (z + slope * T6_2);
    double h3 = g3 * (z + slope * T6_3);
    double h4 = g4 * (z + slope * T6_4);
    double h5 = g5 * (z + slope * T6_5);
    int prev = p.previous[node];
    if (prev >= 0) {
      // undo the earlier split of f: divide by its q (hot or cold as x went there)
      double[] hot = p.invHot;
      double[] cold = p.invCold;
      int pi = prev * UNROLLED_6;
      double notOld = 1 - oOld;
      h0 *= oOld * hot[pi] + notOld * cold[pi];
      h1 *= oOld * hot[pi + 1] + notOld * cold[pi + 1];
      h2 *= oOld * hot[pi + 2] + notOld * cold[pi + 2];
      h3 *= oOld * hot[pi + 3] + notOld * cold[pi + 3];
      h4 *= oOld * hot[pi + 4] + notOld * cold[pi + 4];
      h5 *= oOld * hot[pi + 5] + notOld * cold[pi + 5];
    }
    double t0;
    double t1;
    double t2;
    double t3;
    double t4;
    double t5;
    Tree tr = tree;
    if (tr.isLeaf(node)) {
      double v = tr.value(node);
      t0 = v * h0;
      t1 = v * h1;
      t2 = v * h2;
      t3 = v * h3;
      t4 = v * h4;
      t5 = v * h5;
      s[next] = t0;
      s[next + 1] = t1;
      s[next + 2] = t2;
      s[next + 3] = t3;
      s[next + 4] = t4;
      s[next + 5] = t5;
    } else {
      one[f] = o;
      int cf = f * stride;
      if (below) {
        claimed[cf] = 0;
        claimed[cf + 1] = 0;
        claimed[cf + 2] = 0;
        claimed[cf + 3] = 0;
        claimed[cf + 4] = 0;
        claimed[cf + 5] = 0;
      }
      node6(node, next / stride, h0, h1, h2, h3, h4, h5);
      t0 = s[next];
      t1 = s[next + 1];
      t2 = s[next + 2];
      t3 = s[next + 3];
      t4 = s[next + 4];
      t5 = s[next + 5];
      if (below) {
        t0 -= claimed[cf];
        t1 -= claimed[cf + 1];
        t2 -= claimed[cf + 2];
        t3 -= claimed[cf + 3];
        t4 -= claimed[cf + 4];
        t5 -= claimed[cf + 5];
      }
    }
    // integrate (o - z) t / q: -t w / (1 - t) on the cold side, t w (1 - z) / q on the hot one
    double[] hc = p.hotCoef;
    int ni = node * UNROLLED_6;
    double hotSum = hc[ni] * t0 + hc[ni + 1] * t1 + hc[ni + 2] * t2 + hc[ni + 3] * t3
        + hc[ni + 4] * t4 + hc[ni + 5] * t5;
    double coldSum = C6_0 * t0 + C6_1 * t1 + C6_2 * t2 + C6_3 * t3 + C6_4 * t4 + C6_5 * t5;
    phi[f] += o * hotSum - (1 - o) * coldSum;
  }

  /**
   * What {@link TreeShap} precomputes once per tree (and shares between rows and threads): the
   * quadrature, each node's zero fraction of its parent's feature, the reciprocal of its hot
   * {@code q} at the points, and where the same feature was split before on the path.
   */
  static final class Plan {
    final int m;
    final double[] t;
    final double[] w;
    final double[] oneMinusT;
    final double[] cold;
    /** per node (as a child): the zero fraction of its parent's feature on the path to it */
    final double[] zero;
    /** per node and point: {@code 1 / (zero + (1 - zero) t)}, the reciprocal of its hot q */
    final double[] invHot;
    /** per node and point: {@code 1 / (zero (1 - t))}, the reciprocal of its cold q (0 if none) */
    final double[] invCold;
    /** per node and point: {@code w (1 - zero) / (zero + (1 - zero) t)}, a hot child's weight */
    final double[] hotCoef;
    /** per node: the child of the nearest earlier split of its parent's feature, or -1 */
    final int[] previous;
    /**
     * per node: where the node's 6 m values start in {@link
     * #bottomTables} when both its children are leaves, else -1
     */
    final int[] bottom;
    /**
     * per such node, for its feature's one fraction 0, 1 with x going left, 1 with x going right:
     * m values A and m values B; the children's leaves sum to {@code g A} and credit the feature
     * with {@code g . B}
     */
    final double[] bottomTables;
    /** per internal node: whether its feature is split again below it */
    final boolean[] repeatsBelow;
    /** per internal node: whether its feature was split above it */
    final boolean[] repeatsAbove;

    Plan(Tree tree) {
      int n = tree.size();
      int needed = pointsFor(tree.maxPathFeatures());
      // more points than needed are still exact; 5 become 6 so that the wide kernel serves them
      m = needed <= UNROLLED ? UNROLLED : needed <= UNROLLED_6 ? UNROLLED_6 : needed;
      t = POINTS[m - 1];
      w = WEIGHTS[m - 1];
      cold = COLD[m - 1];
      oneMinusT = new double[m];
      for (int k = 0; k < m; k++) {
        oneMinusT[k] = 1 - t[k];
      }
      zero = new double[n];
      invHot = new double[n * m];
      // only the unrolled kernels read these two
      boolean unrolled = m == UNROLLED || m == UNROLLED_6;
      hotCoef = new double[unrolled ? n * m : 0];
      invCold = new double[unrolled ? n * m : 0];
      previous = new int[n];
      repeatsBelow = new boolean[n];
      repeatsAbove = new boolean[n];
      zero[0] = 1;
      previous[0] = -1;
      int[] last = new int[Math.max(0, tree.maxFeature() + 1)];
      Arrays.fill(last, -1);
      build(tree, 0, last);
      bottom = new int[n];
      Arrays.fill(bottom, -1);
      int bottoms = 0;
      for (int i = 0; i < n; i++) {
        if (!tree.isLeaf(i) && tree.isLeaf(tree.left(i)) && tree.isLeaf(tree.right(i))) {
          bottom[i] = 6 * m * bottoms++;
        }
      }
      bottomTables = new double[6 * m * bottoms];
      for (int i = 0; i < n; i++) {
        double slope = 1 - zero[i];
        for (int k = 0; k < m; k++) {
          invHot[i * m + k] = 1 / (zero[i] + slope * t[k]);
          if (unrolled) {
            hotCoef[i * m + k] = w[k] * slope * invHot[i * m + k];
            invCold[i * m + k] = zero[i] == 0 ? 0 : 1 / (zero[i] * oneMinusT[k]);
          }
        }
      }
      for (int i = 0; i < n; i++) {
        if (bottom[i] >= 0) {
          // the one fractions of (left, right) and of f before: (0, 0 | 0), (1, 0 | 1), (0, 1 | 1)
          bottomTable(tree, i, bottom[i], 0, 0, 0);
          bottomTable(tree, i, bottom[i] + 2 * m, 1, 0, 1);
          bottomTable(tree, i, bottom[i] + 4 * m, 0, 1, 1);
        }
      }
    }

    /** The A and B values of bottom node {@code node} (see child4) for one case. */
    private void bottomTable(Tree tree, int node, int at, double oLeft, double oRight,
        double oOld) {
      int[] children = {tree.left(node), tree.right(node)};
      double[] os = {oLeft, oRight};
      for (int c = 0; c < 2; c++) {
        int child = children[c];
        double o = os[c];
        double z = zero[child];
        if (z == 0 && o == 0) {
          continue;
        }
        double v = tree.value(child);
        int prev = previous[child];
        for (int k = 0; k < m; k++) {
          double factor = z + (o - z) * t[k];
          if (prev >= 0) {
            double zPrev = zero[prev];
            double invColdPrev = zPrev == 0 ? 0 : 1 / (zPrev * oneMinusT[k]);
            factor *= oOld * invHot[prev * m + k] + (1 - oOld) * invColdPrev;
          }
          double a = v * factor;
          double hot = w[k] * (1 - z) * invHot[child * m + k];
          bottomTables[at + k] += a;
          bottomTables[at + m + k] += a * (o * hot - (1 - o) * cold[k]);
        }
      }
    }

    /**
     * Fills the children of {@code node}; {@code last[f]} is the child of the nearest split of f
     * above (-1: none). Returns the features split in the subtree as a set of flags, via repeats.
     */
    private void build(Tree tree, int node, int[] last) {
      if (tree.isLeaf(node)) {
        return;
      }
      int f = tree.feature(node);
      int before = last[f];
      double zOld = before < 0 ? 1 : zero[before];
      double share = tree.leftShare(node);
      int l = tree.left(node);
      int r = tree.right(node);
      // the products ReferenceTreeShap forms: share * incoming zero fraction
      zero[l] = share * zOld;
      zero[r] = (1 - share) * zOld;
      previous[l] = before;
      previous[r] = before;
      repeatsAbove[node] = before >= 0;
      repeatsBelow[node] = splits(tree, l, f) || splits(tree, r, f);
      last[f] = l;
      build(tree, l, last);
      last[f] = r;
      build(tree, r, last);
      last[f] = before;
    }

    private static boolean splits(Tree tree, int node, int f) {
      if (tree.isLeaf(node)) {
        return false;
      }
      return tree.feature(node) == f || splits(tree, tree.left(node), f)
          || splits(tree, tree.right(node), f);
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
