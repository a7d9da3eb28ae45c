package dev.propensity.common.explain;

/**
 * Exact path-dependent TreeSHAP for one tree by per-leaf tables (Fast TreeSHAP v2, Yang 2021):
 * the same values as {@link TreeShap} and {@link ReferenceTreeShap}, with the part that does not
 * depend on the row computed once per tree.
 *
 * <p>For a leaf with value v, let F be the distinct features of its root path (d = |F|), {@code
 * z_j} the product of the cover shares of the path's splits on j, and {@code o_j} 1 when the row
 * follows all of them, else 0. Feature i of F receives
 *
 * <pre>
 *   v (o_i - z_i) sum_{S in A\{i}} w(|S|) prod_{j in F\{i}\S} z_j,   A = {j : o_j = 1},
 *   w(s) = s! (d-1-s)! / d!
 *     = v (o_i - z_i) P(F\{i}\A) G(A\{i}),   P(T) = prod_{j in T} z_j,
 *   G(T) = sum_s w(s) e_{|T|-s}(z_T)   (e: elementary symmetric polynomials)
 * </pre>
 *
 * so a leaf's contributions depend on the row only through its match pattern A, a d-bit mask. The
 * table holds them for every pattern: {@code 2^d x d} doubles per leaf. Per row, one pass over the
 * nodes in pre-order decides each split once, carries each node's pattern down from its parent
 * (the bit of the parent's feature cleared on the side the row does not take), and adds a leaf's
 * d entries: O(leaves x depth) loads and multiply-adds per tree.
 *
 * <p>Tables grow as {@code 2^depth}: {@link #bytes} tells their size before they are built, and
 * {@link TreeEnsemble} builds them only for trees whose tables stay under a limit (the others keep
 * {@link TreeShap}): measured here, tables that do not fit a core's cache are slower than the
 * quadrature, as each leaf's lookup is a cache miss. Immutable after construction: shared by all
 * rows and threads.
 */
final class LeafTables {

  /** Paths with more distinct features are never tabled (20 already take 2^20 x 20 entries). */
  static final int MAX_PATH_FEATURES = 20;

  /** per node: its parent (-1 for the root) */
  private final int[] parent;
  /** per non-root node: the pattern bit of its parent's feature on the path */
  private final int[] parentBit;
  /** per non-root node: whether it is its parent's left child */
  private final boolean[] isLeft;
  /** per node: the leaf's index into {@link #offset}, or -1 for an internal node */
  private final int[] leafIndex;
  /** per leaf: its node */
  private final int[] leafNode;
  /** per leaf: where its table starts in {@link #table} */
  private final int[] offset;
  /** per leaf: the number of distinct features on its path, d */
  private final int[] width;
  /** per leaf: where its d features (in pattern-bit order) start in {@link #features} */
  private final int[] featureStart;
  private final int[] features;
  /** per leaf and pattern A: d contributions, {@code table[offset + A d + k]} */
  private final double[] table;
  private final Tree tree;

  private LeafTables(Tree tree, long entries) {
    this.tree = tree;
    int n = tree.size();
    parent = new int[n];
    parentBit = new int[n];
    isLeft = new boolean[n];
    leafIndex = new int[n];
    int leaves = 0;
    for (int i = 0; i < n; i++) {
      leafIndex[i] = tree.isLeaf(i) ? leaves++ : -1;
    }
    leafNode = new int[leaves];
    for (int i = 0; i < n; i++) {
      if (leafIndex[i] >= 0) {
        leafNode[leafIndex[i]] = i;
      }
    }
    offset = new int[leaves];
    width = new int[leaves];
    featureStart = new int[leaves + 1];
    features = new int[(int) Math.min(Integer.MAX_VALUE, (long) leaves * Math.max(1,
        tree.maxPathFeatures()))];
    table = new double[Math.toIntExact(entries)];
    parent[0] = -1;
    Builder b = new Builder(tree.maxPathFeatures());
    b.walk(0, 0, new int[Math.max(0, tree.maxFeature() + 1)]);
  }

  /**
   * @return the bytes the tables of {@code tree} would take, or -1 when a path has more than
   *     {@link #MAX_PATH_FEATURES} distinct features
   */
  static long bytes(Tree tree) {
    long e = entries(tree, 0, new int[Math.max(0, tree.maxFeature() + 1)], 0);
    return e < 0 ? -1 : 8 * e;
  }

  /** @return the tables of {@code tree}; callers check {@link #bytes} first */
  static LeafTables of(Tree tree) {
    long bytes = bytes(tree);
    if (bytes < 0 || bytes / 8 > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("Tree too large for leaf tables: " + bytes + " bytes");
    }
    return new LeafTables(tree, bytes / 8);
  }

  /** Sum over the leaves below n of {@code 2^d d}; -1 when some d is too large. */
  private static long entries(Tree tree, int n, int[] seen, int distinct) {
    if (tree.isLeaf(n)) {
      return distinct > MAX_PATH_FEATURES ? -1 : ((long) distinct) << distinct;
    }
    int f = tree.feature(n);
    int d = seen[f]++ == 0 ? distinct + 1 : distinct;
    long l = entries(tree, tree.left(n), seen, d);
    long r = l < 0 ? -1 : entries(tree, tree.right(n), seen, d);
    seen[f]--;
    return r < 0 ? -1 : l + r;
  }

