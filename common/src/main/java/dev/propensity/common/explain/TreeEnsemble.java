package dev.propensity.common.explain;

import java.util.List;

/**
 * A weighted sum of trees plus a constant: {@code f(x) = offset + sum_t weight_t * tree_t(x)}.
 * A single tree has weight 1; a random forest averages (weights {@code 1/T}); gradient-boosted
 * trees sum in margin space with their learning-rate weights. SHAP values are linear in the model,
 * so the ensemble's are the weighted sum of its trees'. Immutable; share freely between threads.
 */
public final class TreeEnsemble implements java.io.Serializable {

  private static final long serialVersionUID = 1L;

  // JVM-wide switch to the published algorithm, for end-to-end equality checks (tests, benchmarks)
  private static volatile boolean reference;

  private final Tree[] trees;
  private final double[] weights;
  private final double offset;
  private final double expectedValue;
  private final int maxDepth;
  private final int numFeatures;
  private final long tableLimit;
  // per tree: its leaf tables, or null where it takes TreeShap; built on first use (not
  // serialized: executors build their own)
  private transient volatile LeafTables[] tables;

  /**
   * @param trees the trees
   * @param weights one weight per tree
   * @param offset a constant added to the sum (0 for MLlib's models)
   * @throws IllegalArgumentException when there are no trees or the sizes differ
   */
  public TreeEnsemble(List<Tree> trees, double[] weights, double offset) {
    this(trees, weights, offset, DEFAULT_TABLE_LIMIT);
  }

  /**
   * @param trees the trees
   * @param weights one weight per tree
   * @param offset a constant added to the sum (0 for MLlib's models)
   * @param tableLimit the largest {@link LeafTables} a tree may get, in bytes (0: none, every
   *     tree takes {@link TreeShap}); trees with larger tables take {@link TreeShap}
   * @throws IllegalArgumentException when there are no trees, the sizes differ, or the limit is
   *     negative
   */
  public TreeEnsemble(List<Tree> trees, double[] weights, double offset, long tableLimit) {
    if (tableLimit < 0) {
      throw new IllegalArgumentException("Invalid leaf-table limit: " + tableLimit
          + " bytes (must be >= 0)");
    }
    this.tableLimit = tableLimit;
    if (trees.isEmpty() || trees.size() != weights.length) {
      throw new IllegalArgumentException("Invalid tree ensemble: " + trees.size() + " trees, "
          + weights.length + " weights");
    }
    this.trees = trees.toArray(new Tree[0]);
    this.weights = weights.clone();
    this.offset = offset;
    double e = offset;
    int depth = 0;
    int features = 0;
    for (int t = 0; t < this.trees.length; t++) {
      e += this.weights[t] * this.trees[t].expectedValue();
      depth = Math.max(depth, this.trees[t].maxDepth());
      features = Math.max(features, this.trees[t].maxFeature() + 1);
    }
    this.expectedValue = e;
    this.maxDepth = depth;
    this.numFeatures = features;
  }

  /**
   * The default {@link LeafTables} limit per tree: 64 KiB, tables that stay in a core's cache
   * (trees of depth 5 and less, e.g. the default GBT of depth 3). Larger tables measured slower
   * than {@link TreeShap}'s quadrature, not faster: a leaf's lookup then misses the cache (the
   * default 60-tree depth-8 forest would take about 70-150 MiB and ran 4x slower, see
   * benchmarks/RESULTS-scoring.md). The memory is bounded by {@code trees x limit}.
   */
  public static final long DEFAULT_TABLE_LIMIT = 64L << 10;

  /** @return the same model with another per-tree leaf-table limit (bytes; 0: no tables) */
  public TreeEnsemble withTableLimit(long bytes) {
    return new TreeEnsemble(List.of(trees), weights, offset, bytes);
  }

  /** @return the per-tree leaf-table limit in bytes */
  public long tableLimit() {
    return tableLimit;
  }

  /** @return how many trees explain rows with leaf tables (builds them if not yet built) */
  public int tabledTrees() {
    int n = 0;
    for (LeafTables t : tables()) {
      n += t == null ? 0 : 1;
    }
    return n;
  }

  /** @return the bytes of the leaf tables built (builds them if not yet built) */
  public long tableBytes() {
    long sum = 0;
    for (int t = 0; t < trees.length; t++) {
      sum += tables()[t] == null ? 0 : LeafTables.bytes(trees[t]);
    }
    return sum;
  }

