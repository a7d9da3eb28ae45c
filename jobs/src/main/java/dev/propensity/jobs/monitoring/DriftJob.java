package dev.propensity.jobs.monitoring;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.to_date;

import dev.propensity.common.PropensityException;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.metrics.JobMetrics;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRegistry;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.FeatureInput;
import dev.propensity.jobs.Job;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The monitoring step at the end of the pipeline: PSI of the snapshot that {@code score} reads
 * ({@code propensity.score.snapshot}, default the newest) against the training baseline of the
 * run it uses ({@code propensity.score.run}), written to {@code drift_report}; then, with
 * {@code propensity.drift.track-performance}, performance tracking of scored snapshots whose
 * labels arrived. Exit code 3 on significant drift with {@code on-significant = fail}; else 4
 * on a flagged AUC drop with {@code performance.on-degraded = fail}. Tables are written first.
 */
public final class DriftJob implements Job {

  @Override
  public String name() {
    return "drift";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    JobMetrics metrics = JobMetrics.start(name());
    DriftCheck.Settings settings = DriftCheck.Settings.fromConfig(config);
    Optional<PerformanceTracker.Settings> tracking = config.bool(
        "propensity.drift.track-performance")
        ? Optional.of(PerformanceTracker.Settings.fromConfig(config)) : Optional.empty();
    Warehouse warehouse = Warehouse.of(spark, config);
    ModelRun run = new ModelRegistry(warehouse).open(config.string("propensity.score.run"));
    FeatureSchema schema = FeatureSchema.fromConfig(config);
    FeatureInput input = FeatureInput.forScoring(warehouse, schema,
        config.string("propensity.score.snapshot"));
    String snapshot = input.snapshot().orElseGet(() -> newestScored(warehouse, run));
    Optional<Dataset<Row>> scores = Optional.empty();
    if (warehouse.exists(Tables.CUSTOMER_SCORES)) {
      Dataset<Row> s = warehouse.read(Tables.CUSTOMER_SCORES)
          .where(col("snapshot_date").equalTo(to_date(lit(snapshot)))
              .and(col("run_id").equalTo(run.id())))
          .select("propensity");
      scores = s.isEmpty() ? Optional.empty() : Optional.of(s);
    }
    DriftCheck.Result result = DriftCheck.run(warehouse, settings, schema, run, snapshot,
        input.rows(), scores);
    result.addTo(metrics);
    String summary = result.summary();
    List<PerformanceTracker.Outcome> outcomes = List.of();
    if (tracking.isPresent()) {
      outcomes = PerformanceTracker.run(warehouse, tracking.get(), schema);
      PerformanceJob.addTo(metrics, outcomes);
      summary += "\n" + PerformanceJob.summary(outcomes);
    }
    try {
      DriftCheck.enforce(settings, result);
    } catch (PropensityException e) {
      metrics.push(config, e.exitCode());
      throw e;
    }
    if (tracking.isPresent()) {
      PerformanceJob.enforce(config, metrics, tracking.get(), outcomes);
    }
    metrics.push(config, 0);
    return summary;
  }

  /** A table without snapshot column: the date its last scoring used, else today. */
  private static String newestScored(Warehouse warehouse, ModelRun run) {
    if (warehouse.exists(Tables.CUSTOMER_SCORES)) {
      Object newest = warehouse.read(Tables.CUSTOMER_SCORES)
          .where(col("run_id").equalTo(run.id())).agg(max("snapshot_date")).first().get(0);
      if (newest != null) {
        return newest.toString();
      }
    }
    return LocalDate.now(ZoneOffset.UTC).toString();
  }
}
