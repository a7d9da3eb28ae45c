package dev.propensity.jobs.training;

import static org.apache.spark.sql.functions.col;

import dev.propensity.common.Version;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRuns;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.FeatureInput;
import dev.propensity.jobs.Job;
import dev.propensity.jobs.selection.Ensemble;
import dev.propensity.jobs.training.Candidates.Candidate;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.ml.param.ParamPair;
import org.apache.spark.ml.tuning.CrossValidator;
import org.apache.spark.ml.tuning.CrossValidatorModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cross-validated training of each configured candidate on the training split of one labelled
 * snapshot. Writes a new run folder (fitted pipelines, params and metrics per candidate, the
 * manifest, the redacted settings) and appends one {@code leaderboard} row per candidate.
 */
public final class TrainJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);

  /** The leaderboard table's columns. */
  public static final StructType LEADERBOARD_SCHEMA = new StructType()
      .add("run_id", DataTypes.StringType)
      .add("candidate", DataTypes.StringType)
      .add("params", DataTypes.StringType)
      .add("cv_metric", DataTypes.StringType)
      .add("cv_mean", DataTypes.DoubleType)
      .add("cv_std", DataTypes.DoubleType)
      .add("validation_auc_roc", DataTypes.DoubleType)
      .add("validation_auc_pr", DataTypes.DoubleType)
      .add("test_auc_roc", DataTypes.DoubleType)
      .add("test_auc_pr", DataTypes.DoubleType)
      .add("fit_seconds", DataTypes.DoubleType)
      .add("created_at", DataTypes.TimestampType);

  @Override
  public String name() {
    return "train";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    Warehouse warehouse = Warehouse.of(spark, config);
    FeatureSchema schema = FeatureSchema.fromConfig(config);
    List<Candidate> candidates = Candidates.fromConfig(config, schema);
    Splits splits = Splits.fromConfig(config);
    FeatureInput input = FeatureInput.forTraining(
        warehouse, schema, config.string("propensity.train.snapshot"));
    schema.forTable(warehouse.path(schema.table()))
        .validate(input.rows(), FeatureSchema.Mode.TRAINING);

    Dataset<Row> data = input.rows()
        .withColumn(CandidatePipeline.LABEL, col(schema.labelColumn()).cast("double"))
        .withColumn("__split", splits.column(schema.idColumn()))
        .persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> train = data.where(col("__split").equalTo(Splits.TRAIN));
    Dataset<Row> validation = data.where(col("__split").equalTo(Splits.VALIDATION));
    Dataset<Row> test = data.where(col("__split").equalTo(Splits.TEST));

    ModelRuns runs = new ModelRuns(warehouse.root(), spark.sparkContext().hadoopConfiguration());
    ModelRun run = runs.create(config.string("propensity.train.run-id"));
    LOG.info("train: run {} on {} snapshot {} (version {})", run.id(), schema.table(),
        input.snapshot().orElse("(all)"), input.version());
    run.writeText("settings.conf", config.renderRedacted());

    List<Row> leaderboard = new ArrayList<>();
    for (int i = 0; i < candidates.size(); i++) {
      Candidate c = candidates.get(i);
      LOG.info("train: candidate {} of {}: {} ({} grid points x {} folds)", i + 1,
          candidates.size(), c.name(), c.grid().length,
          config.integer("propensity.train.cv.num-folds"));
      leaderboard.add(fitCandidate(c, config, run, train, validation, test));
    }
    warehouse.append(spark.createDataFrame(leaderboard, LEADERBOARD_SCHEMA), Tables.LEADERBOARD);
    run.writeJson("manifest.json", manifest(spark, config, run, input, data, splits));
    data.unpersist();
    return String.format("train: run %s, %d candidate(s) -> %s", run.id(), candidates.size(),
        run.path());
  }

  private static Row fitCandidate(Candidate c, JobConfig config, ModelRun run,
      Dataset<Row> train, Dataset<Row> validation, Dataset<Row> test) {
    long start = System.nanoTime();
    CrossValidator cv = new CrossValidator()
        .setEstimator(c.pipeline())
        .setEstimatorParamMaps(c.grid())
        .setEvaluator(new BinaryClassificationEvaluator()
            .setLabelCol(CandidatePipeline.LABEL)
            .setRawPredictionCol(CandidatePipeline.rawPredictionCol(c.name()))
            .setMetricName("areaUnderROC"))
        .setNumFolds(config.integer("propensity.train.cv.num-folds"))
        .setParallelism(config.integer("propensity.train.cv.parallelism"))
        .setSeed(config.longValue("propensity.train.seed"))
        .setCollectSubModels(false);
    CrossValidatorModel model = cv.fit(train);
    double seconds = (System.nanoTime() - start) / 1e9;
    int best = argMax(model.avgMetrics());
    PipelineModel fitted = (PipelineModel) model.bestModel();
    try {
      fitted.write().overwrite().save(Ensemble.modelPath(run, c.name()));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("Cannot save " + c.name() + " to " + run.path(), e);
    }

    Map<String, Double> val = score(fitted, c.name(), validation);
    Map<String, Double> tst = score(fitted, c.name(), test);
    Map<String, Object> params = new LinkedHashMap<>();
    for (ParamPair<?> pp : c.grid()[best].toList()) {
      params.put(pp.param().name(), pp.value());
    }
    Map<String, Object> metrics = new LinkedHashMap<>();
    metrics.put("cv_metric", "auc_roc");
    metrics.put("cv_mean", model.avgMetrics()[best]);
    // MLlib's CrossValidator keeps only the fold mean; per-fold spread comes with own folds
    metrics.put("cv_std", null);
    metrics.put("validation", val);
    metrics.put("test", tst);
    metrics.put("fit_seconds", seconds);
    run.writeJson("candidates/" + c.name() + "/params.json", params);
    run.writeJson("candidates/" + c.name() + "/metrics.json", metrics);
    LOG.info("train: {} best {} cv auc {} validation auc {} in {} s", c.name(), params,
        model.avgMetrics()[best], val.get("auc_roc"), Math.round(seconds));
    String paramsJson;
    try {
      paramsJson = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(params);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    return RowFactory.create(run.id(), c.name(), paramsJson, "auc_roc",
        model.avgMetrics()[best], null, val.get("auc_roc"),
        val.get("auc_pr"), tst.get("auc_roc"), tst.get("auc_pr"), seconds,
        Timestamp.from(Instant.now()));
  }

  private static Map<String, Double> score(PipelineModel model, String name, Dataset<Row> rows) {
    return Metrics.ranking(model.transform(rows), CandidatePipeline.positiveProbability(name),
        CandidatePipeline.LABEL);
  }

  private static int argMax(double[] values) {
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (values[i] > values[best]) {
        best = i;
      }
    }
    return best;
  }

  private static Map<String, Object> manifest(SparkSession spark, JobConfig config, ModelRun run,
      FeatureInput input, Dataset<Row> data, Splits splits) {
    Map<String, Object> counts = new LinkedHashMap<>();
    for (Row r : data.groupBy("__split").agg(
        org.apache.spark.sql.functions.count("*").as("rows"),
        org.apache.spark.sql.functions.avg(CandidatePipeline.LABEL).as("positive_rate"))
        .collectAsList()) {
      counts.put(r.getString(0), Map.of("rows", r.getLong(1), "positive_rate", r.getDouble(2)));
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("run_id", run.id());
    m.put("status", "trained");
    m.put("created_at", Instant.now().toString());
    m.put("input", Map.of("table", input.table(), "version", input.version(),
        "snapshot", input.snapshot().orElse("")));
    m.put("splits", Map.of("train", splits.train(), "validation", splits.validation(),
        "test", splits.test(), "seed", splits.seed(), "counts", counts));
    m.put("candidates", config.strings("propensity.train.candidates"));
    m.put("spark_version", spark.version());
    m.put("propensity_version", Version.get());
    return m;
  }
}
