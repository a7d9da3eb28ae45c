package dev.propensity.jobs.training;

import dev.propensity.jobs.model.TrainingData;

import dev.propensity.jobs.model.CandidatePipeline;
import dev.propensity.jobs.model.Splits;
import dev.propensity.jobs.model.Leaderboard;
import dev.propensity.jobs.model.Metrics;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.propensity.common.PropensityException;
import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRuns;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.RunData;
import dev.propensity.jobs.model.RunLayout;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** The train job end to end on small Delta tables: outputs, reproducibility, bad input. */
class TrainJobTest extends SparkTestBase {

  @Test
  void aRunWritesEveryArtefactAndTheSameSeedGivesTheSameLeaderboard() {
    String wh = tempWarehouse("train").toString();
    TrainingData.write(spark(), wh, TrainingData.frame(spark(), 2000, 2));
    JobConfig first = TrainingData.config(wh, "train.candidates=[logistic, gbt]",
        "train.run-id=first");
    new TrainJob().run(spark(), first);

    Warehouse warehouse = Warehouse.of(spark(), first);
    ModelRun run = new ModelRuns(warehouse.root(), spark().sparkContext().hadoopConfiguration())
        .open("first");
    Map<String, Object> manifest = RunData.manifest(run);
    assertThat(manifest.get("status")).isEqualTo("trained");
    assertThat(manifest).containsKeys("input", "splits", "cv", "features", "settings",
        "spark_version", "propensity_version", "seed");
    Map<String, Object> input = map(manifest.get("input"));
    assertThat(input.get("version")).isEqualTo(0);
    assertThat(input.get("snapshot")).isEqualTo("2026-05-31");
    Map<String, Object> counts = map(map(manifest.get("splits")).get("counts"));
    long trainRows = ((Number) map(counts.get("train")).get("rows")).longValue();
    long validationRows = ((Number) map(counts.get("validation")).get("rows")).longValue();
    assertThat(trainRows).isBetween(1398L, 1402L);
    List<Map<String, Object>> folds = ModelRun.JSON.convertValue(
        map(manifest.get("cv")).get("fold_counts"), new TypeReference<>() {});
    assertThat(folds).hasSize(3).allSatisfy(f -> assertThat(((Number) f.get("rows")).longValue())
        .isBetween(trainRows / 3 - 1, trainRows / 3 + 1));
    assertThat(map(manifest.get("settings"))).containsKey("propensity");

    // select and bins rebuild exactly the validation rows from the manifest's cut points
    assertThat(Splits.Cut.fromManifest(map(manifest.get("splits")).get("cuts"))).isPresent()
        .get().asList().hasSize(2);
    assertThat(RunData.splitRows(warehouse, FeatureSchema.fromConfig(first), run)
        .where(col(Splits.COLUMN).equalTo(Splits.VALIDATION)).count()).isEqualTo(validationRows);

    Dataset<Row> board = warehouse.read(Tables.LEADERBOARD).where(col("run_id").equalTo("first"));
    assertThat(board.columns()).containsExactlyElementsOf(Leaderboard.columns());
    assertThat(board.select("candidate").collectAsList()).extracting(r -> r.getString(0))
        .containsExactlyInAnyOrder("logistic", "gbt");
    for (String column : Leaderboard.columns()) {
      assertThat(board.where(col(column).isNull()).count()).as(column).isZero();
    }
    assertThat(board.where(col("validation_auc_roc").lt(0.75)).count()).isZero();

    for (String name : List.of("logistic", "gbt")) {
      Map<String, Object> metrics = run.readJson(RunLayout.candidate(name, RunLayout.METRICS),
          new TypeReference<>() {});
      assertThat(map(metrics.get("validation"))).containsKeys("auc_roc", "auc_pr", "log_loss",
          "brier", "precision", "recall", "f1", "confusion", "calibration", "top_decile_lift");
      assertThat(map(metrics.get("cv")).get("fold_metrics")).asList().hasSize(3);
      assertThat(run.exists(RunLayout.candidate(name, RunLayout.PARAMS))).isTrue();

      Dataset<Row> oof = spark().read().format("delta")
          .load(RunLayout.of(run).outOfFold(name));
      assertThat(oof.columns()).containsExactly("customer_id", "fold", "label", "probability");
      assertThat(oof.count()).isEqualTo(trainRows);
      assertThat(oof.select("customer_id").distinct().count()).isEqualTo(trainRows);
      assertThat(oof.where(col("fold").lt(0).or(col("fold").gt(2))
          .or(col("probability").lt(0)).or(col("probability").gt(1))).count()).isZero();
      assertThat(Metrics.ranking(oof, col("probability"), "label").get("auc_roc"))
          .isCloseTo((Double) metrics.get("cv_mean"), within(0.03));

      PipelineModel model = PipelineModel.load(RunLayout.of(run).candidateModel(name));
      assertThat(model.transform(warehouse.read("features")).select(
          CandidatePipeline.positiveProbability(name)).where(col(
          CandidatePipeline.probabilityCol(name)).isNull()).count()).isZero();
    }

    new TrainJob().run(spark(), first.with("train.run-id=second"));
    Dataset<Row> second = warehouse.read(Tables.LEADERBOARD).where(col("run_id")
        .equalTo("second"));
    List<String> compared = Leaderboard.columns().stream()
        .filter(c -> !List.of("run_id", "fit_seconds", "created_at").contains(c)).toList();
    assertThat(metricRows(second, compared)).isEqualTo(metricRows(board, compared));
  }

