package dev.propensity.common.explain;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A binary decision tree as plain arrays, free of Spark: the form TreeSHAP walks. Internal nodes
 * test one feature, either continuously ({@code x <= threshold} goes left, as MLlib's
 * {@code ContinuousSplit}) or categorically (membership in a set of category values decides the
 * side, as MLlib's {@code CategoricalSplit}); leaves hold a value. Every node carries its
 * <em>cover</em>: the training weight that reached it (MLlib keeps it in the node's impurity
 * statistics).
 *
 * <p>The share of a node's cover that went left, {@code cover(left) / (cover(left) +
 * cover(right))}, is what the path-dependent expectation uses when a feature is unknown. When
 * both children have zero cover the share is one half.
 *
 * <p>Build a tree from {@link Node} values: {@code Tree.of(Tree.continuous(0, 1.5, 10,
 * Tree.leaf(0.2, 6), Tree.leaf(0.9, 4)))}. Instances are immutable and safe to share between
 * threads.
 */
public final class Tree implements java.io.Serializable {

  private static final long serialVersionUID = 1L;

  /** A node of a tree under construction: {@link Leaf} or {@link Split}. */
  public sealed interface Node permits Leaf, Split {
    /** @return the training weight that reached the node */
    double cover();
  }

  /**
   * A leaf.
   *
   * @param value the tree's output for rows reaching it
   * @param cover the training weight that reached it
   */
  public record Leaf(double value, double cover) implements Node {}

  /**
   * An internal node. For a continuous split {@code categories} is null and rows with
   * {@code x[feature] <= threshold} go left, a missing value (NaN) to the side {@code
   * missingGoesLeft} names (MLlib: right, as {@code NaN <= t} is false; XGBoost: the node's
   * default direction); for a categorical split a row goes left when {@code (x[feature] in
   * categories) == inSetGoesLeft}.
   *
   * @param feature the feature index tested
   * @param threshold the continuous threshold (ignored for categorical splits)
   * @param categories the category values of a categorical split, or null
   * @param inSetGoesLeft for a categorical split, whether members of {@code categories} go left
   * @param missingGoesLeft for a continuous split, whether NaN goes left
   * @param cover the training weight that reached the node
   * @param left the left child
   * @param right the right child
   */
  public record Split(int feature, double threshold, double[] categories, boolean inSetGoesLeft,
      boolean missingGoesLeft, double cover, Node left, Node right) implements Node {}

  private final int[] feature;
  private final double[] threshold;
  private final double[][] categories;
  private final boolean[] inSetGoesLeft;
  private final boolean[] missingGoesLeft;
  private final int[] left;
  private final int[] right;
  private final double[] value;
  private final double[] cover;
  private final double[] leftShare;
  private final int maxDepth;
  private final int maxFeature;
  private final int maxPathFeatures;
  // built on first use where the tree is explained (not serialized: executors build their own)
  private transient volatile TreeShap.Plan shapPlan;

  private Tree(List<Node> nodes, int[] left, int[] right, int maxDepth) {
    int n = nodes.size();
    this.feature = new int[n];
    this.threshold = new double[n];
    this.categories = new double[n][];
    this.inSetGoesLeft = new boolean[n];
    this.missingGoesLeft = new boolean[n];
    this.value = new double[n];
    this.cover = new double[n];
    this.leftShare = new double[n];
    this.left = left;
    this.right = right;
    int maxF = -1;
    for (int i = 0; i < n; i++) {
      Node node = nodes.get(i);
      cover[i] = node.cover();
      if (node instanceof Leaf leaf) {
        feature[i] = -1;
        value[i] = leaf.value();
      } else {
        Split s = (Split) node;
        feature[i] = s.feature();
        threshold[i] = s.threshold();
        missingGoesLeft[i] = s.missingGoesLeft();
        if (s.categories() != null) {
          double[] c = s.categories().clone();
          Arrays.sort(c);
          categories[i] = c;
          inSetGoesLeft[i] = s.inSetGoesLeft();
        }
        maxF = Math.max(maxF, s.feature());
        double l = s.left().cover();
        double r = s.right().cover();
        leftShare[i] = l + r > 0 ? l / (l + r) : 0.5;
      }
    }
    this.maxDepth = maxDepth;
    this.maxFeature = maxF;
    this.maxPathFeatures = n == 0 ? 0 : pathFeatures(0, new int[maxF + 1], 0);
  }

  /** The most distinct features on one root-to-leaf path below {@code n}. */
  private int pathFeatures(int n, int[] seen, int distinct) {
    if (feature[n] < 0) {
      return distinct;
    }
    int f = feature[n];
    int d = seen[f]++ == 0 ? distinct + 1 : distinct;
    int most = Math.max(pathFeatures(left[n], seen, d), pathFeatures(right[n], seen, d));
    seen[f]--;
    return most;
  }

  /** @return a leaf node */
  public static Leaf leaf(double value, double cover) {
    return new Leaf(value, cover);
  }

  /** @return a continuous split: {@code x[feature] <= threshold} goes left, NaN right */
  public static Split continuous(int feature, double threshold, double cover, Node left,
      Node right) {
    return new Split(feature, threshold, null, false, false, cover, left, right);
  }

