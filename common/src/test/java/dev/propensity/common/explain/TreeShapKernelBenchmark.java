package dev.propensity.common.explain;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Single-thread CPU time of the TreeSHAP kernels (the published algorithm, the quadrature
 * {@link TreeShap} and the {@link LeafTables}) on the default ensemble's tree shapes: a forest of
 * 60 full trees of depth 8 (and of depth 12, the grid's other value) and 100 boosted trees of depth
 * 3, 30 features. Not a test: {@code java -cp common/target/classes:common/target/test-classes
 * dev.propensity.common.explain.TreeShapKernelBenchmark [rows=2000]}.
 */
public final class TreeShapKernelBenchmark {

  private TreeShapKernelBenchmark() {}

  public static void main(String[] args) {
    int rows = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    Random rnd = new Random(1);
    report("forest 60 x depth 8", forest(rnd, 60, 8), rnd, rows);
    report("one tree of depth 8", forest(rnd, 1, 8), rnd, rows * 20);
    report("gbt 100 x depth 3", gbt(rnd, 100, 3), rnd, rows);
    report("forest 60 x depth 12", forest(rnd, 60, 12), rnd, Math.max(50, rows / 20));
  }

  private static TreeEnsemble forest(Random rnd, int n, int depth) {
    List<Tree> trees = new ArrayList<>();
    for (int t = 0; t < n; t++) {
      trees.add(Tree.of(full(rnd, 0, depth)));
    }
    return TreeEnsemble.average(trees);
  }

  private static TreeEnsemble gbt(Random rnd, int n, int depth) {
    List<Tree> trees = new ArrayList<>();
    double[] w = new double[n];
    for (int t = 0; t < n; t++) {
      trees.add(Tree.of(full(rnd, 0, depth)));
      w[t] = t == 0 ? 1 : 0.1;
    }
    return new TreeEnsemble(trees, w, 0);
  }

  /** A full tree: every path reaches {@code depth}, features drawn from 30. */
  private static Tree.Node full(Random rnd, int level, int depth) {
    if (level == depth) {
      return Tree.leaf(rnd.nextDouble(), 1 + rnd.nextInt(100));
    }
    Tree.Node l = full(rnd, level + 1, depth);
    Tree.Node r = full(rnd, level + 1, depth);
    return Tree.continuous(rnd.nextInt(30), rnd.nextDouble(), l.cover() + r.cover(), l, r);
  }

  private static void report(String name, TreeEnsemble model, Random rnd, int rows) {
    double[][] x = new double[rows][30];
    for (double[] row : x) {
      for (int j = 0; j < row.length; j++) {
        row[j] = rnd.nextDouble();
      }
    }
    double[] phi = new double[30];
    TreeEnsemble quadrature = model.withTableLimit(0);
    // every tree whose tables take at most 64 MiB (depth-12 trees take more: the quadrature)
    TreeEnsemble allTables = model.withTableLimit(64L << 20);
    long t = System.nanoTime();
    int tabled = allTables.tabledTrees();
    double buildMs = (System.nanoTime() - t) / 1e6;
    TreeShap fast = model.newWorkspace();
    ReferenceTreeShap reference = model.newReferenceWorkspace();
    ThreadMXBean bean = ManagementFactory.getThreadMXBean();
    double refUs = 0;
    double quadUs = 0;
    double tableUs = 0;
    double predictUs = 0;
    for (int round = 0; round < 3; round++) {
      long t0 = bean.getCurrentThreadCpuTime();
      for (double[] row : x) {
        model.shapReference(row, phi, reference);
      }
      long t1 = bean.getCurrentThreadCpuTime();
      for (double[] row : x) {
        quadrature.shap(row, phi, fast);
      }
      long t2 = bean.getCurrentThreadCpuTime();
      for (double[] row : x) {
        allTables.shap(row, phi, fast);
      }
      long t3 = bean.getCurrentThreadCpuTime();
      double sink = 0;
      for (double[] row : x) {
        sink += model.predict(row);
      }
      long t4 = bean.getCurrentThreadCpuTime();
      refUs = (t1 - t0) / 1e3 / rows;
      quadUs = (t2 - t1) / 1e3 / rows;
      tableUs = (t3 - t2) / 1e3 / rows;
      predictUs = (t4 - t3) / 1e3 / rows + (sink == 42 ? 1e-9 : 0);
    }
    double maxDiff = 0;
    for (int r = 0; r < Math.min(rows, 200); r++) {
      double[] a = new double[30];
      double[] b = new double[30];
      double[] c = new double[30];
      allTables.shap(x[r], a, fast);
      model.shapReference(x[r], b, reference);
      quadrature.shap(x[r], c, fast);
      for (int j = 0; j < 30; j++) {
        maxDiff = Math.max(maxDiff, Math.max(Math.abs(a[j] - b[j]), Math.abs(a[j] - c[j])));
      }
    }
    System.out.printf("%-22s default: %d of %d trees tabled (limit %d KiB)%n", name,
        model.tabledTrees(), model.size(), model.tableLimit() >> 10);
    System.out.printf("%-22s reference %9.1f us/row  quadrature %8.1f us/row (%6.2f us/tree)"
        + "  all tables %8.1f us/row (%6.2f us/tree, %d/%d trees, %.0f MiB, built in %.0f ms)"
        + "  tables vs quadrature %4.1fx  predict %5.1f us/row  max |diff| %.1e%n", name, refUs,
        quadUs, quadUs / model.size(), tableUs, tableUs / model.size(), tabled, model.size(),
        allTables.tableBytes() / 1048576.0, buildMs, quadUs / tableUs, predictUs, maxDiff);
  }
}
