package dev.propensity.common.run;

import static org.apache.spark.sql.functions.col;

import dev.propensity.common.Errors;
import dev.propensity.common.PropensityException;
import dev.propensity.common.table.Warehouse;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model registry: the Delta table {@code model_registry}, one row per decision about a run
 * (promoted to champion, kept as a challenger, archived, failed), appended in one Delta commit per
 * decision. It is the run pointer: the champion is the run of the newest {@code champion} row, so
 * {@code latest} (and its synonym {@code champion}) resolves by reading one Delta snapshot, atomic
 * on every file system Delta supports, local disk and object stores alike. Nothing else moves it.
 *
 * <p>A warehouse from before the registry has no such table: {@code runs/LATEST} is read then.
 */
public final class ModelRegistry {

  private static final Logger LOG = LoggerFactory.getLogger(ModelRegistry.class);

  /** The registry table's name under the warehouse. */
  public static final String TABLE = "model_registry";

  /** The word that names the current champion (as {@link ModelRuns#LATEST} does). */
  public static final String CHAMPION = "champion";

  /** What a decision made of a run. */
  public enum Stage {
    /** The run serves: {@code latest} resolves to it. */
    CHAMPION,
    /** A completed run that did not beat the champion; it stays available by id. */
    CHALLENGER,
    /** A former champion, replaced. */
    ARCHIVED,
    /** A run that failed or is incomplete: never promoted. */
    FAILED;

    /** @return the value stored in the {@code stage} column */
    public String value() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public static final StructType SCHEMA = new StructType()
      .add("run_id", DataTypes.StringType, false)
      .add("stage", DataTypes.StringType, false)
      .add("promoted", DataTypes.BooleanType, false)
      .add("metric", DataTypes.StringType)
      .add("run_metric", DataTypes.DoubleType)
      .add("champion_run_id", DataTypes.StringType)
      .add("champion_metric", DataTypes.DoubleType)
      .add("margin", DataTypes.DoubleType)
      .add("evaluation", DataTypes.StringType)
      .add("reason", DataTypes.StringType)
      .add("forced", DataTypes.BooleanType, false)
      .add("decided_by", DataTypes.StringType)
      .add("cycle_date", DataTypes.DateType)
      .add("decided_at", DataTypes.TimestampType, false);

  /**
   * One decision about a run.
   *
   * @param runId the run decided on
   * @param stage what it became
   * @param promoted whether this decision made it champion
   * @param metric the gate's metric (e.g. {@code auc_roc}), null when nothing was compared
   * @param runMetric the run's value of it on the evaluation rows
   * @param championRunId the champion at the time of the decision, null when there was none
   * @param championMetric the champion's value on the same rows
   * @param margin the margin the run had to beat the champion by
   * @param evaluation which rows both were evaluated on
   * @param reason why, in words
   * @param forced a manual pin or rollback ({@code promote RUN}), not the gate
   * @param decidedBy the job that decided ({@code promote}, {@code cycle}, ...)
   * @param cycleDate the scheduled date of the cycle that decided, null outside a cycle
   */
  public record Decision(String runId, Stage stage, boolean promoted, String metric,
      Double runMetric, String championRunId, Double championMetric, Double margin,
      String evaluation, String reason, boolean forced, String decidedBy,
      java.time.LocalDate cycleDate) {

    Row toRow(Timestamp at) {
      return RowFactory.create(runId, stage.value(), promoted, metric, runMetric, championRunId,
          championMetric, margin, evaluation, reason, forced, decidedBy,
          cycleDate == null ? null : java.sql.Date.valueOf(cycleDate), at);
    }
  }

  private final Warehouse warehouse;
  private final ModelRuns runs;

  /** @param warehouse the warehouse whose {@code runs/} and {@code model_registry} these are */
  public ModelRegistry(Warehouse warehouse) {
    this.warehouse = warehouse;
    this.runs = new ModelRuns(warehouse.root(),
        warehouse.spark().sparkContext().hadoopConfiguration());
  }

  /** @return the run folders */
  public ModelRuns runs() {
    return runs;
  }

