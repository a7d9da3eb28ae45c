package dev.propensity.jobs.training;

import static org.apache.spark.sql.functions.avg;
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
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.mllib.evaluation.BinaryClassificationMetrics;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * Metrics of a probability against a 0/1 label, computed on Spark: only aggregates (a handful
 * of numbers, ten calibration rows) reach the driver. AUCs come from MLlib's
 * BinaryClassificationMetrics (exact, no binning, ties counted half); the rest are one-pass
 * aggregations.
 */
public final class Metrics {

  /** Probabilities are clipped to [EPS, 1 - EPS] for the log loss. */
  static final double EPS = 1e-15;
  /** Calibration table bins: equal-width on the predicted probability. */
  static final int CALIBRATION_BINS = 10;

  private Metrics() {}

  /**
   * @param scored rows with a score and a label
   * @param score a double column, higher means more likely positive
   * @param labelCol a numeric 0/1 column
   * @return {@code auc_roc} and {@code auc_pr}
   */
  public static Map<String, Double> ranking(Dataset<Row> scored, Column score,
      String labelCol) {
    Dataset<Row> in = scored.select(score.cast("double").as("s"),
        col(labelCol).cast("double").as("l"));
    BinaryClassificationEvaluator eval = new BinaryClassificationEvaluator()
        .setRawPredictionCol("s").setLabelCol("l");
    Map<String, Double> out = new LinkedHashMap<>();
    out.put("auc_roc", eval.setMetricName("areaUnderROC").evaluate(in));
    out.put("auc_pr", eval.setMetricName("areaUnderPR").evaluate(in));
    return out;
  }

  /**
   * One cross-validation metric, with MLlib's default 1000-bin approximation (enough to rank grid
   * points).
   *
   * @param metric {@code auc_roc} or {@code auc_pr}
   */
  public static double cvMetric(Dataset<Row> scored, Column probability, String labelCol,
      String metric) {
    Dataset<Row> in = scored.select(probability.cast("double").as("p"),
        col(labelCol).cast("double").as("y"));
    return new BinaryClassificationEvaluator().setRawPredictionCol("p").setLabelCol("y")
        .setMetricName("auc_pr".equals(metric) ? "areaUnderPR" : "areaUnderROC").evaluate(in);
  }

  /**
   * The threshold that maximises F1 on these rows (the highest such threshold on a tie), from
   * MLlib's F-measure-by-threshold curve (1000 bins).
   *
   * @return the threshold, or 0.5 when there are no positives
   */
  public static double bestF1Threshold(Dataset<Row> scored, Column probability, String labelCol) {
    var rdd = scored.select(probability.cast("double"), col(labelCol).cast("double"))
        .javaRDD().map(r -> new Tuple2<Object, Object>(r.getDouble(0), r.getDouble(1)));
    BinaryClassificationMetrics m = new BinaryClassificationMetrics(rdd.rdd(), 1000);
    try {
      Tuple2<Object, Object> best = m.fMeasureByThreshold().toJavaRDD().reduce((a, b) -> {
        int c = Double.compare((Double) a._2(), (Double) b._2());
        return c > 0 || c == 0 && (Double) a._1() >= (Double) b._1() ? a : b;
      });
      double f = (Double) best._2();
      return Double.isNaN(f) || f == 0.0 ? 0.5 : (Double) best._1();
    } finally {
      m.unpersist();
    }
  }

