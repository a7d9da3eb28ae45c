package dev.propensity.jobs.model;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.regression.IsotonicRegression;
import org.apache.spark.ml.regression.IsotonicRegressionModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Fits the ensemble's calibrator on held-out rows and tabulates calibration (10 equal-width
 * buckets of the predicted probability: mean predicted against observed rate), on Spark.
 */
public final class Calibration {

  private Calibration() {}

  /**
   * Platt scaling: a one-feature logistic regression of the label on logit(raw score).
   *
   * @return {slope, intercept}
   */
  public static double[] fitPlatt(Dataset<Row> rows, String rawCol, String labelCol) {
    return PlattScaling.fitLine(rows, EnsembleModel.logit(col(rawCol)), col(labelCol));
  }

  /** Isotonic regression of the label on the raw score (monotone, piecewise linear). */
  public static IsotonicRegressionModel fitIsotonic(Dataset<Row> rows, String rawCol,
      String labelCol) {
    return new IsotonicRegression().setFeaturesCol(rawCol).setLabelCol(labelCol).fit(rows);
  }

  /**
   * @return one entry per non-empty bucket: bucket (0-9), mean_predicted, observed_rate, rows
   */
  public static List<Map<String, Object>> table(Dataset<Row> rows, String scoreCol,
      String labelCol) {
    Column bucket = least(floor(col(scoreCol).multiply(10)), lit(9)).cast("int");
    List<Map<String, Object>> out = new ArrayList<>();
    for (Row r : rows.groupBy(bucket.as("bucket"))
        .agg(avg(scoreCol), avg(col(labelCol)), count(lit(1)))
        .orderBy("bucket").collectAsList()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("bucket", r.getInt(0));
      m.put("mean_predicted", r.getDouble(1));
      m.put("observed_rate", r.getDouble(2));
      m.put("rows", r.getLong(3));
      out.add(m);
    }
    return out;
  }
}
