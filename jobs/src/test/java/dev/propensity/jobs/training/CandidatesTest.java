package dev.propensity.jobs.training;

import dev.propensity.jobs.model.Modes;

import dev.propensity.jobs.model.CandidateDescription;
import dev.propensity.jobs.model.CandidatePipeline;
import dev.propensity.jobs.model.Splits;
import dev.propensity.jobs.model.Metrics;
import dev.propensity.jobs.model.UnitRangeScaler;
import dev.propensity.jobs.model.UnitRangeScalerModel;
import dev.propensity.jobs.model.Candidates;
import dev.propensity.jobs.model.PlattScaling;
import dev.propensity.jobs.model.PlattScalingModel;
import dev.propensity.jobs.model.EnsembleModel;
import dev.propensity.jobs.model.FusedVoter;
import dev.propensity.jobs.model.TrainingData;


import static org.apache.spark.ml.functions.array_to_vector;
import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.propensity.common.PropensityException;
import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.jobs.model.CandidatePipeline.FeatureSelection;
import dev.propensity.jobs.model.Candidates.Candidate;
import java.nio.file.Path;
import java.sql.Date;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Every candidate family through the real cross-validation path, and the custom stages. */
class CandidatesTest extends SparkTestBase {

  private static final String ALL = "train.candidates=[logistic, decision-tree, random-forest,"
      + " gbt, linear-svc, naive-bayes, mlp, factorization-machines, xgboost, xgboost-rf]";

  @Test
  void unknownOrRepeatedCandidatesAreRejectedWithTheKnownNames() {
    assertThatThrownBy(() -> Candidates.fromConfig(JobConfig.defaults()
        .with("train.candidates=[logistic, gbm]"), false))
        .isInstanceOf(PropensityException.class)
        .hasMessage("Unknown candidates 'gbm'; known: logistic, decision-tree, random-forest, gbt,"
            + " linear-svc, naive-bayes, mlp, factorization-machines, xgboost, xgboost-rf (config"
            + " key"
            + " 'propensity.train.candidates')");
    assertThatThrownBy(() -> Candidates.fromConfig(JobConfig.defaults()
        .with("train.candidates=[gbt, gbt]"), false))
        .hasMessageContaining("'propensity.train.candidates'").hasMessageContaining("each name once");
  }

  @Test
  void badGridValuesNameTheirConfigSection() {
    assertThatThrownBy(() -> Candidates.fromConfig(JobConfig.defaults()
        .with("train.candidates=[logistic]", "train.logistic.reg-param=[-1]"), false))
        .isInstanceOf(PropensityException.class)
        .hasMessageStartingWith("Invalid config 'propensity.train.logistic.*'")
        .hasMessageContaining("regParam");
    assertThatThrownBy(() -> Candidates.fromConfig(JobConfig.defaults()
        .with("train.candidates=[mlp]", "train.mlp.hidden-layers=[16, 8]"), false))
        .hasMessageContaining("'propensity.train.mlp.hidden-layers'")
        .hasMessageContaining("e.g. [[16], [32, 16]]");
    assertThatThrownBy(() -> Candidates.fromConfig(JobConfig.defaults()
        .with("train.candidates=[naive-bayes]", "train.naive-bayes.model-type=[bernoulli]"),
        false))
        .hasMessageContaining("'propensity.train.naive-bayes.model-type' = 'bernoulli'")
        .hasMessageContaining("bernoulli needs 0/1 features");
  }

  @Test
  void everyDefaultGridBuilds() {
    List<Candidate> all = Candidates.fromConfig(JobConfig.defaults().with(ALL), true);
    assertThat(all).extracting(Candidate::name).containsExactlyElementsOf(Candidates.known());
    assertThat(all).allSatisfy(c -> assertThat(c.grid()).isNotEmpty());
    assertThat(Candidates.fromConfig(JobConfig.defaults(), false)).extracting(Candidate::name)
        .containsExactly("logistic", "xgboost-rf", "xgboost");
  }

