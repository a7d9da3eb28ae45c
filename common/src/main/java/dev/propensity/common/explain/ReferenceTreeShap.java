package dev.propensity.common.explain;

/**
 * Exact path-dependent TreeSHAP as published (Lundberg, Erion and Lee, "Consistent Individualized
 * Feature Attribution for Tree Ensembles", 2018, Algorithm 2), in O(leaves x depth^2) per tree and
 * row. It was the production algorithm until {@link TreeShap} replaced it (same values, O(nodes x
 * depth / 2)); it stays as the independent reference the tests and benchmarks check the fast one
 * against.
 *
 * <p>An instance holds the path buffers for trees up to a given depth; it is not thread-safe:
 * use one per thread, and reuse it across rows and trees.
 */
public final class ReferenceTreeShap {

  private final int maxDepth;
  // the "unique path" m of the paper, one slice per recursion level, in flat arrays
  private final int[] pathFeature;
  private final double[] pathZero;
  private final double[] pathOne;
  private final double[] pathWeight;
  // 1 / k for k = 0..maxDepth + 2: the hot loops multiply instead of dividing
  private final double[] inverse;

  /** @param maxDepth the deepest tree (in edges) this instance will explain */
  public ReferenceTreeShap(int maxDepth) {
    if (maxDepth < 0) {
      throw new IllegalArgumentException("Invalid maxDepth " + maxDepth);
    }
    this.maxDepth = maxDepth;
    int size = (maxDepth + 2) * (maxDepth + 3) / 2 + 1;
    pathFeature = new int[size];
    pathZero = new double[size];
    pathOne = new double[size];
    pathWeight = new double[size];
    inverse = new double[maxDepth + 3];
    for (int k = 1; k < inverse.length; k++) {
      inverse[k] = 1.0 / k;
    }
  }

  /**
   * Adds {@code scale} times the tree's SHAP values for row {@code x} to {@code phi}.
   * Their sum is {@code scale * (tree.predict(x) - tree.expectedValue())}.
   *
   * @param tree the tree, no deeper than this instance's {@code maxDepth}
   * @param x the row's feature values, indexed as the tree's features
   * @param scale the tree's weight in a sum of trees (1 for a single tree)
   * @param phi one slot per feature; accumulated into
   */
  public void accumulate(Tree tree, double[] x, double scale, double[] phi) {
    if (tree.maxDepth() > maxDepth) {
      throw new IllegalArgumentException("Tree of depth " + tree.maxDepth()
          + " exceeds this ReferenceTreeShap's maxDepth " + maxDepth);
    }
    recurse(tree, x, scale, phi, 0, 0, 0, 1.0, 1.0, -1);
  }

  /**
   * One node of Algorithm 2 (RECURSE). The path of this node starts at {@code parentOffset +
   * depth + 1}; {@code depth} is the number of path elements before extending.
   */
  private void recurse(Tree tree, double[] x, double scale, double[] phi, int node, int depth,
      int parentOffset, double zeroFraction, double oneFraction, int featureIndex) {
    int off = parentOffset + depth + 1;
    System.arraycopy(pathFeature, parentOffset, pathFeature, off, depth + 1);
    System.arraycopy(pathZero, parentOffset, pathZero, off, depth + 1);
    System.arraycopy(pathOne, parentOffset, pathOne, off, depth + 1);
    System.arraycopy(pathWeight, parentOffset, pathWeight, off, depth + 1);
    extend(off, depth, zeroFraction, oneFraction, featureIndex);

    if (tree.isLeaf(node)) {
      double v = scale * tree.value(node);
      for (int i = 1; i <= depth; i++) {
        double w = unwoundSum(off, depth, i);
        phi[pathFeature[off + i]] += w * (pathOne[off + i] - pathZero[off + i]) * v;
      }
      return;
    }

    int f = tree.feature(node);
    boolean left = tree.goesLeft(node, x);
    int hot = left ? tree.left(node) : tree.right(node);
    int cold = left ? tree.right(node) : tree.left(node);
    double share = tree.leftShare(node);
    double hotZero = left ? share : 1 - share;
    double coldZero = left ? 1 - share : share;

    // a feature already on the path: undo its earlier split and redo it with this one
    double incomingZero = 1;
    double incomingOne = 1;
    int k = 1;
    while (k <= depth && pathFeature[off + k] != f) {
      k++;
    }
    if (k <= depth) {
      incomingZero = pathZero[off + k];
      incomingOne = pathOne[off + k];
      unwind(off, depth, k);
      depth--;
    }
    // a branch no coalition reaches with positive weight adds nothing (and would divide 0 by 0)
    if (hotZero * incomingZero != 0 || incomingOne != 0) {
      recurse(tree, x, scale, phi, hot, depth + 1, off, hotZero * incomingZero, incomingOne, f);
    }
    if (coldZero * incomingZero != 0) {
      recurse(tree, x, scale, phi, cold, depth + 1, off, coldZero * incomingZero, 0, f);
    }
  }

  /** EXTEND: adds a feature to the path, updating the permutation weights. */
  private void extend(int off, int depth, double zero, double one, int feature) {
    pathFeature[off + depth] = feature;
    pathZero[off + depth] = zero;
    pathOne[off + depth] = one;
    pathWeight[off + depth] = depth == 0 ? 1.0 : 0.0;
    double inv = inverse[depth + 1];
    for (int i = depth - 1; i >= 0; i--) {
      double w = pathWeight[off + i];
      pathWeight[off + i + 1] += one * w * (i + 1) * inv;
      pathWeight[off + i] = zero * w * (depth - i) * inv;
    }
  }

  /** UNWIND: removes path element {@code k}, inverting its EXTEND. */
  private void unwind(int off, int depth, int k) {
    double one = pathOne[off + k];
    double zero = pathZero[off + k];
    double next = pathWeight[off + depth];
    double inv = inverse[depth + 1];
    if (one != 0) {
      double invOne = 1.0 / one;
      for (int i = depth - 1; i >= 0; i--) {
        double tmp = pathWeight[off + i];
        double w = next * (depth + 1) * inverse[i + 1] * invOne;
        pathWeight[off + i] = w;
        next = tmp - w * zero * (depth - i) * inv;
      }
    } else {
      double invZero = 1.0 / zero;
      for (int i = depth - 1; i >= 0; i--) {
        pathWeight[off + i] = pathWeight[off + i] * (depth + 1) * invZero
            * inverse[depth - i];
      }
    }
    for (int i = k; i < depth; i++) {
      pathFeature[off + i] = pathFeature[off + i + 1];
      pathZero[off + i] = pathZero[off + i + 1];
      pathOne[off + i] = pathOne[off + i + 1];
    }
  }

  /** The total permutation weight of the path with element {@code k} unwound (not modified). */
  private double unwoundSum(int off, int depth, int k) {
    double one = pathOne[off + k];
    double zero = pathZero[off + k];
    double next = pathWeight[off + depth];
    double total = 0;
    if (one != 0) {
      double invOne = 1.0 / one;
      for (int i = depth - 1; i >= 0; i--) {
        double tmp = next * inverse[i + 1] * invOne;
        total += tmp;
        next = pathWeight[off + i] - tmp * zero * (depth - i);
      }
    } else {
      double invZero = 1.0 / zero;
      for (int i = depth - 1; i >= 0; i--) {
        total += pathWeight[off + i] * invZero * inverse[depth - i];
      }
    }
    return total * (depth + 1);
  }
}
