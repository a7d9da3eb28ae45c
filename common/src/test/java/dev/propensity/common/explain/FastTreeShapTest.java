package dev.propensity.common.explain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link TreeShap} (the quadrature form, and by default {@link LeafTables} for small trees)
 * against {@link ReferenceTreeShap} (Algorithm 2 as published) on trees the size of the default
 * ensemble's: regression trees, averaged forests and boosted sums, depth up to 12, categorical
 * and one-hot slots, missing (NaN) values going either way, features repeated on a path, and
 * zero-cover branches; the quadrature's three kernels (unrolled at 4 and 6 points, the general
 * loop beyond). {@link TreeShapTest} checks both against brute force.
 */
class FastTreeShapTest {

  private static final int M = 30;
  /** features 0..19 continuous in [0, 1); 20..23 categorical with 0..5; 24..29 one-hot 0/1 */
  private static final int FIRST_CATEGORICAL = 20;
  private static final int FIRST_ONE_HOT = 24;

  @Test
  void quadratureIntegratesPolynomialsExactly() {
    for (int m = 1; m <= 12; m++) {
      double[][] pw = TreeShap.gaussLegendre(m);
      for (int degree = 0; degree <= 2 * m - 1; degree++) {
        double sum = 0;
        for (int k = 0; k < m; k++) {
          sum += pw[1][k] * Math.pow(pw[0][k], degree);
        }
        assertThat(sum).as("m %d degree %d", m, degree).isCloseTo(1.0 / (degree + 1),
            within(1e-14));
      }
    }
  }

  @Test
  void singleTreesUpToDepth12MatchTheReference() {
    Random rnd = new Random(5);
    for (int trial = 0; trial < 40; trial++) {
      int depth = 1 + trial % 12;
      Tree tree = Tree.of(randomNode(rnd, 0, depth, 0.1));
      assertSame(TreeEnsemble.single(tree), rnd, 25, "trial " + trial + " depth " + depth);
    }
  }

  @Test
  void fullDepth12TreeWithFewFeaturesMatchesTheReference() {
    // few features on many levels: every path repeats features (the unwinding case)
    Random rnd = new Random(17);
    Tree tree = Tree.of(randomNode(rnd, 0, 12, 0.0, 3));
    assertThat(tree.maxDepth()).isEqualTo(12);
    assertSame(TreeEnsemble.single(tree), rnd, 20, "depth 12, 3 features");
  }

  @Test
  void forestsOfDepth8And12MatchTheReference() {
    Random rnd = new Random(23);
    for (int depth : new int[] {8, 12}) {
      List<Tree> trees = new ArrayList<>();
      for (int t = 0; t < 10; t++) {
        trees.add(Tree.of(randomNode(rnd, 0, depth, 0.05)));
      }
      TreeEnsemble forest = TreeEnsemble.average(trees);
      assertSame(forest, rnd, 20, "forest depth " + depth);
    }
  }

