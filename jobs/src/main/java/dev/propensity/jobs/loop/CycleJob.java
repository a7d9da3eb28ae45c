package dev.propensity.jobs.loop;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.to_date;

import dev.propensity.common.Errors;
import dev.propensity.common.PropensityException;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRegistry;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.Job;
import dev.propensity.jobs.Steps;
import dev.propensity.jobs.bins.BinsJob;
import dev.propensity.jobs.features.FeaturesJob;
import dev.propensity.jobs.inference.ScoreJob;
import dev.propensity.jobs.monitoring.DriftJob;
import dev.propensity.jobs.monitoring.PerformanceTracker;
import dev.propensity.jobs.promotion.PromotionGate;
import dev.propensity.jobs.report.ReportJob;
import dev.propensity.jobs.selection.SelectJob;
import dev.propensity.jobs.training.TrainJob;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One scheduled cycle of the weekly loop for {@code propensity.loop.date}, idempotent for its date:
 * <ol>
 *   <li>features of the new snapshot (the date) and of the snapshot whose label window has just
 *       closed (date minus {@code label-horizon-days}), each replacing only its own partition;
 *   <li>score the new snapshot with the champion ({@code customer_scores},
 *       {@code customer_propensity});
 *   <li>performance of every scored snapshot whose labels matured, once ({@code model_performance});
 *   <li>drift of the new snapshot against the champion's baseline ({@code drift_report});
 *   <li>the {@link RetrainPolicy}; when it says so, train (on the newest labelled snapshot), select,
 *       bins and the {@link PromotionGate}; a promoted challenger re-scores the new snapshot;
 *   <li>a row of {@code loop_timeline}, and the champion's report rebuilt
 *       ({@code report.on-complete}).
 * </ol>
 * The Airflow DAG and the Oozie coordinator run the same steps as separate tasks.
 */
