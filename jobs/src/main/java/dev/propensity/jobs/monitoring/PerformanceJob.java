package dev.propensity.jobs.monitoring;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.metrics.JobMetrics;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.Job;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.sql.SparkSession;

/**
 * Performance tracking on its own ({@link PerformanceTracker}); the {@code drift} job runs the
 * same check at the end of every pipeline when {@code propensity.drift.track-performance} is on.
 * Exit code 4 when a snapshot is flagged and {@code propensity.performance.on-degraded = fail}.
 */
public final class PerformanceJob implements Job {

  @Override
  public String name() {
    return "performance";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    JobMetrics metrics = JobMetrics.start(name());
    PerformanceTracker.Settings settings = PerformanceTracker.Settings.fromConfig(config);
    List<PerformanceTracker.Outcome> outcomes = PerformanceTracker.run(Warehouse.of(spark, config),
        settings, FeatureSchema.fromConfig(config));
    addTo(metrics, outcomes);
    String summary = summary(outcomes);
    enforce(config, metrics, settings, outcomes);
    metrics.push(config, 0);
    return summary;
  }

  /** Adds the AUC gauges of the evaluated snapshots to a job's metrics. */
  static void addTo(JobMetrics metrics, List<PerformanceTracker.Outcome> outcomes) {
    // the newest evaluated snapshot only: run and snapshot are not labels (a new series each run)
    outcomes.stream().max(java.util.Comparator.comparing(o -> String.valueOf(o.snapshot())))
        .ifPresent(o -> {
          metrics.gauge("propensity_model_auc_roc", "AUC-ROC of the newest labelled snapshot",
              o.aucRoc());
          metrics.gauge("propensity_model_auc_pr", "AUC-PR of the newest labelled snapshot",
              o.aucPr());
          metrics.gauge("propensity_model_degraded", "1 when the AUC dropped beyond the limit",
              o.degraded() ? 1 : 0);
        });
  }

  /** @return one line per evaluated snapshot */
  static String summary(List<PerformanceTracker.Outcome> outcomes) {
    if (outcomes.isEmpty()) {
      return "performance: no newly labelled scored snapshot";
    }
    return outcomes.stream().map(o -> String.format(
            "performance: run %s snapshot %s: %d customers, AUC-ROC %.4f (reference %s), AUC-PR"
                + " %.4f%s", o.runId(), o.snapshot(), o.customers(), o.aucRoc(),
            o.referenceAucRoc() == null ? "unknown" : String.format("%.4f", o.referenceAucRoc()),
            o.aucPr(), o.degraded() ? String.format(", DEGRADED (relative drop %.3f)",
                o.relativeDrop()) : ""))
        .collect(Collectors.joining("\n"));
  }

  /** Pushes the metrics and throws (exit code 4) when a snapshot is flagged and config fails. */
  static void enforce(JobConfig config, JobMetrics metrics, PerformanceTracker.Settings settings,
      List<PerformanceTracker.Outcome> outcomes) {
    List<PerformanceTracker.Outcome> bad = outcomes.stream()
        .filter(PerformanceTracker.Outcome::degraded).toList();
    if (settings.fail() && !bad.isEmpty()) {
      var e = Errors.degradedModel(bad.get(0).runId(), bad.stream()
          .map(o -> String.format("%s (AUC %.4f vs %.4f)", o.snapshot(), o.aucRoc(),
              o.referenceAucRoc())).collect(Collectors.joining(", ")));
      metrics.push(config, e.exitCode());
      throw e;
    }
  }
}