  @Test
  void everyCandidateCrossValidatesSavesReloadsAndScoresIdentically() throws Exception {
    JobConfig config = TrainingData.config("/unused", ALL, "train.cv.num-folds=2");
    FeatureSchema schema = FeatureSchema.fromConfig(config);
    Dataset<Row> all = TrainingData.frame(spark(), 1600, 1)
        .withColumn(CandidatePipeline.LABEL, col("label").cast("double"));
    Dataset<Row> train = Splits.assignFolds(all.where(col("customer_id").mod(4).notEqual(0)),
            "customer_id", CandidatePipeline.LABEL, 2, 42)
        .withColumn(CandidatePipeline.GBT_VALIDATION, Splits.holdOut("customer_id", 42, "gbt",
            0.1)).cache();
    Dataset<Row> test = all.where(col("customer_id").mod(4).equalTo(0))
        .unionByName(oddRows(), true).cache();
    Path dir = tempWarehouse("models");
    FoldData folds = new FoldData(train, schema, FeatureSelection.fromConfig(config), 2,
        true);
    for (Candidate c : Candidates.fromConfig(config, false)) {
      AtomicLong oofRows = new AtomicLong();
      CrossValidation.Result r = CrossValidation.run(c, folds, CandidatePipeline.preprocessing(
              c.name(), schema, c.scaling(), FeatureSelection.fromConfig(config)), train,
          new CrossValidation.Settings(2, 2, true, 0, "auc_roc", "customer_id", 1, 1, System.nanoTime()),
          oof -> oofRows.set(oof.count()));
      assertThat(oofRows.get()).as(c.name()).isEqualTo(train.count());
      assertThat(r.bestResult().foldMetrics()).as(c.name()).hasSize(2);

      String path = dir.resolve(c.name()).toString();
      r.model().write().overwrite().save(path);
      PipelineModel loaded = PipelineModel.load(path);
      // the description is saved with the pipeline by Spark ML's params persistence
      CandidateDescription saved = CandidateDescription.of(r.model());
      CandidateDescription read = CandidateDescription.of(loaded);
      assertThat(read.family()).isEqualTo(c.name());
      assertThat(List.of(read.leadingStages(), read.indexerStage(), read.encoderStage(),
          read.assemblerStage(), read.selectorStage(), read.scalerStage(), read.predictorStage(),
          read.probabilityStage())).isEqualTo(List.of(saved.leadingStages(),
          saved.indexerStage(), saved.encoderStage(), saved.assemblerStage(),
          saved.selectorStage(), saved.scalerStage(), saved.predictorStage(),
          saved.probabilityStage()));
      assertThat(List.of(read.featuresCol(), read.probabilityCol(), read.scaling(),
          read.probability(), read.output(), read.selection(), String.valueOf(read.link())))
          .isEqualTo(List.of(saved.featuresCol(), saved.probabilityCol(), saved.scaling(),
              saved.probability(), saved.output(), saved.selection(),
              String.valueOf(saved.link())));
      assertThat(read.assemblerSources()).containsExactly(saved.assemblerSources());
      assertThat(loaded.stages()[read.predictorStage()].getClass())
          .isEqualTo(r.model().stages()[saved.predictorStage()].getClass());
      Dataset<Row> before = score(r.model(), c.name(), test);
      Dataset<Row> after = score(loaded, c.name(), test);
      assertThat(after.count()).isEqualTo(test.count());
      assertThat(before.join(after.select(col("customer_id"), col("p").as("q")), "customer_id")
          .where(col("p").equalTo(col("q"))).count()).as(c.name()).isEqualTo(test.count());
      assertThat(before.where(col("p").isNull().or(col("p").isNaN()).or(col("p").lt(0))
          .or(col("p").gt(1))).count()).as(c.name()).isZero();
      double auc = Metrics.ranking(before.where(col("y").isNotNull()), col("p"), "y")
          .get("auc_roc");
      assertThat(auc).as(c.name()).isGreaterThan(0.65);
      assertFusedScoringEqualsMllib(c.name(), r.model(), test);
    }
    folds.close();
  }

  /** The families whose whole pipeline {@link FusedVoter} computes; the others keep MLlib's. */
  private static final List<String> FUSED = List.of("logistic", "decision-tree",
      "random-forest", "gbt", "naive-bayes", "mlp", "factorization-machines", "xgboost",
      "xgboost-rf");