  @Test
  void depth9To12TreesTakeTheSixPointKernelAndMatchTheReference() {
    // paths of 9 to 12 distinct features need 5 or 6 points: the unrolled 6-point kernel serves
    // both. Each workspace is sized to its tree, so depth 9 and 10 check the 6-wide stride.
    Random rnd = new Random(61);
    int fivePointTrees = 0;
    int repeatedSplits = 0;
    int pureShares = 0;
    for (int depth = 9; depth <= 12; depth++) {
      for (int trial = 0; trial < 6; trial++) {
        String what = "depth " + depth + " trial " + trial;
        Tree tree;
        do {
          // 30 features of all kinds (repeats on most paths), 30% empty leaves (shares 0 and 1)
          tree = Tree.of(randomNode(rnd, 0, depth, 0.3));
        } while (tree.maxPathFeatures() < 9);
        TreeShap.Plan plan = tree.shapPlan();
        assertThat(plan.m).as(what).isEqualTo(TreeShap.UNROLLED_6);
        fivePointTrees += TreeShap.pointsFor(tree.maxDepth()) == 5 ? 1 : 0;
        for (int n = 0; n < tree.size(); n++) {
          if (!tree.isLeaf(n)) {
            repeatedSplits += plan.repeatsAbove[n] ? 1 : 0;
            pureShares += tree.leftShare(n) == 0 || tree.leftShare(n) == 1 ? 1 : 0;
          }
        }
        TreeShap fast = new TreeShap(tree.maxDepth());
        ReferenceTreeShap reference = new ReferenceTreeShap(tree.maxDepth());
        double scale = 0.3 + 2 * rnd.nextDouble();
        double expected = tree.expectedValue();
        for (int r = 0; r < 15; r++) {
          // about 5% missing values, going left or right as the split says
          double[] x = randomRow(rnd);
          double[] a = new double[M];
          double[] b = new double[M];
          fast.accumulate(tree, x, scale, a);
          reference.accumulate(tree, x, scale, b);
          for (int j = 0; j < M; j++) {
            assertThat(a[j]).as("%s row %d feature %d", what, r, j)
                .isCloseTo(b[j], within(1e-12 * Math.max(1, Math.abs(b[j]))));
          }
          assertThat(Arrays.stream(a).sum()).as("%s row %d additivity", what, r)
              .isCloseTo(scale * (tree.predict(x) - expected), within(1e-9));
        }
      }
    }
    assertThat(fivePointTrees).as("trees needing 5 points").isPositive();
    assertThat(repeatedSplits).as("features repeated on a path").isGreaterThan(100);
    assertThat(pureShares).as("cover shares of 0 or 1").isGreaterThan(20);
  }

  @Test
  void treesOfMoreThan12PathFeaturesTakeTheGeneralLoopAndMatchTheReference() {
    Random rnd = new Random(67);
    for (int trial = 0; trial < 4; trial++) {
      Tree tree;
      do {
        tree = Tree.of(randomNode(rnd, 0, 14 + trial % 2, 0.2));
      } while (tree.maxPathFeatures() < 13);
      assertThat(tree.shapPlan().m).as("trial %d", trial).isGreaterThan(TreeShap.UNROLLED_6);
      assertSame(TreeEnsemble.single(tree).withTableLimit(0), rnd, 10, "trial " + trial);
    }
  }

  @Test
  void boostedTreesMatchTheReference() {
    Random rnd = new Random(29);
    List<Tree> trees = new ArrayList<>();
    double[] weights = new double[40];
    for (int t = 0; t < weights.length; t++) {
      trees.add(Tree.of(randomNode(rnd, 0, 3, 0.0)));
      weights[t] = t == 0 ? 1.0 : 0.1;
    }
    assertSame(new TreeEnsemble(trees, weights, 0.0), rnd, 50, "gbt depth 3");
  }

  @Test
  void zeroCoverBranchesMatchTheReference() {
    // many empty leaves: shares of 0 and 1, pruned branches, q = t on the hot side
    Random rnd = new Random(31);
    for (int trial = 0; trial < 30; trial++) {
      Tree tree = Tree.of(randomNode(rnd, 0, 2 + trial % 7, 0.4));
      assertSame(TreeEnsemble.single(tree), rnd, 15, "trial " + trial);
    }
  }

  @Test
  void oneWorkspaceServesTreesOfDifferentSizes() {
    // reused buffers must not leak between trees, rows or feature counts
    Random rnd = new Random(37);
    TreeShap fast = new TreeShap(12);
    ReferenceTreeShap reference = new ReferenceTreeShap(12);
    for (int trial = 0; trial < 40; trial++) {
      Tree tree = Tree.of(randomNode(rnd, 0, 1 + rnd.nextInt(12), 0.1,
          trial % 3 == 0 ? 2 : M));
      double[] x = randomRow(rnd);
      double[] a = new double[M];
      double[] b = new double[M];
      fast.accumulate(tree, x, 0.7, a);
      reference.accumulate(tree, x, 0.7, b);
      for (int j = 0; j < M; j++) {
        assertThat(a[j]).as("trial %d feature %d", trial, j).isCloseTo(b[j], within(1e-12));
      }
    }
  }

