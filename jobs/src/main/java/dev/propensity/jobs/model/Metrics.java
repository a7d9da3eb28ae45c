package dev.propensity.jobs.model;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.pow;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.DoubleSupplier;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;

/**
 * Metrics of a probability against a 0/1 label, computed on Spark: only aggregates (a handful
 * of numbers, ten calibration rows) reach the driver. {@link #evaluate} computes a split of up to
 * {@link #DRIVER_MAX_ROWS} rows on the driver instead ({@link DriverMetrics}: the same values,
 * in two Spark jobs rather than about a dozen).
 *
 * <p>Written on Spark SQL rather than with MLlib's BinaryClassificationMetrics because that one
 * sums floating-point areas in task-completion order, so the same model on the same rows can
 * differ in the last digits from run to run; here every sum is exact (integers, or decimals of
 * per-row terms), so the same seed and input give the same leaderboard, digit for digit. The
 * ranking metrics come from one table of the distinct scores with their positive and negative
 * counts and cumulative counts from the top (a window over the distinct scores, sorted in one
 * task: fine for millions of distinct scores).
 */
public final class Metrics {

  /** Probabilities are clipped to [EPS, 1 - EPS] for the log loss. */
  static final double EPS = 1e-15;
  /** Calibration table bins: equal-width on the predicted probability. */
  static final int CALIBRATION_BINS = 10;
  /**
   * {@link #evaluate} collects at most this many rows to compute on the driver (and at most one
   * per kilobyte of the driver's heap); larger sets stay on Spark. Both give the same values.
   */
  static final long DRIVER_MAX_ROWS = 1_000_000;

  private Metrics() {}

