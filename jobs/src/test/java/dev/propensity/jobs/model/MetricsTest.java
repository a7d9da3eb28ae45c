package dev.propensity.jobs.model;


import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.propensity.common.SparkTestBase;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Random;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Metrics on Spark against independent computations over plain arrays. */
class MetricsTest extends SparkTestBase {

  private static final StructType SCHEMA = new StructType()
      .add("p", DataTypes.DoubleType).add("y", DataTypes.IntegerType);

  /** 1500 scores with ties (two decimals), label drawn from the score. */
  private static double[][] sample(long seed) {
    Random r = new Random(seed);
    double[][] out = new double[1500][2];
    for (double[] row : out) {
      double p = Math.round(r.nextDouble() * 100) / 100.0;
      row[0] = p;
      row[1] = r.nextDouble() < 0.1 + 0.5 * p ? 1 : 0;
    }
    return out;
  }

  private static Dataset<Row> frame(double[][] rows) {
    List<Row> list = new ArrayList<>();
    for (double[] row : rows) {
      list.add(RowFactory.create(row[0], (int) row[1]));
    }
    return spark().createDataFrame(list, SCHEMA);
  }

  /** The driver's AUC-ROC (the shared logistic fit's folds) is the Spark one, ties and all. */
  @Test
  void aucRocOnTheDriverEqualsTheSparkOne() {
    for (long seed : new long[] {3, 4}) {
      double[][] rows = sample(seed);
      double[] p = new double[rows.length];
      double[] y = new double[rows.length];
      for (int i = 0; i < rows.length; i++) {
        p[i] = rows[i][0];
        y[i] = rows[i][1];
      }
      double spark = Metrics.cvMetric(frame(rows), col("p"), "y", "auc_roc");
      assertThat(Metrics.aucRoc(p, y)).as("seed %d", seed).isEqualTo(spark);
      assertThat(spark).isBetween(0.6, 0.9);
    }
    // NaN is one score on Spark, above every other (its group-by and sort): so on the driver
    double[][] nan = {{Double.NaN, 1}, {Double.NaN, 1}, {Double.NaN, 0}, {0.9, 0}, {0.2, 1},
        {0.1, 0}, {0.1, 1}, {-0.0, 0}, {0.0, 1}};
    double[] p = new double[nan.length];
    double[] y = new double[nan.length];
    for (int i = 0; i < nan.length; i++) {
      p[i] = nan[i][0];
      y[i] = nan[i][1];
    }
    assertThat(Metrics.aucRoc(p, y)).isEqualTo(
        Metrics.cvMetric(frame(nan), col("p"), "y", "auc_roc"));
  }

  /**
   * A fold's metric with a bound on its rows (cross-validation knows each fold's size) is
   * computed on the driver: one job without a shuffle where the Spark path runs several, and the
   * same value to the last digit for both metrics, tied and continuous scores. Above the driver's
   * limit, with a NaN score, or with one class only, it stays on Spark.
   */
  @Test
  void aBoundedFoldMetricIsOneCollectWithTheSparkPathsValue() {
    Random r = new Random(6);
    double[][] continuous = new double[3000][2];
    for (double[] row : continuous) {
      row[0] = r.nextDouble() * r.nextDouble();
      row[1] = r.nextDouble() < 0.05 + row[0] ? 1 : 0;
    }
    double[][] nan = sample(8);
    nan[17][0] = Double.NaN;
    double[][] oneClass = sample(9);
    for (double[] row : oneClass) {
      row[1] = 1;
    }
    List<double[][]> sets = List.of(sample(13), continuous, nan, oneClass);
    for (String metric : List.of("auc_roc", "auc_pr")) {
      for (int k = 0; k < sets.size(); k++) {
        // three partitions of an RDD: collecting them is one job, as for a cached fold
        Dataset<Row> rows = spark().createDataFrame(
            new org.apache.spark.api.java.JavaSparkContext(spark().sparkContext())
                .parallelize(frame(sets.get(k)).collectAsList(), 3), SCHEMA);
        long n = sets.get(k).length;
        int[] sparkJobs = new int[1];
        double onSpark = jobsOf("spark-" + metric + k, sparkJobs,
            () -> Metrics.cvMetric(rows, col("p"), "y", metric));
        int[] driverJobs = new int[1];
        double bounded = jobsOf("driver-" + metric + k, driverJobs,
            () -> Metrics.cvMetric(rows, col("p"), "y", metric, n));
        assertThat(Double.valueOf(bounded)).as("%s, set %d", metric, k)
            .isEqualTo(Double.valueOf(onSpark));
        assertThat(sparkJobs[0]).as("%s, set %d on Spark", metric, k).isGreaterThan(1);
        if (k < 2) {
          assertThat(driverJobs[0]).as("%s, set %d on the driver", metric, k).isEqualTo(1);
        } else {
          assertThat(driverJobs[0]).as("%s, set %d back on Spark", metric, k)
              .isGreaterThan(sparkJobs[0]);
        }
        if (k == 0) {
          assertThat(onSpark).isBetween(0.3, 0.95);
          int[] over = new int[1];
          assertThat(jobsOf("over-" + metric, over, () -> Metrics.cvMetric(rows, col("p"), "y",
              metric, Metrics.DRIVER_MAX_ROWS + 1))).isEqualTo(Double.valueOf(onSpark));
          assertThat(over[0]).as("above the driver's limit").isEqualTo(sparkJobs[0]);
        }
      }
    }
  }

