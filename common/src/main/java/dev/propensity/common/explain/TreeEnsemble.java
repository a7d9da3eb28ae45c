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

  /**
   * @param trees the trees
   * @param weights one weight per tree
   * @param offset a constant added to the sum (0 for MLlib's models)
   * @throws IllegalArgumentException when there are no trees or the sizes differ
   */
  public TreeEnsemble(List<Tree> trees, double[] weights, double offset) {
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
    for (int t = 0; t < trees.length; t++) {
      workspace.accumulate(trees[t], x, weights[t], phi);
    }
  }
}
