package dev.propensity.jobs.selection;

import static org.apache.spark.sql.functions.col;

import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.mllib.evaluation.BinaryClassificationMetrics;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/**
 * The decision threshold of the final score: the highest threshold whose recall reaches a
 * target, or the one that maximises F1. Precision and recall per threshold come from MLlib's
 * {@link BinaryClassificationMetrics} on Spark (thresholds downsampled to a few thousand).
 */
public final class Thresholds {

  /** A chosen threshold and what it gives on the rows it was chosen on. */
  public record Choice(String rule, double threshold, double precision, double recall,
      double f1) {}

  private static final int BINS = 2000;

  private Thresholds() {}

  /**
   * @param targetRecall a recall in (0, 1], or a value &lt;= 0 to maximise F1 instead
   */
  public static Choice choose(Dataset<Row> rows, String scoreCol, String labelCol,
      double targetRecall) {
    JavaRDD<Tuple2<Object, Object>> pairs = rows.select(col(scoreCol).cast("double"),
            col(labelCol).cast("double")).javaRDD()
        .map(r -> new Tuple2<>(r.get(0), r.get(1)));
    BinaryClassificationMetrics m = new BinaryClassificationMetrics(pairs.rdd(), BINS);
    List<Tuple2<Object, Object>> precision = m.precisionByThreshold().toJavaRDD().collect();
    List<Tuple2<Object, Object>> recall = m.recallByThreshold().toJavaRDD().collect();
    m.unpersist();
    // both lists are ordered by threshold, highest first
    Choice best = null;
    for (int i = 0; i < precision.size(); i++) {
      double t = ((Number) precision.get(i)._1()).doubleValue();
      double p = ((Number) precision.get(i)._2()).doubleValue();
      double r = ((Number) recall.get(i)._2()).doubleValue();
      double f1 = p + r == 0 ? 0 : 2 * p * r / (p + r);
      if (targetRecall > 0) {
        if (r >= targetRecall) {
          return new Choice("recall>=" + targetRecall, t, p, r, f1);
        }
      } else if (best == null || f1 > best.f1()) {
        best = new Choice("max-f1", t, p, r, f1);
      }
    }
    if (best == null) {
      // the target recall is only reached by predicting everyone positive
      Tuple2<Object, Object> last = precision.get(precision.size() - 1);
      double p = ((Number) last._2()).doubleValue();
      double r = ((Number) recall.get(recall.size() - 1)._2()).doubleValue();
      best = new Choice("recall>=" + targetRecall, ((Number) last._1()).doubleValue(), p, r,
          p + r == 0 ? 0 : 2 * p * r / (p + r));
    }
    return best;
  }
}
