package dev.propensity.jobs.training;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.propensity.common.PropensityException;
import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.jobs.model.CandidatePipeline;
import dev.propensity.jobs.model.CandidatePipeline.FeatureSelection;
import dev.propensity.jobs.model.Candidates;
import dev.propensity.jobs.model.Candidates.Candidate;
import dev.propensity.jobs.model.Explainer;
import dev.propensity.jobs.model.FeatureSlots;
import dev.propensity.jobs.model.Importance;
import dev.propensity.jobs.model.Splits;
import dev.propensity.jobs.model.TrainingData;
import dev.propensity.jobs.model.XGBoostTreesModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The xgboost candidate against XGBoost itself: its trees score as the native booster does, its
 * TreeSHAP contributions add up and agree with XGBoost's own {@code predictContrib}, early
 * stopping keeps the best round, and weights and the hold-out reach the fit. (The cross-validation
 * path, save / load and fused scoring: {@link CandidatesTest}.)
 */
class XGBoostCandidateTest extends SparkTestBase {

  private static final String NAME = "xgboost";
  private static JobConfig config;
  private static FeatureSchema schema;
  private static PipelineModel model;
  private static XGBoostTreesModel xgb;
  private static Dataset<Row> test;

  @BeforeAll
  static void fit() {
    config = TrainingData.config("/unused", "train.candidates=[xgboost]",
        "train.xgboost.max-depth=[4]", "train.xgboost.eta=[0.3]", "train.xgboost.num-round=200",
        "train.xgboost.early-stopping-rounds=5", "train.xgboost.subsample=[0.8]");
    schema = FeatureSchema.fromConfig(config);
    Dataset<Row> all = TrainingData.frame(spark(), 2000, 7)
        .withColumn(CandidatePipeline.LABEL, col("label").cast("double"));
    Dataset<Row> train = all.where(col("customer_id").mod(4).notEqual(0))
        .withColumn(CandidatePipeline.GBT_VALIDATION, Splits.holdOut("customer_id", 42, "gbt",
            0.2))
        .withColumn(CandidatePipeline.WEIGHT,
            when(col(CandidatePipeline.LABEL).equalTo(1.0), 2.0).otherwise(1.0));
    test = all.where(col("customer_id").mod(4).equalTo(0)).cache();
    Candidate c = Candidates.fromConfig(config, true).get(0);
    assertThat(c.weighted()).isTrue();
    PipelineModel prep = CandidatePipeline.preprocessing(NAME, schema, c.scaling(),
        FeatureSelection.none()).fit(train);
    PipelineModel head = c.head().fit(prep.transform(train), c.grid()[0]);
    model = CandidatePipeline.whole(c, prep, head);
    xgb = (XGBoostTreesModel) FeatureSlots.model(model);
  }

  @Test
  void earlyStoppingKeepsTheTreesUpToTheBestHoldOutRound() {
    Map<String, Object> facts = Candidates.fittedFacts(model);
    assertThat((int) facts.get("trees_used")).isLessThan((int) facts.get("trees_trained"))
        .isGreaterThan(1);
    assertThat((int) facts.get("trees_trained") - (int) facts.get("trees_used")).isEqualTo(5);
  }

  @Test
  void theTreesScoreAsXGBoostsOwnPrediction() throws Exception {
    List<Vector> rows = vectors();
    // plus rows XGBoost sees as missing (NaN: the default directions) and far outside training
    int width = rows.get(0).size();
    double[] nan = new double[width];
    Arrays.fill(nan, Double.NaN);
    double[] far = new double[width];
    Arrays.fill(far, 1e9);
    rows.add(Vectors.dense(nan));
    rows.add(Vectors.dense(far));
    Booster booster = xgb.nativeBooster();
    try {
      float[][] margins = booster.predict(matrix(rows), true, xgb.treesUsed());
      for (int i = 0; i < rows.size(); i++) {
        double m = xgb.predictRaw(rows.get(i)).apply(1);
        assertThat(m).as("row " + i).isCloseTo(margins[i][0], within(2e-5));
      }
    } finally {
      booster.dispose();
    }
  }

