package dev.propensity.jobs.training;

import static org.apache.spark.sql.functions.col;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** Ranking metrics of a score against a 0/1 label, computed on Spark (nothing collected). */
public final class Metrics {

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
}