  private static List<String> metricRows(Dataset<Row> board, List<String> columns) {
    return board.select(columns.get(0), columns.subList(1, columns.size()).toArray(new String[0]))
        .collectAsList().stream().map(Row::toString).sorted().toList();
  }

  @Test
  void uselessFeaturesAreDroppedWithWarningsAndTheBudgetStopsTheGrid() {
    String wh = tempWarehouse("degenerate").toString();
    TrainingData.write(spark(), wh, TrainingData.frame(spark(), 1500, 4)
        .withColumn("constant", lit(3.0))
        .withColumn("empty", lit(null).cast("double"))
        .withColumn("country", lit("de")));
    JobConfig config = TrainingData.config(wh, "train.candidates=[logistic]",
        "schema.numeric=[x1, x2, x3, constant, empty]",
        "schema.categorical=[segment, country]",
        "train.logistic.reg-param=[0.001, 0.01, 0.1]", "train.time-budget-seconds=0.001",
        // the budget cuts a grid fitted point by point; the shared pass fits it as one unit
        "train.logistic.shared-pass=false", "train.run-id=budget");
    new TrainJob().run(spark(), config);
    Warehouse warehouse = Warehouse.of(spark(), config);
    ModelRun run = new ModelRuns(warehouse.root(), spark().sparkContext().hadoopConfiguration())
        .open("budget");
    Map<String, Object> manifest = RunData.manifest(run);
    assertThat(map(manifest.get("features")).get("dropped")).asList()
        .containsExactly("constant", "empty", "country");
    assertThat(manifest.get("warnings")).asList().containsExactly(
        "feature 'constant' has the single value 3.0 in the training rows: dropped",
        "feature 'empty' is null (or NaN) in every row in the training rows: dropped",
        "feature 'country' has the single value 'de' in the training rows: dropped");
    Row row = warehouse.read(Tables.LEADERBOARD).where(col("run_id").equalTo("budget"))
        .select("grid_points", "grid_points_evaluated", "budget_exhausted").first();
    assertThat(row.getInt(0)).isEqualTo(3);
    assertThat(row.getInt(1)).isEqualTo(1);
    assertThat(row.getBoolean(2)).isTrue();

    assertThatThrownBy(() -> new TrainJob().run(spark(),
        config.with("train.degenerate-features=fail", "train.run-id=fail")))
        .isInstanceOf(PropensityException.class)
        .hasMessageContaining("feature column 'constant' has the single value 3.0 in the training"
            + " rows (listed in config 'propensity.schema.numeric')")
        .hasMessageContaining("propensity.train.degenerate-features = drop");
  }

  @Test
  void badInputFailsWithAMessageNamingTheProblem() {
    String wh = tempWarehouse("bad").toString();
    Dataset<Row> good = TrainingData.frame(spark(), 1000, 6);
    JobConfig config = TrainingData.config(wh, "train.candidates=[logistic]");

    TrainingData.write(spark(), wh, good);
    assertThatThrownBy(() -> new TrainJob().run(spark(),
        config.with("schema.numeric=[x1, x2, x3, tenure]")))
        .isInstanceOf(PropensityException.class)
        .hasMessageContaining("missing column(s) tenure");

    TrainingData.write(spark(), wh, good.withColumn("label",
        when(col("customer_id").equalTo(5), 2).otherwise(col("label"))));
    assertThatThrownBy(() -> new TrainJob().run(spark(), config))
        .hasMessageContaining("1 row(s) with a label that is not binary (e.g. 2.0)");

    TrainingData.write(spark(), wh, good.withColumn("label", lit(0)));
    assertThatThrownBy(() -> new TrainJob().run(spark(), config))
        .hasMessageContaining("the same label 0")
        .hasMessageContaining("Training needs both classes");

    TrainingData.write(spark(), wh, good.withColumn("label",
        when(col("customer_id").lt(3), 1).otherwise(0)));
    assertThatThrownBy(() -> new TrainJob().run(spark(), config))
        .hasMessageContaining("the train split has 2 positive label(s) in column 'label', needs"
            + " at least 3");

    assertThatThrownBy(() -> new TrainJob().run(spark(), config.with("train.threshold=high")))
        .hasMessageContaining("Invalid config 'propensity.train.threshold' = 'high'");
    assertThat(Warehouse.of(spark(), config).exists(Tables.LEADERBOARD)).isFalse();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return (Map<String, Object>) o;
  }
}
