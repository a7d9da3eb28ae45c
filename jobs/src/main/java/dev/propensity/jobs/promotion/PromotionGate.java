package dev.propensity.jobs.promotion;

import static org.apache.spark.sql.functions.col;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRegistry;
import dev.propensity.common.run.ModelRegistry.Decision;
import dev.propensity.common.run.ModelRegistry.Stage;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.FeatureInput;
import dev.propensity.jobs.RunData;
import dev.propensity.jobs.model.Ensemble;
import dev.propensity.jobs.model.CandidatePipeline;
import dev.propensity.jobs.model.Metrics;
import dev.propensity.jobs.model.Splits;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Champion / challenger: a completed run becomes champion only when it beats the champion on the
 * same held-out labelled rows by more than {@code propensity.promote.min-improvement} of
 * {@code propensity.promote.metric}, or when there is no champion yet. Both ensembles score the
 * challenger's evaluation rows: its out-of-time snapshot when it was trained with
 * {@code propensity.train.out-of-time}, else its test split (validation when the test split is
 * empty), rows neither was fitted on when the champion was trained on an older snapshot.
 */
public final class PromotionGate {

  private static final Logger LOG = LoggerFactory.getLogger(PromotionGate.class);

  /** The gate's metrics: exact AUC-ROC or AUC-PR of the ensemble's propensity. */
  public static final List<String> METRICS = List.of("auc_roc", "auc_pr");

  /**
   * @param metric {@code auc_roc} or {@code auc_pr}
   * @param minImprovement how much (absolute) the challenger must beat the champion by
   * @param cycleDate the cycle's date, recorded with the decision (null outside a cycle)
   */
  public record Settings(String metric, double minImprovement, LocalDate cycleDate) {

    /** @return the settings of {@code propensity.promote.*}, validated */
    public static Settings fromConfig(JobConfig config) {
      double margin = config.number("propensity.promote.min-improvement");
      if (margin < 0 || margin >= 1) {
        throw Errors.invalidConfig("propensity.promote.min-improvement", margin,
            "a number in [0, 1): how much the challenger's metric must exceed the champion's");
      }
      String date = config.string("propensity.loop.date");
      LocalDate cycle = null;
      if (!date.isBlank()) {
        try {
          cycle = LocalDate.parse(date.trim());
        } catch (java.time.format.DateTimeParseException e) {
          throw Errors.invalidConfig("propensity.loop.date", date, "a date yyyy-MM-dd");
        }
      }
      return new Settings(config.oneOf("propensity.promote.metric", METRICS), margin, cycle);
    }
  }

  private final Warehouse warehouse;
  private final ModelRegistry registry;
  private final FeatureSchema schema;
  private final Settings settings;

  public PromotionGate(Warehouse warehouse, FeatureSchema schema, Settings settings) {
    this.warehouse = warehouse;
    this.registry = new ModelRegistry(warehouse);
    this.schema = schema;
    this.settings = settings;
  }