  /** The ensemble as given (default leaf-table limit) and without tables, against the reference. */
  static void assertSame(TreeEnsemble model, Random rnd, int rows, String what) {
    TreeShap fast = model.newWorkspace();
    ReferenceTreeShap reference = model.newReferenceWorkspace();
    TreeEnsemble quadrature = model.withTableLimit(0);
    for (int r = 0; r < rows; r++) {
      double[] x = randomRow(rnd);
      double[] a = new double[M];
      double[] b = new double[M];
      double[] c = new double[M];
      model.shap(x, a, fast);
      model.shapReference(x, b, reference);
      quadrature.shap(x, c, fast);
      for (int j = 0; j < M; j++) {
        assertThat(a[j]).as("%s row %d feature %d", what, r, j).isCloseTo(b[j], within(1e-12));
        assertThat(c[j]).as("%s row %d feature %d, quadrature", what, r, j)
            .isCloseTo(b[j], within(1e-12));
      }
      assertThat(Arrays.stream(a).sum() + model.expectedValue()).as("%s row %d additivity", what, r)
          .isCloseTo(model.predict(x), within(1e-9));
    }
  }

  static Tree.Node randomNode(Random rnd, int depth, int maxDepth, double emptyLeaf) {
    return randomNode(rnd, depth, maxDepth, emptyLeaf, M);
  }

  /** A random tree; {@code features} limits the features tested (the first ones). */
  static Tree.Node randomNode(Random rnd, int depth, int maxDepth, double emptyLeaf,
      int features) {
    if (depth == maxDepth || (depth > 1 && rnd.nextDouble() < 0.1)) {
      double cover = rnd.nextDouble() < emptyLeaf ? 0 : 1 + rnd.nextInt(1000);
      return Tree.leaf(rnd.nextGaussian(), cover);
    }
    Tree.Node l = randomNode(rnd, depth + 1, maxDepth, emptyLeaf, features);
    Tree.Node r = randomNode(rnd, depth + 1, maxDepth, emptyLeaf, features);
    double cover = l.cover() + r.cover();
    int f = rnd.nextInt(Math.min(features, M));
    if (f < FIRST_CATEGORICAL) {
      // a missing value goes right (MLlib) or to the node's default side (XGBoost)
      return Tree.continuous(f, rnd.nextDouble(), rnd.nextBoolean(), cover, l, r);
    }
    if (f >= FIRST_ONE_HOT) {
      // a one-hot slot: MLlib splits it continuously at 0.5
      return Tree.continuous(f, 0.5, cover, l, r);
    }
    List<Double> cats = new ArrayList<>();
    for (int c = 0; c < 6; c++) {
      if (rnd.nextBoolean()) {
        cats.add((double) c);
      }
    }
    if (cats.isEmpty()) {
      cats.add((double) rnd.nextInt(6));
    }
    return Tree.categorical(f, cats.stream().mapToDouble(Double::doubleValue).toArray(),
        rnd.nextBoolean(), cover, l, r);
  }

  /** A row with about 5% missing (NaN) values and unseen categories. */
  static double[] randomRow(Random rnd) {
    double[] x = new double[M];
    for (int j = 0; j < M; j++) {
      if (rnd.nextDouble() < 0.05) {
        x[j] = Double.NaN;
      } else if (j < FIRST_CATEGORICAL) {
        x[j] = rnd.nextDouble();
      } else if (j < FIRST_ONE_HOT) {
        x[j] = rnd.nextDouble() < 0.1 ? 9 : rnd.nextInt(6);
      } else {
        x[j] = rnd.nextBoolean() ? 1 : 0;
      }
    }
    return x;
  }
}