  /** Runs {@code metric} in a job group and counts its Spark jobs into {@code jobs[0]}. */
  private static double jobsOf(String group, int[] jobs,
      java.util.function.DoubleSupplier metric) {
    var sc = spark().sparkContext();
    sc.setJobGroup(group, group, false);
    try {
      return metric.getAsDouble();
    } finally {
      sc.clearJobGroup();
      jobs[0] = sc.statusTracker().getJobIdsForGroup(group).length;
    }
  }

  @Test
  void everyMetricMatchesAComputationOverPlainArrays() {
    double[][] rows = sample(7);
    double threshold = 0.45;
    Map<String, Object> m = Metrics.evaluate(frame(rows), col("p"), "y", OptionalDouble.of(threshold));

    long n = rows.length;
    long pos = 0;
    long tp = 0;
    long fp = 0;
    long fn = 0;
    double logLoss = 0;
    double brier = 0;
    for (double[] r : rows) {
      double p = Math.min(Math.max(r[0], Metrics.EPS), 1 - Metrics.EPS);
      pos += (long) r[1];
      logLoss -= r[1] * Math.log(p) + (1 - r[1]) * Math.log(1 - p);
      brier += (r[0] - r[1]) * (r[0] - r[1]);
      boolean predicted = r[0] >= threshold;
      tp += predicted && r[1] == 1 ? 1 : 0;
      fp += predicted && r[1] == 0 ? 1 : 0;
      fn += !predicted && r[1] == 1 ? 1 : 0;
    }
    assertThat(m.get("rows")).isEqualTo(n);
    assertThat(m.get("positives")).isEqualTo(pos);
    assertThat((double) m.get("auc_roc")).isCloseTo(aucByPairs(rows), within(1e-12));
    assertThat((double) m.get("auc_pr")).isCloseTo(aucPrTrapezoid(rows), within(1e-12));
    // and MLlib's own evaluator agrees (fewer distinct scores than its bins: exact too)
    org.apache.spark.ml.evaluation.BinaryClassificationEvaluator eval =
        new org.apache.spark.ml.evaluation.BinaryClassificationEvaluator()
            .setRawPredictionCol("p").setLabelCol("y");
    Dataset<Row> asDoubles = frame(rows).select(col("p").cast("double").as("p"),
        col("y").cast("double").as("y"));
    assertThat((double) m.get("auc_roc")).isCloseTo(
        eval.setMetricName("areaUnderROC").evaluate(asDoubles), within(1e-12));
    assertThat((double) m.get("auc_pr")).isCloseTo(
        eval.setMetricName("areaUnderPR").evaluate(asDoubles), within(1e-12));
    // the one ranking AUC is this one
    Map<String, Double> ranking = Metrics.ranking(frame(rows), col("p"), "y");
    assertThat(ranking.get("auc_roc")).isEqualTo(m.get("auc_roc"));
    assertThat(ranking.get("auc_pr")).isEqualTo(m.get("auc_pr"));
    assertThat(Metrics.cvMetric(frame(rows), col("p"), "y", "auc_roc"))
        .isEqualTo(m.get("auc_roc"));
    assertThat((double) m.get("log_loss")).isCloseTo(logLoss / n, within(1e-12));
    assertThat((double) m.get("brier")).isCloseTo(brier / n, within(1e-12));
    assertThat(m.get("confusion")).isEqualTo(Map.of("tp", tp, "fp", fp, "fn", fn,
        "tn", n - tp - fp - fn));
    double precision = tp / (double) (tp + fp);
    double recall = tp / (double) (tp + fn);
    assertThat((double) m.get("precision")).isCloseTo(precision, within(1e-12));
    assertThat((double) m.get("recall")).isCloseTo(recall, within(1e-12));
    assertThat((double) m.get("f1")).isCloseTo(2 * precision * recall / (precision + recall),
        within(1e-12));
    assertThat((double) m.get("top_decile_lift")).isCloseTo(liftBySorting(rows), within(1e-9));

    @SuppressWarnings("unchecked")
    List<Map<String, Object>> calibration = (List<Map<String, Object>>) m.get("calibration");
    assertThat(calibration).hasSize(10);
    for (Map<String, Object> bin : calibration) {
      int b = (int) bin.get("bin");
      long count = 0;
      double sumP = 0;
      double sumY = 0;
      for (double[] r : rows) {
        if (Math.min((int) Math.floor(r[0] * 10), 9) == b) {
          count++;
          sumP += r[0];
          sumY += r[1];
        }
      }
      assertThat(bin.get("rows")).as("bin %d", b).isEqualTo(count);
      assertThat((double) bin.get("mean_predicted")).isCloseTo(sumP / count, within(1e-12));
      assertThat((double) bin.get("observed_rate")).isCloseTo(sumY / count, within(1e-12));
    }
  }