  /**
   * Decides on a run and records the decision. A run the gate already decided on is not decided
   * again: the recorded decision is returned, so a re-run changes nothing.
   *
   * @return the decision
   * @throws dev.propensity.common.PropensityException when the run failed or is incomplete (a
   *     {@code failed} row is recorded first)
   */
  public Decision decide(ModelRun run) {
    Optional<Row> earlier = registry.gateDecision(run.id());
    if (earlier.isPresent()) {
      LOG.info("promote: run {} was already decided on ({}); nothing to do", run.id(),
          earlier.get().getAs("stage"));
      return fromRow(earlier.get());
    }
    String status = run.status();
    if (!ModelRun.COMPLETED.equals(status)) {
      Decision failed = new Decision(run.id(), Stage.FAILED, false, null, null,
          registry.championId().orElse(null), null, null, null,
          "manifest status '" + status + "': a failed or incomplete run is never promoted",
          false, "promote", settings.cycleDate());
      registry.record(List.of(failed));
      RunData.requireStatus(run, "promote", List.of(ModelRun.COMPLETED));
    }
    Optional<String> champion = registry.championId();
    if (champion.isEmpty()) {
      Decision d = new Decision(run.id(), Stage.CHAMPION, true, settings.metric(), null, null,
          null, settings.minImprovement(), null, "no champion yet", false, "promote",
          settings.cycleDate());
      registry.promote(d);
      return d;
    }
    if (champion.get().equals(run.id())) {
      return new Decision(run.id(), Stage.CHAMPION, false, settings.metric(), null,
          champion.get(), null, null, null, "already the champion", false, "promote",
          settings.cycleDate());
    }
    ModelRun championRun = registry.runs().open(champion.get());
    Evaluation rows = evaluationRows(run);
    Dataset<Row> cached = rows.rows().persist(StorageLevel.MEMORY_AND_DISK());
    double challengerValue;
    double championValue;
    try {
      challengerValue = metric(Ensemble.load(run), cached);
      championValue = metric(Ensemble.load(championRun), cached);
    } finally {
      cached.unpersist();
    }
    boolean better = challengerValue > championValue + settings.minImprovement();
    String reason = String.format("%s %.4f vs champion %s %.4f on %s (margin %.4f): %s",
        settings.metric(), challengerValue, champion.get(), championValue, rows.description(),
        settings.minImprovement(), better ? "promoted" : "not better by the margin; champion kept");
    Decision d = new Decision(run.id(), better ? Stage.CHAMPION : Stage.CHALLENGER, better,
        settings.metric(), challengerValue, champion.get(), championValue,
        settings.minImprovement(), rows.description(), reason, false, "promote",
        settings.cycleDate());
    if (better) {
      registry.promote(d);
    } else {
      registry.record(List.of(d));
    }
    return d;
  }

  /**
   * Makes a completed run the champion by hand: a pin, or a rollback to an older run. Recorded as
   * forced.
   */
  public Decision force(ModelRun run) {
    Decision d = new Decision(run.id(), Stage.CHAMPION, true, null, null,
        registry.championId().orElse(null), null, null, null,
        "pinned by hand (propensity.promote.force)", true, "promote", settings.cycleDate());
    registry.promote(d);
    return d;
  }

  private double metric(Ensemble ensemble, Dataset<Row> rows) {
    return Metrics.cvMetric(ensemble.score(rows), col("propensity"), CandidatePipeline.LABEL,
        settings.metric());
  }

  private record Evaluation(Dataset<Row> rows, String description) {}

  /** The challenger's held-out labelled rows with a double label column. */
  @SuppressWarnings("unchecked")
  private Evaluation evaluationRows(ModelRun run) {
    Map<String, Object> manifest = RunData.manifest(run);
    Map<String, Object> input = (Map<String, Object>) manifest.get("input");
    Object holdout = input.get("holdout_snapshot");
    if (holdout != null && !holdout.toString().isEmpty()) {
      FeatureSchema pinned = schema.forTable((String) input.get("table"));
      FeatureInput in = FeatureInput.pinned(warehouse, pinned,
          ((Number) input.get("version")).longValue(), Optional.of(holdout.toString()));
      return new Evaluation(in.rows().withColumn(CandidatePipeline.LABEL,
          col(schema.labelColumn()).cast("double")),
          "out-of-time snapshot " + holdout);
    }
    Map<String, Object> split = (Map<String, Object>) manifest.get("splits");
    String which = ((Number) split.get("test")).doubleValue() > 0 ? Splits.TEST
        : Splits.VALIDATION;
    return new Evaluation(RunData.splitRows(warehouse, schema, run)
        .where(col(Splits.COLUMN).equalTo(which)),
        which + " split of snapshot " + input.get("snapshot"));
  }

  private static Decision fromRow(Row r) {
    java.sql.Date cycle = r.getAs("cycle_date");
    return new Decision(r.getAs("run_id"), Stage.valueOf(((String) r.getAs("stage"))
        .toUpperCase(java.util.Locale.ROOT)), r.getAs("promoted"), r.getAs("metric"),
        r.getAs("run_metric"), r.getAs("champion_run_id"), r.getAs("champion_metric"),
        r.getAs("margin"), r.getAs("evaluation"), r.getAs("reason"), r.getAs("forced"),
        r.getAs("decided_by"), cycle == null ? null : cycle.toLocalDate());
  }
}
