package dev.propensity.jobs.model;


import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.max;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.explain.ShapleyOracle;
import dev.propensity.common.explain.Tree;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.classification.GBTClassificationModel;
import org.apache.spark.ml.functions;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Contributions of MLlib models fitted in the test, against the models' own outputs. */
class ExplainerTest extends SparkTestBase {

  private static final Column SUM = expr(
      "aggregate(contributions, 0D, (acc, c) -> acc + c.contribution)");

  @ParameterizedTest
  @ValueSource(strings = {"dt", "rf", "gbt", "lr"})
  void contributionsPlusExpectedValueEqualTheModelsOwnOutputOnEveryRow(String name) {
    PipelineModel model = ExplainData.model(name);
    Explainer explainer = Explainer.forCandidate(name, model, ExplainData.SCHEMA);
    // DT / RF: probability of class 1; GBT / LR: rawPrediction[1], the margin
    boolean probability = name.equals("dt") || name.equals("rf");
    assertThat(explainer.outputSpace()).isEqualTo(probability ? "probability" : "margin");
    Column mllib = functions.vector_to_array(col(probability
        ? CandidatePipeline.probabilityCol(name) : CandidatePipeline.rawPredictionCol(name)),
        "float64").getItem(1);
    Dataset<Row> own = model.transform(ExplainData.rows())
        .select(col("customer_id"), mllib.as("mllib"));
    Dataset<Row> explained = explainer.contributions(ExplainData.rows())
        .join(own, "customer_id");

    Row r = explained.agg(
        max(abs(SUM.plus(col(Explainer.EXPECTED_VALUE)).minus(col("mllib")))),
        max(abs(col(Explainer.OUTPUT).minus(col("mllib")))),
        org.apache.spark.sql.functions.count("*"),
        org.apache.spark.sql.functions.min(expr("size(contributions)")),
        org.apache.spark.sql.functions.stddev(SUM)).first();
    assertThat(r.getDouble(0)).as("additivity against MLlib").isLessThan(1e-9);
    assertThat(r.getDouble(1)).as("output equals MLlib").isLessThan(1e-9);
    assertThat(r.getLong(2)).isEqualTo(1200);
    assertThat(r.getInt(3)).isEqualTo(5);
    assertThat(r.getDouble(4)).as("contributions vary across rows").isGreaterThan(1e-3);

    // contributions come sorted by magnitude and name the schema's features
    Row first = explained.orderBy("customer_id").first();
    List<Row> codes = first.getList(first.fieldIndex(Explainer.CONTRIBUTIONS));
    assertThat(codes).extracting(c -> c.getString(0))
        .containsExactlyInAnyOrderElementsOf(ExplainData.SCHEMA.features());
    double[] mags = codes.stream().mapToDouble(c -> Math.abs(c.getDouble(2))).toArray();
    for (int i = 1; i < mags.length; i++) {
      assertThat(mags[i]).isLessThanOrEqualTo(mags[i - 1]);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"decision-tree", "random-forest"})
  void theTrainingJobsProbabilityTreesAreExplainedInProbabilitySpace(String name) {
    PipelineModel model = ExplainData.trained(name);
    assertThat(CandidateDescription.of(model).probability())
        .isEqualTo(CandidateDescription.Probability.LEAF_MEAN);
    assertThat(model.stages()[CandidateDescription.of(model).probabilityStage()].getClass()
        .getSimpleName()).isEqualTo("ScoreToProbability");
    Explainer explainer = Explainer.forCandidate(name, model, ExplainData.SCHEMA);
    assertThat(explainer.outputSpace()).isEqualTo("probability");
    Dataset<Row> own = model.transform(ExplainData.rows())
        .select(col("customer_id"), CandidatePipeline.positiveProbability(name).as("p"));
    Row r = explainer.contributions(ExplainData.rows()).join(own, "customer_id")
        .agg(max(abs(SUM.plus(col(Explainer.EXPECTED_VALUE)).minus(col("p")))),
            org.apache.spark.sql.functions.count("*"),
            org.apache.spark.sql.functions.stddev(SUM)).first();
    assertThat(r.getDouble(0)).as("additivity against the pipeline's probability")
        .isLessThan(1e-9);
    assertThat(r.getLong(1)).isEqualTo(1200);
    assertThat(r.getDouble(2)).as("contributions vary across rows").isGreaterThan(1e-3);

    Importance.Result importance = Importance.forCandidate(name, model, ExplainData.SCHEMA,
        ExplainData.rows(), 1);
    assertThat(importance.method()).isEqualTo("tree-impurity");
    assertThat(importance.features().stream().mapToDouble(Importance.Feature::importance).sum())
        .isCloseTo(1.0, within(1e-9));
  }