  /**
   * Splits small enough are evaluated on the driver: every value, calibration table included,
   * is the Spark path's to the last digit, for tied two-decimal scores, full-precision scores,
   * scores at and beyond the log loss's clipping (0, 1, -0.0), one class only, a fixed and the
   * F1-maximising threshold. A split with a null score stays on Spark.
   */
  @Test
  void theDriverGivesTheSparkPathsValuesToTheLastDigit() {
    Random r = new Random(5);
    double[][] continuous = new double[2000][2];
    for (double[] row : continuous) {
      row[0] = r.nextDouble() * r.nextDouble();
      row[1] = r.nextDouble() < 0.05 + row[0] ? 1 : 0;
    }
    double[][] edges = {{0.0, 0}, {-0.0, 1}, {1.0, 1}, {1.0, 0}, {1e-17, 0}, {1 - 1e-17, 1},
        {0.1, 0}, {0.7, 1}, {0.30000000000000004, 1}, {0.3, 0}};
    double[][] oneClass = sample(9);
    for (double[] row : oneClass) {
      row[1] = 0;
    }
    List<double[][]> sets = List.of(sample(13), continuous, edges, oneClass);
    for (int k = 0; k < sets.size(); k++) {
      for (OptionalDouble t : List.of(OptionalDouble.of(0.3), OptionalDouble.empty())) {
        Map<String, Object> onSpark = Metrics.evaluate(frame(sets.get(k)), col("p"), "y", t, 0);
        Map<String, Object> onDriver = Metrics.evaluate(frame(sets.get(k)), col("p"), "y", t,
            Metrics.DRIVER_MAX_ROWS);
        assertThat(onDriver).as("set %d, threshold %s", k, t).isEqualTo(onSpark);
      }
    }
    assertThat(Metrics.evaluate(frame(continuous), col("p"), "y", OptionalDouble.empty(),
        Metrics.DRIVER_MAX_ROWS).get("auc_roc")).isEqualTo(
        Metrics.cvMetric(frame(continuous), col("p"), "y", "auc_roc"));

    List<Row> withNull = new ArrayList<>(frame(sample(13)).collectAsList());
    withNull.add(RowFactory.create(null, 1));
    Dataset<Row> nulls = spark().createDataFrame(withNull, SCHEMA);
    assertThat(Metrics.evaluate(nulls, col("p"), "y", OptionalDouble.of(0.3),
        Metrics.DRIVER_MAX_ROWS)).isEqualTo(Metrics.evaluate(nulls, col("p"), "y",
        OptionalDouble.of(0.3), 0));
  }