public final class CycleJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(CycleJob.class);
  private static final DateTimeFormatter COMPACT = DateTimeFormatter.BASIC_ISO_DATE;

  @Override
  public String name() {
    return "cycle";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    Timeline.Entry e = runCycle(spark, config, date(config));
    if (config.bool("propensity.report.on-complete")) {
      // the champion's report, rebuilt with this week's drift, segments and performance
      ReportJob.write(spark, config, new ModelRegistry(Warehouse.of(spark, config))
          .open(ModelRegistry.CHAMPION));
    }
    return String.format("cycle %s: %d customers scored by %s; max feature PSI %s, score PSI %s;"
            + " matured %s AUC %s; retrain: %s%s", e.cycleDate(), e.scoredCustomers(),
        e.championRunId(), fmt(e.maxFeaturePsi()), fmt(e.scorePsi()),
        e.maturedSnapshot() == null ? "(none)" : e.maturedSnapshot(), fmt(e.maturedAucRoc()),
        e.retrainReason(), e.challengerRunId() == null ? ""
            : String.format(" -> challenger %s %s vs champion %s: %s", e.challengerRunId(),
                fmt(e.challengerMetric()), fmt(e.championMetric()),
                e.promoted() ? "promoted" : "not promoted"));
  }

  /** @return propensity.loop.date, or today (UTC) when empty */
  static LocalDate date(JobConfig config) {
    String v = config.string("propensity.loop.date").trim();
    if (v.isEmpty()) {
      return LocalDate.now(ZoneOffset.UTC);
    }
    try {
      return LocalDate.parse(v);
    } catch (DateTimeParseException e) {
      throw Errors.invalidConfig("propensity.loop.date", v, "a date yyyy-MM-dd (or empty: today)");
    }
  }

  /** Runs the cycle of {@code date} and records it in the timeline. */
  static Timeline.Entry runCycle(SparkSession spark, JobConfig base, LocalDate date) {
    String day = date.toString();
    int horizon = base.integer("propensity.features.label-horizon-days");
    String matured = date.minusDays(horizon).toString();
    JobConfig config = base.with("loop.date=" + day, "features.as-of=" + day,
        "report.on-complete=false",
        "features.snapshot-dates=[\"" + matured + "\", \"" + day + "\"]",
        "score.run=latest", "score.snapshot=" + day, "score.drift=false",
        "drift.track-performance=false", "drift.on-significant=warn", "performance.snapshot=\"\"");
    Warehouse warehouse = Warehouse.of(spark, config);
    ModelRegistry registry = new ModelRegistry(warehouse);
    FeatureSchema schema = FeatureSchema.fromConfig(config);
    Timeline timeline = new Timeline(warehouse);
    Optional<Row> earlier = timeline.recorded(date);
    requireNewest(warehouse, day);
    RetrainPolicy policy = new RetrainPolicy(RetrainPolicy.Settings.fromConfig(config));
    PromotionGate.Settings gateSettings = PromotionGate.Settings.fromConfig(config);
    PerformanceTracker.Settings performance = PerformanceTracker.Settings.fromConfig(config);
    LOG.info("cycle {}: features of snapshots {} and {}", day, matured, day);

    Steps.run(new FeaturesJob(), spark, config);
    boolean scored = false;
    if (registry.championId().isPresent()) {
      publish(spark, config);
      scored = true;
    }
    PerformanceTracker.run(warehouse, performance, schema);
    Psi psi = scored ? Psi.read(warehouse, registry.championId().get(), day) : Psi.NONE;

    RetrainPolicy.Decision decision = earlier.isPresent()
        ? new RetrainPolicy.Decision(RetrainPolicy.Reason.valueOf(
            ((String) earlier.get().getAs("retrain_reason")).toUpperCase(java.util.Locale.ROOT)
                .replace('-', '_')), earlier.get().getAs("retrain_detail"))
        : policy.decide(warehouse, date, day);
    LOG.info("cycle {}: retraining {} ({})", day, decision.retrain() ? "due" : "not due",
        decision.detail());
    String challenger = null;
    ModelRegistry.Decision gate = null;
    if (decision.retrain()) {
      ModelRun run = train(spark, config, registry, date);
      challenger = run.id();
      gate = new PromotionGate(warehouse, schema, gateSettings).decide(run);
      if (gate.promoted() || !scored) {
        publish(spark, config);
      }
    }
    String champion = registry.championId().orElse(null);
    long customers = scoredCustomers(warehouse, day);
    Matured m = Matured.read(warehouse, matured);
    Timeline.Entry entry = new Timeline.Entry(date, day, champion, customers, psi.maxFeature(),
        psi.feature(), psi.score(), m.snapshot(), m.runId(), m.aucRoc(), m.topBinLift(),
        decision.reason().value(), decision.detail(),
        challenger, gate == null ? null : gate.runMetric(),
        gate == null ? null : gate.championMetric(), gate != null && gate.promoted());
    timeline.record(entry);
    return entry;
  }

  /** Scores the cycle's snapshot with the champion and checks its drift against it. */
  private static void publish(SparkSession spark, JobConfig config) {
    Steps.run(new ScoreJob(), spark, config);
    Steps.run(new DriftJob(), spark, config);
  }

  /**
   * Trains, selects and bins this cycle's run. Its id is fixed by the date, so a re-run of the
   * cycle finds the run it completed before; a run left failed or unfinished (a killed cycle) is
   * recorded as failed and a new attempt trains under the next id.
   */
  private static ModelRun train(SparkSession spark, JobConfig config, ModelRegistry registry,
      LocalDate date) {
    List<String> existing = registry.runs().list();
    for (int attempt = 1; attempt < 10; attempt++) {
      String id = date.format(COMPACT) + "-cycle" + (attempt == 1 ? "" : "-" + attempt);
      if (existing.contains(id)) {
        ModelRun run = registry.runs().open(id);
        if (ModelRun.COMPLETED.equals(run.status())) {
          LOG.info("cycle {}: run {} was completed before; not trained again", date, id);
          return run;
        }
        registry.record(List.of(new ModelRegistry.Decision(id, ModelRegistry.Stage.FAILED, false,
            null, null, registry.championId().orElse(null), null, null, null,
            "manifest status '" + run.status() + "' when the cycle was re-run", false, "cycle",
            date)));
        continue;
      }
      JobConfig c = config.with("train.run-id=" + id, "select.run-id=" + id, "bins.run-id=" + id,
          "train.snapshot=\"\"");
      Steps.run(new TrainJob(), spark, c);
      Steps.run(new SelectJob(), spark, c);
      Steps.run(new BinsJob(), spark, c);
      return registry.runs().open(id);
    }
    throw new PropensityException("Cannot train the cycle of " + date + ": nine attempts left"
        + " failed runs under " + registry.runs().root() + ". Look at their manifests.");
  }

  /** Refuses to publish an older snapshot over a newer one in the lookup table. */
  private static void requireNewest(Warehouse warehouse, String day) {
    if (!warehouse.exists(Tables.CUSTOMER_SCORES)) {
      return;
    }
    Object newest = warehouse.read(Tables.CUSTOMER_SCORES).agg(max("snapshot_date")).first()
        .get(0);
    if (newest != null && newest.toString().compareTo(day) > 0) {
      throw Errors.invalidConfig("propensity.loop.date", day, "the newest cycle's date or a later"
          + " one: customer_scores already holds snapshot " + newest + ", and re-running an older"
          + " cycle would publish an older snapshot to customer_propensity");
    }
  }

  private static long scoredCustomers(Warehouse warehouse, String day) {
    return warehouse.exists(Tables.CUSTOMER_SCORES) ? warehouse.read(Tables.CUSTOMER_SCORES)
        .where(col("snapshot_date").equalTo(to_date(lit(day)))).count() : 0;
  }

  /** The matured snapshot's evaluation in {@code model_performance}, read once. */
  record Matured(String snapshot, String runId, Double aucRoc, Double topBinLift) {
    static Matured read(Warehouse warehouse, String snapshot) {
      List<Row> rows = warehouse.exists(Tables.MODEL_PERFORMANCE)
          ? warehouse.read(Tables.MODEL_PERFORMANCE)
              .where(col("snapshot_date").equalTo(to_date(lit(snapshot)))).collectAsList()
          : List.of();
      if (rows.isEmpty()) {
        return new Matured(null, null, null, null);
      }
      Double auc = rows.stream().filter(r -> r.isNullAt(r.fieldIndex("bin"))).findFirst()
          .map(r -> (Double) r.getAs("auc_roc")).orElse(null);
      Double lift = rows.stream()
          .filter(r -> !r.isNullAt(r.fieldIndex("bin")) && r.<Integer>getAs("bin") == 1)
          .findFirst().map(r -> (Double) r.getAs("lift")).orElse(null);
      return new Matured(snapshot, rows.get(0).getAs("run_id"), auc, lift);
    }
  }

  /** The drift of the cycle's snapshot against a run, from {@code drift_report}. */
  record Psi(Double maxFeature, String feature, Double score) {
    static final Psi NONE = new Psi(null, null, null);

    static Psi read(Warehouse warehouse, String runId, String day) {
      if (!warehouse.exists(Tables.DRIFT_REPORT)) {
        return NONE;
      }
      List<Row> rows = warehouse.read(Tables.DRIFT_REPORT)
          .where(col("run_id").equalTo(runId).and(col("snapshot_date")
              .equalTo(to_date(lit(day))))).orderBy(col("psi").desc()).collectAsList();
      Row top = rows.stream().filter(r -> !"propensity".equals(r.getAs("feature"))).findFirst()
          .orElse(null);
      Double score = rows.stream().filter(r -> "propensity".equals(r.getAs("feature")))
          .findFirst().map(r -> (Double) r.getAs("psi")).orElse(null);
      return new Psi(top == null ? null : top.getAs("psi"),
          top == null ? null : top.getAs("feature"), score);
    }
  }

  static String fmt(Double v) {
    return v == null ? "-" : String.format("%.4f", v);
  }
}