  @Test
  void shapAddsUpToTheMarginAndAgreesWithXGBoostsContributions() throws Exception {
    Dataset<Row> explained = Explainer.forCandidate(NAME, model, schema).contributions(test);
    List<Row> out = explained.select(col("customer_id"), col(Explainer.EXPECTED_VALUE),
        col(Explainer.OUTPUT), col(Explainer.CONTRIBUTIONS)).orderBy("customer_id")
        .collectAsList();
    List<Row> scored = model.transform(test).select(col("customer_id"),
            col(CandidatePipeline.rawPredictionCol(NAME)), col(CandidatePipeline.featuresCol(NAME)))
        .orderBy("customer_id").collectAsList();
    List<Vector> vectors = scored.stream().map(r -> r.<Vector>getAs(2)).toList();
    FeatureSlots slots = FeatureSlots.of(model, FusedPrefix.schemaBeforeModel(model, test),
        schema.features());
    Booster booster = xgb.nativeBooster();
    float[][] native_;
    try {
      native_ = booster.predictContrib(matrix(vectors), xgb.treesUsed());
    } finally {
      booster.dispose();
    }
    int bias = slots.size();
    for (int i = 0; i < out.size(); i++) {
      Row r = out.get(i);
      double expected = r.getDouble(1);
      double output = r.getDouble(2);
      List<Row> codes = r.getList(3);
      double sum = codes.stream().mapToDouble(c -> c.getDouble(2)).sum();
      assertThat(expected + sum).as("additivity, row " + i).isCloseTo(output, within(1e-9));
      assertThat(output).as("output = the pipeline's margin, row " + i)
          .isCloseTo(scored.get(i).<Vector>getAs(1).apply(1), within(1e-12));
      assertThat(expected).as("base value, row " + i).isCloseTo(native_[i][bias], within(1e-4));
      for (Row code : codes) {
        double theirs = 0;
        for (int s = 0; s < slots.size(); s++) {
          if (slots.sources().get(s).equals(code.getString(0))) {
            theirs += native_[i][s];
          }
        }
        assertThat(code.getDouble(2)).as("row " + i + " feature " + code.getString(0))
            .isCloseTo(theirs, within(1e-4));
      }
    }
  }

  @Test
  void importanceIsXGBoostsTotalGain() {
    Importance.Result r = Importance.forCandidate(NAME, model, schema, test, 1);
    assertThat(r.method()).isEqualTo("tree-gain");
    assertThat(r.features().stream().mapToDouble(Importance.Feature::importance).sum())
        .isCloseTo(1.0, within(1e-9));
    assertThat(r.features().get(0).feature()).isEqualTo("x1");
  }

  @Test
  void badSettingsNameTheirConfigKey() {
    assertThatThrownBy(() -> Candidates.fromConfig(config.with("train.xgboost.eta=[0]"), false))
        .isInstanceOf(PropensityException.class)
        .hasMessageStartingWith("Invalid config 'propensity.train.xgboost.*'")
        .hasMessageContaining("eta");
    assertThatThrownBy(() -> Candidates.fromConfig(
        config.with("train.xgboost.early-stopping-rounds=-1"), false))
        .hasMessageContaining("'propensity.train.xgboost.early-stopping-rounds'");
    Candidate threads = Candidates.fromConfig(config.with("train.xgboost.nthread=4"), false)
        .get(0);
    assertThatThrownBy(() -> threads.head().fit(test.limit(0), threads.grid()[0]))
        .isInstanceOf(PropensityException.class)
        .hasMessageContaining("'propensity.train.xgboost.nthread' = 4")
        .hasMessageContaining("spark.task.cpus");
  }

  private static List<Vector> vectors() {
    return new ArrayList<>(model.transform(test).select(CandidatePipeline.featuresCol(NAME))
        .collectAsList().stream().map(r -> r.<Vector>getAs(0)).toList());
  }

  private static DMatrix matrix(List<Vector> rows) throws Exception {
    int width = rows.get(0).size();
    float[] data = new float[rows.size() * width];
    for (int i = 0; i < rows.size(); i++) {
      double[] x = rows.get(i).toArray();
      for (int j = 0; j < width; j++) {
        data[i * width + j] = (float) x[j];
      }
    }
    return new DMatrix(data, rows.size(), width, Float.NaN);
  }

  /** The schema FeatureSlots needs: the rows after every stage before the model. */
  private static final class FusedPrefix {
    static org.apache.spark.sql.types.StructType schemaBeforeModel(PipelineModel m,
        Dataset<Row> rows) {
      Dataset<Row> t = rows.limit(0);
      for (int i = 0; i < FeatureSlots.modelIndex(m); i++) {
        t = m.stages()[i].transform(t);
      }
      return t.schema();
    }
  }
}