  /** @return the current champion's run id, if any run was ever promoted */
  public Optional<String> championId() {
    if (!warehouse.exists(TABLE)) {
      return Optional.ofNullable(runs.legacyLatestId());
    }
    List<Row> newest = warehouse.read(TABLE).where(col("stage").equalTo(Stage.CHAMPION.value()))
        .orderBy(col("decided_at").desc()).select("run_id").limit(1).collectAsList();
    return newest.isEmpty() ? Optional.empty() : Optional.of(newest.get(0).getString(0));
  }

  /**
   * Opens a run by id, or the champion for {@code latest} / {@code champion}.
   *
   * @throws PropensityException naming the runs folder when there is no champion or no such run
   */
  public ModelRun open(String idOrLatest) {
    String id = idOrLatest == null ? "" : idOrLatest.trim();
    ModelRun run = ModelRuns.LATEST.equals(id) || CHAMPION.equals(id)
        ? runs.open(championId().orElseThrow(() -> noChampion(id))) : runs.open(id);
    // every later log line of this job names the run (conf/log4j2.properties: %X{run_id})
    org.slf4j.MDC.put("run_id", run.id());
    return run;
  }

  private PropensityException noChampion(String word) {
    return new PropensityException(String.format("Cannot load model run '%s': no run has been"
        + " promoted to champion in %s. Run the promote step after bins (the pipeline does), or"
        + " pin a completed run with ./submit.sh promote RUN. Runs under %s: %s.", word,
        warehouse.path(TABLE), runs.root(), runs.list().isEmpty() ? "(none: run train first)"
            : String.join(", ", runs.list())));
  }

  /** @return every decision, oldest first */
  public List<Row> history() {
    if (!warehouse.exists(TABLE)) {
      return List.of();
    }
    return warehouse.read(TABLE).orderBy(col("decided_at")).collectAsList();
  }

  /** @return the newest decision about a run made by the gate (not a manual one), if any */
  public Optional<Row> gateDecision(String runId) {
    if (!warehouse.exists(TABLE)) {
      return Optional.empty();
    }
    List<Row> rows = warehouse.read(TABLE)
        .where(col("run_id").equalTo(runId).and(col("forced").equalTo(false))
            .and(col("stage").notEqual(Stage.ARCHIVED.value())))
        .orderBy(col("decided_at").desc()).limit(1).collectAsList();
    return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
  }

  /**
   * Records decisions in one Delta commit (a promotion and the archiving of the champion it
   * replaces change together or not at all).
   */
  public void record(List<Decision> decisions) {
    Timestamp now = Timestamp.from(Instant.now());
    List<Row> rows = new ArrayList<>();
    for (Decision d : decisions) {
      rows.add(d.toRow(now));
    }
    warehouse.append(warehouse.spark().createDataFrame(rows, SCHEMA), TABLE);
    decisions.forEach(d -> LOG.info("registry: run {} -> {}{} ({})", d.runId(), d.stage().value(),
        d.forced() ? " (forced)" : "", d.reason()));
  }

  /**
   * Makes a completed run the champion, archiving the one it replaces, in one commit.
   *
   * @param decision the decision promoting the run (stage {@link Stage#CHAMPION})
   */
  public void promote(Decision decision) {
    if (decision.stage() != Stage.CHAMPION) {
      throw new IllegalArgumentException("promote needs a champion decision: " + decision);
    }
    String status = runs.open(decision.runId()).status();
    if (!ModelRun.COMPLETED.equals(status)) {
      throw Errors.invalidConfig("propensity.promote.run-id", decision.runId(),
          "a completed run (its manifest status is '" + status + "'; a run is completed when"
              + " its bins step has finished: run select and bins on it first)");
    }
    List<Decision> all = new ArrayList<>(List.of(decision));
    championId().filter(c -> !c.equals(decision.runId())).ifPresent(c -> all.add(
        new Decision(c, Stage.ARCHIVED, false, decision.metric(), decision.championMetric(),
            decision.runId(), decision.runMetric(), decision.margin(), decision.evaluation(),
            "replaced by " + decision.runId(), decision.forced(), decision.decidedBy(),
            decision.cycleDate())));
    record(all);
  }

  /** @return a registry table of the warehouse's runs for queries: the newest decision per run */
  public Dataset<Row> table() {
    return warehouse.read(TABLE);
  }
}
