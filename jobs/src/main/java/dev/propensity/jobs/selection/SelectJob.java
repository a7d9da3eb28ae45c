package dev.propensity.jobs.selection;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRuns;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.Job;
import dev.propensity.jobs.RunData;
import dev.propensity.jobs.training.CandidatePipeline;
import dev.propensity.jobs.training.Leaderboard;
import dev.propensity.jobs.training.Metrics;
import dev.propensity.jobs.training.Splits;
import dev.propensity.jobs.training.TrainJob;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ranks a run's candidates by a metric, keeps the top N as voters, records them, and scores the
 * soft-voting ensemble on validation and test for its own leaderboard row.
 */
public final class SelectJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(SelectJob.class);

  /** Metrics a run can be ranked by: split_metric. */
  public static final List<String> METRICS = List.of("validation_auc_roc", "validation_auc_pr",
      "test_auc_roc", "test_auc_pr");

  @Override
  public String name() {
    return "select";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    String metric = config.oneOf("propensity.select.metric", METRICS);
    int topN = config.integer("propensity.select.top-n");
    if (topN < 1) {
      throw Errors.invalidConfig("propensity.select.top-n", topN, "at least 1");
    }
    Warehouse warehouse = Warehouse.of(spark, config);
    ModelRuns runs = new ModelRuns(warehouse.root(), spark.sparkContext().hadoopConfiguration());
    ModelRun run = runs.openOrNewest(config.string("propensity.select.run-id"));

    List<Ensemble.Voter> ranked = new ArrayList<>();
    for (String name : candidates(run)) {
      double value = metricOf(run, name, metric);
      ranked.add(new Ensemble.Voter(name, 1.0, value));
    }
    ranked.sort(Comparator.comparingDouble(Ensemble.Voter::metric).reversed());
    List<Ensemble.Voter> voters = ranked.subList(0, Math.min(topN, ranked.size()));
    List<PipelineModel> models = voters.stream()
        .map(v -> PipelineModel.load(Ensemble.modelPath(run, v.name()))).toList();
    Ensemble ensemble = Ensemble.of(voters, models);

    Dataset<Row> rows = RunData.splitRows(warehouse, FeatureSchema.fromConfig(config), run);
    Map<String, Double> val = Metrics.ranking(
        ensemble.score(rows.where(col("__split").equalTo(Splits.VALIDATION))),
        col("propensity"), CandidatePipeline.LABEL);
    Map<String, Double> test = Metrics.ranking(
        ensemble.score(rows.where(col("__split").equalTo(Splits.TEST))),
        col("propensity"), CandidatePipeline.LABEL);
    Ensemble.save(run, "soft-vote-mean", metric, voters);
    run.writeJson("ensemble/metrics.json", Map.of("validation", val, "test", test));
    Row row = Leaderboard.row(Map.of("run_id", run.id(), "candidate", "ensemble",
        "params", "{\"method\":\"soft-vote-mean\",\"voters\":\""
            + String.join(",", voters.stream().map(Ensemble.Voter::name).toList()) + "\"}",
        "validation_auc_roc", val.get("auc_roc"), "validation_auc_pr", val.get("auc_pr"),
        "test_auc_roc", test.get("auc_roc"), "test_auc_pr", test.get("auc_pr"),
        "created_at", Timestamp.from(Instant.now())));
    warehouse.append(spark.createDataFrame(List.of(row), TrainJob.LEADERBOARD_SCHEMA),
        Tables.LEADERBOARD);
    LOG.info("select: run {} voters {} by {}; ensemble validation auc {}", run.id(),
        voters.stream().map(Ensemble.Voter::name).toList(), metric, val.get("auc_roc"));
    return String.format("select: run %s, voters %s (by %s), ensemble validation AUC %.4f",
        run.id(), voters.stream().map(Ensemble.Voter::name).toList(), metric, val.get("auc_roc"));
  }

  private static List<String> candidates(ModelRun run) {
    Map<String, Object> manifest = RunData.manifest(run);
    return ModelRun.JSON.convertValue(manifest.get("candidates"), new TypeReference<>() {});
  }

  private static double metricOf(ModelRun run, String candidate, String metric) {
    Map<String, Object> m = run.readJson("candidates/" + candidate + "/metrics.json",
        new TypeReference<>() {});
    String split = metric.substring(0, metric.indexOf('_'));
    @SuppressWarnings("unchecked")
    Map<String, Object> bySplit = (Map<String, Object>) m.get(split);
    return ((Number) bySplit.get(metric.substring(split.length() + 1))).doubleValue();
  }
}