  @Test
  void expectedValueOfATreeIsTheTrainingMeanOfItsOutput() {
    // a decision tree's cover-weighted mean leaf probability = the training positive rate
    Row r = Explainer.forCandidate("dt", ExplainData.model("dt"), ExplainData.SCHEMA)
        .contributions(ExplainData.rows())
        .agg(org.apache.spark.sql.functions.first(Explainer.EXPECTED_VALUE),
            org.apache.spark.sql.functions.avg("label"))
        .first();
    assertThat(r.getDouble(0)).isCloseTo(r.getDouble(1), within(1e-9));
  }

  @Test
  void mllibGbtSlotContributionsEqualBruteForceShapleyValues() {
    PipelineModel model = ExplainData.model("gbt");
    GBTClassificationModel gbt = (GBTClassificationModel) last(model);
    List<Tree.Node> roots = MllibTrees.roots(gbt);
    ShapleyOracle.Model oracle = new ShapleyOracle.Model(roots, gbt.treeWeights(), 0);
    MllibTrees.Explainable e = MllibTrees.of(gbt);
    Dataset<Row> features = ExplainData.rows().limit(12);
    for (int i = 0; i < FeatureSlots.modelIndex(model); i++) {
      features = model.stages()[i].transform(features);
    }
    int slots = gbt.numFeatures();
    assertThat(slots).isEqualTo(3 + 5 + 4); // numeric, region + unknown, segment + unknown
    for (Row row : features.select(CandidatePipeline.featuresCol("gbt")).collectAsList()) {
      double[] x = ((Vector) row.get(0)).toArray();
      double[] phi = new double[slots];
      e.ensemble().shap(x, phi, e.ensemble().newWorkspace());
      double[] expected = ShapleyOracle.shapley(oracle, x, slots);
      for (int j = 0; j < slots; j++) {
        assertThat(phi[j]).as("slot " + j).isCloseTo(expected[j], within(1e-9));
      }
      assertThat(Arrays.stream(phi).sum() + e.ensemble().expectedValue())
          .isCloseTo(gbt.predictRaw(row.getAs(0)).apply(1), within(1e-9));
    }
  }

  @Test
  void savedAndLoadedPipelineGivesTheSameContributions() throws Exception {
    Path dir = tempWarehouse("explain-save");
    PipelineModel model = ExplainData.model("rf");
    model.write().overwrite().save(dir.resolve("rf").toString());
    PipelineModel loaded = PipelineModel.load(dir.resolve("rf").toString());
    Dataset<Row> a = Explainer.forCandidate("rf", model, ExplainData.SCHEMA)
        .contributions(ExplainData.rows()).select(col("customer_id"),
            SUM.plus(col(Explainer.EXPECTED_VALUE)).as("a"));
    Dataset<Row> b = Explainer.forCandidate("rf", loaded, ExplainData.SCHEMA)
        .contributions(ExplainData.rows()).select(col("customer_id"),
            SUM.plus(col(Explainer.EXPECTED_VALUE)).as("b"));
    assertThat(a.join(b, "customer_id").agg(max(abs(col("a").minus(col("b"))))).first()
        .getDouble(0)).isLessThan(1e-12);
  }

  @Test
  void missingFeatureColumnsAndUnsupportedModelsAreNamed() {
    Explainer explainer = Explainer.forCandidate("dt", ExplainData.model("dt"),
        ExplainData.SCHEMA);
    assertThatThrownBy(() -> explainer.contributions(ExplainData.rows().drop("spend")))
        .hasMessageContaining("missing feature column(s) [spend]");
    PipelineModel nb = ExplainData.model("nb");
    assertThatThrownBy(() -> Explainer.forCandidate("nb", nb, ExplainData.SCHEMA))
        .hasMessageContaining("Cannot explain candidate 'nb': NaiveBayesModel has no exact");
  }

  static Transformer last(PipelineModel model) {
    return FeatureSlots.model(model);
  }
}