  /**
   * The exact ranking metrics, as {@link #evaluate} computes them: the project's one AUC (training,
   * selection, importance, monitoring and the report all call it, so their AUCs compare).
   *
   * @param scored rows with a score and a label
   * @param score a double column, higher means more likely positive
   * @param labelCol a numeric 0/1 column
   * @return {@code auc_roc} and {@code auc_pr} (NaN without both classes)
   */
  public static Map<String, Double> ranking(Dataset<Row> scored, Column score,
      String labelCol) {
    Dataset<Row> curve = curve(scored.select(score.cast("double").as("p"),
        col(labelCol).cast("double").as("y"))).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      Row totals = totals(curve);
      boolean bothClasses = !totals.isNullAt(0) && totals.getLong(0) > 0
          && totals.getLong(1) > 0;
      Map<String, Double> out = new LinkedHashMap<>();
      out.put("auc_roc", bothClasses ? aucRoc(curve, totals) : Double.NaN);
      out.put("auc_pr", bothClasses ? aucPr(curve, totals) : Double.NaN);
      return out;
    } finally {
      curve.unpersist();
    }
  }

  /** @return the exact AUC-ROC of {@code score} (see {@link #ranking}) */
  public static double aucRoc(Dataset<Row> scored, Column score, String labelCol) {
    return cvMetric(scored, score, labelCol, "auc_roc");
  }

  /**
   * One cross-validation metric, exact and reproducible.
   *
   * @param metric {@code auc_roc} or {@code auc_pr}
   */
  public static double cvMetric(Dataset<Row> scored, Column probability, String labelCol,
      String metric) {
    Dataset<Row> curve = curve(scored.select(probability.cast("double").as("p"),
        col(labelCol).cast("double").as("y")));
    if ("auc_pr".equals(metric)) {
      return aucPr(curve, totals(curve));
    }
    // the totals and the AUC-ROC sum in one job: the scored rows are computed once, not twice
    Row r = curve.agg(sum("pos"), sum("neg"), aucRocPairs()).first();
    return aucRoc(r.getLong(2), r);
  }

  /**
   * {@link #cvMetric(Dataset, Column, String, String)}, on the driver when the caller knows the
   * rows are few: at most {@code atMostRows} (a held-out fold's size) and at most
   * {@link #DRIVER_MAX_ROWS} (and one per kilobyte of the driver's heap). The scores and labels are
   * then collected in one job without a shuffle, where the Spark path groups, sorts and sums in
   * three stages. Rows with a null or NaN score or label, or of one class only, are scored again
   * on Spark. Both give the same value.
   */
  public static double cvMetric(Dataset<Row> scored, Column probability, String labelCol,
      String metric, long atMostRows) {
    if (atMostRows <= Math.min(DRIVER_MAX_ROWS, Runtime.getRuntime().maxMemory() / 1000)) {
      Optional<double[][]> held = collectedAll(scored.select(probability.cast("double").as("p"),
          col(labelCol).cast("double").as("y")));
      if (held.isPresent() && bothClasses(held.get()[1])) {
        double[] p = held.get()[0];
        double[] y = held.get()[1];
        return "auc_pr".equals(metric) ? DriverMetrics.aucPr(p, y) : DriverMetrics.aucRoc(p, y);
      }
    }
    return cvMetric(scored, probability, labelCol, metric);
  }

  private static boolean bothClasses(double[] y) {
    boolean positive = false;
    boolean negative = false;
    for (double v : y) {
      positive |= v == 1;
      negative |= v != 1;
    }
    return positive && negative;
  }

  /**
   * AUC-ROC of scores held on the driver, as {@link #cvMetric} computes it on a Dataset: twice the
   * (positive, negative) pairs ranked right, ties counted half, over twice the pairs.
   *
   * @param probability the scores
   * @param label 1 for a positive, anything else a negative
   */
  public static double aucRoc(double[] probability, double[] label) {
    return DriverMetrics.aucRoc(probability, label);
  }


  /**
   * Every metric of one split: AUC-ROC, AUC-PR, log loss, Brier score, precision, recall and F1
   * at a threshold (predicted positive when p >= threshold), the confusion matrix, the calibration
   * table (10 equal-width bins of p: rows, mean predicted, observed rate; empty bins left out) and
   * the top-decile lift.
   *
   * <p>AUC-ROC counts tied (positive, negative) pairs half. AUC-PR is MLlib's: the trapezoid
   * area under the points (recall, precision) of each distinct score, starting at (0, the first
   * precision). Without a threshold, the one that maximises F1 on these rows is used (the highest
   * such score on a tie).
   *
   * <p>Top-decile lift: the positive rate of the {@code ceil(n / 10)} highest-scored rows over the
   * overall positive rate; rows tied at the cut-off score count with their group's positive rate
   * (ties broken at random, in expectation).
   *
   * @param scored rows with the probability and the label (transformed once, then cached here)
   * @param threshold the threshold, or empty for the F1-maximising one
   * @return the metrics by name; only {@code rows} when there are no rows
   */
  public static Map<String, Object> evaluate(Dataset<Row> scored, Column probability,
      String labelCol, OptionalDouble threshold) {
    return evaluate(scored, probability, labelCol, threshold,
        Math.min(DRIVER_MAX_ROWS, Runtime.getRuntime().maxMemory() / 1000));
  }

  /**
   * {@link #evaluate(Dataset, Column, String, OptionalDouble)}, on the driver when there are at
   * most {@code driverMaxRows} rows, all with a score and a label, neither NaN.
   */
  static Map<String, Object> evaluate(Dataset<Row> scored, Column probability,
      String labelCol, OptionalDouble threshold, long driverMaxRows) {
    Dataset<Row> in = scored.select(probability.cast("double").as("p"),
        col(labelCol).cast("double").as("y")).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      Optional<double[][]> held = collected(in, driverMaxRows);
      if (held.isPresent()) {
        return DriverMetrics.evaluate(held.get()[0], held.get()[1], threshold);
      }
      Dataset<Row> curve = curve(in).persist(StorageLevel.MEMORY_AND_DISK());
      try {
        return evaluateCached(in, curve, threshold);
      } finally {
        curve.unpersist();
      }
    } finally {
      in.unpersist();
    }
  }

  /**
   * @param in rows {@code p}, {@code y} (persisted)
   * @return the scores and the labels, when there are at most {@code max} rows and none has a
   *     null or NaN score or label (those keep Spark's handling)
   */
  private static Optional<double[][]> collected(Dataset<Row> in, long max) {
    if (in.count() > max) {
      return Optional.empty();
    }
    return collectedAll(in);
  }

  /** @return every row's {@code p} and {@code y}, or empty when one is null or NaN */
  private static Optional<double[][]> collectedAll(Dataset<Row> in) {
    List<Row> rows = in.collectAsList();
    double[][] out = new double[2][rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      if (r.isNullAt(0) || r.isNullAt(1) || Double.isNaN(r.getDouble(0))
          || Double.isNaN(r.getDouble(1))) {
        return Optional.empty();
      }
      out[0][i] = r.getDouble(0);
      out[1][i] = r.getDouble(1);
    }
    return Optional.of(out);
  }

  private static Map<String, Object> evaluateCached(Dataset<Row> in, Dataset<Row> curve,
      OptionalDouble fixed) {
    Map<String, Object> out = new LinkedHashMap<>();
    Row totals = totals(curve);
    long positives = totals.isNullAt(0) ? 0 : totals.getLong(0);
    long n = positives + (totals.isNullAt(1) ? 0 : totals.getLong(1));
    out.put("rows", n);
    if (n == 0) {
      return out;
    }
    boolean bothClasses = positives > 0 && positives < n;
    double threshold = threshold(fixed, bothClasses, () -> bestF1Threshold(curve, positives));
    Column p = col("p");
    Column y = col("y");
    Column pc = least(greatest(p, lit(EPS)), lit(1 - EPS));
    Column predicted = p.geq(threshold);
    Row a = in.agg(
        exactSum(y.multiply(log(pc)).plus(lit(1).minus(y).multiply(log(lit(1).minus(pc))))),
        exactSum(pow(p.minus(y), 2)),
        sum(when(predicted.and(y.equalTo(1)), 1).otherwise(0)),
        sum(when(predicted.and(y.equalTo(0)), 1).otherwise(0)),
        sum(when(not(predicted).and(y.equalTo(1)), 1).otherwise(0))).first();
    long tp = a.getLong(2);
    long fp = a.getLong(3);
    long fn = a.getLong(4);
    long tn = n - tp - fp - fn;
    out.put("positives", positives);
    out.put("positive_rate", positives / (double) n);
    out.put("auc_roc", bothClasses ? aucRoc(curve, totals) : null);
    out.put("auc_pr", bothClasses ? aucPr(curve, totals) : null);
    out.put("log_loss", -a.getDouble(0) / n);
    out.put("brier", a.getDouble(1) / n);
    out.put("threshold", threshold);
    putAtThreshold(out, tp, fp, tn, fn);
    out.put("top_decile_lift", positives == 0 ? null : topDecileLift(curve, n, positives));
    out.put("calibration", calibration(in));
    return out;
  }

  /** @return the fixed threshold, else with both classes the F1-maximising one, else 0.5 */
  static double threshold(OptionalDouble fixed, boolean bothClasses, DoubleSupplier bestF1) {
    return fixed.isPresent() ? fixed.getAsDouble() : bothClasses ? bestF1.getAsDouble() : 0.5;
  }

  /** Precision, recall, F1 and the confusion matrix of the rows predicted positive. */
  static void putAtThreshold(Map<String, Object> out, long tp, long fp, long tn, long fn) {
    double precision = tp + fp == 0 ? 0.0 : tp / (double) (tp + fp);
    double recall = tp + fn == 0 ? 0.0 : tp / (double) (tp + fn);
    out.put("precision", precision);
    out.put("recall", recall);
    out.put("f1", precision + recall == 0 ? 0.0 : 2 * precision * recall / (precision + recall));
    Map<String, Long> confusion = new LinkedHashMap<>();
    confusion.put("tp", tp);
    confusion.put("fp", fp);
    confusion.put("tn", tn);
    confusion.put("fn", fn);
    out.put("confusion", confusion);
  }

  /**
   * @param in rows {@code p}, {@code y}
   * @return per distinct score {@code p}: {@code pos}, {@code neg}, and {@code tp}, {@code fp}
   *     = positives and negatives scored at least {@code p}
   */
  private static Dataset<Row> curve(Dataset<Row> in) {
    // one partition on purpose: conf/log4j2.properties quiets Spark's warning about it
    WindowSpec fromTop = Window.orderBy(col("p").desc())
        .rowsBetween(Window.unboundedPreceding(), Window.currentRow());
    return in.groupBy("p").agg(
            sum(when(col("y").equalTo(1), 1L).otherwise(0L)).as("pos"),
            sum(when(col("y").equalTo(1), 0L).otherwise(1L)).as("neg"))
        .withColumn("tp", sum("pos").over(fromTop))
        .withColumn("fp", sum("neg").over(fromTop));
  }

  /** @return positives, negatives */
  private static Row totals(Dataset<Row> curve) {
    return curve.agg(sum("pos"), sum("neg")).first();
  }

  private static double aucRoc(Dataset<Row> curve, Row totals) {
    return aucRoc(curve.agg(aucRocPairs()).first().getLong(0), totals);
  }

  /** Each negative scores 1 per positive above it and 1/2 per positive tied: integer sum. */
  private static Column aucRocPairs() {
    return sum(col("neg").multiply(col("tp").multiply(2).minus(col("pos"))));
  }

  /** @param pairs twice the (positive, negative) pairs ranked right, ties counted half */
  private static double aucRoc(long pairs, Row totals) {
    return pairs / (2.0 * totals.getLong(0) * totals.getLong(1));
  }

  private static double aucPr(Dataset<Row> curve, Row totals) {
    Column precision = col("tp").divide(col("tp").plus(col("fp")));
    Column prevTp = col("tp").minus(col("pos"));
    Column prevAll = prevTp.plus(col("fp")).minus(col("neg"));
    // the curve starts at recall 0 with the first point's precision
    Column prevPrecision = when(prevAll.equalTo(0), precision).otherwise(prevTp.divide(prevAll));
    Column area = col("pos").divide(totals.getLong(0)).multiply(precision.plus(prevPrecision))
        .divide(2);
    return curve.agg(exactSum(area)).first().getDouble(0);
  }

  private static double bestF1Threshold(Dataset<Row> curve, long positives) {
    // F1 of "p >= score": 2 tp / (2 tp + fp + fn) with fn = P - tp
    Column f1 = col("tp").multiply(2).divide(col("tp").plus(col("fp")).plus(positives));
    return curve.orderBy(f1.desc(), col("p").desc()).select("p").first().getDouble(0);
  }

  private static double topDecileLift(Dataset<Row> curve, long n, long positives) {
    long k = (n + 9) / 10;
    // the score where the count from the top first reaches k
    Row cut = curve.where(col("tp").plus(col("fp")).geq(k)).orderBy(col("p").desc())
        .select("pos", "neg", "tp", "fp").first();
    long tied = cut.getLong(0) + cut.getLong(1);
    long above = cut.getLong(2) + cut.getLong(3) - tied;
    long positivesAbove = cut.getLong(2) - cut.getLong(0);
    double hits = positivesAbove + (k - above) * cut.getLong(0) / (double) tied;
    return (hits / k) / (positives / (double) n);
  }

  private static List<Map<String, Object>> calibration(Dataset<Row> in) {
    Column bin = least(floor(col("p").multiply(CALIBRATION_BINS)), lit(CALIBRATION_BINS - 1))
        .cast("int");
    List<Map<String, Object>> out = new ArrayList<>();
    for (Row r : in.groupBy(bin.as("bin")).agg(count(lit(1)), exactSum(col("p")), sum("y"))
        .orderBy("bin").collectAsList()) {
      Map<String, Object> row = new LinkedHashMap<>();
      int b = r.getInt(0);
      long rows = r.getLong(1);
      row.put("bin", b);
      row.put("lower", b / (double) CALIBRATION_BINS);
      row.put("upper", (b + 1) / (double) CALIBRATION_BINS);
      row.put("rows", rows);
      row.put("mean_predicted", r.getDouble(2) / rows);
      row.put("observed_rate", r.getDouble(3) / rows);
      out.add(row);
    }
    return out;
  }

  /** A sum that does not depend on the order rows arrive in: per-row terms as exact decimals. */
  private static Column exactSum(Column term) {
    return sum(term.cast(DataTypes.createDecimalType(38, 18))).cast("double");
  }
}
