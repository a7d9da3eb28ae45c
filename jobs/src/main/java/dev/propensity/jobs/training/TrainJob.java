package dev.propensity.jobs.training;

import dev.propensity.jobs.model.RunLayout;

import dev.propensity.jobs.model.CandidatePipeline;
import dev.propensity.jobs.model.Splits;
import dev.propensity.jobs.model.Leaderboard;
import dev.propensity.jobs.model.Metrics;
import dev.propensity.jobs.model.Pipelines;
import dev.propensity.jobs.model.Candidates;
import dev.propensity.jobs.model.Modes;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRuns;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.spark.SparkSessions;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.FeatureInput;
import dev.propensity.jobs.Job;
import dev.propensity.jobs.model.Importance;
import dev.propensity.jobs.model.Ensemble;
import dev.propensity.jobs.model.CandidatePipeline.FeatureSelection;
import dev.propensity.jobs.model.Candidates.Candidate;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cross-validated training of each configured candidate on the training split of one labelled
 * snapshot. Writes a new run folder (per candidate: the fitted whole pipeline, best params,
 * metrics, out-of-fold predictions; the manifest; the redacted settings) and appends one
 * {@code leaderboard} row per candidate in one commit.
 */
public final class TrainJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);

  /** The leaderboard table's columns (see {@link Leaderboard}). */
  public static final StructType LEADERBOARD_SCHEMA = Leaderboard.SCHEMA;

  @Override
  public String name() {
    return "train";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    long runStart = System.nanoTime();
    long cpuStart = cpuNanos();
    TrainSettings settings = TrainSettings.fromConfig(config);
    Warehouse warehouse = Warehouse.of(spark, config);
    FeatureSchema configured = FeatureSchema.fromConfig(config);
    boolean weights = settings.balanced() || configured.weightColumn().isPresent();
    List<Candidate> candidates = Candidates.fromConfig(config, weights);
    Splits splits = Splits.fromConfig(config);
    FeatureSelection selection = FeatureSelection.fromConfig(config);

    int pool = config.integer("propensity.train.snapshots");
    if (pool < 1) {
      throw Errors.invalidConfig("propensity.train.snapshots", pool, "at least 1");
    }
    FeatureInput.Training training = FeatureInput.forTraining(warehouse, configured,
        config.string("propensity.train.snapshot"), pool,
        config.bool("propensity.train.out-of-time"));
    FeatureInput input = training.input();
    Optional<String> holdout = training.holdoutSnapshot();
    FeatureSchema schema = configured.forTable(warehouse.path(configured.table()));
    schema.validate(input.rows(), FeatureSchema.Mode.TRAINING);

    try (TrainingRows rows = TrainingRows.prepare(input.rows(), schema, splits, settings,
        candidates, weights)) {
      ModelRuns runs = new ModelRuns(warehouse.root(), spark.sparkContext().hadoopConfiguration());
      ModelRun run = runs.create(config.string("propensity.train.run-id"));
      SparkSessions.ensureCheckpointDir(spark, config);
      LOG.info("train: run {} on {} snapshot {} (version {}), {} candidate(s), {}-fold"
              + " stratified CV", run.id(), schema.table(), input.snapshot().orElse("(all)"),
          input.version(), candidates.size(), settings.folds());
      run.writeText(RunLayout.SETTINGS, config.renderRedacted());
      RunManifest manifest = new RunManifest(spark, config, run, input, splits, settings);
      holdout.ifPresent(manifest::holdoutSnapshot);
      List<Map<String, Object>> foldCounts = rows.foldCounts();
      manifest.describeData(rows.classCounts(), foldCounts, rows.features(), selection,
          rows.negativeWeight(), rows.positiveWeight(), weights);
      manifest.splitCuts(rows.cuts());
      manifest.refit(settings.refit());
      manifest.warnings(rows.warnings());
      manifest.write("running");
      Dataset<Row> train = rows.train();
      try (FoldData folds = new FoldData(train, rows.features().schema(), selection,
          settings.folds(), settings.localCheckpoint(), foldCounts.stream()
              .mapToLong(f -> (Long) f.get("rows")).toArray())) {
        List<Row> leaderboard = new ArrayList<>();
        List<String> summary = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
          Candidate c = candidates.get(i);
          CandidateRun cr = new CandidateRun(c, run, schema, settings);
          Row row = cr.fit(folds, CandidatePipeline.preprocessing(c.name(),
                  rows.features().schema(), c.scaling(), selection), train, rows.finalFit(),
              rows.all(), i + 1, candidates.size(), runStart);
          leaderboard.add(row);
          manifest.candidate(c.name(), cr.summary());
          summary.add(cr.summaryLine());
          if (candidates.subList(i + 1, candidates.size()).stream()
              .noneMatch(o -> o.scaling() == c.scaling())) {
            folds.release(c.scaling());
          }
        }
        // replaces the run's rows: a re-run of the same run id adds no duplicates
        warehouse.replaceWhere(spark.createDataFrame(leaderboard, Leaderboard.SCHEMA),
            Tables.LEADERBOARD, Map.of("run_id", run.id()));
        manifest.write("trained");
        return String.format("train: run %s, %d candidate(s) in %d s (%d s CPU) -> %s%n%s",
            run.id(), candidates.size(), Math.round((System.nanoTime() - runStart) / 1e9),
            Math.round((cpuNanos() - cpuStart) / 1e9), run.path(), String.join("\n", summary));
      } catch (RuntimeException e) {
        manifest.failed(e);
        throw e;
      }
    }
  }

  /** The settings of {@code propensity.train.*} the job itself reads, validated up front. */
  record TrainSettings(int folds, int parallelism, boolean localCheckpoint, String metric,
      boolean balanced, Double threshold, double budgetSeconds, boolean dropDegenerate, long seed,
      double gbtValidationFraction, boolean permutationImportance, Modes.Refit refit,
      boolean sharedLogistic, long logisticDriverBytes) {

    static final List<String> METRICS = List.of("auc_roc", "auc_pr");
    static final String BEST_F1 = "best-f1";

    static TrainSettings fromConfig(JobConfig config) {
      String k = "propensity.train.";
      int folds = config.integer(k + "cv.num-folds");
      if (folds < 2) {
        throw Errors.invalidConfig(k + "cv.num-folds", folds, "at least 2");
      }
      int parallelism = config.integer(k + "cv.parallelism");
      if (parallelism < 1) {
        throw Errors.invalidConfig(k + "cv.parallelism", parallelism, "at least 1");
      }
      String weights = config.oneOf(k + "class-weights", List.of("none", "balanced"));
      String t = config.string(k + "threshold");
      Double threshold = null;
      if (!BEST_F1.equals(t)) {
        try {
          threshold = Double.parseDouble(t);
        } catch (NumberFormatException e) {
          threshold = Double.NaN;
        }
        if (!(threshold > 0 && threshold < 1)) {
          throw Errors.invalidConfig(k + "threshold", t,
              "'" + BEST_F1 + "' (the F1-maximising threshold on validation) or a number in (0, 1)");
        }
      }
      double budget = config.number(k + "time-budget-seconds");
      if (budget < 0) {
        throw Errors.invalidConfig(k + "time-budget-seconds", budget, "0 (no limit) or more");
      }
      boolean drop = "drop".equals(config.oneOf(k + "degenerate-features",
          List.of("drop", "fail")));
      long driverMib = config.longValue(k + "logistic.driver-max-mib");
      if (driverMib < 0) {
        throw Errors.invalidConfig(k + "logistic.driver-max-mib", driverMib,
            "0 (every pass a Spark job) or more");
      }
      return new TrainSettings(folds, parallelism, config.bool(k + "cv.local-checkpoint"),
          config.oneOf(k + "cv.metric", METRICS),
          "balanced".equals(weights), threshold, budget, drop, config.longValue(k + "seed"),
          config.number(k + "gbt.validation-fraction"),
          config.bool(k + "permutation-importance"),
          Modes.fromConfig(config, k + "refit", Modes.Refit.class),
          config.bool(k + "logistic.shared-pass"), driverMib << 20);
    }
  }

  /** Fits, evaluates and saves one candidate. */
  private static final class CandidateRun {
    private final Candidate candidate;
    private final ModelRun run;
    private final FeatureSchema schema;
    private final TrainSettings settings;
    private final Map<String, Object> summary = new LinkedHashMap<>();
    private String line;

    CandidateRun(Candidate candidate, ModelRun run, FeatureSchema schema, TrainSettings settings) {
      this.candidate = candidate;
      this.run = run;
      this.schema = schema;
      this.settings = settings;
    }

    Row fit(FoldData folds, org.apache.spark.ml.Pipeline preprocessing, Dataset<Row> train,
        Dataset<Row> refitRows, Dataset<Row> data, int index, int total, long runStart) {
      String name = candidate.name();
      long start = System.nanoTime();
      long cpuStart = cpuNanos();
      LOG.info("train: candidate {} of {}: {} ({} grid points x {} folds)", index, total, name,
          candidate.grid().length, settings.folds());
      CrossValidation.Settings cvs = new CrossValidation.Settings(settings.folds(),
          settings.parallelism(), settings.localCheckpoint(), settings.budgetSeconds(),
          settings.metric(), schema.idColumn(), index, total, runStart,
          settings.sharedLogistic(), settings.logisticDriverBytes());
      RunLayout layout = RunLayout.of(run);
      CrossValidation.Result cv = CrossValidation.run(candidate, folds, preprocessing, train,
          refitRows, cvs, oof -> oof.write().format("delta").mode("overwrite").save(layout.outOfFold(name)));
      Pipelines.save(cv.model(), layout.candidateModel(name));

      // validation and test scored in one pass over the rows, kept narrow for their metrics
      Dataset<Row> heldOut = cv.model().transform(
              data.where(col(Splits.COLUMN).isin(Splits.VALIDATION, Splits.TEST)))
          .select(col(Splits.COLUMN), CandidatePipeline.positiveProbability(name).as("p"),
              col(CandidatePipeline.LABEL).as("y"))
          .persist(StorageLevel.MEMORY_AND_DISK());
      Map<String, Object> valMetrics;
      Map<String, Object> testMetrics;
      double threshold;
      try {
        valMetrics = Metrics.evaluate(heldOut.where(col(Splits.COLUMN).equalTo(
                Splits.VALIDATION)), col("p"), "y", settings.threshold() == null
            ? OptionalDouble.empty() : OptionalDouble.of(settings.threshold()));
        threshold = (Double) valMetrics.get("threshold");
        testMetrics = Metrics.evaluate(heldOut.where(col(Splits.COLUMN).equalTo(Splits.TEST)),
            col("p"), "y", OptionalDouble.of(threshold));
      } finally {
        heldOut.unpersist();
      }
      if (Importance.isModelBased(cv.model()) || settings.permutationImportance()) {
        Importance.saveForCandidate(run, name, cv.model(), schema,
            data.where(col(Splits.COLUMN).equalTo(Splits.VALIDATION)), settings.seed());
      } else {
        LOG.info("train: no importance.json for {} (permutation importance is off:"
            + " propensity.train.permutation-importance)", name);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      double cpuSeconds = (cpuNanos() - cpuStart) / 1e9;

      CrossValidation.GridResult best = cv.bestResult();
      run.writeJson(RunLayout.candidate(name, RunLayout.PARAMS), cv.params());
      Map<String, Object> metricsJson = metricsJson(cv, valMetrics, testMetrics, threshold,
          seconds);
      metricsJson.put("cpu_seconds", cpuSeconds);
      run.writeJson(RunLayout.candidate(name, RunLayout.METRICS), metricsJson);

      Map<String, Object> row = new LinkedHashMap<>();
      row.put("run_id", run.id());
      row.put("candidate", name);
      row.put("params", json(cv.params()));
      row.put("cv_metric", settings.metric());
      row.put("cv_mean", best.mean());
      row.put("cv_std", best.std());
      row.put("cv_folds", settings.folds());
      row.put("grid_points", cv.gridPoints());
      row.put("grid_points_evaluated", cv.evaluated().size());
      row.put("budget_exhausted", cv.budgetExhausted());
      row.put("threshold", threshold);
      for (String m : Leaderboard.SPLIT_METRICS) {
        row.put("validation_" + m, valMetrics.get(m));
        row.put("test_" + m, testMetrics.get(m));
      }
      row.put("fit_seconds", seconds);
      row.put("created_at", Timestamp.from(Instant.now()));

      summary.put("cv_mean", best.mean());
      summary.put("cv_std", best.std());
      summary.put("validation_auc_roc", valMetrics.get("auc_roc"));
      summary.put("grid_points_evaluated", cv.evaluated().size());
      summary.put("budget_exhausted", cv.budgetExhausted());
      summary.put("fit_seconds", seconds);
      line = String.format("  %-24s cv %s %.4f +- %.4f  validation auc %.4f  (%d of %d grid"
              + " points%s, %d s)", name, settings.metric(), best.mean(), best.std(),
          (Double) valMetrics.get("auc_roc"), cv.evaluated().size(), cv.gridPoints(),
          cv.budgetExhausted() ? ", time budget hit" : "", Math.round(seconds));
      LOG.info("train: candidate {} of {}: {} best {} cv {} {} validation auc {} in {} s"
              + " ({} s CPU)", index, total, name, cv.params(), settings.metric(),
          String.format("%.4f", best.mean()),
          String.format("%.4f", (Double) valMetrics.get("auc_roc")), Math.round(seconds),
          Math.round(cpuSeconds));
      return Leaderboard.row(row);
    }

    private Map<String, Object> metricsJson(CrossValidation.Result cv, Map<String, Object> val,
        Map<String, Object> test, double threshold, double seconds) {
      CrossValidation.GridResult best = cv.bestResult();
      Map<String, Object> cvJson = new LinkedHashMap<>();
      cvJson.put("metric", settings.metric());
      cvJson.put("folds", settings.folds());
      cvJson.put("stratified", true);
      cvJson.put("mean", best.mean());
      cvJson.put("std", best.std());
      cvJson.put("fold_metrics", best.foldMetrics());
      cvJson.put("grid_points", cv.gridPoints());
      cvJson.put("grid_points_evaluated", cv.evaluated().size());
      cvJson.put("budget_exhausted", cv.budgetExhausted());
      cvJson.put("time_budget_seconds", settings.budgetSeconds());
      cvJson.put("grid", cv.evaluated());
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("cv_metric", settings.metric());
      m.put("cv_mean", best.mean());
      m.put("cv_std", best.std());
      m.put("cv", cvJson);
      m.put("threshold", Map.of("value", threshold, "chosen_by", settings.threshold() == null
          ? "maximum F1 on validation" : "propensity.train.threshold"));
      m.put("validation", val);
      m.put("test", test);
      m.put("model", Candidates.fittedFacts(cv.model()));
      m.put("instance_weights", candidate.weighted());
      // beyond the training split, the refitted rows' metrics are in-sample
      m.put("refit", Modes.name(settings.refit()));
      m.put("in_sample", settings.refit().splits().subList(1, settings.refit().splits().size()));
      m.put("out_of_fold", RunLayout.OUT_OF_FOLD);
      m.put("fit_seconds", seconds);
      m.put("cv_seconds", cv.cvSeconds());
      m.put("refit_seconds", cv.refitSeconds());
      return m;
    }

    Map<String, Object> summary() {
      return summary;
    }

    String summaryLine() {
      return line;
    }
  }

  /** @return this JVM's CPU time so far (all threads), or 0 where the JVM does not say */
  static long cpuNanos() {
    var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean sun
        ? Math.max(0, sun.getProcessCpuTime()) : 0;
  }

  static String json(Object value) {
    try {
      return ModelRun.JSON.writer().without(
          com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
