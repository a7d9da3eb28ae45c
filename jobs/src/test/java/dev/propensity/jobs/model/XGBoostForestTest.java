package dev.propensity.jobs.model;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.propensity.common.PropensityException;
import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.jobs.model.CandidatePipeline.FeatureSelection;
import dev.propensity.jobs.model.Candidates.Candidate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The xgboost-rf candidate: its output is the mean over trees of the leaf positive rates
 * (checked against the rows themselves: {@code lambda = 0}, {@code eta = 1}, XGBoost's 1 / T
 * scaling of parallel trees), its trees score as the native booster does, its TreeSHAP
 * contributions add up to the probability and agree with XGBoost's own {@code predictContrib},
 * importance is XGBoost's gain, and the feature share per split is MLlib's. (The
 * cross-validation path, save / load and fused scoring: {@code CandidatesTest}; serving: {@link
 * ServingExportTest}.)
 */
class XGBoostForestTest extends SparkTestBase {

  private static final String NAME = "xgboost-rf";
  private static final StructType XY = new StructType()
      .add("features", SQLDataTypes.VectorType())
      .add("label", DataTypes.DoubleType)
      .add("weight", DataTypes.DoubleType);
  private static FeatureSchema schema;
  private static PipelineModel model;
  private static XGBoostForestModel rf;
  private static Dataset<Row> train;
  private static Dataset<Row> test;

  @BeforeAll
  static void fit() {
    JobConfig config = TrainingData.config("/unused", "train.candidates=[xgboost-rf]",
        "train.xgboost-rf.num-trees=[20]", "train.xgboost-rf.max-depth=[5]");
    schema = FeatureSchema.fromConfig(config);
    Dataset<Row> all = TrainingData.frame(spark(), 2000, 7)
        .withColumn(CandidatePipeline.LABEL, col("label").cast("double"));
    train = all.where(col("customer_id").mod(4).notEqual(0))
        .withColumn(CandidatePipeline.WEIGHT,
            when(col(CandidatePipeline.LABEL).equalTo(1.0), 2.0).otherwise(1.0)).cache();
    test = all.where(col("customer_id").mod(4).equalTo(0)).cache();
    Candidate c = Candidates.fromConfig(config, true).get(0);
    assertThat(c.weighted()).isTrue();
    assertThat(c.probability()).isEqualTo(CandidateDescription.Probability.LEAF_MEAN);
    PipelineModel prep = CandidatePipeline.preprocessing(NAME, schema, c.scaling(),
        FeatureSelection.none()).fit(train);
    PipelineModel head = c.head().fit(prep.transform(train), c.grid()[0]);
    model = CandidatePipeline.whole(c, prep, head);
    rf = (XGBoostForestModel) FeatureSlots.model(model);
  }

  @Test
  void aLoneStumpsLeavesAreThePositiveRatesOfTheirRows() {
    // one tree, every row, every feature, depth 1: lambda 0 and eta 1 leave each leaf's value
    // at the (weighted) positive rate of the rows in it, computed here from the rows
    Dataset<Row> rows = steps(4000, 11);
    for (boolean weighted : new boolean[] {false, true}) {
      XGBoostForest est = stump(1, weighted);
      XGBoostForestModel m = est.fit(rows);
      Map<Double, double[]> byLeaf = new HashMap<>(); // prediction -> {weight of 1s, weight}
      for (Row r : rows.collectAsList()) {
        double p = m.predict(r.<Vector>getAs(0));
        double w = weighted ? r.getDouble(2) : 1.0;
        double[] s = byLeaf.computeIfAbsent(p, k -> new double[2]);
        s[0] += w * r.getDouble(1);
        s[1] += w;
      }
      assertThat(byLeaf).as("weighted " + weighted).hasSize(2);
      byLeaf.forEach((p, s) -> assertThat(p).as("leaf, weighted " + weighted)
          .isCloseTo(s[0] / s[1], within(1e-6)));
    }
  }

  @Test
  void parallelTreesShareOneLearningRateSoTheForestIsTheMeanOfItsTrees() throws Exception {
    // three identical trees (no sampling): each leaf holds (rate - base_score) / 3, the forest
    // base_score + 3 leaves = the rate. Had XGBoost not divided eta by T, it would be
    // base_score + 3 (rate - base_score).
    Dataset<Row> rows = steps(4000, 12);
    XGBoostForestModel one = stump(1, false).fit(rows);
    XGBoostForestModel three = stump(3, false).fit(rows);
    assertThat(three.numTrees()).isEqualTo(3);
    JsonNode learner = new ObjectMapper().readTree(XGBoostBoosters.json(
        XGBoostBoosters.take(toScala(three.nativeBooster()), "test"), "test")).path("learner");
    double base = Double.parseDouble(learner.path("learner_model_param").path("base_score")
        .asText().replace("[", "").replace("]", ""));
    JsonNode trees = learner.path("gradient_booster").path("model").path("trees");
    for (Row r : rows.limit(200).collectAsList()) {
      Vector x = r.getAs(0);
      double rate = one.predict(x);
      assertThat(three.predict(x)).isCloseTo(rate, within(1e-6));
      // the leaf the row reaches in each tree (a stump: node 1 or 2)
      for (JsonNode t : trees) {
        int f = t.path("split_indices").get(0).asInt();
        float split = Float.parseFloat(t.path("split_conditions").get(0).asText());
        int leaf = (float) x.apply(f) < split ? 1 : 2;
        double value = t.path("split_conditions").get(leaf).asDouble();
        assertThat(value * 3).isCloseTo(rate - base, within(1e-6));
      }
    }
  }