  @Test
  void topDecileLiftByHand() {
    // 20 rows, scores 0.05 .. 1.00; positives: the top row, and 4 rows lower down (5 of 20)
    double[][] rows = new double[20][2];
    for (int i = 0; i < 20; i++) {
      rows[i][0] = (i + 1) / 20.0;
    }
    rows[19][1] = 1;
    rows[0][1] = 1;
    rows[3][1] = 1;
    rows[7][1] = 1;
    rows[11][1] = 1;
    // top decile = the 2 highest scores (1.00 positive, 0.95 negative): rate 0.5 over 0.25
    assertThat((double) Metrics.evaluate(frame(rows), col("p"), "y", OptionalDouble.of(0.5)).get("top_decile_lift"))
        .isCloseTo(2.0, within(1e-12));

    // 10 rows, top decile = 1 row, taken from a tie of two at 0.9 (one positive): expected hits
    // 0.5; 2 positives in 10 -> lift 0.5 / 0.2 = 2.5
    double[][] tied = {{0.9, 1}, {0.9, 0}, {0.5, 0}, {0.4, 1}, {0.3, 0}, {0.3, 0}, {0.2, 0},
        {0.2, 0}, {0.1, 0}, {0.1, 0}};
    assertThat((double) Metrics.evaluate(frame(tied), col("p"), "y", OptionalDouble.of(0.5)).get("top_decile_lift"))
        .isCloseTo(2.5, within(1e-12));
  }

  @Test
  void bestF1ThresholdMaximisesF1OverEveryCandidateThreshold() {
    double[][] rows = sample(11);
    double best = Double.NaN;
    double bestF1 = -1;
    for (double t : new TreeSet<>(java.util.Arrays.stream(rows).map(r -> r[0]).toList())) {
      long tp = 0;
      long fp = 0;
      long fn = 0;
      for (double[] r : rows) {
        tp += r[0] >= t && r[1] == 1 ? 1 : 0;
        fp += r[0] >= t && r[1] == 0 ? 1 : 0;
        fn += r[0] < t && r[1] == 1 ? 1 : 0;
      }
      double f1 = 2.0 * tp / (2.0 * tp + fp + fn);
      if (f1 >= bestF1) {
        bestF1 = f1;
        best = t;
      }
    }
    Map<String, Object> m = Metrics.evaluate(frame(rows), col("p"), "y", OptionalDouble.empty());
    assertThat(m.get("threshold")).isEqualTo(best);
    assertThat((double) m.get("f1")).isCloseTo(bestF1, within(1e-12));
  }

  @Test
  void anEmptySplitHasOnlyItsRowCount() {
    Map<String, Object> m = Metrics.evaluate(frame(new double[0][]), col("p"), "y", OptionalDouble.of(0.5));
    assertThat(m).containsExactly(Map.entry("rows", 0L));
  }

  /** AUC as the share of (positive, negative) pairs ranked right, ties counted half. */
  static double aucByPairs(double[][] rows) {
    double right = 0;
    long pairs = 0;
    for (double[] a : rows) {
      if (a[1] != 1) {
        continue;
      }
      for (double[] b : rows) {
        if (b[1] != 0) {
          continue;
        }
        pairs++;
        right += a[0] > b[0] ? 1 : a[0] == b[0] ? 0.5 : 0;
      }
    }
    return right / pairs;
  }

  /**
   * Area under the precision-recall curve as MLlib defines it: one point per distinct score
   * (recall, precision of score >= it), starting at (0, first precision), trapezoids between.
   */
  static double aucPrTrapezoid(double[][] rows) {
    TreeSet<Double> scores = new TreeSet<>(Comparator.reverseOrder());
    long positives = 0;
    for (double[] r : rows) {
      scores.add(r[0]);
      positives += (long) r[1];
    }
    double area = 0;
    double prevRecall = 0;
    double prevPrecision = Double.NaN;
    for (double s : scores) {
      long tp = 0;
      long all = 0;
      for (double[] r : rows) {
        if (r[0] >= s) {
          all++;
          tp += (long) r[1];
        }
      }
      double recall = tp / (double) positives;
      double precision = tp / (double) all;
      if (Double.isNaN(prevPrecision)) {
        prevPrecision = precision;
      }
      area += (recall - prevRecall) * (precision + prevPrecision) / 2;
      prevRecall = recall;
      prevPrecision = precision;
    }
    return area;
  }

  /** Sort descending, take ceil(n / 10) rows; rows tied at the cut count at their mean label. */
  static double liftBySorting(double[][] rows) {
    double[][] sorted = rows.clone();
    java.util.Arrays.sort(sorted, (a, b) -> Double.compare(b[0], a[0]));
    int k = (rows.length + 9) / 10;
    double cut = sorted[k - 1][0];
    double hits = 0;
    int taken = 0;
    double tiedPositives = 0;
    int tied = 0;
    double positives = 0;
    for (double[] r : sorted) {
      positives += r[1];
      if (r[0] > cut) {
        hits += r[1];
        taken++;
      } else if (r[0] == cut) {
        tiedPositives += r[1];
        tied++;
      }
    }
    hits += (k - taken) * tiedPositives / tied;
    return (hits / k) / (positives / rows.length);
  }
}
