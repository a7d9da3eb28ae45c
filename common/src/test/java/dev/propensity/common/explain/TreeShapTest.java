package dev.propensity.common.explain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** TreeSHAP against brute-force Shapley values ({@link ShapleyOracle}) on random trees. */
class TreeShapTest {

  private static final int M = 6;
  /**
   * features 0..2 continuous in [0, 1) (10% missing); 3..5 categorical with values 0..3 (4 and 7
   * unseen)
   */
  private static final int FIRST_CATEGORICAL = 3;

  @Test
  void stumpByHand() {
    // x0 <= 0.5 -> 1 (cover 1), else 3 (cover 3): E = 0.25 * 1 + 0.75 * 3 = 2.5
    Tree t = Tree.of(Tree.continuous(0, 0.5, 4, Tree.leaf(1, 1), Tree.leaf(3, 3)));
    assertThat(t.expectedValue()).isEqualTo(2.5);
    double[] phi = new double[2];
    new TreeShap(1).accumulate(t, new double[] {0.2, 9}, 1.0, phi);
    assertThat(phi[0]).isCloseTo(-1.5, within(1e-15));
    assertThat(phi[1]).isZero();
  }

  @Test
  void singleTreesMatchTheOracle() {
    Random rnd = new Random(7);
    for (int trial = 0; trial < 60; trial++) {
      Tree.Node root = randomNode(rnd, 0, 1 + rnd.nextInt(6));
      Tree tree = Tree.of(root);
      ShapleyOracle.Model oracle = new ShapleyOracle.Model(List.of(root), new double[] {1}, 0);
      TreeEnsemble model = TreeEnsemble.single(tree);
      for (int row = 0; row < 15; row++) {
        assertMatches(model, oracle, randomRow(rnd), "trial " + trial + " row " + row);
      }
    }
  }

  @Test
  void forestsAndBoostedSumsMatchTheOracle() {
    Random rnd = new Random(11);
    for (int trial = 0; trial < 20; trial++) {
      int n = 2 + rnd.nextInt(4);
      List<Tree.Node> roots = new ArrayList<>();
      List<Tree> trees = new ArrayList<>();
      double[] weights = new double[n];
      for (int t = 0; t < n; t++) {
        roots.add(randomNode(rnd, 0, 1 + rnd.nextInt(5)));
        trees.add(Tree.of(roots.get(t)));
        weights[t] = t == 0 ? 1.0 : 0.1 + rnd.nextDouble();
      }
      boolean forest = trial % 2 == 0;
      TreeEnsemble model = forest ? TreeEnsemble.average(trees)
          : new TreeEnsemble(trees, weights, 0.3);
      double[] w = forest ? fill(n, 1.0 / n) : weights;
      ShapleyOracle.Model oracle = new ShapleyOracle.Model(roots, w, forest ? 0 : 0.3);
      for (int row = 0; row < 10; row++) {
        assertMatches(model, oracle, randomRow(rnd), "trial " + trial + " row " + row);
      }
    }
  }

  @Test
  void deepTreeWithOneFeatureRepeatedOnThePath() {
    // the same feature split at every level: exercises UNWIND on every node
    Tree.Node node = Tree.leaf(5, 2);
    for (int d = 0; d < 8; d++) {
      int f = d % 2;
      node = Tree.continuous(f, 0.1 * (d + 1), node.cover() + 3,
          node, Tree.leaf(d - 4.0, 3));
    }
    Tree tree = Tree.of(node);
    ShapleyOracle.Model oracle = new ShapleyOracle.Model(List.of(node), new double[] {1}, 0);
    Random rnd = new Random(3);
    for (int row = 0; row < 30; row++) {
      double[] x = {rnd.nextDouble(), rnd.nextDouble(), 0, 0, 0, 0};
      assertMatches(TreeEnsemble.single(tree), oracle, x, "row " + row);
    }
  }

  @Test
  void treesOf9To12PathFeaturesMatchTheOracle() {
    // the unrolled 6-point kernel (which also serves the 5 points 9 or 10 features need) against
    // brute force over 12 features: 2^12 coalitions, so few rows
    Random rnd = new Random(13);
    int features = 12;
    for (int depth = 10; depth <= 12; depth++) {
      Tree.Node root;
      Tree tree;
      do {
        // continuous features, missing values either way, 10% empty leaves
        root = FastTreeShapTest.randomNode(rnd, 0, depth, 0.1, features);
        tree = Tree.of(root);
      } while (tree.maxPathFeatures() < 9);
      assertThat(tree.shapPlan().m).as("depth %d", depth).isEqualTo(TreeShap.UNROLLED_6);
      ShapleyOracle.Model oracle = new ShapleyOracle.Model(List.of(root), new double[] {1}, 0);
      TreeShap fast = new TreeShap(tree.maxDepth());
      for (int row = 0; row < 3; row++) {
        double[] x = Arrays.copyOf(FastTreeShapTest.randomRow(rnd), features);
        double[] expected = ShapleyOracle.shapley(oracle, x, features);
        double[] phi = new double[features];
        fast.accumulate(tree, x, 1.5, phi);
        for (int j = 0; j < features; j++) {
          assertThat(phi[j]).as("depth %d row %d feature %d", depth, row, j)
              .isCloseTo(1.5 * expected[j], within(1e-9));
        }
      }
    }
  }

