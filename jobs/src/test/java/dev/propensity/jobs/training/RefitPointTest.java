package dev.propensity.jobs.training;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.jobs.model.CandidatePipeline;
import dev.propensity.jobs.model.CandidatePipeline.FeatureSelection;
import dev.propensity.jobs.model.Candidates;
import dev.propensity.jobs.model.Candidates.Candidate;
import dev.propensity.jobs.model.Metrics;
import dev.propensity.jobs.model.TrainingData;
import java.util.List;
import org.apache.spark.SparkContext;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * The refit of an XGBoost family trains on the workers its cross-validation folds used together
 * (capped by the task slots), and such a fit works in local[2] with the quality of one worker's.
 */
class RefitPointTest extends SparkTestBase {

  private static Object workers(Candidate c, ParamMap point) {
    PipelineStage stage = c.head().getStages()[0];
    Param<Object> p = stage.getParam("numWorkers");
    return point.contains(p) ? point.apply(p) : stage.getOrDefault(p);
  }

  @Test
  void xgboostRefitsOnTheWorkersOfItsConcurrentFoldsWithinTheSlots() {
    SparkContext sc = spark().sparkContext();
    JobConfig config = TrainingData.config("/unused",
        "train.candidates=[xgboost, xgboost-rf, logistic]", "train.xgboost.max-depth=[3]",
        "train.xgboost.num-round=30", "train.xgboost.early-stopping-rounds=0",
        "train.xgboost-rf.num-trees=[10]",
        "train.xgboost-rf.max-depth=[4]");
    List<Candidate> candidates = Candidates.fromConfig(config, false);
    Candidate xgb = candidates.get(0);
    Candidate forest = candidates.get(1);
    Candidate logistic = candidates.get(2);
    assertThat(sc.defaultParallelism()).isEqualTo(2);

    assertThat(workers(xgb, xgb.grid()[0])).as("the configured num-workers").isEqualTo(1);
    assertThat(workers(xgb, CrossValidation.refitPoint(xgb, xgb.grid()[0], 2, sc))).isEqualTo(2);
    assertThat(workers(forest, CrossValidation.refitPoint(forest, forest.grid()[0], 2, sc)))
        .isEqualTo(2);
    assertThat(workers(xgb, CrossValidation.refitPoint(xgb, xgb.grid()[0], 1, sc)))
        .as("folds one at a time: the refit keeps one worker").isEqualTo(1);
    assertThat(workers(xgb, CrossValidation.refitPoint(xgb, xgb.grid()[0], 3, sc)))
        .as("at most the two task slots of local[2]").isEqualTo(2);
    ParamMap lr = logistic.grid()[0];
    assertThat(CrossValidation.refitPoint(logistic, lr, 2, sc).toSeq().size())
        .as("a family without workers is left alone").isEqualTo(lr.toSeq().size());

    // two workers really train together here, to one worker's quality
    FeatureSchema schema = FeatureSchema.fromConfig(config);
    Dataset<Row> all = TrainingData.frame(spark(), 3000, 5)
        .withColumn(CandidatePipeline.LABEL, col("label").cast("double"));
    Dataset<Row> train = all.where(col("customer_id").mod(4).notEqual(0)).cache();
    Dataset<Row> test = all.where(col("customer_id").mod(4).equalTo(0)).cache();
    PipelineModel prep = CandidatePipeline.preprocessing(xgb.name(), schema, xgb.scaling(),
        FeatureSelection.none()).fit(train);
    double[] auc = new double[2];
    for (int concurrent = 1; concurrent <= 2; concurrent++) {
      PipelineModel head = xgb.head().fit(prep.transform(train),
          CrossValidation.refitPoint(xgb, xgb.grid()[0], concurrent, sc));
      auc[concurrent - 1] = Metrics.cvMetric(head.transform(prep.transform(test)),
          CandidatePipeline.positiveProbability(xgb.name()), CandidatePipeline.LABEL, "auc_roc");
    }
    assertThat(auc[0]).as("one worker").isGreaterThan(0.6);
    assertThat(auc[1]).as("two workers against one").isCloseTo(auc[0], within(0.02));
  }
}
