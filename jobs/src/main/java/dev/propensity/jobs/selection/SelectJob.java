package dev.propensity.jobs.selection;

import dev.propensity.jobs.model.ReasonCodes;

import dev.propensity.jobs.model.RunLayout;

import dev.propensity.jobs.model.Ensemble;
import dev.propensity.jobs.model.Modes;
import dev.propensity.jobs.model.Modes.Combine;
import dev.propensity.jobs.model.Modes.ThresholdRule;
import dev.propensity.jobs.model.EnsembleModel;
import dev.propensity.jobs.model.EnsembleModel.Voter;
import dev.propensity.jobs.model.Calibration;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.propensity.common.Errors;
import dev.propensity.common.PropensityException;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRuns;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.Job;
import dev.propensity.jobs.RunData;
import dev.propensity.jobs.model.Importance;
import dev.propensity.jobs.model.CandidatePipeline;
import dev.propensity.jobs.model.Leaderboard;
import dev.propensity.jobs.model.Metrics;
import dev.propensity.jobs.model.Splits;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.stream.IntStream;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a run's leaderboard into its ensemble: ranks the candidates by a metric, keeps the top N
 * (optionally skipping one that correlates too closely with a voter already chosen), combines
 * them (mean, metric-weighted mean, or a stacking meta-learner fitted on the voters' out-of-fold
 * predictions), calibrates the result on the validation rows (Platt or isotonic), chooses the
 * decision threshold, and saves it all as one {@link EnsembleModel} in the run folder with its
 * own leaderboard row.
 */
