package dev.propensity.jobs.benchmark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.to_date;

import dev.propensity.common.config.JobConfig;
import dev.propensity.common.explain.ReferenceTreeShap;
import dev.propensity.common.explain.TreeEnsemble;
import dev.propensity.common.explain.TreeShap;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRegistry;
import dev.propensity.common.run.ModelRuns;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.model.FeatureSlots;
import dev.propensity.jobs.model.MllibTrees;
import dev.propensity.jobs.model.Ensemble;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.shared.HasFeaturesCol;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * For the scoring benchmark: what the trained run's voters are (tree counts and depths), and the
 * fast TreeSHAP against {@link ReferenceTreeShap} on a sample of real rows: the largest difference
 * and the single-thread CPU time of both per row and per tree.
 */
final class ReasonCodesCheck {

  private ReasonCodesCheck() {}

  static void describe(Warehouse wh, SparkSession spark, JobConfig config) {
    Ensemble ensemble = load(wh, spark);
    for (int i = 0; i < ensemble.voters().size(); i++) {
      Transformer last = FeatureSlots.model(ensemble.models().get(i));
      String shape = "";
      if (MllibTrees.supports(last)) {
        TreeEnsemble e = MllibTrees.of(last).ensemble();
        int nodes = 0;
        for (int t = 0; t < e.size(); t++) {
          nodes += treeSize(e, t);
        }
        shape = String.format(", %d trees, max depth %d, %.0f nodes per tree", e.size(),
            e.maxDepth(), nodes / (double) e.size());
      }
      System.out.printf("voter %s (weight %.3f): %s%s%n", ensemble.voters().get(i).name(),
          ensemble.voters().get(i).weight(), last.getClass().getSimpleName(), shape);
    }
  }

  static void exactness(Warehouse wh, SparkSession spark, JobConfig config, String snapshot,
      int rows) {
    Ensemble ensemble = load(wh, spark);
    Dataset<Row> sample = wh.read(Tables.FEATURES)
        .where(col("snapshot_date").equalTo(to_date(lit(snapshot)))).limit(rows);
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    for (int i = 0; i < ensemble.voters().size(); i++) {
      PipelineModel model = ensemble.models().get(i);
      Transformer last = FeatureSlots.model(model);
      if (!MllibTrees.supports(last)) {
        continue;
      }
      TreeEnsemble e = MllibTrees.of(last).ensemble();
      String featuresCol = ((HasFeaturesCol) last).getFeaturesCol();
      List<double[]> xs = model.transform(sample).select(featuresCol).collectAsList().stream()
          .map(r -> ((Vector) r.get(0)).toArray()).toList();
      TreeShap fast = e.newWorkspace();
      ReferenceTreeShap reference = e.newReferenceWorkspace();
      int slots = xs.get(0).length;
      double maxDiff = 0;
      double maxAdditivity = 0;
      for (double[] x : xs) {
        double[] a = new double[slots];
        double[] b = new double[slots];
        e.shap(x, a, fast);
        e.shapReference(x, b, reference);
        double sum = e.expectedValue();
        for (int j = 0; j < slots; j++) {
          maxDiff = Math.max(maxDiff, Math.abs(a[j] - b[j]));
          sum += a[j];
        }
        maxAdditivity = Math.max(maxAdditivity, Math.abs(sum - e.predict(x)));
      }
      double[] phi = new double[slots];
      double fastUs = 0;
      double referenceUs = 0;
      for (int rep = 0; rep < 3; rep++) {
        long t0 = mx.getCurrentThreadCpuTime();
        for (double[] x : xs) {
          e.shap(x, phi, fast);
        }
        long t1 = mx.getCurrentThreadCpuTime();
        for (double[] x : xs) {
          e.shapReference(x, phi, reference);
        }
        long t2 = mx.getCurrentThreadCpuTime();
        fastUs = (t1 - t0) / 1e3 / xs.size();
        referenceUs = (t2 - t1) / 1e3 / xs.size();
      }
      System.out.printf("exactness %s: %d rows, max |fast - reference| %.1e, max additivity"
          + " error %.1e; one thread CPU: reference %.1f us/row (%.2f us/tree), fast %.1f us/row"
          + " (%.2f us/tree), %.1fx%n", ensemble.voters().get(i).name(), xs.size(), maxDiff,
          maxAdditivity, referenceUs, referenceUs / e.size(), fastUs, fastUs / e.size(),
          referenceUs / fastUs);
    }
  }

  private static int treeSize(TreeEnsemble e, int t) {
    return e.tree(t).size();
  }

  private static Ensemble load(Warehouse wh, SparkSession spark) {
    ModelRun run = new ModelRegistry(wh).open(ModelRuns.LATEST);
    return Ensemble.load(run);
  }
}