  /**
   * Adds {@code scale} times the tree's SHAP values for row {@code x} to {@code phi}.
   *
   * @param x the row
   * @param scale the tree's weight
   * @param phi one slot per feature, accumulated into
   * @param pattern a buffer of at least {@code tree.size()} ints
   * @param decision a buffer of at least {@code tree.size()} booleans
   */
  void accumulate(double[] x, double scale, double[] phi, int[] pattern, boolean[] decision) {
    Tree tr = tree;
    int n = parent.length;
    if (n == 1) {
      return;
    }
    int[] par = parent;
    int[] bit = parentBit;
    boolean[] left = isLeft;
    int[] leaf = leafIndex;
    double[] tab = table;
    int[] feats = features;
    // decide every split first (no data-dependent branch in the pattern pass below)
    for (int i = 0; i < n; i++) {
      decision[i] = leaf[i] < 0 && tr.goesLeft(i, x);
    }
    pattern[0] = -1;
    // pre-order: a node's parent comes before it; the row leaves the path at a split it does
    // not follow, which clears that split's feature bit
    for (int i = 1; i < n; i++) {
      int p = par[i];
      int off = decision[p] == left[i] ? 0 : bit[i];
      int mask = pattern[p] & ~off;
      pattern[i] = mask;
    }
    int[] lf = leafNode;
    for (int li = 0; li < lf.length; li++) {
      int d = width[li];
      int at = offset[li] + (pattern[lf[li]] & ((1 << d) - 1)) * d;
      int fs = featureStart[li];
      for (int k = 0; k < d; k++) {
        phi[feats[fs + k]] += scale * tab[at + k];
      }
    }
  }

  /** Fills the structure and the tables in one depth-first walk. */
  private final class Builder {
    private final int[] pathFeature;
    private final double[] pathZero;
    private final double[] power;
    private final double[] sum;
    private final double[] elementary;
    private final double[] weight;
    private int entries;
    private int featureCount;

    Builder(int maxD) {
      pathFeature = new int[maxD + 1];
      pathZero = new double[maxD + 1];
      int size = 1 << maxD;
      power = new double[size];
      sum = new double[size];
      elementary = new double[size * (maxD + 1)];
      weight = new double[maxD + 1];
    }

    /**
     * Node n with the path's distinct features so far ({@code distinct} of them, in pathFeature,
     * their zero fractions in pathZero); {@code bitOf[f]} is f's pattern bit + 1 (0: not on the
     * path).
     */
    void walk(int n, int distinct, int[] bitOf) {
      if (tree.isLeaf(n)) {
        leaf(n, distinct);
        return;
      }
      int f = tree.feature(n);
      boolean fresh = bitOf[f] == 0;
      int b = fresh ? distinct : bitOf[f] - 1;
      if (fresh) {
        bitOf[f] = b + 1;
        pathFeature[b] = f;
      }
      int d = fresh ? distinct + 1 : distinct;
      double zOld = fresh ? 1 : pathZero[b];
      double share = tree.leftShare(n);
      int[] children = {tree.left(n), tree.right(n)};
      for (int c = 0; c < 2; c++) {
        int child = children[c];
        parent[child] = n;
        parentBit[child] = 1 << b;
        isLeft[child] = c == 0;
        // the products ReferenceTreeShap forms: share * incoming zero fraction
        pathZero[b] = (c == 0 ? share : 1 - share) * zOld;
        walk(child, d, bitOf);
      }
      pathZero[b] = zOld;
      if (fresh) {
        bitOf[f] = 0;
      }
    }

    private void leaf(int n, int d) {
      int li = leafIndex[n];
      offset[li] = entries;
      width[li] = d;
      featureStart[li] = featureCount;
      System.arraycopy(pathFeature, 0, features, featureCount, d);
      featureCount += d;
      featureStart[li + 1] = featureCount;
      int size = 1 << d;
      entries += size * d;
      if (d == 0) {
        return;
      }
      double v = tree.value(n);
      // w(s) = s! (d-1-s)! / d!
      for (int s = 0; s < d; s++) {
        double w = 1.0 / d;
        for (int j = 1; j <= s; j++) {
          w *= (double) j / (d - j);
        }
        weight[s] = w;
      }
      // per subset T of the path's features: P(T) and e_k(z_T), k = 0..|T|, by adding its lowest
      // member to the subset without it
      int stride = d + 1;
      power[0] = 1;
      elementary[0] = 1;
      for (int k = 1; k <= d; k++) {
        elementary[k] = 0;
      }
      for (int t = 1; t < size; t++) {
        int low = Integer.numberOfTrailingZeros(t);
        int rest = t & (t - 1);
        double z = pathZero[low];
        power[t] = power[rest] * z;
        int at = t * stride;
        int from = rest * stride;
        elementary[at] = 1;
        for (int k = 1; k <= d; k++) {
          elementary[at + k] = elementary[from + k] + z * elementary[from + k - 1];
        }
      }
      // G(T) = sum_s w(s) e_{|T|-s}(z_T), for |T| <= d - 1
      for (int t = 0; t < size; t++) {
        int count = Integer.bitCount(t);
        if (count == d) {
          continue;
        }
        double g = 0;
        int at = t * stride;
        for (int s = 0; s <= count; s++) {
          g += weight[s] * elementary[at + count - s];
        }
        sum[t] = g;
      }
      int full = size - 1;
      int base = offset[li];
      for (int a = 0; a < size; a++) {
        for (int k = 0; k < d; k++) {
          int bit = 1 << k;
          double o = (a & bit) != 0 ? 1 : 0;
          double z = pathZero[k];
          double c = v * (o - z);
          if (c != 0) {
            c *= power[full & ~bit & ~a] * sum[a & ~bit];
          }
          table[base + a * d + k] = c;
        }
      }
    }
  }
}