  /**
   * Scoring a voter with {@link FusedVoter} gives MLlib's probability and classifier input
   * vector for every row, including a new category, nulls and values far outside training.
   */
  private static void assertFusedScoringEqualsMllib(String name, PipelineModel model,
      Dataset<Row> rows) {
    assertThat(FusedVoter.of(model, FusedVoter.prepare(model, rows).schema()).isPresent())
        .as(name)
        .isEqualTo(FUSED.contains(name));
    EnsembleModel ensemble = EnsembleModel.softVote(
        List.of(new EnsembleModel.Voter(name, 1.0, model)), Modes.Combine.MEAN);
    String vector = CandidatePipeline.featuresCol(name);
    Map<Long, Row> mllib = new HashMap<>();
    ensemble.transform(rows, true, false).select(col("customer_id"), col("propensity"),
        col(vector)).collectAsList().forEach(r -> mllib.put(r.getLong(0), r));
    List<Row> fused = ensemble.transform(rows, true, true).select(col("customer_id"),
        col("propensity"), col(vector)).collectAsList();
    assertThat(fused).as(name).hasSize(mllib.size());
    for (Row f : fused) {
      Row m = mllib.get(f.getLong(0));
      assertThat(f.getDouble(1)).as(name + " row " + f.getLong(0))
          .isCloseTo(m.getDouble(1), within(1e-12));
      assertThat(f.<Vector>getAs(2).toArray()).as(name + " vector of row " + f.getLong(0))
          .containsExactly(m.<Vector>getAs(2).toArray(), within(1e-12));
    }
  }

  @Test
  void plattScalingRecoversTheSigmoidThatMadeTheLabels() throws Exception {
    Random random = new Random(3);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 4000; i++) {
      double m = random.nextGaussian();
      rows.add(RowFactory.create(m, random.nextDouble() < 1 / (1 + Math.exp(-(2 * m - 1))) ? 1.0
          : 0.0));
    }
    Dataset<Row> df = spark().createDataFrame(rows, new StructType()
            .add("m", DataTypes.DoubleType).add("y", DataTypes.DoubleType))
        .withColumn("raw", array_to_vector(array(col("m").multiply(-1), col("m"))));
    PlattScalingModel model = new PlattScaling().setInputCol("raw").setOutputCol("prob")
        .setLabelCol("y").fit(df);
    assertThat(model.getSlope()).isCloseTo(2.0, within(0.25));
    assertThat(model.getIntercept()).isCloseTo(-1.0, within(0.2));
    Row first = model.transform(df.limit(1)).select("m", "prob").first();
    double p = 1 / (1 + Math.exp(-(model.getSlope() * first.getDouble(0)
        + model.getIntercept())));
    assertThat(first.<Vector>getAs(1).apply(1)).isCloseTo(p, within(1e-12));
    assertThat(first.<Vector>getAs(1).apply(0)).isCloseTo(1 - p, within(1e-12));
  }

  @Test
  void unitRangeScalingClipsOutsideTheTrainingRange() throws Exception {
    StructType schema = new StructType().add("v", SQLDataTypes.VectorType());
    Dataset<Row> fit = spark().createDataFrame(List.of(RowFactory.create(Vectors.dense(0, 3)),
        RowFactory.create(Vectors.dense(10, 3))), schema);
    Dataset<Row> score = spark().createDataFrame(List.of(RowFactory.create(Vectors.dense(-5, 3)),
        RowFactory.create(Vectors.dense(5, 7)), RowFactory.create(Vectors.dense(20, -1))), schema);
    UnitRangeScalerModel model = new UnitRangeScaler().setInputCol("v").setOutputCol("s").fit(fit);
    String path = tempWarehouse("scaler").resolve("m").toString();
    model.write().overwrite().save(path);
    List<Row> out = UnitRangeScalerModel.read().load(path).transform(score).select("s")
        .collectAsList();
    assertThat(out).extracting(r -> r.<Vector>getAs(0)).containsExactly(
        Vectors.dense(0, 0), Vectors.dense(0.5, 0), Vectors.dense(1, 0));
  }

  /** A new category, nulls, and values far outside the training range. */
  private static Dataset<Row> oddRows() {
    List<Row> rows = List.of(
        RowFactory.create(100_000L, Date.valueOf("2026-05-31"), 1e9, -1e9, 5, "never-seen", null),
        RowFactory.create(100_001L, Date.valueOf("2026-05-31"), null, null, null, null, null),
        RowFactory.create(100_002L, Date.valueOf("2026-05-31"), -1e9, 1e9, -7, "b", null));
    return spark().createDataFrame(rows, TrainingData.SCHEMA)
        .withColumn(CandidatePipeline.LABEL, lit(null).cast("double"));
  }

  private static Dataset<Row> score(PipelineModel model, String name, Dataset<Row> rows) {
    return model.transform(rows).select(col("customer_id"),
        CandidatePipeline.positiveProbability(name).as("p"),
        col(CandidatePipeline.LABEL).as("y"));
  }
}
