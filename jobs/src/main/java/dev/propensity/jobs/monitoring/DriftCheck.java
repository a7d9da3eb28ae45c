package dev.propensity.jobs.monitoring;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.metrics.JobMetrics;
import dev.propensity.common.psi.Psi;
import dev.propensity.common.psi.PsiBaseline;
import dev.propensity.common.psi.SparkPsi;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PSI of a snapshot against a run's training baseline, shared by the {@code drift} job and the
 * drift step of {@code score}: one counting pass over the snapshot's features (all columns at
 * once) and one over its scores, one {@code drift_report} row per column, written with
 * {@code replaceWhere} on (run_id, snapshot_date) so a re-run replaces its own rows only.
 */
public final class DriftCheck {

  private static final Logger LOG = LoggerFactory.getLogger(DriftCheck.class);

  public static final StructType REPORT_SCHEMA = new StructType()
      .add("run_id", DataTypes.StringType)
      .add("snapshot_date", DataTypes.DateType)
      .add("feature", DataTypes.StringType)
      .add("psi", DataTypes.DoubleType)
      .add("level", DataTypes.StringType)
      .add("computed_at", DataTypes.TimestampType);

  public static final String STABLE = "stable";
  public static final String MODERATE = "moderate";
  public static final String SIGNIFICANT = "significant";

  /**
   * The drift settings, validated before any Spark work.
   *
   * @param moderate PSI from which a column is {@code moderate}
   * @param significant PSI from which a column is {@code significant}
   * @param fail whether significant drift ends the job with exit code 3
   * @param epsilon share used for an empty bucket
   */
  public record Settings(double moderate, double significant, boolean fail, double epsilon) {

    /** @return the settings of {@code propensity.drift.*} */
    public static Settings fromConfig(JobConfig config) {
      double moderate = config.number("propensity.drift.moderate");
      double significant = config.number("propensity.drift.significant");
      if (!(moderate > 0)) {
        throw Errors.invalidConfig("propensity.drift.moderate", moderate, "a PSI above 0");
      }
      if (!(significant > moderate)) {
        throw Errors.invalidConfig("propensity.drift.significant", significant,
            "a PSI above propensity.drift.moderate (" + moderate + ")");
      }
      double epsilon = config.number("propensity.drift.epsilon");
      if (!(epsilon > 0 && epsilon < 0.1)) {
        throw Errors.invalidConfig("propensity.drift.epsilon", epsilon,
            "a small share above 0, e.g. 0.0001");
      }
      boolean fail = "fail".equals(config.oneOf("propensity.drift.on-significant",
          List.of("fail", "warn")));
      return new Settings(moderate, significant, fail, epsilon);
    }
  }

  /**
   * What one check found.
   *
   * @param runId the run whose baseline was used
   * @param snapshot the snapshot compared
   * @param psi PSI per column (features, then {@code propensity} when the scores were given)
   * @param levels level per column
   */
  public record Result(String runId, String snapshot, Map<String, Double> psi,
      Map<String, String> levels) {

    /** @return the highest PSI, 0 when nothing was compared */
    public double maxPsi() {
      return psi.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
    }

    /** @return the columns at level {@code significant} with their PSI, highest first */
    public Map<String, Double> significant() {
      Map<String, Double> out = new LinkedHashMap<>();
      psi.entrySet().stream().filter(e -> SIGNIFICANT.equals(levels.get(e.getKey())))
          .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
          .forEach(e -> out.put(e.getKey(), e.getValue()));
      return out;
    }

    /** Adds the PSI gauges to a job's metrics. */
    public void addTo(JobMetrics metrics) {
      // no run_id or snapshot_date label: a per-run value makes a new series every run
      psi.forEach((c, v) -> metrics.gauge("propensity_drift_psi",
          "PSI of a column against the run's training baseline", v, "feature", c));
      metrics.gauge("propensity_drift_max_psi", "Highest PSI of the snapshot", maxPsi());
      metrics.gauge("propensity_drift_significant_columns",
          "Columns at level significant", significant().size());
    }

    /** @return a one-line summary for the job's output */
    public String summary() {
      Map<String, Long> byLevel = levels.values().stream()
          .collect(Collectors.groupingBy(l -> l, LinkedHashMap::new, Collectors.counting()));
      return String.format("drift: snapshot %s vs run %s: %d columns, max PSI %.4f, %s%s",
          snapshot, runId, psi.size(), maxPsi(), byLevel,
          significant().isEmpty() ? "" : "; significant: " + describe(significant()));
    }
  }