public final class SelectJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(SelectJob.class);

  /** Metrics a run can be ranked by: split_metric of the candidates' metrics.json. */
  public static final List<String> METRICS = List.of("validation_auc_roc", "validation_auc_pr",
      "validation_top_decile_lift");

  private static final String KEY = "propensity.select.";
  /** The metrics {@link Metrics#ranking} computes. */
  private static final List<String> RANKING = List.of("auc_roc", "auc_pr");

  @Override
  public String name() {
    return "select";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    String metric = config.oneOf(KEY + "metric", METRICS);
    Combine combine = Modes.fromConfig(config, KEY + "combine", Combine.class);
    Modes.Calibration calibration = Modes.fromConfig(config, KEY + "calibration",
        Modes.Calibration.class);
    ThresholdRule rule = Modes.fromConfig(config, KEY + "threshold.rule", ThresholdRule.class);
    double targetRecall = config.number(KEY + "threshold.target-recall");
    double maxCorrelation = config.number(KEY + "max-correlation");
    int topN = config.integer(KEY + "top-n");
    if (topN < 1) {
      throw Errors.invalidConfig(KEY + "top-n", topN, "at least 1");
    }
    if (targetRecall <= 0 || targetRecall > 1) {
      throw Errors.invalidConfig(KEY + "threshold.target-recall", targetRecall, "in (0, 1]");
    }
    Warehouse warehouse = Warehouse.of(spark, config);
    ModelRuns runs = new ModelRuns(warehouse.root(), spark.sparkContext().hadoopConfiguration());
    ModelRun run = runs.openOrNewest(config.string(KEY + "run-id"));
    RunData.requireStatus(run, "select", List.of("trained", "selected", ModelRun.COMPLETED));
    FeatureSchema schema = FeatureSchema.fromConfig(config);

    Modes.Refit refit = RunData.refit(run);
    Dataset<Row> rows = RunData.splitRows(warehouse, schema, run);
    Dataset<Row> validation = rows.where(col(Splits.COLUMN).equalTo(Splits.VALIDATION))
        .persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> test = rows.where(col(Splits.COLUMN).equalTo(Splits.TEST));

    List<String> names = candidates(run);
    boolean outOfFold = rankByOutOfFold(config, run, names, refit, validation);
    List<Voter> ranked = new ArrayList<>();
    for (String name : names) {
      ranked.add(new Voter(name, 1.0, outOfFold
          ? outOfFoldMetric(spark, run, name, metric, schema.idColumn())
          : metricOf(run, name, metric), null));
    }
    ranked.sort(Comparator.comparingDouble(Voter::metric).reversed());
    String rankedOn = outOfFold ? "out-of-fold" : Splits.VALIDATION;
    LOG.info("select: candidates ranked by {} on {}: {}", metric, rankedOn,
        ranked.stream().map(Voter::describe).toList());

    ranked = ranked.stream().map(v -> new Voter(v.name(), 1.0, v.metric(),
        PipelineModel.load(RunLayout.of(run).candidateModel(v.name())))).toList();
    List<Voter> parts = chooseVoters(ranked, validation, topN, maxCorrelation).stream()
        .map(v -> v.withWeight(combine == Combine.WEIGHTED ? v.metric() : 1.0)).toList();
    List<Voter> voters = parts;

    EnsembleModel model = combine == Combine.STACKING
        ? EnsembleModel.stacked(parts, fitMeta(spark, run, voters, schema.idColumn(),
            config.number(KEY + "stacking.reg-param")))
        : EnsembleModel.softVote(parts, combine);
    // calibration and threshold on rows the final models never saw: validation, or the voters'
    // out-of-fold predictions when the final models were refitted on the validation rows
    boolean oofReference = refit.includesValidation();
    String fittedOn = oofReference ? "out-of-fold" : Splits.VALIDATION;
    String hint = "Runs refitted on their validation rows (propensity.train.refit) calibrate on"
        + " out-of-fold predictions: retrain the run.";
    // the voters' out-of-fold probabilities, read once for calibration and threshold
    Dataset<Row> oof = oofReference
        ? RunData.voterOutOfFold(spark, run, model, schema.idColumn(), hint)
            .persist(StorageLevel.MEMORY_AND_DISK())
        : null;
    Dataset<Row> rawReference = oofReference ? model.fromVoterProbabilities(oof)
        : model.transform(validation);
    if (calibration == Modes.Calibration.PLATT) {
      double[] ab = Calibration.fitPlatt(rawReference, EnsembleModel.RAW, CandidatePipeline.LABEL);
      model = model.withPlatt(ab[0], ab[1]);
    } else if (calibration == Modes.Calibration.ISOTONIC) {
      model = model.withIsotonic(Calibration.fitIsotonic(rawReference, EnsembleModel.RAW,
          CandidatePipeline.LABEL));
    }

    Dataset<Row> scoredValidation = model.transform(validation)
        .persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> scoredTest = model.transform(test).persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> scoredReference = oofReference ? model.fromVoterProbabilities(oof)
        : scoredValidation;
    Thresholds.Choice threshold = Thresholds.choose(scoredReference, EnsembleModel.PROPENSITY,
        CandidatePipeline.LABEL, rule == ThresholdRule.TARGET_RECALL ? targetRecall : 0);
    Map<String, Object> val = Metrics.evaluate(scoredValidation, col(EnsembleModel.PROPENSITY),
        CandidatePipeline.LABEL, OptionalDouble.of(threshold.threshold()));
    Map<String, Object> tst = Metrics.evaluate(scoredTest, col(EnsembleModel.PROPENSITY),
        CandidatePipeline.LABEL, OptionalDouble.of(threshold.threshold()));
    Map<String, Object> calibrationTables = new LinkedHashMap<>();
    calibrationTables.put("method", Modes.name(calibration));
    calibrationTables.put("fitted_on", fittedOn);
    calibrationTables.put("before", Calibration.table(scoredTest, EnsembleModel.RAW,
        CandidatePipeline.LABEL));
    calibrationTables.put("after", Calibration.table(scoredTest, EnsembleModel.PROPENSITY,
        CandidatePipeline.LABEL));
    scoredValidation.unpersist();
    scoredTest.unpersist();
    if (oof != null) {
      oof.unpersist();
    }
    validation.unpersist();

    Map<String, Object> description = new LinkedHashMap<>();
    description.put("combine", Modes.name(combine));
    description.put("metric", metric);
    description.put("ranked_on", rankedOn);
    description.put("refit", Modes.name(refit));
    description.put("calibrated_on", fittedOn);
    description.put("calibration", Modes.name(calibration));
    description.put("threshold", threshold);
    Ensemble.save(run, description, model);
    run.writeJson(RunLayout.ensemble(RunLayout.CALIBRATION), calibrationTables);
    run.writeJson(RunLayout.ensemble(RunLayout.THRESHOLD), threshold);
    run.writeJson(RunLayout.ensemble(RunLayout.METRICS), Map.of("validation", val, "test", tst,
        "in_sample", refit.splits().subList(1, refit.splits().size())));
    saveImportance(config, run, Ensemble.of(model), schema,
        rows.where(col(Splits.COLUMN).equalTo(Splits.VALIDATION)));

    Map<String, Object> row = new HashMap<>();
    row.put("run_id", run.id());
    row.put("candidate", "ensemble");
    row.put("params", params(Modes.name(combine), Modes.name(calibration), voters));
    row.put("threshold", threshold.threshold());
    for (String m : Leaderboard.SPLIT_METRICS) {
      row.put("validation_" + m, val.get(m));
      row.put("test_" + m, tst.get(m));
    }
    row.put("created_at", Timestamp.from(Instant.now()));
    // one ensemble row per run: a re-run replaces it
    warehouse.replaceWhere(spark.createDataFrame(List.of(Leaderboard.row(row)),
        Leaderboard.SCHEMA), Tables.LEADERBOARD,
        Map.of("run_id", run.id(), "candidate", "ensemble"));
    if (!ModelRun.COMPLETED.equals(run.status())) {
      run.setStatus("selected");
    }
    List<String> chosen = voters.stream().map(Voter::name).toList();
    LOG.info("select: run {} voters {} by {} on {}, {} + {} calibration on {}; validation auc {},"
        + " threshold {}", run.id(), chosen, metric, rankedOn, Modes.name(combine),
        Modes.name(calibration), fittedOn, val.get("auc_roc"), threshold);
    return String.format("select: run %s, voters %s (by %s on %s), %s, %s calibration on %s,"
            + " validation AUC %.4f, threshold %.4f (%s: precision %.3f, recall %.3f)", run.id(),
        chosen, metric, rankedOn, Modes.name(combine), Modes.name(calibration), fittedOn,
        ((Number) val.get("auc_roc")).doubleValue(),
        threshold.threshold(),
        threshold.rule(), threshold.precision(), threshold.recall());
  }

  /**
   * Greedy: best first; a candidate whose validation probabilities correlate above
   * {@code maxCorrelation} with a voter already chosen is skipped.
   */
  static List<Voter> chooseVoters(List<Voter> ranked, Dataset<Row> validation, int topN,
      double maxCorrelation) {
    if (maxCorrelation >= 1.0 || ranked.size() <= 1) {
      return List.copyOf(ranked.subList(0, Math.min(topN, ranked.size())));
    }
    Dataset<Row> probs = EnsembleModel.softVote(ranked, Combine.MEAN).transform(validation);
    List<Column> cols = new ArrayList<>();
    for (Voter v : ranked) {
      cols.add(col(EnsembleModel.VOTER_PROBABILITIES).getItem(v.name()).as(v.name()));
    }
    Dataset<Row> wide = probs.select(cols.toArray(new Column[0]))
        .persist(StorageLevel.MEMORY_AND_DISK());
    List<Voter> chosen = new ArrayList<>();
    for (Voter candidate : ranked) {
      if (chosen.size() == topN) {
        break;
      }
      boolean diverse = true;
      for (Voter v : chosen) {
        double r = wide.stat().corr(candidate.name(), v.name());
        if (r > maxCorrelation) {
          LOG.info("select: skipping {}: correlation {} with voter {} is above {}",
              candidate.name(), r, v.name(), maxCorrelation);
          diverse = false;
          break;
        }
      }
      if (diverse) {
        chosen.add(candidate);
      }
    }
    wide.unpersist();
    return chosen;
  }

  /**
   * The ensemble's global importance (mean |contribution|) on the first {@code
   * select.importance-rows} validation rows, in {@code ensemble/importance.json}. Voters without
   * exact explanations follow {@code explain.unsupported-voters}; when none of them has one, the
   * file is left out with a warning.
   */
  private static void saveImportance(JobConfig config, ModelRun run, Ensemble ensemble,
      FeatureSchema schema, Dataset<Row> validation) {
    int n = config.integer(KEY + "importance-rows");
    if (n < 0) {
      throw Errors.invalidConfig(KEY + "importance-rows", n, "0 (off) or more");
    }
    if (n == 0) {
      return;
    }
    boolean skip = ReasonCodes.skipUnsupported(config);
    try {
      Importance.saveForEnsemble(run, ensemble, schema, validation.limit(n), skip);
    } catch (PropensityException e) {
      if (!skip) {
        throw e;
      }
      LOG.warn("select: no ensemble importance for run {}: {}", run.id(), e.getMessage());
    }
  }

  /**
   * The stacking meta-learner's training rows: the voters' out-of-fold probabilities on the
   * training split, joined by customer id; never the final models' in-sample predictions.
   */
  public static Dataset<Row> stackingRows(SparkSession spark, ModelRun run,
      List<Voter> voters, String idColumn) {
    List<String> probs = IntStream.range(0, voters.size()).mapToObj(i -> "__oof_" + i).toList();
    Dataset<Row> out = RunData.outOfFold(spark, run,
        voters.stream().map(Voter::name).toList(), probs, idColumn,
        "Stacking fits on out-of-fold predictions: retrain the run, or set"
            + " propensity.select.combine to mean or weighted.");
    return EnsembleModel.metaFeatures(out, probs);
  }

  private static LogisticRegressionModel fitMeta(SparkSession spark, ModelRun run,
      List<Voter> voters, String idColumn, double regParam) {
    return new LogisticRegression().setFeaturesCol(EnsembleModel.META_FEATURES)
        .setLabelCol("label").setRegParam(regParam).setMaxIter(100)
        .fit(stackingRows(spark, run, voters, idColumn));
  }

  private static String params(String combine, String calibration, List<Voter> voters) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("combine", combine);
    p.put("calibration", calibration);
    p.put("voters", voters.stream().map(Voter::name).toList());
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(p);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<String> candidates(ModelRun run) {
    Map<String, Object> manifest = RunData.manifest(run);
    List<String> names = ModelRun.JSON.convertValue(manifest.get("candidates"),
        new TypeReference<>() {});
    return names.stream().filter(n -> run.exists(RunLayout.candidate(n, RunLayout.METRICS))).toList();
  }

  /**
   * Whether to rank on the out-of-fold predictions: asked for, or (auto) the run was refitted on
   * its validation rows, or the validation split holds too few positives to rank on.
   */
  private static boolean rankByOutOfFold(JobConfig config, ModelRun run, List<String> names,
      Modes.Refit refit, Dataset<Row> validation) {
    Modes.RankBy rankBy = Modes.fromConfig(config, KEY + "rank-by", Modes.RankBy.class);
    if (rankBy != Modes.RankBy.AUTO) {
      return rankBy == Modes.RankBy.OUT_OF_FOLD;
    }
    int below = config.integer(KEY + "out-of-fold-below-positives");
    long positives = validation.where(col(CandidatePipeline.LABEL).equalTo(1.0)).count();
    boolean want = refit.includesValidation() || positives < below;
    if (want && !names.stream().allMatch(n -> RunLayout.of(run).hasOutOfFold(n))) {
      LOG.warn("select: run {} lacks out-of-fold predictions for some candidates; ranking on"
          + " validation", run.id());
      return false;
    }
    LOG.info("select: rank-by auto: {} ({} validation positives, out-of-fold below {}; refit"
        + " {})", want ? "out-of-fold" : "validation", positives, below, Modes.name(refit));
    return want;
  }

  /** @return the metric (validation_x names metric x) over a candidate's out-of-fold rows */
  private static double outOfFoldMetric(SparkSession spark, ModelRun run, String candidate,
      String metric, String idColumn) {
    Dataset<Row> oof = RunData.outOfFold(spark, run, List.of(candidate), List.of("__p"),
        idColumn, "Set propensity.select.rank-by = validation, or retrain the run.");
    String name = metric.substring(metric.indexOf('_') + 1);
    // the ranking metrics alone when they are asked for: three jobs, not every metric's
    Map<String, ?> metrics = RANKING.contains(name) ? Metrics.ranking(oof, col("__p"), "label")
        : Metrics.evaluate(oof, col("__p"), "label", OptionalDouble.empty());
    Object value = metrics.get(name);
    // without both classes: null from evaluate, NaN from ranking
    return value == null || Double.isNaN(((Number) value).doubleValue())
        ? Double.NEGATIVE_INFINITY : ((Number) value).doubleValue();
  }

  private static double metricOf(ModelRun run, String candidate, String metric) {
    Map<String, Object> m = run.readJson(RunLayout.candidate(candidate, RunLayout.METRICS),
        new TypeReference<>() {});
    String split = metric.substring(0, metric.indexOf('_'));
    @SuppressWarnings("unchecked")
    Map<String, Object> bySplit = (Map<String, Object>) m.get(split);
    Object value = bySplit == null ? null : bySplit.get(metric.substring(split.length() + 1));
    return value == null ? Double.NEGATIVE_INFINITY : ((Number) value).doubleValue();
  }
}
