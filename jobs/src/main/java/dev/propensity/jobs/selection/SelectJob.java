package dev.propensity.jobs.selection;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.propensity.common.PropensityException;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRuns;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.Job;
import dev.propensity.jobs.RunData;
import dev.propensity.jobs.model.Ensemble;
import dev.propensity.jobs.model.EnsembleModel.Voter;
import dev.propensity.jobs.model.Importance;
import dev.propensity.jobs.model.Leaderboard;
import dev.propensity.jobs.model.Modes;
import dev.propensity.jobs.model.Modes.Combine;
import dev.propensity.jobs.model.RunLayout;
import dev.propensity.jobs.model.Splits;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a run's leaderboard into its ensemble: ranks the candidates by a metric ({@link
 * Ranking}), keeps the top N (optionally skipping one that correlates too closely with a voter
 * already chosen), combines, calibrates and thresholds them ({@link SelectedEnsemble}), and saves
 * it all as one {@code EnsembleModel} in the run folder with its own leaderboard row.
 */
public final class SelectJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(SelectJob.class);

  @Override
  public String name() {
    return "select";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    SelectSettings settings = SelectSettings.fromConfig(config);
    FeatureSchema schema = FeatureSchema.fromConfig(config);
    Warehouse warehouse = Warehouse.of(spark, config);
    ModelRun run = new ModelRuns(warehouse.root(), spark.sparkContext().hadoopConfiguration())
        .openOrNewest(settings.runId());
    RunData.requireStatus(run, "select", List.of("trained", "selected", ModelRun.COMPLETED));
    Dataset<Row> rows = RunData.splitRows(warehouse, schema, run);
    // validation and test kept together: the split is a window over the whole features table,
    // computed once rather than again for the test rows
    Dataset<Row> heldOut = rows.where(col(Splits.COLUMN).isin(Splits.VALIDATION, Splits.TEST))
        .persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> validation = heldOut.where(col(Splits.COLUMN).equalTo(Splits.VALIDATION));
    Dataset<Row> test = heldOut.where(col(Splits.COLUMN).equalTo(Splits.TEST));

    Modes.Refit refit = RunData.refit(run);
    Ranking ranking = Ranking.of(spark, run, settings, refit, validation, schema.idColumn());
    List<Voter> voters = Ranking.chooseVoters(ranking.voters(), validation, settings.topN(),
            settings.maxCorrelation()).stream()
        .map(v -> v.withWeight(settings.combine() == Combine.WEIGHTED ? v.metric() : 1.0))
        .toList();
    SelectedEnsemble selected = SelectedEnsemble.fit(spark, run, settings, refit, voters,
        validation, test, schema.idColumn());

    writeFiles(run, settings, refit, ranking, selected);
    saveImportance(settings, run, Ensemble.of(selected.model()), schema, validation);
    heldOut.unpersist();
    writeLeaderboardRow(spark, warehouse, run, settings, selected, voters);
    if (!ModelRun.COMPLETED.equals(run.status())) {
      run.setStatus("selected");
    }
    return summary(run, settings, ranking, selected, voters);
  }

  /** The ensemble and its description, calibration, threshold and metrics in the run folder. */
  private static void writeFiles(ModelRun run, SelectSettings settings, Modes.Refit refit,
      Ranking ranking, SelectedEnsemble selected) {
    Map<String, Object> description = new LinkedHashMap<>();
    description.put("combine", Modes.name(settings.combine()));
    description.put("metric", settings.metric());
    description.put("ranked_on", ranking.rankedOn());
    description.put("refit", Modes.name(refit));
    description.put("calibrated_on", selected.fittedOn());
    description.put("calibration", Modes.name(settings.calibration()));
    description.put("threshold", selected.threshold());
    Ensemble.save(run, description, selected.model());
    run.writeJson(RunLayout.ensemble(RunLayout.CALIBRATION), selected.calibration());
    run.writeJson(RunLayout.ensemble(RunLayout.THRESHOLD), selected.threshold());
    run.writeJson(RunLayout.ensemble(RunLayout.METRICS), Map.of("validation",
        selected.validation(), "test", selected.test(),
        "in_sample", refit.splits().subList(1, refit.splits().size())));
  }

  /** The ensemble's leaderboard row; a re-run replaces it. */
  private static void writeLeaderboardRow(SparkSession spark, Warehouse warehouse, ModelRun run,
      SelectSettings settings, SelectedEnsemble selected, List<Voter> voters) {
    Map<String, Object> row = new HashMap<>();
    row.put("run_id", run.id());
    row.put("candidate", "ensemble");
    row.put("params", params(settings, voters));
    row.put("threshold", selected.threshold().threshold());
    for (String m : Leaderboard.SPLIT_METRICS) {
      row.put("validation_" + m, selected.validation().get(m));
      row.put("test_" + m, selected.test().get(m));
    }
    row.put("created_at", Timestamp.from(Instant.now()));
    // one ensemble row per run: a re-run replaces it
    warehouse.replaceWhere(spark.createDataFrame(List.of(Leaderboard.row(row)),
        Leaderboard.SCHEMA), Tables.LEADERBOARD,
        Map.of("run_id", run.id(), "candidate", "ensemble"));
  }

  private static String summary(ModelRun run, SelectSettings settings, Ranking ranking,
      SelectedEnsemble selected, List<Voter> voters) {
    List<String> chosen = voters.stream().map(Voter::name).toList();
    String combine = Modes.name(settings.combine());
    String calibration = Modes.name(settings.calibration());
    LOG.info("select: run {} voters {} by {} on {}, {} + {} calibration on {}; validation auc {},"
        + " threshold {}", run.id(), chosen, settings.metric(), ranking.rankedOn(), combine,
        calibration, selected.fittedOn(), selected.validation().get("auc_roc"),
        selected.threshold());
    Thresholds.Choice threshold = selected.threshold();
    return String.format("select: run %s, voters %s (by %s on %s), %s, %s calibration on %s,"
            + " validation AUC %.4f, threshold %.4f (%s: precision %.3f, recall %.3f)", run.id(),
        chosen, settings.metric(), ranking.rankedOn(), combine, calibration, selected.fittedOn(),
        ((Number) selected.validation().get("auc_roc")).doubleValue(), threshold.threshold(),
        threshold.rule(), threshold.precision(), threshold.recall());
  }

  /**
   * The ensemble's global importance (mean |contribution|) on the first {@code
   * select.importance-rows} validation rows, in {@code ensemble/importance.json}. Voters without
   * exact explanations follow {@code explain.unsupported-voters}; when none of them has one, the
   * file is left out with a warning.
   */
  private static void saveImportance(SelectSettings settings, ModelRun run, Ensemble ensemble,
      FeatureSchema schema, Dataset<Row> validation) {
    if (settings.importanceRows() == 0) {
      return;
    }
    // limit() leaves its rows in one partition: spread them so that every core explains some
    int cores = validation.sparkSession().sparkContext().defaultParallelism();
    try {
      Importance.saveForEnsemble(run, ensemble, schema, validation.limit(
          settings.importanceRows()).repartition(cores), settings.skipUnsupported());
    } catch (PropensityException e) {
      if (!settings.skipUnsupported()) {
        throw e;
      }
      LOG.warn("select: no ensemble importance for run {}: {}", run.id(), e.getMessage());
    }
  }

  private static String params(SelectSettings settings, List<Voter> voters) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("combine", Modes.name(settings.combine()));
    p.put("calibration", Modes.name(settings.calibration()));
    p.put("voters", voters.stream().map(Voter::name).toList());
    try {
      return new ObjectMapper().writeValueAsString(p);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