  private DriftCheck() {}

  /**
   * Computes the PSI of every baseline column and writes the {@code drift_report} rows of
   * (run, snapshot). The baseline is computed and stored first if the run has none.
   *
   * @param warehouse the warehouse
   * @param settings thresholds and epsilon
   * @param schema the feature schema (for the baseline, and to name the table in errors)
   * @param run the run whose training baseline is the reference
   * @param snapshot the snapshot date compared, {@code yyyy-MM-dd}
   * @param features the snapshot's feature rows
   * @param scores the snapshot's rows with a {@code propensity} column, if scored
   * @return the PSI and level per column
   */
  public static Result run(Warehouse warehouse, Settings settings, FeatureSchema schema,
      ModelRun run, String snapshot, Dataset<Row> features, Optional<Dataset<Row>> scores) {
    DriftBaseline.Stored baseline = DriftBaseline.readOrWrite(warehouse.spark(), warehouse,
        schema, run);
    List<PsiBaseline> featureBaselines = baseline.features();
    List<String> present = Arrays.asList(features.columns());
    List<String> missing = featureBaselines.stream().map(PsiBaseline::column)
        .filter(c -> !present.contains(c)).toList();
    if (!missing.isEmpty()) {
      throw Errors.missingColumns(schema.table(), missing, present, "propensity.schema");
    }
    Map<String, Double> psi = new LinkedHashMap<>(
        SparkPsi.compare(featureBaselines, features, settings.epsilon()));
    if (scores.isPresent() && baseline.score().isPresent()) {
      psi.putAll(SparkPsi.compare(List.of(baseline.score().get()), scores.get(),
          settings.epsilon()));
    } else {
      LOG.warn("drift: snapshot {} has no scores of run {} in customer_scores; the score's PSI"
          + " is left out (run score first)", snapshot, run.id());
    }
    Map<String, String> levels = new LinkedHashMap<>();
    psi.forEach((c, v) -> levels.put(c, Psi.level(v, settings.moderate(),
        settings.significant())));

    Timestamp now = Timestamp.from(Instant.now());
    Date day = Date.valueOf(snapshot);
    List<Row> rows = new ArrayList<>();
    psi.forEach((c, v) -> rows.add(RowFactory.create(run.id(), day, c, v, levels.get(c), now)));
    warehouse.replaceWhere(warehouse.spark().createDataFrame(rows, REPORT_SCHEMA),
        Tables.DRIFT_REPORT, Map.of("run_id", run.id(), "snapshot_date", snapshot));
    Result result = new Result(run.id(), snapshot, psi, levels);
    psi.forEach((c, v) -> {
      if (!STABLE.equals(levels.get(c))) {
        LOG.warn("drift: {} of snapshot {} has PSI {} ({}) against run {}", c, snapshot,
            String.format("%.4f", v), levels.get(c), run.id());
      }
    });
    LOG.info(result.summary());
    return result;
  }

  /**
   * @throws dev.propensity.common.PropensityException with exit code 3 when a column drifted
   *     significantly and {@code propensity.drift.on-significant = fail}
   */
  public static void enforce(Settings settings, Result result) {
    if (settings.fail() && !result.significant().isEmpty()) {
      throw Errors.significantDrift(result.runId(), result.snapshot(),
          describe(result.significant()));
    }
  }

  private static String describe(Map<String, Double> psi) {
    return psi.entrySet().stream()
        .map(e -> String.format("%s (PSI %.3f)", e.getKey(), e.getValue()))
        .collect(Collectors.joining(", "));
  }
}