  private LeafTables[] tables() {
    LeafTables[] t = tables;
    if (t == null) {
      synchronized (this) {
        t = tables;
        if (t == null) {
          t = new LeafTables[trees.length];
          for (int i = 0; i < trees.length; i++) {
            long bytes = LeafTables.bytes(trees[i]);
            if (bytes >= 0 && bytes <= tableLimit && !trees[i].isLeaf(0)) {
              t[i] = LeafTables.of(trees[i]);
            }
          }
          tables = t;
        }
      }
    }
    return t;
  }

  /** @return one tree with weight 1 */
  public static TreeEnsemble single(Tree tree) {
    return new TreeEnsemble(List.of(tree), new double[] {1.0}, 0.0);
  }

  /** @return the trees averaged: weights {@code 1/T} */
  public static TreeEnsemble average(List<Tree> trees) {
    double[] w = new double[trees.size()];
    java.util.Arrays.fill(w, 1.0 / trees.size());
    return new TreeEnsemble(trees, w, 0.0);
  }

  /** @return the model's output for one row */
  public double predict(double[] x) {
    double sum = offset;
    for (int t = 0; t < trees.length; t++) {
      sum += weights[t] * trees[t].predict(x);
    }
    return sum;
  }

  /** @return the expected output: what the SHAP values of a row are measured from */
  public double expectedValue() {
    return expectedValue;
  }

  /** @return the deepest tree's depth: the size of {@link TreeShap} this ensemble needs */
  public int maxDepth() {
    return maxDepth;
  }

  /** @return one more than the largest feature index any tree tests */
  public int numFeatures() {
    return numFeatures;
  }

  /** @return the number of trees */
  public int size() {
    return trees.length;
  }

  private static final ThreadLocal<ReferenceTreeShap> referenceWorkspace =
      ThreadLocal.withInitial(() -> new ReferenceTreeShap(64));

  /**
   * Makes {@link #shap} use {@link ReferenceTreeShap} in this JVM (for trees up to depth 64):
   * only for checking that whole pipelines, e.g. the reason codes of a scoring run, come out the
   * same with the fast algorithm. Not for production use: it is global and slow.
   *
   * @param on whether to use the reference algorithm
   */
  public static void useReferenceAlgorithm(boolean on) {
    reference = on;
  }

  /** @return tree {@code t} (0-based) */
  public Tree tree(int t) {
    return trees[t];
  }

  /** @return tree {@code t}'s weight */
  public double weight(int t) {
    return weights[t];
  }

  /** @return the constant added to the weighted sum of the trees */
  public double offset() {
    return offset;
  }

  /** @return a workspace for this ensemble; one per thread */
  public TreeShap newWorkspace() {
    return new TreeShap(maxDepth);
  }

  /** @return a workspace for {@link #shapReference}; one per thread */
  public ReferenceTreeShap newReferenceWorkspace() {
    return new ReferenceTreeShap(maxDepth);
  }

  /**
   * The same values as {@link #shap} with the published O(leaves x depth^2) algorithm, {@link
   * ReferenceTreeShap}: for checking the fast one on a sample of rows.
   *
   * @param x the row, at least {@link #numFeatures()} long
   * @param phi one slot per feature, accumulated into
   * @param workspace from {@link #newReferenceWorkspace()}
   */
  public void shapReference(double[] x, double[] phi, ReferenceTreeShap workspace) {
    for (int t = 0; t < trees.length; t++) {
      workspace.accumulate(trees[t], x, weights[t], phi);
    }
  }

  /**
   * Adds the row's SHAP values to {@code phi}; afterwards {@code sum(phi added) +
   * expectedValue() == predict(x)} up to rounding.
   *
   * @param x the row, at least {@link #numFeatures()} long
   * @param phi one slot per feature, accumulated into
   * @param workspace from {@link #newWorkspace()} (or any TreeShap at least as deep)
   */
  public void shap(double[] x, double[] phi, TreeShap workspace) {
    if (reference) {
      shapReference(x, phi, referenceWorkspace.get());
      return;
    }
    LeafTables[] tab = tables();
    for (int t = 0; t < trees.length; t++) {
      if (tab[t] != null) {
        workspace.accumulate(tab[t], trees[t], x, weights[t], phi);
      } else {
        workspace.accumulate(trees[t], x, weights[t], phi);
      }
    }
  }
}