  /**
   * @return a continuous split: {@code x[feature] <= threshold} goes left, NaN to the left when
   *     {@code missingGoesLeft} (XGBoost's default direction), else to the right
   */
  public static Split continuous(int feature, double threshold, boolean missingGoesLeft,
      double cover, Node left, Node right) {
    return new Split(feature, threshold, null, false, missingGoesLeft, cover, left, right);
  }

  /**
   * @return a categorical split: rows go left when {@code (x[feature] in categories) ==
   *     inSetGoesLeft}
   */
  public static Split categorical(int feature, double[] categories, boolean inSetGoesLeft,
      double cover, Node left, Node right) {
    return new Split(feature, Double.NaN, categories.clone(), inSetGoesLeft, false, cover, left,
        right);
  }

  /**
   * Compiles a tree from its root.
   *
   * @throws IllegalArgumentException for a negative feature index, or a cover or leaf value that
   *     is negative, infinite or NaN
   */
  public static Tree of(Node root) {
    List<Node> nodes = new ArrayList<>();
    List<int[]> children = new ArrayList<>();
    int depth = add(root, nodes, children, 0);
    int[] l = new int[nodes.size()];
    int[] r = new int[nodes.size()];
    for (int i = 0; i < nodes.size(); i++) {
      l[i] = children.get(i)[0];
      r[i] = children.get(i)[1];
    }
    return new Tree(nodes, l, r, depth);
  }

  /** Adds the subtree in pre-order; returns its depth below the root (edges). */
  private static int add(Node node, List<Node> nodes, List<int[]> children, int depth) {
    if (!(node.cover() >= 0) || Double.isInfinite(node.cover())) {
      throw new IllegalArgumentException("Invalid tree node: cover " + node.cover()
          + " (must be finite and >= 0)");
    }
    int id = nodes.size();
    nodes.add(node);
    int[] ch = {-1, -1};
    children.add(ch);
    if (node instanceof Leaf leaf) {
      if (!Double.isFinite(leaf.value())) {
        throw new IllegalArgumentException("Invalid tree leaf: value " + leaf.value());
      }
      return depth;
    }
    Split s = (Split) node;
    if (s.feature() < 0) {
      throw new IllegalArgumentException("Invalid tree split: feature index " + s.feature());
    }
    ch[0] = nodes.size();
    int dl = add(s.left(), nodes, children, depth + 1);
    ch[1] = nodes.size();
    int dr = add(s.right(), nodes, children, depth + 1);
    return Math.max(dl, dr);
  }

  /** @return the tree as nodes again (what {@link #of} compiled), e.g. to write it out */
  public Node root() {
    return node(0);
  }

  private Node node(int n) {
    if (feature[n] < 0) {
      return leaf(value[n], cover[n]);
    }
    return new Split(feature[n], threshold[n], categories[n], inSetGoesLeft[n],
        missingGoesLeft[n], cover[n], node(left[n]), node(right[n]));
  }

  /** @return the number of nodes, internal and leaves */
  public int size() {
    return feature.length;
  }

  /** @return the longest root-to-leaf path, in edges (0 for a single leaf) */
  public int maxDepth() {
    return maxDepth;
  }

  /** @return the largest feature index tested, or -1 for a single leaf */
  public int maxFeature() {
    return maxFeature;
  }

  /**
   * @return the most distinct features tested on one root-to-leaf path (at most {@link
   *     #maxDepth()}): what sets the size of {@link TreeShap}'s quadrature
   */
  public int maxPathFeatures() {
    return maxPathFeatures;
  }

  /** @return the tree's output for one row */
  public double predict(double[] x) {
    int n = 0;
    while (feature[n] >= 0) {
      n = goesLeft(n, x) ? left[n] : right[n];
    }
    return value[n];
  }

  /**
   * @return the expected output over the training data as the tree saw it: each leaf's value
   *     weighted by the product of the left / right shares on its path (with consistent covers,
   *     the cover-weighted mean of the leaf values)
   */
  public double expectedValue() {
    return expected(0);
  }

  private double expected(int n) {
    if (feature[n] < 0) {
      return value[n];
    }
    return leftShare[n] * expected(left[n]) + (1 - leftShare[n]) * expected(right[n]);
  }

  // package-private accessors for TreeShap

  /** @return TreeShap's per-tree precomputation, built once (a racing duplicate is harmless) */
  TreeShap.Plan shapPlan() {
    TreeShap.Plan p = shapPlan;
    if (p == null) {
      p = new TreeShap.Plan(this);
      shapPlan = p;
    }
    return p;
  }

  boolean isLeaf(int n) {
    return feature[n] < 0;
  }

  int feature(int n) {
    return feature[n];
  }

  int left(int n) {
    return left[n];
  }

  int right(int n) {
    return right[n];
  }

  double value(int n) {
    return value[n];
  }

  double leftShare(int n) {
    return leftShare[n];
  }

  /** @return whether row {@code x} goes to the left child of internal node {@code n} */
  boolean goesLeft(int n, double[] x) {
    double v = x[feature[n]];
    double[] cats = categories[n];
    if (cats == null) {
      return v <= threshold[n] || missingGoesLeft[n] && Double.isNaN(v);
    }
    boolean member = false;
    for (double c : cats) {
      if (c == v) {
        member = true;
        break;
      }
    }
    return member == inSetGoesLeft[n];
  }
}
