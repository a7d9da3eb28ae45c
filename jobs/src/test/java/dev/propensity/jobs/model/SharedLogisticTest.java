package dev.propensity.jobs.model;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.propensity.common.SparkTestBase;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.StandardScalerModel;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** The shared-pass trainer against MLlib's estimator on the same rows, and its Spark job count. */
class SharedLogisticTest extends SparkTestBase {

  private static final double[] REG = {0.001, 0.01};
  private static final double[] ALPHA = {0.0, 0.5};
  /** The columns of {@link #data()}, weighted, with folds. */
  private static final SharedLogistic.Columns FOLDED = new SharedLogistic.Columns("features",
      "label", "w", "fold");

  /** 3000 rows: 6 features of different scales, one constant, one correlated; weights 0.5-3. */
  private static Dataset<Row> data() {
    Random r = new Random(11);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      double x0 = r.nextGaussian();
      double x1 = 2 + 3 * r.nextGaussian();
      double x2 = 10 * r.nextDouble();
      double x4 = r.nextDouble() < 0.3 ? 1 : 0;
      double x5 = x0 + 0.5 * r.nextGaussian();
      double z = -1.5 + 0.8 * x0 - 0.2 * x1 + 0.1 * x2 + 0.7 * x4 + 0.3 * x5;
      double y = r.nextDouble() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
      rows.add(RowFactory.create(Vectors.dense(x0, x1, x2, 5.0, x4, x5), y,
          0.5 + 2.5 * r.nextDouble(), i % 3));
    }
    return spark().createDataFrame(rows, new StructType()
        .add("features", SQLDataTypes.VectorType()).add("label", DataTypes.DoubleType)
        .add("w", DataTypes.DoubleType).add("fold", DataTypes.IntegerType)).cache();
  }

  /**
   * @return per elastic-net mixing of {@link #ALPHA}, a weighted task leaving out each fold from
   *     {@code firstFold} (-1: none) to 2, regularisation 0.001
   */
  private static List<SharedLogistic.Task> weightedTasks(int firstFold) {
    List<SharedLogistic.Task> tasks = new ArrayList<>();
    for (double alpha : ALPHA) {
      for (int fold = firstFold; fold < 3; fold++) {
        tasks.add(SharedLogistic.Task.of(0, fold, estimator(0.001, alpha, true, 100, 1e-5)));
      }
    }
    return tasks;
  }

  private static LogisticRegression estimator(double reg, double alpha, boolean weighted,
      int maxIter, double tol) {
    LogisticRegression lr = new LogisticRegression().setFamily("binomial").setRegParam(reg)
        .setElasticNetParam(alpha).setMaxIter(maxIter).setTol(tol);
    return weighted ? lr.setWeightCol("w") : lr;
  }

  @Test
  void matchesMllibForRidgeAndElasticNetWithAndWithoutWeights() {
    Dataset<Row> df = data();
    List<Row> rows = df.collectAsList();
    for (boolean weighted : new boolean[] {false, true}) {
      List<LogisticRegression> ests = new ArrayList<>();
      List<SharedLogistic.Task> tasks = new ArrayList<>();
      for (double reg : REG) {
        for (double alpha : ALPHA) {
          LogisticRegression lr = estimator(reg, alpha, weighted, 500, 1e-12);
          ests.add(lr);
          tasks.add(SharedLogistic.Task.of(0, -1, lr));
        }
      }
      SharedLogistic.Result shared = SharedLogistic.fit(List.of(df),
          new SharedLogistic.Columns("features", "label", weighted ? "w" : null, null), tasks,
          "test");
      for (int t = 0; t < tasks.size(); t++) {
        LogisticRegression lr = ests.get(t);
        LogisticRegressionModel mllib = lr.fit(df);
        SharedLogistic.Fit ours = shared.fits().get(t);
        String what = String.format("reg %s alpha %s weighted %s (%s after %d iterations)",
            lr.getRegParam(), lr.getElasticNetParam(), weighted, ours.stop(), ours.iterations());
        assertThat(ours.coefficients()).as(what)
            .containsExactly(mllib.coefficients().toArray(), within(1e-5));
        assertThat(ours.intercept()).as(what).isCloseTo(mllib.intercept(), within(1e-5));
        assertThat(ours.coefficients()[3]).as("constant feature").isZero();
        double oursLoss = objective(rows, weighted, lr, ours.coefficients(), ours.intercept());
        double mllibLoss = objective(rows, weighted, lr, mllib.coefficients().toArray(),
            mllib.intercept());
        assertThat(oursLoss).as(what).isLessThanOrEqualTo(mllibLoss + 1e-7);
        assertThat(ours.objective()).as(what).isCloseTo(oursLoss, within(1e-9));
      }
    }
  }

  /** At the project's settings (max-iter 100, tol 1e-5) both stop early, close to each other. */
  @Test
  void closeToMllibAtTheDefaultTolerance() {
    Dataset<Row> df = data();
    List<Row> rows = df.collectAsList();
    List<LogisticRegression> ests = new ArrayList<>();
    List<SharedLogistic.Task> tasks = new ArrayList<>();
    for (double reg : REG) {
      for (double alpha : ALPHA) {
        LogisticRegression lr = estimator(reg, alpha, true, 100, 1e-5);
        ests.add(lr);
        tasks.add(SharedLogistic.Task.of(0, -1, lr));
      }
    }
    SharedLogistic.Result shared = SharedLogistic.fit(List.of(df),
        new SharedLogistic.Columns("features", "label", "w", null), tasks, "test");
    for (int t = 0; t < tasks.size(); t++) {
      LogisticRegression lr = ests.get(t);
      LogisticRegressionModel mllib = lr.fit(df);
      SharedLogistic.Fit ours = shared.fits().get(t);
      String what = String.format("reg %s alpha %s (%s after %d iterations; MLlib %d)",
          lr.getRegParam(), lr.getElasticNetParam(), ours.stop(), ours.iterations(),
          mllib.summary().totalIterations());
      assertThat(ours.coefficients()).as(what)
          .containsExactly(mllib.coefficients().toArray(), within(1e-3));
      assertThat(ours.intercept()).as(what).isCloseTo(mllib.intercept(), within(1e-3));
      double oursLoss = objective(rows, true, lr, ours.coefficients(), ours.intercept());
      double mllibLoss = objective(rows, true, lr, mllib.coefficients().toArray(),
          mllib.intercept());
      assertThat(oursLoss).as(what).isLessThanOrEqualTo(mllibLoss + 1e-5);
    }
  }

  /**
   * The final refit starts at the mean of its fold models: the same optimum as a cold start (to
   * the default tolerance) in fewer iterations; a start of another width is ignored.
   */
  @Test
  void warmStartFromTheFoldModelsReachesTheOptimumInFewerIterations() {
    Dataset<Row> df = data();
    List<Row> rows = df.collectAsList();
    for (double alpha : ALPHA) {
      LogisticRegression lr = estimator(0.01, alpha, true, 100, 1e-5);
      List<SharedLogistic.Task> folds = new ArrayList<>();
      for (int fold = 0; fold < 3; fold++) {
        folds.add(SharedLogistic.Task.of(0, fold, lr));
      }
      double[] start = new double[7];
      for (SharedLogistic.Fit f : SharedLogistic.fit(List.of(df), FOLDED, folds, "folds").fits()) {
        for (int j = 0; j < 6; j++) {
          start[j] += f.coefficients()[j] / 3;
        }
        start[6] += f.intercept() / 3;
      }
      SharedLogistic.Task all = SharedLogistic.Task.of(0, -1, lr);
      List<SharedLogistic.Fit> fits = SharedLogistic.fit(List.of(df), FOLDED, List.of(all,
          all.startingAt(start), all.startingAt(new double[3])), "refit").fits();
      SharedLogistic.Fit cold = fits.get(0);
      SharedLogistic.Fit warm = fits.get(1);
      String what = String.format("alpha %s: cold %d iterations (%s), warm %d (%s)", alpha,
          cold.iterations(), cold.stop(), warm.iterations(), warm.stop());
      assertThat(warm.iterations()).as(what).isLessThan(cold.iterations());
      assertThat(warm.stop()).as(what).isIn("FUNCTION_VALUES", "GRADIENT");
      LogisticRegressionModel mllib = lr.fit(df);
      assertThat(warm.coefficients()).as(what)
          .containsExactly(mllib.coefficients().toArray(), within(1e-3));
      assertThat(objective(rows, true, lr, warm.coefficients(), warm.intercept())).as(what)
          .isLessThanOrEqualTo(objective(rows, true, lr, mllib.coefficients().toArray(),
              mllib.intercept()) + 1e-5);
      SharedLogistic.Fit ignored = fits.get(2);
      assertThat(ignored.coefficients()).as("a start of another width is ignored")
          .containsExactly(cold.coefficients());
      assertThat(ignored.iterations()).isEqualTo(cold.iterations());
    }
  }

  @Test
  void builtModelSavesLoadsAndScoresLikeMllibs() throws Exception {
    Dataset<Row> df = data();
    LogisticRegression lr = estimator(0.01, 0.5, true, 500, 1e-12)
        .setProbabilityCol("p").setRawPredictionCol("raw").setPredictionCol("pred");
    SharedLogistic.Fit fit = SharedLogistic.fit(List.of(df),
        new SharedLogistic.Columns("features", "label", "w", null),
        List.of(SharedLogistic.Task.of(0, -1, lr)), "test").fits().get(0);
    LogisticRegressionModel ours = SharedLogistic.model(lr, fit);
    LogisticRegressionModel mllib = lr.fit(df);
    String path = tempWarehouse("shared-lr").resolve("m").toString();
    ours.write().overwrite().save(path);
    LogisticRegressionModel loaded = LogisticRegressionModel.load(path);
    assertThat(loaded.uid()).isEqualTo(mllib.uid());
    assertThat(loaded.numClasses()).isEqualTo(2);
    assertThat(List.of(loaded.getRegParam(), loaded.getElasticNetParam(), loaded.getFamily(),
        loaded.getWeightCol(), loaded.getProbabilityCol(), loaded.getMaxIter(),
        loaded.getStandardization())).isEqualTo(List.of(mllib.getRegParam(),
        mllib.getElasticNetParam(), mllib.getFamily(), mllib.getWeightCol(),
        mllib.getProbabilityCol(), mllib.getMaxIter(), mllib.getStandardization()));
    List<Row> a = loaded.transform(df).select(col("p"), col("pred")).collectAsList();
    List<Row> b = mllib.transform(df).select(col("p"), col("pred")).collectAsList();
    List<Row> c = ours.transform(df).select(col("p")).collectAsList();
    for (int i = 0; i < a.size(); i++) {
      assertThat(a.get(i).<Vector>getAs(0).apply(1))
          .isCloseTo(b.get(i).<Vector>getAs(0).apply(1), within(1e-6));
      assertThat(a.get(i).<Vector>getAs(0).apply(1))
          .isEqualTo(c.get(i).<Vector>getAs(0).apply(1));
    }
  }

  /**
   * Small rows fitted on the driver give what the Spark passes give, the same iterations and
   * coefficients to rounding, with two Spark jobs (the size and the collect) instead of one per
   * pass; over the size limit they stay Spark jobs.
   */
  @Test
  void onTheDriverAsOnSparkWithTwoJobs() throws Exception {
    Dataset<Row> df = data();
    df.count();
    List<SharedLogistic.Task> tasks = weightedTasks(-1);
    try (JobCounter jobs = new JobCounter()) {
      SharedLogistic.Result spark = SharedLogistic.fit(List.of(df), FOLDED, tasks, "spark");
      int sparkJobs = jobs.take();
      // 3000 rows x (6 features + label, weight, fold): about 200 KB
      SharedLogistic.Result driver = SharedLogistic.fit(List.of(df), FOLDED, tasks, "driver",
          1 << 20);
      int driverJobs = jobs.take();
      SharedLogistic.Result tooBig = SharedLogistic.fit(List.of(df), FOLDED, tasks, "too big",
          100_000);
      int tooBigJobs = jobs.take();
      assertThat(driverJobs).isEqualTo(driver.passes()).isEqualTo(2);
      assertThat(sparkJobs).isEqualTo(spark.passes()).isGreaterThan(20);
      assertThat(tooBigJobs).as("the size job, then the Spark passes")
          .isEqualTo(tooBig.passes() + 1).isEqualTo(sparkJobs + 1);
      assertThat(spark.heldOut()).as("no rows on the driver").isNull();
      List<Row> rows = df.collectAsList();
      for (int t = 0; t < tasks.size(); t++) {
        SharedLogistic.Task task = tasks.get(t);
        SharedLogistic.HeldOut held = driver.heldOut().get(t);
        if (task.excludedFold() < 0) {
          assertThat(held).isNull();
          continue;
        }
        // the held-out rows, scored as MLlib's model of the fit scores them
        LogisticRegressionModel model = SharedLogistic.model(estimator(0.001,
            task.elasticNetParam(), true, 100, 1e-5), driver.fits().get(t));
        List<Double> expected = new ArrayList<>();
        List<Double> labels = new ArrayList<>();
        for (Row r : rows) {
          if (r.getInt(3) == task.excludedFold()) {
            expected.add(model.predictProbability(r.<Vector>getAs(0)).apply(1));
            labels.add(r.getDouble(1));
          }
        }
        assertThat(held.probability()).hasSize(expected.size());
        for (int i = 0; i < expected.size(); i++) {
          assertThat(held.probability()[i]).isCloseTo(expected.get(i), within(1e-12));
          assertThat(held.label()[i]).isEqualTo(labels.get(i));
        }
      }
      for (int t = 0; t < tasks.size(); t++) {
        SharedLogistic.Fit a = spark.fits().get(t);
        SharedLogistic.Fit b = driver.fits().get(t);
        assertThat(b.iterations()).as("task %d", t).isEqualTo(a.iterations());
        assertThat(b.stop()).isEqualTo(a.stop());
        assertThat(b.coefficients()).as("task %d", t)
            .containsExactly(a.coefficients(), within(1e-9));
        assertThat(b.intercept()).isCloseTo(a.intercept(), within(1e-9));
      }
    }
  }

  /**
   * 18 models (3 reg x 2 alpha x 3 folds) fitted together take about as many Spark jobs as the
   * slowest of them alone (one pass per step), not the sum of their fits.
   */
  @Test
  void oneSharedFitTakesAsManyJobsAsItsSlowestModel() throws Exception {
    Dataset<Row> df = data();
    df.count();
    List<SharedLogistic.Task> tasks = new ArrayList<>();
    for (double reg : new double[] {0.0001, 0.001, 0.01}) {
      for (double alpha : ALPHA) {
        for (int fold = 0; fold < 3; fold++) {
          tasks.add(SharedLogistic.Task.of(0, fold, estimator(reg, alpha, false, 100, 1e-5)));
        }
      }
    }
    SharedLogistic.Columns columns = new SharedLogistic.Columns("features", "label", null,
        "fold");
    try (JobCounter jobs = new JobCounter()) {
      SharedLogistic.Result shared = SharedLogistic.fit(List.of(df), columns, tasks, "test");
      int sharedJobs = jobs.take();
      int slowest = 0;
      int sum = 0;
      for (int t = 0; t < tasks.size(); t++) {
        SharedLogistic.Result alone = SharedLogistic.fit(List.of(df), columns,
            List.of(tasks.get(t)), "test");
        int n = jobs.take();
        assertThat(alone.fits().get(0).coefficients())
            .containsExactly(shared.fits().get(t).coefficients(), within(1e-12));
        slowest = Math.max(slowest, n);
        sum += n;
      }
      // MLlib itself, one of the 18 fits: one job per evaluation, as ours alone
      estimator(0.001, 0.5, false, 100, 1e-5).fit(df.where(col("fold").notEqual(0)));
      int mllibOne = jobs.take();
      System.out.printf("shared fit of %d models: %d jobs (%d passes, %d iterations); alone:"
              + " slowest %d jobs, sum %d; MLlib, one model: %d jobs%n", tasks.size(), sharedJobs,
          shared.passes(), shared.iterations(), slowest, sum, mllibOne);
      assertThat(sharedJobs).isEqualTo(shared.passes());
      assertThat(sharedJobs).isBetween(slowest - 1, slowest + 1);
      assertThat(sharedJobs * 5).isLessThan(sum);
    }
  }

  /**
   * A partition's rows become blocks of at most the block size (not one block per partition, which
   * ran a 4 GiB driver out of memory at 3M customers), and the fits do not depend on it: on the
   * driver blocks of 7 rows give exactly the numbers of blocks of 4096, on Spark the same to
   * rounding.
   */
  @Test
  void blocksAreBoundedAndTheFitsDoNotDependOnTheirSize() {
    // cached: a shuffle's output order is not fixed, and the sums depend on the rows' order
    Dataset<Row> df = data().repartition(3).cache();
    df.count();
    var blocks = SharedLogistic.blocks(List.of(df, df), FOLDED, 7, new int[] {-1, -1});
    try {
      List<Integer> sizes = blocks.map(b -> b.rows).collect();
      assertThat(sizes).allMatch(n -> n >= 1 && n <= 7);
      assertThat(sizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(2 * 3000);
      assertThat(sizes.size()).as("partitions of 1000 rows: 143 blocks each, 6 partitions")
          .isEqualTo(6 * 143);
    } finally {
      blocks.unpersist(false);
    }
    List<SharedLogistic.Task> tasks = weightedTasks(-1);
    for (long driverBytes : new long[] {0, 1 << 20}) {
      SharedLogistic.Result large = SharedLogistic.fit(List.of(df), FOLDED, tasks, "large",
          driverBytes, SharedLogistic.BLOCK_ROWS);
      SharedLogistic.Result small = SharedLogistic.fit(List.of(df), FOLDED, tasks, "small",
          driverBytes, 7);
      assertThat(small.heldOut() == null).isEqualTo(driverBytes == 0);
      for (int t = 0; t < tasks.size(); t++) {
        SharedLogistic.Fit a = large.fits().get(t);
        SharedLogistic.Fit b = small.fits().get(t);
        // Spark adds the partitions' sums in the order its tasks finish: equal to rounding
        double tolerance = driverBytes == 0 ? 1e-9 : 0;
        assertThat(b.iterations()).as("task %d", t).isEqualTo(a.iterations());
        assertThat(b.coefficients()).as("task %d", t)
            .containsExactly(a.coefficients(), within(tolerance));
        assertThat(b.intercept()).isCloseTo(a.intercept(), within(tolerance));
        if (small.heldOut() != null && small.heldOut().get(t) != null) {
          assertThat(small.heldOut().get(t).probability())
              .containsExactly(large.heldOut().get(t).probability());
        }
      }
    }
  }

  /**
   * A fold's rows scored by several fits in one Spark job are the held-out scores the driver
   * gives, exactly and in the same order: what cross-validation ranks grid points by when the
   * passes ran as Spark jobs.
   */
  @Test
  void scoringSeveralFitsInOneJobGivesTheDriversHeldOutScores() throws Exception {
    Dataset<Row> df = data();
    df.count();
    List<SharedLogistic.Task> tasks = weightedTasks(0);
    SharedLogistic.Result driver = SharedLogistic.fit(List.of(df), FOLDED, tasks, "driver",
        1 << 20);
    try (JobCounter jobs = new JobCounter()) {
      jobs.take();
      for (int fold = 0; fold < 3; fold++) {
        List<SharedLogistic.Fit> fits = List.of(driver.fits().get(fold),
            driver.fits().get(3 + fold));
        List<SharedLogistic.HeldOut> scored = SharedLogistic.score(
            df.where(col("fold").equalTo(fold)), FOLDED, fits);
        assertThat(jobs.take()).as("fold %d: one job for both fits", fold).isEqualTo(1);
        for (int i = 0; i < 2; i++) {
          SharedLogistic.HeldOut expected = driver.heldOut().get(3 * i + fold);
          assertThat(expected.probability()).hasSizeGreaterThan(900);
          assertThat(scored.get(i).probability()).as("fold %d, fit %d", fold, i)
              .containsExactly(expected.probability());
          assertThat(scored.get(i).label()).containsExactly(expected.label());
        }
      }
    }
  }

  /**
   * Rows held before their standard scaler and scaled as read are the scaler's rows to the last
   * bit: the fits and held-out scores equal those of the scaled rows, and the unscaled blocks pack
   * smaller (the flag a byte, the constant once, where scaled they are doubles).
   */
  @Test
  void unscaledRowsWithTheirScalerFitAsTheScaledRows() throws Exception {
    Dataset<Row> df = data();
    StandardScalerModel scaler = new StandardScaler().setInputCol("features")
        .setOutputCol("scaled").setWithMean(true).setWithStd(true).fit(df);
    double[] std = scaler.std().toArray().clone();
    double[] mean = scaler.mean().toArray().clone();
    SharedLogistic.Scaler s = SharedLogistic.Scaler.of(scaler);
    assertThat(scaler.std().toArray()).as("the model's statistics untouched").containsExactly(std);
    assertThat(scaler.mean().toArray()).containsExactly(mean);
    Dataset<Row> both = scaler.transform(df).cache();
    List<Row> rows = both.select("features", "scaled").collectAsList();
    for (Row r : rows) {
      double[] x = r.<Vector>getAs(0).toArray();
      s.apply(x, 1);
      assertThat(java.util.Arrays.stream(x).mapToLong(Double::doubleToRawLongBits).toArray())
          .containsExactly(java.util.Arrays.stream(r.<Vector>getAs(1).toArray())
              .mapToLong(Double::doubleToRawLongBits).toArray());
    }
    assertThat(SharedLogistic.Scaler.of(scaler.copy(new org.apache.spark.ml.param.ParamMap()
        .put(scaler.withMean(), Boolean.FALSE)))).as("only a centring and scaling scaler")
        .isNull();

    SharedLogistic.Columns scaled = new SharedLogistic.Columns("scaled", "label", "w", "fold");
    SharedLogistic.Columns unscaled = new SharedLogistic.Columns("features", "label", "w",
        "fold", List.of(s));
    List<SharedLogistic.Task> tasks = weightedTasks(-1);
    for (long driverBytes : new long[] {0, 1 << 20}) {
      SharedLogistic.Result a = SharedLogistic.fit(List.of(both), scaled, tasks, "scaled",
          driverBytes);
      SharedLogistic.Result b = SharedLogistic.fit(List.of(both), unscaled, tasks, "unscaled",
          driverBytes);
      double tolerance = driverBytes == 0 ? 1e-9 : 0; // Spark adds partitions as they finish
      for (int t = 0; t < tasks.size(); t++) {
        assertThat(b.fits().get(t).iterations()).isEqualTo(a.fits().get(t).iterations());
        assertThat(b.fits().get(t).coefficients()).as("task %d", t)
            .containsExactly(a.fits().get(t).coefficients(), within(tolerance));
        if (driverBytes > 0 && tasks.get(t).excludedFold() >= 0) {
          assertThat(b.heldOut().get(t).probability())
              .containsExactly(a.heldOut().get(t).probability());
        }
      }
    }
    var packed = SharedLogistic.blocks(List.of(both), unscaled, SharedLogistic.BLOCK_ROWS,
        new int[] {-1});
    var dense = SharedLogistic.blocks(List.of(both), scaled, SharedLogistic.BLOCK_ROWS,
        new int[] {-1});
    try {
      assertThat(packed.map(SharedLogistic.Block::types).collect()).allSatisfy(t ->
          assertThat(t).containsExactly("double", "double", "double", "constant", "byte",
              "double"));
      assertThat(dense.map(SharedLogistic.Block::types).collect()).allSatisfy(t ->
          assertThat(t).containsExactly("double", "double", "double", "constant", "double",
              "double"));
    } finally {
      packed.unpersist(false);
      dense.unpersist(false);
    }
  }

  /**
   * Each column of a block is held in the narrowest type that holds its values exactly: the
   * flag in a byte, the constant once, the label and fold in bytes, amounts and weights as doubles.
   */
  @Test
  void blocksHoldEachColumnPacked() {
    Dataset<Row> df = data();
    var blocks = SharedLogistic.blocks(List.of(df), FOLDED, SharedLogistic.BLOCK_ROWS,
        new int[] {-1});
    try {
      List<List<String>> types = blocks.map(SharedLogistic.Block::types).collect();
      assertThat(types).isNotEmpty().allSatisfy(t -> assertThat(t)
          .containsExactly("double", "double", "double", "constant", "byte", "double"));
      List<long[]> bytes = blocks.map(b -> new long[] {b.rows, b.bytes()}).collect();
      assertThat(bytes).allSatisfy(b -> assertThat(b[1])
          .as("4 double features, a flag, a label, a fold and a weight per row; one constant")
          .isEqualTo(b[0] * (4 * 8 + 1 + 1 + 1 + 8) + 8));
    } finally {
      blocks.unpersist(false);
    }
  }

  /**
   * Fold encodings as cross-validation gives them (data set f, whose tasks all leave out fold f):
   * the blocks do not hold the rows no task fits on, a third of them at 3 folds (at 3M customers
   * the difference between blocks in memory and blocks read back from disk on every pass), and
   * the fits and the held-out scores are those of one data set held whole.
   */
  @Test
  void rowsNoTaskFitsOnAreNotHeld() throws Exception {
    Dataset<Row> df = data();
    df.count();
    assertThat(SharedLogistic.unfittedFolds(3, new int[][] {{0, 0}, {1, 1}, {2, 2}, {1, 1}},
        FOLDED)).containsExactly(0, 1, 2);
    assertThat(SharedLogistic.unfittedFolds(2, new int[][] {{0, 1}, {0, 2}, {1, -1}}, FOLDED))
        .as("two folds left out by one data set's tasks, all rows fitted by the other's")
        .containsExactly(-1, -1);
    assertThat(SharedLogistic.unfittedFolds(1, new int[][] {{0, 1}},
        new SharedLogistic.Columns("features", "label", "w", null))).containsExactly(-1);

    List<Dataset<Row>> folds = List.of(df, df, df);
    var blocks = SharedLogistic.blocks(folds, FOLDED, 100, new int[] {0, 1, 2});
    try {
      List<int[]> held = blocks.map(b -> new int[] {b.dataset, b.rows,
          (int) java.util.Arrays.stream(b.folds()).filter(f -> f == b.dataset).count()}).collect();
      assertThat(held.stream().mapToInt(h -> h[1]).sum()).as("rows held").isEqualTo(3 * 2000);
      assertThat(held).allMatch(h -> h[2] == 0);
    } finally {
      blocks.unpersist(false);
    }

    List<SharedLogistic.Task> whole = new ArrayList<>();
    List<SharedLogistic.Task> split = new ArrayList<>();
    for (double alpha : ALPHA) {
      for (int fold = 0; fold < 3; fold++) {
        LogisticRegression lr = estimator(0.001, alpha, true, 100, 1e-5);
        whole.add(SharedLogistic.Task.of(0, fold, lr));
        split.add(SharedLogistic.Task.of(fold, fold, lr));
      }
    }
    try (JobCounter jobs = new JobCounter()) {
      for (long driverBytes : new long[] {0, 1 << 20}) {
        SharedLogistic.Result a = SharedLogistic.fit(List.of(df), FOLDED, whole, "whole",
            driverBytes);
        SharedLogistic.Result b = SharedLogistic.fit(folds, FOLDED, split, "split",
            driverBytes);
        jobs.take();
        // on the driver the same sums in the same order (a data set's sums for another's
        // tasks are zeros); Spark adds the partitions' sums in the order its tasks finish
        double tolerance = driverBytes == 0 ? 1e-9 : 0;
        for (int t = 0; t < whole.size(); t++) {
          assertThat(b.fits().get(t).iterations()).as("task %d", t)
              .isEqualTo(a.fits().get(t).iterations());
          assertThat(b.fits().get(t).coefficients()).as("task %d", t)
              .containsExactly(a.fits().get(t).coefficients(), within(tolerance));
          assertThat(b.fits().get(t).intercept())
              .isCloseTo(a.fits().get(t).intercept(), within(tolerance));
          if (driverBytes > 0) {
            assertThat(b.heldOut().get(t).probability()).as("task %d held out", t)
                .hasSize(1000).containsExactly(a.heldOut().get(t).probability());
            assertThat(b.heldOut().get(t).label()).containsExactly(a.heldOut().get(t).label());
          }
        }
        assertThat(b.passes()).isEqualTo(driverBytes > 0 ? 3 : a.passes());
      }
    }
  }

  /** Counts the Spark jobs started while it is open. */
  private static final class JobCounter extends SparkListener implements AutoCloseable {
    private final AtomicInteger jobs = new AtomicInteger();

    JobCounter() {
      spark().sparkContext().addSparkListener(this);
    }

    @Override
    public void onJobStart(SparkListenerJobStart jobStart) {
      jobs.incrementAndGet();
    }

    /** @return the jobs started since the last call, once the listener bus has caught up */
    int take() throws java.util.concurrent.TimeoutException {
      spark().sparkContext().listenerBus().waitUntilEmpty();
      return jobs.getAndSet(0);
    }

    @Override
    public void close() {
      spark().sparkContext().removeSparkListener(this);
    }
  }

  /** MLlib's objective from first principles, on the collected rows. */
  private static double objective(List<Row> rows, boolean weighted, LogisticRegression lr,
      double[] coef, double intercept) {
    int d = coef.length;
    double w = 0;
    double w2 = 0;
    double[] mean = new double[d];
    for (Row r : rows) {
      double wi = weighted ? r.getDouble(2) : 1;
      w += wi;
      w2 += wi * wi;
      double[] x = r.<Vector>getAs(0).toArray();
      for (int j = 0; j < d; j++) {
        mean[j] += wi * x[j];
      }
    }
    for (int j = 0; j < d; j++) {
      mean[j] /= w;
    }
    double[] var = new double[d];
    double loss = 0;
    for (Row r : rows) {
      double wi = weighted ? r.getDouble(2) : 1;
      double[] x = r.<Vector>getAs(0).toArray();
      double m = intercept;
      for (int j = 0; j < d; j++) {
        var[j] += wi * (x[j] - mean[j]) * (x[j] - mean[j]);
        m += coef[j] * x[j];
      }
      double y = r.getDouble(1);
      loss += wi * (Math.log(1 + Math.exp(m)) - y * m);
    }
    double reg = lr.getRegParam();
    double alpha = lr.getElasticNetParam();
    double penalty = 0;
    for (int j = 0; j < d; j++) {
      double sd = Math.sqrt(var[j] / (w - w2 / w));
      double b = sd > 1e-12 ? coef[j] * sd : 0;
      penalty += reg * ((1 - alpha) / 2 * b * b + alpha * Math.abs(b));
    }
    return loss / w + penalty;
  }
}