  @Test
  void theForestsProbabilitiesAreInZeroOneWithTheMeanNearThePositiveRate() throws Exception {
    XGBoostForest est = new XGBoostForest().setColumns("t").setSeed(3);
    est.set(est.featuresCol(), "features");
    est.set(est.labelCol(), "label");
    est.set(est.numTrees(), 30);
    est.set(est.maxDepth(), 6);
    est.set(est.minChildWeight(), 5.0);
    Dataset<Row> rows = steps(4000, 13);
    XGBoostForestModel m = est.fit(rows);
    double sum = 0;
    double positives = 0;
    List<Row> all = rows.collectAsList();
    for (Row r : all) {
      double p = m.predict(r.<Vector>getAs(0));
      assertThat(p).isBetween(-1e-6, 1 + 1e-6);
      sum += p;
      positives += r.getDouble(1);
    }
    assertThat(sum / all.size()).isCloseTo(positives / all.size(), within(0.01));
    assertThat(m.getFeaturesPerNode()).isEqualTo(2); // sqrt of 3 features, rounded up
    // each tree grows on its own sample of 0.632 of the rows, drawn without replacement: a
    // root's hessian sum (rows, hessian 1 each) is its sample's size
    JsonNode trees = new ObjectMapper().readTree(XGBoostBoosters.json(
        XGBoostBoosters.take(toScala(m.nativeBooster()), "test"), "test"))
        .path("learner").path("gradient_booster").path("model").path("trees");
    assertThat(trees.size()).isEqualTo(30);
    java.util.Set<Double> sizes = new java.util.HashSet<>();
    for (JsonNode t : trees) {
      double sampled = t.path("sum_hessian").get(0).asDouble();
      assertThat(sampled).isCloseTo(0.632 * all.size(), within(0.03 * all.size()));
      sizes.add(sampled);
    }
    assertThat(sizes).hasSizeGreaterThan(1);
  }

  @Test
  void theTreesScoreAsXGBoostsOwnPrediction() throws Exception {
    List<Vector> rows = vectors();
    int width = rows.get(0).size();
    double[] nan = new double[width];
    Arrays.fill(nan, Double.NaN);
    double[] far = new double[width];
    Arrays.fill(far, 1e9);
    rows.add(Vectors.dense(nan));
    rows.add(Vectors.dense(far));
    Booster booster = rf.nativeBooster();
    try {
      float[][] predicted = booster.predict(matrix(rows));
      for (int i = 0; i < rows.size(); i++) {
        assertThat(rf.predict(rows.get(i))).as("row " + i)
            .isCloseTo(predicted[i][0], within(2e-6));
      }
    } finally {
      booster.dispose();
    }
  }

  @Test
  void shapAddsUpToTheProbabilityAndAgreesWithXGBoostsContributions() throws Exception {
    Explainer explainer = Explainer.forCandidate(NAME, model, schema);
    assertThat(explainer.outputSpace()).isEqualTo("probability");
    List<Row> out = explainer.contributions(test).select(col("customer_id"),
            col(Explainer.EXPECTED_VALUE), col(Explainer.OUTPUT), col(Explainer.CONTRIBUTIONS))
        .orderBy("customer_id").collectAsList();
    List<Row> scored = model.transform(test).select(col("customer_id"),
            col(CandidatePipeline.probabilityCol(NAME)), col(CandidatePipeline.featuresCol(NAME)))
        .orderBy("customer_id").collectAsList();
    List<Vector> vectors = scored.stream().map(r -> r.<Vector>getAs(2)).toList();
    Dataset<Row> before = test.limit(0);
    for (int i = 0; i < FeatureSlots.modelIndex(model); i++) {
      before = model.stages()[i].transform(before);
    }
    FeatureSlots slots = FeatureSlots.of(model, before.schema(), schema.features());
    Booster booster = rf.nativeBooster();
    float[][] native_;
    try {
      native_ = booster.predictContrib(matrix(vectors), 0);
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
      assertThat(output).as("output = the pipeline's probability, row " + i)
          .isCloseTo(scored.get(i).<Vector>getAs(1).apply(1), within(1e-12));
      assertThat(expected).as("base value, row " + i).isCloseTo(native_[i][bias], within(1e-5));
      for (Row code : codes) {
        double theirs = 0;
        for (int s = 0; s < slots.size(); s++) {
          if (slots.sources().get(s).equals(code.getString(0))) {
            theirs += native_[i][s];
          }
        }
        assertThat(code.getDouble(2)).as("row " + i + " feature " + code.getString(0))
            .isCloseTo(theirs, within(1e-5));
      }
    }
  }

