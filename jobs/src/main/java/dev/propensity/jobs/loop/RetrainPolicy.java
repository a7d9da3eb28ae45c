package dev.propensity.jobs.loop;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.to_date;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRegistry;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.monitoring.DriftCheck;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Row;

/**
 * When the weekly loop retrains: with no champion, when forced, on significant drift of the new
 * snapshot against the champion's baseline ({@code drift_report}), on a degraded champion (its
 * newest matured snapshot in {@code model_performance} flagged), or on a cadence (the champion
 * was promoted {@code cadence-weeks} weeks before the cycle's date or earlier). Reads the tables
 * the cycle's earlier steps wrote, so a scheduler can run it as its own task.
 */
public final class RetrainPolicy {

  /**
   * Why the loop retrains, with the exit code the {@code policy} job ends with: a scheduler
   * branches on it (0: no retraining; 3 and 4 as the drift and performance jobs use them).
   */
  public enum Reason {
    NONE(0), DRIFT(3), DEGRADED(4), CADENCE(5), FORCED(6), NO_CHAMPION(6);

    private final int exitCode;

    Reason(int exitCode) {
      this.exitCode = exitCode;
    }

    /** @return the {@code policy} job's exit code for this reason */
    public int exitCode() {
      return exitCode;
    }

    /** @return the reason as the timeline records it, e.g. {@code no-champion} */
    public String value() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
  }

  /** The policy's decision and what it was based on, in words. */
  public record Decision(Reason reason, String detail) {
    public boolean retrain() {
      return reason != Reason.NONE;
    }
  }

  /** {@code propensity.loop.*}, validated. */
  public record Settings(int cadenceWeeks, boolean onDrift, boolean onDegraded, boolean force) {
    public static Settings fromConfig(JobConfig config) {
      int weeks = config.integer("propensity.loop.cadence-weeks");
      if (weeks < 0) {
        throw Errors.invalidConfig("propensity.loop.cadence-weeks", weeks,
            "0 (no retraining by cadence) or a number of weeks");
      }
      return new Settings(weeks, config.bool("propensity.loop.retrain-on-drift"),
          config.bool("propensity.loop.retrain-on-degraded"),
          config.bool("propensity.loop.force-retrain"));
    }
  }

  private final Settings settings;

  public RetrainPolicy(Settings settings) {
    this.settings = settings;
  }

  /**
   * @param date the cycle's date
   * @param snapshot the new snapshot (whose drift against the champion is checked)
   */
  public Decision decide(Warehouse warehouse, LocalDate date, String snapshot) {
    ModelRegistry registry = new ModelRegistry(warehouse);
    Optional<String> champion = registry.championId();
    if (champion.isEmpty()) {
      return new Decision(Reason.NO_CHAMPION, "no champion yet");
    }
    if (settings.force()) {
      return new Decision(Reason.FORCED, "propensity.loop.force-retrain");
    }
    if (settings.onDrift() && warehouse.exists(Tables.DRIFT_REPORT)) {
      List<Row> drifted = warehouse.read(Tables.DRIFT_REPORT)
          .where(col("run_id").equalTo(champion.get())
              .and(col("snapshot_date").equalTo(to_date(lit(snapshot))))
              .and(col("level").equalTo(DriftCheck.SIGNIFICANT)))
          .orderBy(col("psi").desc()).limit(3).collectAsList();
      if (!drifted.isEmpty()) {
        return new Decision(Reason.DRIFT, "significant drift in snapshot " + snapshot + ": "
            + String.join(", ", drifted.stream().map(r -> String.format("%s PSI %.3f",
                r.getString(r.fieldIndex("feature")), r.getDouble(r.fieldIndex("psi")))).toList()));
      }
    }
    if (settings.onDegraded() && warehouse.exists(Tables.MODEL_PERFORMANCE)) {
      List<Row> newest = warehouse.read(Tables.MODEL_PERFORMANCE)
          .where(col("run_id").equalTo(champion.get()).and(col("bin").isNull()))
          .orderBy(col("snapshot_date").desc()).limit(1).collectAsList();
      if (!newest.isEmpty() && Boolean.TRUE.equals(newest.get(0).getAs("degraded"))) {
        Row r = newest.get(0);
        return new Decision(Reason.DEGRADED, String.format("champion %s degraded on snapshot %s:"
            + " AUC %.4f vs reference %.4f", champion.get(), r.getAs("snapshot_date"),
            (Double) r.getAs("auc_roc"), (Double) r.getAs("reference_auc_roc")));
      }
    }
    if (settings.cadenceWeeks() > 0) {
      LocalDate since = promotedOn(registry, champion.get());
      long weeks = ChronoUnit.DAYS.between(since, date) / 7;
      if (weeks >= settings.cadenceWeeks()) {
        return new Decision(Reason.CADENCE, String.format("champion %s promoted on %s, %d week(s)"
            + " ago (cadence %d)", champion.get(), since, weeks, settings.cadenceWeeks()));
      }
    }
    return new Decision(Reason.NONE, "champion " + champion.get() + " stays: no drift, no"
        + " degradation, cadence not due");
  }

  /** The cycle date of the champion's promotion, or the day it was decided outside a cycle. */
  private static LocalDate promotedOn(ModelRegistry registry, String champion) {
    Row row = registry.table()
        .where(col("run_id").equalTo(champion).and(col("stage").equalTo("champion")))
        .orderBy(col("decided_at").desc()).limit(1).collectAsList().get(0);
    java.sql.Date cycle = row.getAs("cycle_date");
    return cycle != null ? cycle.toLocalDate()
        : ((java.sql.Timestamp) row.getAs("decided_at")).toLocalDateTime().toLocalDate();
  }
}