  /**
   * Every metric of one split: AUC-ROC, AUC-PR, log loss, Brier score, precision, recall and F1
   * at {@code threshold} (predicted positive when p >= threshold), the confusion matrix, the
   * calibration table (10 equal-width bins of p: rows, mean predicted, observed rate) and the
   * top-decile lift.
   *
   * <p>Top-decile lift: the positive rate of the {@code ceil(n / 10)} highest-scored rows over the
   * overall positive rate. Rows tied at the cut-off score count with their group's positive rate
   * (as if ties were broken at random, in expectation). The cut-off comes from
   * {@code approxQuantile} with relative error 1e-5: exact below 50,000 rows, otherwise off by at
   * most n / 100,000 rows.
   *
   * @param scored rows with the probability and the label (transformed once, then cached here)
   * @return the metrics by name; only {@code rows} when there are no rows
   */
  public static Map<String, Object> evaluate(Dataset<Row> scored, Column probability,
      String labelCol, double threshold) {
    Dataset<Row> in = scored.select(probability.cast("double").as("p"),
        col(labelCol).cast("double").as("y")).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      return evaluateCached(in, threshold);
    } finally {
      in.unpersist();
    }
  }

  private static Map<String, Object> evaluateCached(Dataset<Row> in, double threshold) {
    Column p = col("p");
    Column y = col("y");
    Column pc = least(greatest(p, lit(EPS)), lit(1 - EPS));
    Column predicted = p.geq(threshold);
    Row a = in.agg(count(lit(1)), sum(y),
        sum(y.multiply(log(pc)).plus(lit(1).minus(y).multiply(log(lit(1).minus(pc))))),
        sum(pow(p.minus(y), 2)),
        sum(when(predicted.and(y.equalTo(1)), 1).otherwise(0)),
        sum(when(predicted.and(y.equalTo(0)), 1).otherwise(0)),
        sum(when(not(predicted).and(y.equalTo(1)), 1).otherwise(0))).first();
    Map<String, Object> out = new LinkedHashMap<>();
    long n = a.getLong(0);
    out.put("rows", n);
    if (n == 0) {
      return out;
    }
    long positives = Math.round(a.getDouble(1));
    long tp = a.getLong(4);
    long fp = a.getLong(5);
    long fn = a.getLong(6);
    long tn = n - tp - fp - fn;
    boolean bothClasses = positives > 0 && positives < n;
    out.put("positives", positives);
    out.put("positive_rate", positives / (double) n);
    BinaryClassificationEvaluator eval = new BinaryClassificationEvaluator()
        .setRawPredictionCol("p").setLabelCol("y").setNumBins(0);
    out.put("auc_roc", bothClasses ? eval.setMetricName("areaUnderROC").evaluate(in) : null);
    out.put("auc_pr", bothClasses ? eval.setMetricName("areaUnderPR").evaluate(in) : null);
    out.put("log_loss", -a.getDouble(2) / n);
    out.put("brier", a.getDouble(3) / n);
    out.put("threshold", threshold);
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
    out.put("top_decile_lift", positives == 0 ? null : topDecileLift(in, n, positives));
    out.put("calibration", calibration(in));
    return out;
  }

  private static double topDecileLift(Dataset<Row> in, long n, long positives) {
    double cut = in.stat().approxQuantile("p", new double[] {0.9}, 1e-5)[0];
    Column p = col("p");
    Column y = col("y");
    Row r = in.agg(sum(when(p.gt(cut), 1).otherwise(0)), sum(when(p.gt(cut), y).otherwise(0)),
        sum(when(p.equalTo(cut), 1).otherwise(0)), sum(when(p.equalTo(cut), y).otherwise(0)))
        .first();
    long above = r.getLong(0);
    double positivesAbove = r.isNullAt(1) ? 0 : r.getDouble(1);
    long tied = r.getLong(2);
    double positivesTied = r.isNullAt(3) ? 0 : r.getDouble(3);
    long k = (n + 9) / 10;
    long fromTies = Math.max(0, Math.min(tied, k - above));
    double selected = above + fromTies;
    double hits = positivesAbove + (tied == 0 ? 0 : fromTies * positivesTied / tied);
    return (hits / selected) / (positives / (double) n);
  }

  private static List<Map<String, Object>> calibration(Dataset<Row> in) {
    Column bin = least(floor(col("p").multiply(CALIBRATION_BINS)), lit(CALIBRATION_BINS - 1))
        .cast("int");
    List<Map<String, Object>> out = new ArrayList<>();
    for (Row r : in.groupBy(bin.as("bin")).agg(count(lit(1)), avg("p"), avg("y"))
        .orderBy("bin").collectAsList()) {
      Map<String, Object> row = new LinkedHashMap<>();
      int b = r.getInt(0);
      row.put("bin", b);
      row.put("lower", b / (double) CALIBRATION_BINS);
      row.put("upper", (b + 1) / (double) CALIBRATION_BINS);
      row.put("rows", r.getLong(1));
      row.put("mean_predicted", r.getDouble(2));
      row.put("observed_rate", r.getDouble(3));
      out.add(row);
    }
    return out;
  }
}
