package dev.propensity.jobs.model;


import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.exp;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.rand;
import static org.apache.spark.sql.functions.randn;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import dev.propensity.common.explain.TreeEnsemble;
import dev.propensity.common.explain.TreeShap;
import dev.propensity.common.schema.FeatureSchema;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.classification.GBTClassificationModel;
import org.apache.spark.ml.classification.GBTClassifier;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * Benchmark (not a test): exact TreeSHAP contributions of a GBT (100 trees, depth 5 by default)
 * for N generated customers with 10 numeric and 2 categorical features, against plain scoring of
 * the same pipeline, in {@code local[2]}. Run with {@code benchmarks/shap.sh [rows]}.
 */
public final class ShapBenchmark {

  private ShapBenchmark() {}

  public static void main(String[] args) {
    long rows = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000L;
    int trees = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    int depth = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    int trainRows = 20_000;
    SparkSession spark = SparkSession.builder().master("local[2]").appName("shap-benchmark")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
        .getOrCreate();
    spark.sparkContext().setLogLevel("WARN");

    List<String> numeric = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      numeric.add("x" + i);
    }
    FeatureSchema schema = new FeatureSchema("bench", "customer_id", Optional.empty(), "label",
        numeric, List.of("region", "segment"), Optional.empty(), Optional.empty());
    Dataset<Row> data = generate(spark, rows, numeric).persist(StorageLevel.MEMORY_AND_DISK());
    long n = data.count();
    Dataset<Row> train = data.limit(trainRows).withColumn(CandidatePipeline.LABEL,
        col("label").cast("double"));

    long t0 = System.nanoTime();
    PipelineModel model = CandidatePipeline.build("gbt", "gbt", schema, new GBTClassifier()
        .setMaxIter(trees).setMaxDepth(depth).setSeed(1), false).fit(train);
    double fitSeconds = (System.nanoTime() - t0) / 1e9;
    GBTClassificationModel gbt = (GBTClassificationModel) FeatureSlots.model(model);
    MllibTrees.Explainable e = MllibTrees.of(gbt);
    System.out.printf("model: %d trees, max depth %d, %d slots, fitted on %d rows in %.1f s%n",
        e.ensemble().size(), e.ensemble().maxDepth(), gbt.numFeatures(), trainRows, fitSeconds);

    Explainer explainer = Explainer.forCandidate("gbt", model, schema);
    Dataset<Row> warm = data.limit(20_000);
    score(model, warm);
    explain(explainer, warm);

    double cpu0 = cpuSeconds();
    double scoreSeconds = time(() -> score(model, data));
    double cpu1 = cpuSeconds();
    double[] check = new double[1];
    double shapSeconds = time(() -> check[0] = explain(explainer, data));
    double cpu2 = cpuSeconds();
    System.out.printf("rows: %d%n", n);
    System.out.printf("plain scoring (pipeline transform, probability summed): %.1f s, %.0f rows/s%n",
        scoreSeconds, n / scoreSeconds);
    System.out.printf("contributions (TreeSHAP, all features, summed): %.1f s, %.0f rows/s%n",
        shapSeconds, n / shapSeconds);
    System.out.printf("ratio contributions / scoring time: %.1fx%n", shapSeconds / scoreSeconds);
    // on a shared machine wall time includes waiting for the CPU; the process's CPU time does not
    System.out.printf("JVM CPU time: scoring %.1f s (%.0f rows per CPU-second),"
        + " contributions %.1f s (%.0f rows per CPU-second), ratio %.1fx%n", cpu1 - cpu0,
        n / (cpu1 - cpu0), cpu2 - cpu1, n / (cpu2 - cpu1), (cpu2 - cpu1) / (cpu1 - cpu0));
    System.out.printf("max |expected + sum(contributions) - output| over all rows: %.2e%n",
        check[0]);
    kernel(model, data, e.ensemble());
    spark.stop();
  }

  private static Dataset<Row> generate(SparkSession spark, long rows, List<String> numeric) {
    Dataset<Row> df = spark.range(rows).withColumnRenamed("id", "customer_id");
    Column logit = lit(-1.0);
    for (int i = 0; i < numeric.size(); i++) {
      Column x = i % 3 == 0 ? exp(randn(100 + i)) : rand(100 + i).multiply(10);
      df = df.withColumn(numeric.get(i), i == 4 ? when(rand(7).lt(0.1), lit(null)).otherwise(x)
          : x);
      logit = logit.plus(when(col(numeric.get(i)).isNull(), 0.0)
          .otherwise(col(numeric.get(i)).multiply((i % 2 == 0 ? 0.15 : -0.1))));
    }
    df = df.withColumn("region", element_at(expr("array('north','south','east','west')"),
            floor(rand(200).multiply(4)).cast("int").plus(1)))
        .withColumn("segment", element_at(expr("array('a','b','c','d','e','f')"),
            floor(rand(201).multiply(6)).cast("int").plus(1)));
    logit = logit.plus(when(col("region").equalTo("east"), 0.7).otherwise(0.0));
    return df.withColumn("label", when(rand(300).lt(lit(1.0).divide(lit(1.0)
        .plus(exp(logit.multiply(-1))))), 1).otherwise(0));
  }

  private static double score(PipelineModel model, Dataset<Row> rows) {
    return model.transform(rows).agg(sum(CandidatePipeline.positiveProbability("gbt")))
        .first().getDouble(0);
  }

  /** @return the largest additivity error: computing it forces every row's contributions */
  private static double explain(Explainer explainer, Dataset<Row> rows) {
    return explainer.contributions(rows).agg(max(abs(expr(
            "aggregate(contributions, 0D, (a, c) -> a + c.contribution)")
        .plus(col(Explainer.EXPECTED_VALUE)).minus(col(Explainer.OUTPUT)))))
        .first().getDouble(0);
  }

  /** TreeSHAP alone on one thread, no Spark: microseconds per row. */
  private static void kernel(PipelineModel model, Dataset<Row> data, TreeEnsemble ensemble) {
    Dataset<Row> t = data.limit(2000);
    for (int i = 0; i < FeatureSlots.modelIndex(model); i++) {
      t = model.stages()[i].transform(t);
    }
    List<double[]> xs = t.select(CandidatePipeline.featuresCol("gbt")).collectAsList().stream()
        .map(r -> ((Vector) r.get(0)).toArray()).toList();
    TreeShap ws = ensemble.newWorkspace();
    double[] phi = new double[ensemble.numFeatures() + 1];
    for (int rep = 0; rep < 3; rep++) {
      for (double[] x : xs) {
        ensemble.shap(x, phi, ws);
      }
    }
    int reps = 5;
    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory
        .getThreadMXBean();
    long t0 = mx.getCurrentThreadCpuTime();
    for (int rep = 0; rep < reps; rep++) {
      for (double[] x : xs) {
        ensemble.shap(x, phi, ws);
      }
    }
    double us = (mx.getCurrentThreadCpuTime() - t0) / 1e3 / (reps * xs.size());
    System.out.printf("kernel: TreeSHAP alone, one thread, CPU time: %.1f us/row"
        + " (%.0f rows per CPU-second)%n",
        us, 1e6 / us);
  }

  private static double cpuSeconds() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
  }

  private static double time(Runnable r) {
    long t0 = System.nanoTime();
    r.run();
    return (System.nanoTime() - t0) / 1e9;
  }
}
