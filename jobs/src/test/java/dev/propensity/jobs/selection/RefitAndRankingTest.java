package dev.propensity.jobs.selection;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRuns;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.MonitoringFixture;
import dev.propensity.jobs.RunData;
import dev.propensity.jobs.bins.BinsJob;
import dev.propensity.jobs.model.Modes;
import dev.propensity.jobs.model.RunLayout;
import dev.propensity.jobs.model.Splits;
import dev.propensity.jobs.training.TrainJob;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.ml.feature.StandardScalerModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.stat.Summarizer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A run refitted on training + validation rows (train.refit), selected and binned with the
 * defaults: the final models saw the validation rows, and everything select and bins fit comes
 * from out-of-fold predictions; voters are ranked out-of-fold.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RefitAndRankingTest extends SparkTestBase {

  private static final List<String> CANDIDATES = List.of("logistic", "decision-tree",
      "naive-bayes");
  private static JobConfig config;
  private static Warehouse wh;
  private static ModelRun run;

  @BeforeAll
  static void trainSelectAndBin() {
    Path dir = MonitoringFixture.freshWarehouse("refit");
    config = MonitoringFixture.base(dir).with("train.candidates=[logistic, decision-tree,"
            + " naive-bayes]", "train.decision-tree.max-depth=[4]",
        "train.decision-tree.min-instances-per-node=[20]",
        "train.naive-bayes.model-type=[gaussian]", "train.refit=train-validation",
        "train.run-id=refit", "select.run-id=refit", "bins.run-id=refit",
        "select.importance-rows=0");
    wh = Warehouse.of(spark(), config);
    new TrainJob().run(spark(), config);
    new SelectJob().run(spark(), config);
    new BinsJob().run(spark(), config);
    run = new ModelRuns(wh.root(), spark().sparkContext().hadoopConfiguration()).open("refit");
  }

  @Test
  @Order(1)
  void theFinalModelIsFittedOnTrainingAndValidationRows() {
    assertThat(RunData.refit(run)).isEqualTo(Modes.Refit.TRAIN_VALIDATION);
    PipelineModel logistic = PipelineModel.load(RunLayout.of(run).candidateModel("logistic"));
    Transformer[] stages = logistic.stages();
    int s = 0;
    while (!(stages[s] instanceof StandardScalerModel)) {
      s++;
    }
    StandardScalerModel scaler = (StandardScalerModel) stages[s];
    Dataset<Row> rows = RunData.splitRows(wh, FeatureSchema.fromConfig(config), run);
    double[] both = inputMean(stages, s, rows.where(col(Splits.COLUMN)
        .isin(Splits.TRAIN, Splits.VALIDATION)), scaler.getInputCol());
    double[] trainOnly = inputMean(stages, s, rows.where(col(Splits.COLUMN)
        .equalTo(Splits.TRAIN)), scaler.getInputCol());
    double[] fitted = scaler.mean().toArray();
    double largestGap = 0;
    for (int i = 0; i < fitted.length; i++) {
      assertThat(fitted[i]).as("slot %d", i).isCloseTo(both[i], within(1e-9 * (1 + Math.abs(
          both[i]))));
      largestGap = Math.max(largestGap, Math.abs(both[i] - trainOnly[i]));
    }
    // the check can tell the two apart: the training split alone has other means
    assertThat(largestGap).isGreaterThan(1e-6);
  }

  @Test
  @Order(2)
  void calibrationThresholdAndBinsComeFromOutOfFoldPredictions() {
    Map<String, Object> calibration = run.readJson(RunLayout.ensemble(RunLayout.CALIBRATION),
        new TypeReference<>() {});
    assertThat(calibration.get("fitted_on")).isEqualTo("out-of-fold");
    Map<String, Object> voters = run.readJson(RunLayout.VOTERS, new TypeReference<>() {});
    assertThat(voters.get("ranked_on")).isEqualTo("out-of-fold");
    assertThat(voters.get("calibrated_on")).isEqualTo("out-of-fold");
    long trainingRows = RunData.splitRows(wh, FeatureSchema.fromConfig(config), run)
        .where(col(Splits.COLUMN).equalTo(Splits.TRAIN)).count();
    Row total = wh.read(Tables.BIN_STATS).where(col("run_id").equalTo(run.id()))
        .agg(org.apache.spark.sql.functions.sum("customers")).first();
    // the bins' reference is every training row's out-of-fold score, not the validation rows
    assertThat(total.getLong(0)).isEqualTo(trainingRows);
  }

  @Test
  @Order(3)
  void votersAreRankedOutOfFoldNotOnTheValidationSplit() {
    Map<String, Double> oofAuc = new LinkedHashMap<>();
    for (String c : CANDIDATES) {
      Dataset<Row> oof = spark().read().format("delta").load(RunLayout.of(run).outOfFold(c));
      oofAuc.put(c, new BinaryClassificationEvaluator().setRawPredictionCol("probability")
          .setLabelCol("label").evaluate(oof.withColumn("label", col("label").cast("double"))));
    }
    List<String> byOof = CANDIDATES.stream()
        .sorted(Comparator.comparingDouble(c -> -oofAuc.get(c))).toList();
    // the validation split says the opposite: the out-of-fold worst is the validation best
    for (int i = 0; i < byOof.size(); i++) {
      String file = RunLayout.candidate(byOof.get(i), RunLayout.METRICS);
      Map<String, Object> metrics = run.readJson(file, new TypeReference<>() {});
      @SuppressWarnings("unchecked")
      Map<String, Object> validation = (Map<String, Object>) metrics.get("validation");
      validation.put("auc_roc", 0.6 + 0.1 * i);
      run.writeJson(file, metrics);
    }

    new SelectJob().run(spark(), config.with("select.top-n=1",
        "select.rank-by=out-of-fold"));
    assertThat(voterNames()).containsExactly(byOof.get(0));
    new SelectJob().run(spark(), config.with("select.top-n=1", "select.rank-by=validation"));
    assertThat(voterNames()).containsExactly(byOof.get(byOof.size() - 1));
  }

  private static List<String> voterNames() {
    Map<String, Object> voters = run.readJson(RunLayout.VOTERS, new TypeReference<>() {});
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> list = (List<Map<String, Object>>) voters.get("voters");
    return list.stream().map(v -> (String) v.get("name")).toList();
  }

  private static double[] inputMean(Transformer[] stages, int upTo, Dataset<Row> rows,
      String column) {
    Dataset<Row> d = rows;
    for (int i = 0; i < upTo; i++) {
      d = stages[i].transform(d);
    }
    Row r = d.select(Summarizer.mean(col(column))).first();
    return r.<Vector>getAs(0).toArray();
  }
}
