package dev.propensity.jobs.report;

import dev.propensity.jobs.model.Metrics;

import dev.propensity.jobs.model.RunLayout;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.RunData;
import dev.propensity.jobs.model.Importance;
import dev.propensity.jobs.model.Calibration;
import dev.propensity.jobs.model.Ensemble;
import dev.propensity.jobs.model.EnsembleModel;
import dev.propensity.jobs.model.CandidatePipeline;
import dev.propensity.jobs.model.Splits;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.mllib.evaluation.BinaryClassificationMetrics;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * What the run report shows, gathered from the run folder and the tables. Curves and the
 * calibration table are computed on Spark from the run's validation rows; only curve points
 * (downsampled by {@link BinaryClassificationMetrics}) and small aggregates reach the driver.
 */
final class ReportData {

  /** ROC and precision-recall points of one scorer on the validation rows. */
  record Curve(String name, double[] fpr, double[] tpr, double[] recall, double[] precision,
      double aucRoc, double aucPr) {}

  /** One bucket of the calibration table. */
  record CalibrationBucket(double meanPredicted, double observedRate, long rows) {}

  private ReportData() {}

  /** @return curves of every voter and of the ensemble, ensemble last */
  static List<Curve> curves(Warehouse warehouse, FeatureSchema schema, ModelRun run,
      Ensemble ensemble, int points, List<CalibrationBucket> calibrationOut) {
    Dataset<Row> scored = ensemble.score(RunData.splitRows(warehouse, schema, run)
            .where(col("__split").equalTo(Splits.VALIDATION)))
        .persist(StorageLevel.MEMORY_AND_DISK());
    List<Curve> out = new ArrayList<>();
    for (EnsembleModel.Voter v : ensemble.voters()) {
      out.add(curve(v.name(), scored, col("voter_probabilities").getItem(v.name()), points));
    }
    out.add(curve("ensemble", scored, col("propensity"), points));
    for (Map<String, Object> b : Calibration.table(scored, "propensity",
        CandidatePipeline.LABEL)) {
      calibrationOut.add(new CalibrationBucket(((Number) b.get("mean_predicted")).doubleValue(),
          ((Number) b.get("observed_rate")).doubleValue(), ((Number) b.get("rows")).longValue()));
    }
    scored.unpersist();
    return out;
  }

  private static Curve curve(String name, Dataset<Row> scored, Column score, int points) {
    JavaRDD<Tuple2<Object, Object>> pairs = scored
        .select(score.cast("double"), col(CandidatePipeline.LABEL))
        .javaRDD()
        .map(r -> new Tuple2<>(r.get(0), r.get(1)));
    BinaryClassificationMetrics m = new BinaryClassificationMetrics(pairs.rdd(), points);
    List<Tuple2<Object, Object>> roc = m.roc().toJavaRDD().collect();
    List<Tuple2<Object, Object>> pr = m.pr().toJavaRDD().collect();
    m.unpersist();
    // the curves are down-sampled for the charts; the AUCs are the exact ones
    Map<String, Double> ranking = Metrics.ranking(scored, score, CandidatePipeline.LABEL);
    double aucRoc = ranking.get("auc_roc");
    double aucPr = ranking.get("auc_pr");
    return new Curve(name, first(roc), second(roc), first(pr), second(pr), aucRoc, aucPr);
  }

  /** @return per-bin statistics the bins job stored, bin 1 first */
  static List<Map<String, Object>> binStats(ModelRun run) {
    return run.exists(RunLayout.BIN_STATS)
        ? run.readJson(RunLayout.BIN_STATS, new TypeReference<>() {}) : List.of();
  }