  @Test
  void rejectsInvalidTrees() {
    assertThatThrownBy(() -> Tree.of(Tree.leaf(Double.NaN, 1)))
        .hasMessageContaining("Invalid tree leaf: value NaN");
    assertThatThrownBy(() -> Tree.of(Tree.continuous(-1, 0, 1, Tree.leaf(0, 1), Tree.leaf(1, 0))))
        .hasMessageContaining("feature index -1");
    assertThatThrownBy(() -> Tree.of(Tree.leaf(0, -2)))
        .hasMessageContaining("cover -2.0");
    Tree deep = Tree.of(Tree.continuous(0, 0, 2, Tree.leaf(0, 1), Tree.leaf(1, 1)));
    assertThatThrownBy(() -> new TreeShap(0).accumulate(deep, new double[] {1}, 1, new double[1]))
        .hasMessageContaining("Tree of depth 1 exceeds this TreeShap's maxDepth 0");
  }

  private static void assertMatches(TreeEnsemble model, ShapleyOracle.Model oracle, double[] x,
      String what) {
    double[] expected = ShapleyOracle.shapley(oracle, x, M);
    double[] phi = new double[M];
    model.shap(x, phi, model.newWorkspace());
    // the quadrature and the leaf tables, each on every tree
    double[] quadrature = new double[M];
    model.withTableLimit(0).shap(x, quadrature, model.newWorkspace());
    double[] tables = new double[M];
    TreeEnsemble tabled = model.withTableLimit(Long.MAX_VALUE);
    assertThat(tabled.tabledTrees()).as(what).isEqualTo(countInternalRoots(model));
    tabled.shap(x, tables, model.newWorkspace());
    for (int j = 0; j < M; j++) {
      assertThat(phi[j]).as(what + " feature " + j).isCloseTo(expected[j], within(1e-9));
      assertThat(quadrature[j]).as(what + " feature " + j + ", quadrature")
          .isCloseTo(expected[j], within(1e-9));
      assertThat(tables[j]).as(what + " feature " + j + ", tables")
          .isCloseTo(expected[j], within(1e-9));
    }
    // additivity, and the model agrees with the oracle's value of the full coalition
    double full = oracle.value(x, fillBool(M));
    assertThat(model.predict(x)).as(what).isCloseTo(full, within(1e-12));
    assertThat(Arrays.stream(phi).sum() + model.expectedValue()).as(what + " additivity")
        .isCloseTo(model.predict(x), within(1e-9));
    assertThat(model.expectedValue()).as(what + " expected value")
        .isCloseTo(oracle.value(x, new boolean[M]), within(1e-12));
  }

  /** @return the trees of the model that are not a single leaf (those get tables) */
  private static int countInternalRoots(TreeEnsemble model) {
    int n = 0;
    for (int t = 0; t < model.size(); t++) {
      n += model.tree(t).isLeaf(0) ? 0 : 1;
    }
    return n;
  }

  private static Tree.Node randomNode(Random rnd, int depth, int maxDepth) {
    if (depth == maxDepth || (depth > 0 && rnd.nextDouble() < 0.25)) {
      double cover = rnd.nextDouble() < 0.08 ? 0 : 1 + rnd.nextInt(100);
      return Tree.leaf(rnd.nextGaussian(), cover);
    }
    Tree.Node l = randomNode(rnd, depth + 1, maxDepth);
    Tree.Node r = randomNode(rnd, depth + 1, maxDepth);
    double cover = l.cover() + r.cover();
    int f = rnd.nextInt(M);
    if (f < FIRST_CATEGORICAL) {
      // a missing value goes right (MLlib) or to the node's default side (XGBoost)
      return Tree.continuous(f, rnd.nextDouble(), rnd.nextBoolean(), cover, l, r);
    }
    List<Double> cats = new ArrayList<>();
    for (int c = 0; c < 4; c++) {
      if (rnd.nextBoolean()) {
        cats.add((double) c);
      }
    }
    if (cats.isEmpty()) {
      cats.add((double) rnd.nextInt(4));
    }
    return Tree.categorical(f, cats.stream().mapToDouble(Double::doubleValue).toArray(),
        rnd.nextBoolean(), cover, l, r);
  }

  private static double[] randomRow(Random rnd) {
    double[] x = new double[M];
    for (int j = 0; j < M; j++) {
      x[j] = j < FIRST_CATEGORICAL ? (rnd.nextDouble() < 0.1 ? Double.NaN : rnd.nextDouble())
          : rnd.nextDouble() < 0.1 ? (rnd.nextBoolean() ? 4 : 7) : rnd.nextInt(4);
    }
    return x;
  }

  private static double[] fill(int n, double v) {
    double[] a = new double[n];
    Arrays.fill(a, v);
    return a;
  }

  private static boolean[] fillBool(int n) {
    boolean[] a = new boolean[n];
    Arrays.fill(a, true);
    return a;
  }
}
