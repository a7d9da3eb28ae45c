package dev.propensity.jobs.model;


import static org.apache.spark.sql.functions.col;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.config.JobConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.classification.DecisionTreeClassifier;
import org.apache.spark.ml.classification.GBTClassifier;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.ProbabilisticClassifier;
import org.apache.spark.ml.classification.RandomForestClassifier;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A small labelled customer table (numeric features with missing values, categoricals with a
 * missing value) and candidate pipelines fitted on it, shared by the explain tests.
 */
public final class ExplainData {

  public static final FeatureSchema SCHEMA = new FeatureSchema("features", "customer_id",
      Optional.empty(), "label", List.of("recency", "spend", "visits"),
      List.of("region", "segment"), Optional.empty(), Optional.empty());

  private static Dataset<Row> rows;
  private static final java.util.Map<String, PipelineModel> MODELS = new java.util.HashMap<>();

  private ExplainData() {}

  /** @return 1,200 rows: customer_id, recency, spend, visits, region, segment, label, __label */
  public static synchronized Dataset<Row> rows() {
    if (rows == null) {
      StructType schema = new StructType()
          .add("customer_id", DataTypes.LongType)
          .add("recency", DataTypes.DoubleType)
          .add("spend", DataTypes.DoubleType)
          .add("visits", DataTypes.IntegerType)
          .add("region", DataTypes.StringType)
          .add("segment", DataTypes.StringType)
          .add("label", DataTypes.IntegerType);
      String[] regions = {"north", "south", "east", "west"};
      String[] segments = {"new", "loyal", "lapsed"};
      Random rnd = new Random(42);
      List<Row> list = new ArrayList<>();
      for (int i = 0; i < 1200; i++) {
        double recency = rnd.nextDouble() * 365;
        Double spend = rnd.nextDouble() < 0.1 ? null : Math.exp(rnd.nextGaussian() * 0.8 + 4);
        int visits = rnd.nextInt(20);
        String region = rnd.nextDouble() < 0.03 ? null : regions[rnd.nextInt(4)];
        String segment = segments[rnd.nextInt(3)];
        double logit = -1 - recency / 120 + (spend == null ? 0 : spend / 100) + visits * 0.08
            + ("east".equals(region) ? 0.8 : 0) + ("loyal".equals(segment) ? 0.7 : 0);
        int label = rnd.nextDouble() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
        list.add(RowFactory.create((long) i, recency, spend, visits, region, segment, label));
      }
      rows = SparkTestBase.spark().createDataFrame(list, schema)
          .withColumn(CandidatePipeline.LABEL, col("label").cast("double"))
          .cache();
    }
    return rows;
  }

  /**
   * @return a candidate exactly as the training job builds it (its preprocessing, then the
   *     candidate's own stages: for decision-tree and random-forest, regression trees on the 0/1
   *     label and ScoreToProbability), fitted at its first grid point
   */
  public static synchronized PipelineModel trained(String name) {
    return MODELS.computeIfAbsent("trained:" + name, n -> {
      JobConfig config = JobConfig.defaults().with("train.candidates=[" + name + "]",
          "train.decision-tree.max-depth=[5]", "train.random-forest.num-trees=[8]",
          "train.random-forest.max-depth=[4]", "train.gbt.validation-fraction=0",
          "train.xgboost.early-stopping-rounds=0", "train.xgboost.num-round=30",
          "train.xgboost.max-depth=[3]", "train.xgboost-rf.num-trees=[8]",
          "train.xgboost-rf.max-depth=[4]");
      Candidates.Candidate c = Candidates.fromConfig(config, false).get(0);
      PipelineModel prep = CandidatePipeline.preprocessing(name, SCHEMA, c.scaling(),
          CandidatePipeline.FeatureSelection.none()).fit(rows());
      PipelineModel head = c.head().fit(prep.transform(rows()), c.resolve(0, 12));
      return CandidatePipeline.whole(c, prep, head);
    });
  }

  /** @return a fitted candidate pipeline: dt, rf, gbt or lr */
  public static synchronized PipelineModel model(String name) {
    return MODELS.computeIfAbsent(name, n -> {
      ProbabilisticClassifier<?, ?, ?> c = switch (n) {
        case "dt" -> new DecisionTreeClassifier().setMaxDepth(5).setSeed(1);
        case "rf" -> new RandomForestClassifier().setNumTrees(6).setMaxDepth(4).setSeed(1);
        case "gbt" -> new GBTClassifier().setMaxIter(8).setMaxDepth(3).setSeed(1);
        case "lr" -> new LogisticRegression().setRegParam(0.01).setMaxIter(50);
        case "nb" -> new org.apache.spark.ml.classification.NaiveBayes();
        default -> throw new IllegalArgumentException(n);
      };
      String family = switch (n) {
        case "dt" -> "decision-tree";
        case "rf" -> "random-forest";
        case "lr" -> "logistic";
        case "nb" -> "naive-bayes";
        default -> n;
      };
      return CandidatePipeline.build(n, family, SCHEMA, c, "lr".equals(n)).fit(rows());
    });
  }
}
