package dev.propensity.common.explain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link LeafTables} (Fast TreeSHAP v2) against {@link ReferenceTreeShap} and the quadrature
 * {@link TreeShap}: single trees, forests of depth 8, boosted sums of depth 3, categorical and
 * one-hot slots, missing values going either way, zero covers, and depth-12 ensembles where the
 * per-tree limit tables some trees and leaves the others to the quadrature. {@link TreeShapTest}
 * checks the tables against brute force.
 */
class LeafTablesTest {

  private static final int M = 30;
  private static final long UNLIMITED = Long.MAX_VALUE;

  @Test
  void singleTreesUpToDepth10MatchTheReference() {
    Random rnd = new Random(41);
    for (int trial = 0; trial < 40; trial++) {
      int depth = 1 + trial % 10;
      TreeEnsemble model = TreeEnsemble.single(Tree.of(node(rnd, 0, depth, 0.1, M)))
          .withTableLimit(UNLIMITED);
      assertThat(model.tabledTrees()).isEqualTo(1);
      assertMatches(model, rnd, 20, "trial " + trial + " depth " + depth);
    }
  }

  @Test
  void forestOfDepth8AndBoostedTreesOfDepth3MatchTheReference() {
    Random rnd = new Random(43);
    List<Tree> forest = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      forest.add(Tree.of(node(rnd, 0, 8, 0.05, M)));
    }
    assertMatches(TreeEnsemble.average(forest).withTableLimit(UNLIMITED), rnd, 20, "forest");
    List<Tree> boosted = new ArrayList<>();
    double[] weights = new double[30];
    for (int t = 0; t < weights.length; t++) {
      boosted.add(Tree.of(node(rnd, 0, 3, 0.0, M)));
      weights[t] = t == 0 ? 1.0 : 0.1;
    }
    TreeEnsemble gbt = new TreeEnsemble(boosted, weights, 0.4);
    // the default limit tables every depth-3 tree
    assertThat(gbt.tabledTrees()).isEqualTo(30);
    assertMatches(gbt, rnd, 50, "gbt");
  }

  @Test
  void repeatedFeaturesAndZeroCoversMatchTheReference() {
    Random rnd = new Random(47);
    for (int trial = 0; trial < 30; trial++) {
      // 3 features over up to 9 levels: every path repeats them; 40% empty leaves
      Tree tree = Tree.of(node(rnd, 0, 2 + trial % 8, 0.4, trial % 2 == 0 ? 3 : M));
      assertMatches(TreeEnsemble.single(tree).withTableLimit(UNLIMITED), rnd, 15,
          "trial " + trial);
    }
  }

  @Test
  void depth12EnsembleTablesSomeTreesAndFallsBackForTheOthers() {
    Random rnd = new Random(53);
    List<Tree> trees = new ArrayList<>();
    for (int t = 0; t < 6; t++) {
      // depth 12 on 4 features (small tables) or on 30 (large ones)
      trees.add(Tree.of(node(rnd, 0, 12, 0.05, t % 2 == 0 ? 4 : M)));
    }
    long limit = 4L << 20;
    TreeEnsemble model = TreeEnsemble.average(trees).withTableLimit(limit);
    int tabled = model.tabledTrees();
    assertThat(tabled).as("trees under the limit").isBetween(1, trees.size() - 1);
    for (int t = 0; t < trees.size(); t++) {
      assertThat(LeafTables.bytes(trees.get(t)) <= limit).as("tree %d", t)
          .isEqualTo(t % 2 == 0);
    }
    assertThat(model.tableBytes()).isPositive().isLessThanOrEqualTo(tabled * limit);
    assertMatches(model, rnd, 10, "depth 12");
  }

  @Test
  void defaultLimitKeepsTheDefaultForestOnTheQuadrature() {
    Random rnd = new Random(59);
    List<Tree> trees = new ArrayList<>();
    for (int t = 0; t < 3; t++) {
      trees.add(Tree.of(full(rnd, 0, 8)));
    }
    TreeEnsemble forest = TreeEnsemble.average(trees);
    assertThat(forest.tableLimit()).isEqualTo(TreeEnsemble.DEFAULT_TABLE_LIMIT);
    assertThat(forest.tabledTrees()).isZero();
    assertThat(forest.tableBytes()).isZero();
    assertThat(forest.withTableLimit(UNLIMITED).tabledTrees()).isEqualTo(3);
  }

  @Test
  void rejectsANegativeLimit() {
    Tree tree = Tree.of(Tree.continuous(0, 0.5, 2, Tree.leaf(0, 1), Tree.leaf(1, 1)));
    assertThatThrownBy(() -> TreeEnsemble.single(tree).withTableLimit(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Invalid leaf-table limit: -1");
  }

  @Test
  void bytesCountTwoToTheDTimesDPerLeaf() {
    // a stump: one leaf per side, d = 1: 2 entries each; a single leaf: none
    Tree stump = Tree.of(Tree.continuous(3, 0.5, 2, Tree.leaf(0, 1), Tree.leaf(1, 1)));
    assertThat(LeafTables.bytes(stump)).isEqualTo(2 * 2 * 8);
    assertThat(LeafTables.bytes(Tree.of(Tree.leaf(1, 1)))).isZero();
    // two splits on different features: 4 leaves with d = 2, 4 x 2 entries each
    Tree two = Tree.of(Tree.continuous(0, 0.5, 4,
        Tree.continuous(1, 0.5, 2, Tree.leaf(0, 1), Tree.leaf(1, 1)),
        Tree.continuous(1, 0.2, 2, Tree.leaf(2, 1), Tree.leaf(3, 1))));
    assertThat(LeafTables.bytes(two)).isEqualTo(4 * 4 * 2 * 8);
  }

  /** Tables (as the model is configured) and the quadrature both equal to the reference. */
  private static void assertMatches(TreeEnsemble model, Random rnd, int rows, String what) {
    FastTreeShapTest.assertSame(model, rnd, rows, what);
  }

  /** {@link FastTreeShapTest}'s random trees: all kinds of split, missing values either way. */
  private static Tree.Node node(Random rnd, int depth, int maxDepth, double emptyLeaf,
      int features) {
    return FastTreeShapTest.randomNode(rnd, depth, maxDepth, emptyLeaf, features);
  }

  /** A full tree: every path reaches {@code depth}, 30 features. */
  private static Tree.Node full(Random rnd, int level, int depth) {
    if (level == depth) {
      return Tree.leaf(rnd.nextDouble(), 1 + rnd.nextInt(100));
    }
    Tree.Node l = full(rnd, level + 1, depth);
    Tree.Node r = full(rnd, level + 1, depth);
    return Tree.continuous(rnd.nextInt(M), rnd.nextDouble(), l.cover() + r.cover(), l, r);
  }
}