  @Test
  void importanceIsXGBoostsTotalGainAndTheFactsNameTheForest() {
    Importance.Result r = Importance.forCandidate(NAME, model, schema, test, 1);
    assertThat(r.method()).isEqualTo("tree-gain");
    assertThat(r.features().stream().mapToDouble(Importance.Feature::importance).sum())
        .isCloseTo(1.0, within(1e-9));
    assertThat(r.features().get(0).feature()).isEqualTo("x1");
    Map<String, Object> facts = Candidates.fittedFacts(model);
    assertThat(facts).containsEntry("trees", 20);
    // x1, x2, x3 and the segment's two one-hot slots: ceil(sqrt(5)) = 3
    assertThat(facts).containsEntry("features_per_split", 3);
  }

  @Test
  void xgboostKeepsMllibsNumberOfFeaturesPerSplit() {
    for (int n = 1; n <= 500; n++) {
      for (String s : List.of("sqrt", "log2", "onethird", "all", "0.5", "0.1", "1.0")) {
        int k = XGBoostForest.featuresPerNode(s, n);
        float colsample = (float) XGBoostForest.colsampleBynode(k, n);
        // XGBoost's ColumnSampler::ColSample: max(1, (int) (colsample * n)) in float
        int kept = colsample == 1.0f ? n : Math.max(1, (int) (colsample * (float) n));
        assertThat(kept).as(s + " of " + n).isEqualTo(k);
      }
    }
    assertThat(XGBoostForest.featuresPerNode("sqrt", 100)).isEqualTo(10);
    assertThat(XGBoostForest.featuresPerNode("sqrt", 101)).isEqualTo(11);
    assertThat(XGBoostForest.featuresPerNode("log2", 100)).isEqualTo(7);
    assertThat(XGBoostForest.featuresPerNode("onethird", 100)).isEqualTo(34);
    assertThat(XGBoostForest.featuresPerNode("0.25", 10)).isEqualTo(3);
  }

  @Test
  void badSettingsNameTheirConfigKey() {
    JobConfig config = JobConfig.defaults().with("train.candidates=[xgboost-rf]");
    assertThatThrownBy(() -> Candidates.fromConfig(
        config.with("train.xgboost-rf.feature-subset-strategy=[half]"), false))
        .isInstanceOf(PropensityException.class)
        .hasMessageContaining("'propensity.train.xgboost-rf.feature-subset-strategy' = 'half'")
        .hasMessageContaining("sqrt, log2, onethird, all");
    assertThatThrownBy(() -> Candidates.fromConfig(
        config.with("train.xgboost-rf.subsample=0"), false))
        .hasMessageContaining("'propensity.train.xgboost-rf.subsample'");
    assertThatThrownBy(() -> Candidates.fromConfig(
        config.with("train.xgboost-rf.max-depth=[0]"), false))
        .hasMessageStartingWith("Invalid config 'propensity.train.xgboost-rf.*'")
        .hasMessageContaining("maxDepth");
    Candidate threads = Candidates.fromConfig(config.with("train.xgboost-rf.nthread=4"), false)
        .get(0);
    assertThatThrownBy(() -> threads.head().fit(test.limit(0), threads.grid()[0]))
        .isInstanceOf(PropensityException.class)
        .hasMessageContaining("'propensity.train.xgboost-rf.nthread' = 4")
        .hasMessageContaining("spark.task.cpus");
  }

  /** A forest of {@code trees} unsampled stumps over all features. */
  private static XGBoostForest stump(int trees, boolean weighted) {
    XGBoostForest est = new XGBoostForest().setSubsample(1.0).setSeed(5);
    est.set(est.featuresCol(), "features");
    est.set(est.labelCol(), "label");
    est.set(est.predictionCol(), "p");
    est.set(est.numTrees(), trees);
    est.set(est.maxDepth(), 1);
    est.set(est.minChildWeight(), 1.0);
    est.set(est.featureSubsetStrategy(), "all");
    if (weighted) {
      est.setWeightCol("weight");
    }
    return est;
  }

  /** Rows whose positive rate steps with x0 (x1, x2 noise), weights 1 to 3. */
  private static Dataset<Row> steps(int n, long seed) {
    Random r = new Random(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double x0 = r.nextInt(8);
      double rate = x0 < 3 ? 0.1 : x0 < 6 ? 0.4 : 0.8;
      rows.add(RowFactory.create(Vectors.dense(x0, r.nextGaussian(), r.nextInt(5)),
          r.nextDouble() < rate ? 1.0 : 0.0, 1.0 + r.nextInt(3)));
    }
    return spark().createDataFrame(rows, XY).cache();
  }

  private static ml.dmlc.xgboost4j.scala.Booster toScala(Booster b) {
    return new ml.dmlc.xgboost4j.scala.Booster(b);
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
}
