package dev.propensity.jobs.inference;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.to_date;

import dev.propensity.common.FaultPoint;
import dev.propensity.common.PropensityException;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.metrics.JobMetrics;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRegistry;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.common.table.Warehouse.WhenMissing;
import dev.propensity.jobs.FeatureInput;
import dev.propensity.jobs.Steps;
import dev.propensity.jobs.Job;
import dev.propensity.jobs.bins.BinColumns;
import dev.propensity.jobs.model.ReasonCodes;
import dev.propensity.jobs.monitoring.DriftCheck;
import dev.propensity.jobs.model.Ensemble;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores one feature snapshot with a completed run and publishes it: {@code customer_scores}
 * (history; the snapshot's partition replaced) and {@code customer_propensity} (the current
 * lookup table, one row per customer, upserted with MERGE). Both commits carry a publish marker
 * ({@link Publication}); a run starts by checking them and republishing what a killed run left
 * unpublished, so re-runs after a kill at any point converge. Category values the run never saw
 * are scored (the voters' encoders keep a slot for them) and counted per column in the summary.
 * With {@code propensity.score.drift} it ends with the drift check of the snapshot.
 */
public final class ScoreJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(ScoreJob.class);

  /** What to do with lookup rows of customers missing from the new snapshot. */
  public static final List<String> MISSING = List.of("keep", "delete");

  @Override
  public String name() {
    return "score";
  }

  /** The columns of {@code customer_scores} (and, with {@code is_stale}, the lookup table). */
  public static final List<String> OUTPUT = List.of("customer_id", "propensity", "bin",
      "group_label", "predicted_positive", "voter_probabilities", "reason_codes", "run_id",
      "snapshot_date", "scored_at");

  @Override
  public String run(SparkSession spark, JobConfig config) {
    JobMetrics metrics = JobMetrics.start(name());
    String missing = config.oneOf("propensity.score.missing-customers", MISSING);
    Optional<DriftCheck.Settings> drift = config.bool("propensity.score.drift")
        ? Optional.of(DriftCheck.Settings.fromConfig(config)) : Optional.empty();
    Warehouse warehouse = Warehouse.of(spark, config);
    ModelRun run = new ModelRegistry(warehouse).open(config.string("propensity.score.run"));
    BinColumns bins = BinColumns.load(run);
    Ensemble ensemble = Ensemble.load(run);
    // the decision select chose (max-F1 or a target recall): null for a run without one
    java.util.OptionalDouble threshold = Ensemble.threshold(run);
    Column predicted = threshold.isPresent() ? col("propensity").geq(threshold.getAsDouble())
        : lit(null).cast("boolean");
    FeatureSchema schema = FeatureSchema.fromConfig(config);
    FeatureInput input = FeatureInput.forScoring(warehouse, schema,
        config.string("propensity.score.snapshot"));
    // every check runs before any table is touched
    Steps.describe(spark, name(), "validate snapshot");
    long phase = System.nanoTime();
    long rows = schema.forTable(warehouse.path(schema.table()))
        .validate(input.rows(), FeatureSchema.Mode.SCORING);
    String snapshot = input.snapshot()
        .orElse(LocalDate.now(ZoneOffset.UTC).toString());
    Map<String, Set<String>> known = UnseenCategories.known(ensemble, schema.categorical());
    // reads the categorical columns only; before any write, so the counts are logged anyway
    Map<String, UnseenCategories.Count> unseen = UnseenCategories.count(input.rows(), known, "");
    double validateSeconds = seconds(phase);

    Dataset<Row> output = scored(ensemble, bins, predicted, input.rows(), schema, config,
        run.id(), snapshot);

    WhenMissing whenMissing = "delete".equals(missing) ? WhenMissing.delete()
        : WhenMissing.set(Map.of("is_stale", "true"));
    Published published = write(warehouse, output, snapshot, run.id(), whenMissing);
    Dataset<Row> written = published.rows();
    LOG.info("score: {} customers of snapshot {} scored with run {} (validate {} s, score and"
        + " write customer_scores {} s, merge customer_propensity {} s)", rows, snapshot,
        run.id(), Math.round(validateSeconds), Math.round(published.scoreSeconds()),
        Math.round(published.mergeSeconds()));
    metrics.gauge("propensity_rows_scored", "Customers scored", rows);
    String unseenSummary = reportUnseen(metrics, unseen);
    String summary = String.format("score: %d customers, snapshot %s, run %s -> %s, %s;"
            + " unseen category values: %s", rows, snapshot, run.id(),
        warehouse.path(Tables.CUSTOMER_SCORES), warehouse.path(Tables.CUSTOMER_PROPENSITY),
        unseenSummary.isEmpty() ? "none" : unseenSummary);

    if (drift.isPresent()) {
      DriftCheck.Result result = DriftCheck.run(warehouse, drift.get(), schema, run, snapshot,
          input.rows(), Optional.of(written.select(col("propensity"))));
      result.addTo(metrics);
      summary += "\n" + result.summary();
      try {
        DriftCheck.enforce(drift.get(), result);
      } catch (PropensityException e) {
        metrics.push(config, e.exitCode());
        throw e;
      }
    }
    metrics.push(config, 0);
    return summary;
  }

  /**
   * The snapshot's rows scored by the ensemble, with bins, groups, the threshold's decision and
   * (with {@code explain.top-k > 0}) reason codes, in the columns of {@link #OUTPUT}.
   */
  private static Dataset<Row> scored(Ensemble ensemble, BinColumns bins, Column predicted,
      Dataset<Row> features, FeatureSchema schema, JobConfig config, String runId,
      String snapshot) {
    Column propensity = col("propensity");
    boolean reasons = ReasonCodes.topK(config) > 0;
    // with reason codes, the voters' vectors stay for the explanation pass to reuse
    Dataset<Row> withFeatures = ensemble.score(features.select(schema.inputColumns()
        .stream().map(c -> col(c)).toArray(Column[]::new)), reasons);
    // reason codes explain propensity_raw, the voters' vote before calibration (README)
    withFeatures = ReasonCodes.add(withFeatures, ensemble, bins.bin(propensity), config);
    return withFeatures
        .select(
            col(schema.idColumn()).cast("string").as("customer_id"),
            propensity,
            bins.bin(propensity).as("bin"),
            col("voter_probabilities"),
            col(ReasonCodes.COLUMN))
        .withColumn("group_label", bins.label(col("bin")))
        .withColumn("predicted_positive", predicted)
        .withColumn("run_id", lit(runId))
        .withColumn("snapshot_date", to_date(lit(snapshot)))
        .withColumn("scored_at", current_timestamp())
        .select(OUTPUT.stream().map(c -> col(c)).toArray(Column[]::new));
  }

  /**
   * What {@link #write} published.
   *
   * @param rows the published rows (the scores partition as committed)
   * @param scoreSeconds the time to score and write customer_scores
   * @param mergeSeconds the time to merge them into customer_propensity
   */
  private record Published(Dataset<Row> rows, double scoreSeconds, double mergeSeconds) {}

  /**
   * Replaces the snapshot's partition of customer_scores, then MERGEs it into
   * customer_propensity: first republishing what an earlier, killed run left behind, and after,
   * the newest scores commit if another scorer committed in between.
   */
  private static Published write(Warehouse warehouse, Dataset<Row> output, String snapshot,
      String runId, WhenMissing whenMissing) {
    // a kill between an earlier run's two commits left the lookup behind: republish first
    Publication.State before = Publication.check(warehouse);
    LOG.info("score: publish state at start: {}", before.describe());
    if (!before.consistent()) {
      LOG.warn("score: {}", before.describe());
      publish(warehouse, before.scores().get(), whenMissing);
    }

    FaultPoint.reach("score.before-scores");
    long phase = System.nanoTime();
    Publication.Marker marker = Publication.start(snapshot, runId);
    warehouse.overwritePartition(output, Tables.CUSTOMER_SCORES, "snapshot_date", snapshot,
        marker.scoresJson());
    marker = new Publication.Marker(marker.id(), snapshot, runId,
        Publication.versionOf(warehouse, marker.id()));
    double scoreSeconds = seconds(phase);
    FaultPoint.reach("score.between-commits");
    phase = System.nanoTime();
    Dataset<Row> written = publish(warehouse, marker, whenMissing);
    // another scorer may have committed scores in between: the newest scores commit wins
    for (int round = 0; round < 3; round++) {
      Publication.State after = Publication.check(warehouse);
      if (after.consistent()) {
        break;
      }
      LOG.warn("score: another writer committed meanwhile; {}", after.describe());
      publish(warehouse, after.scores().get(), whenMissing);
    }
    FaultPoint.reach("score.after-publish");
    return new Published(written, scoreSeconds, seconds(phase));
  }

  /** Gauges and warnings for category values the run never saw; @return their summary */
  private static String reportUnseen(JobMetrics metrics,
      Map<String, UnseenCategories.Count> unseen) {
    unseen.forEach((c, n) -> {
      metrics.gauge("propensity_unseen_category_rows",
          "Scored rows whose category value the run never saw in training", n.rows(),
          "column", c);
      if (n.rows() > 0) {
        LOG.warn("score: column {} has {} row(s) with a value unseen in training (e.g. '{}');"
            + " they are scored with the unseen-value slot of the voters' encoders", c,
            n.rows(), n.example());
      }
    });
    String unseenSummary = unseen.entrySet().stream().filter(e -> e.getValue().rows() > 0)
        .map(e -> e.getKey() + "=" + e.getValue().rows() + " (e.g. '" + e.getValue().example()
            + "')").collect(Collectors.joining(", "));
    return unseen.entrySet().stream().filter(e -> e.getValue().rows() > 0)
        .map(e -> e.getKey() + "=" + e.getValue().rows() + " (e.g. '" + e.getValue().example()
            + "')").collect(Collectors.joining(", "));
  }

  /**
   * MERGEs the partition of one customer_scores commit into customer_propensity, the commit
   * carrying the lookup marker, so readers can tell what the lookup holds.
   *
   * @return the published rows (the scores partition as of that commit)
   */
  private static Dataset<Row> publish(Warehouse warehouse, Publication.Marker marker,
      WhenMissing whenMissing) {
    // the lookup gets exactly the rows of that commit: read back from Delta rather than scored
    // again or cached, which also spares MERGE from materializing its source
    Dataset<Row> rows = warehouse.readAtVersion(Tables.CUSTOMER_SCORES, marker.scoresVersion())
        .where(col("snapshot_date").equalTo(to_date(lit(marker.snapshot()))));
    warehouse.merge(rows.withColumn("is_stale", lit(false)), Tables.CUSTOMER_PROPENSITY,
        List.of("customer_id"), whenMissing, marker.lookupJson());
    LOG.info("score: published customer_scores version {} (snapshot {}, run {}) to {}",
        marker.scoresVersion(), marker.snapshot(), marker.runId(), Tables.CUSTOMER_PROPENSITY);
    return rows;
  }

  private static double seconds(long start) {
    return (System.nanoTime() - start) / 1e9;
  }
}