  /**
   * @return feature importance per voter from {@code candidates/<name>/importance.json} (an
   *     {@link Importance.Result}: most important first), for the voters that have one, then the
   *     ensemble's from {@code ensemble/importance.json} when the select job wrote it
   */
  static Map<String, Map<String, Double>> importance(ModelRun run, List<EnsembleModel.Voter> voters) {
    Map<String, Map<String, Double>> out = new LinkedHashMap<>();
    for (EnsembleModel.Voter v : voters) {
      readImportance(run, RunLayout.candidate(v.name(), RunLayout.IMPORTANCE))
          .ifPresent(m -> out.put(v.name(), m));
    }
    readImportance(run, RunLayout.ensemble(RunLayout.IMPORTANCE)).ifPresent(m -> out.put("ensemble", m));
    return out;
  }

  /** @return feature -> importance from an {@link Importance.Result} file, if the run has it */
  private static Optional<Map<String, Double>> readImportance(ModelRun run, String file) {
    if (!run.exists(file)) {
      return Optional.empty();
    }
    Map<String, Double> byFeature = new LinkedHashMap<>();
    run.readJson(file, new TypeReference<Importance.Result>() {}).features()
        .forEach(f -> byFeature.put(f.feature(), f.importance()));
    return Optional.of(byFeature);
  }

  /** @return the leaderboard rows of the run, best validation AUC first */
  static Dataset<Row> leaderboard(Warehouse warehouse, String table, String runId) {
    return warehouse.read(table).where(col("run_id").equalTo(runId))
        .drop("run_id", "params", "created_at")
        .orderBy(col("validation_auc_roc").desc_nulls_last());
  }

  /** @return feature to PSI of the newest scored snapshot of the run, or empty */
  static Map<String, Double> psi(Warehouse warehouse, String table, String runId) {
    Map<String, Double> out = new LinkedHashMap<>();
    if (!warehouse.exists(table)) {
      return out;
    }
    Dataset<Row> report = warehouse.read(table).where(col("run_id").equalTo(runId));
    Object newest = report.agg(max("snapshot_date")).first().get(0);
    if (newest == null) {
      return out;
    }
    for (Row r : report.where(col("snapshot_date").equalTo(lit(newest)))
        .select("feature", "psi").orderBy(col("psi").desc()).collectAsList()) {
      out.put(r.getString(0), r.getDouble(1));
    }
    return out;
  }

  /** @return the segment summary of the newest snapshot the run scored, or empty */
  static Optional<Dataset<Row>> segmentSummary(Warehouse warehouse, String runId) {
    if (!warehouse.exists(Tables.SEGMENT_SUMMARY)) {
      return Optional.empty();
    }
    Dataset<Row> all = warehouse.read(Tables.SEGMENT_SUMMARY).where(col("run_id").equalTo(runId));
    Object newest = all.agg(max("snapshot_date")).first().get(0);
    if (newest == null) {
      return Optional.empty();
    }
    return Optional.of(all.where(col("snapshot_date").equalTo(lit(newest))).drop("created_at"));
  }

  /**
   * @return one row per labelled snapshot the run scored (from {@code model_performance}, oldest
   *     first): AUC, the reference and the drop, customers and positives; empty when no labels
   *     have matured yet
   */
  static List<Row> performance(Warehouse warehouse, String runId) {
    if (!warehouse.exists(Tables.MODEL_PERFORMANCE)) {
      return List.of();
    }
    return warehouse.read(Tables.MODEL_PERFORMANCE).where(col("run_id").equalTo(runId))
        .groupBy("snapshot_date")
        .agg(functions.first("auc_roc").as("auc_roc"), functions.first("auc_pr").as("auc_pr"),
            functions.first("reference_auc_roc").as("reference_auc_roc"),
            functions.first("auc_relative_drop").as("auc_relative_drop"),
            functions.first("degraded").as("degraded"), sum("customers").as("customers"),
            sum("positives").as("positives"))
        .orderBy("snapshot_date").collectAsList();
  }

  private static double[] first(List<Tuple2<Object, Object>> points) {
    return points.stream().mapToDouble(t -> ((Number) t._1()).doubleValue()).toArray();
  }

  private static double[] second(List<Tuple2<Object, Object>> points) {
    return points.stream().mapToDouble(t -> ((Number) t._2()).doubleValue()).toArray();
  }
}
