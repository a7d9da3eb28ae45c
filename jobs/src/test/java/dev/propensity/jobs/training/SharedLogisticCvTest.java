package dev.propensity.jobs.training;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.jobs.model.CandidatePipeline;
import dev.propensity.jobs.model.CandidatePipeline.FeatureSelection;
import dev.propensity.jobs.model.Candidates;
import dev.propensity.jobs.model.Candidates.Candidate;
import dev.propensity.jobs.model.Splits;
import dev.propensity.jobs.model.TrainingData;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * The logistic family's cross-validation with the shared pass (its passes on the driver, as the
 * default config runs rows this small) gives the per-fold metrics and the best grid point of
 * MLlib's estimator path, with and without class weights.
 */
class SharedLogisticCvTest extends SparkTestBase {

  @Test
  void sharedPassCrossValidatesAsMllib() {
    // the project's default grid: 6 points x 3 folds = 18 models in one shared fit
    JobConfig config = TrainingData.config("/unused", "train.candidates=[logistic]",
        "train.cv.num-folds=3", "train.logistic.reg-param=[0.0001, 0.001, 0.01]",
        "train.logistic.elastic-net-param=[0.0, 0.5]");
    FeatureSchema schema = FeatureSchema.fromConfig(config);
    Dataset<Row> all = TrainingData.frame(spark(), 2400, 5)
        .withColumn(CandidatePipeline.LABEL, col("label").cast("double"));
    Dataset<Row> base = Splits.assignFolds(all, "customer_id", CandidatePipeline.LABEL, 3, 42)
        .withColumn(CandidatePipeline.GBT_VALIDATION, Splits.holdOut("customer_id", 42, "gbt",
            0.1));
    for (boolean weights : new boolean[] {false, true}) {
      Dataset<Row> train = (weights ? base.withColumn(CandidatePipeline.WEIGHT,
          when(col(CandidatePipeline.LABEL).equalTo(1), 3.0).otherwise(1.0)) : base).cache();
      Candidate c = Candidates.fromConfig(config, weights).get(0);
      try (FoldData folds = new FoldData(train, schema, FeatureSelection.fromConfig(config), 3,
          true)) {
        // 0: MLlib's estimator; 1: the shared fit on the driver; 2: as Spark jobs (each fold's
        // held-out rows then scored for every grid point in one job)
        CrossValidation.Result[] results = new CrossValidation.Result[3];
        for (int shared = 0; shared < 3; shared++) {
          AtomicLong oofRows = new AtomicLong();
          long start = System.nanoTime();
          results[shared] = CrossValidation.run(c, folds, CandidatePipeline.preprocessing(
                  c.name(), schema, c.scaling(), FeatureSelection.fromConfig(config)), train,
              new CrossValidation.Settings(3, 2, true, 0, "auc_roc", "customer_id", 1, 1,
                  System.nanoTime(), shared >= 1, shared == 1 ? 128L << 20 : 0),
              oof -> oofRows.set(oof.count()));
          System.out.printf("weights %s, variant %d: cv %.1f s%n", weights, shared,
              (System.nanoTime() - start) / 1e9);
          assertThat(oofRows.get()).isEqualTo(train.count());
        }
        CrossValidation.Result mllib = results[0];
        CrossValidation.Result ours = results[1];
        for (int j = 0; j < c.grid().length; j++) {
          // the Spark passes' fits equal the driver's to rounding (their sums' order differs)
          assertThat(results[2].evaluated().get(j).foldMetrics()).as("on Spark, grid point %d", j)
              .containsExactly(ours.evaluated().get(j).foldMetrics(), within(1e-9));
        }
        assertThat(ours.evaluated()).hasSize(c.grid().length);
        assertThat(ours.budgetExhausted()).isFalse();
        for (int j = 0; j < c.grid().length; j++) {
          assertThat(ours.evaluated().get(j).params()).isEqualTo(mllib.evaluated().get(j)
              .params());
          assertThat(ours.evaluated().get(j).foldMetrics()).as("weights %s, grid point %d",
                  weights, j)
              .containsExactly(mllib.evaluated().get(j).foldMetrics(), within(1e-4));
        }
        double[] means = mllib.evaluated().stream().mapToDouble(CrossValidation.GridResult::mean)
            .toArray();
        System.out.printf("weights %s: best %d (ours) %d (MLlib); MLlib means %s, ours %s%n",
            weights, ours.best(), mllib.best(), java.util.Arrays.toString(means),
            ours.evaluated().stream().map(r -> String.format("%.6f", r.mean())).toList());
        // the same best point, unless MLlib's own top two are within the tolerance (a tie)
        double runnerUp = java.util.stream.IntStream.range(0, means.length)
            .filter(j -> j != mllib.best()).mapToDouble(j -> means[j]).max().orElse(-1);
        if (means[mllib.best()] - runnerUp > 1e-4) {
          assertThat(ours.best()).isEqualTo(mllib.best());
          assertThat(ours.params()).isEqualTo(mllib.params());
        } else {
          assertThat(means[ours.best()]).isCloseTo(means[mllib.best()], within(1e-4));
        }
        if (ours.params().equals(mllib.params())) {
          // the refit: the shared trainer's final model scores as MLlib's estimator's
          double diff = maxProbabilityDifference(ours, mllib, train, c.name());
          System.out.printf("weights %s: refit max |p ours - p MLlib| %.2e%n", weights, diff);
          assertThat(diff).as("weights %s", weights).isLessThan(1e-3);
        }
      } finally {
        train.unpersist();
      }
    }
  }

  private static double maxProbabilityDifference(CrossValidation.Result a,
      CrossValidation.Result b, Dataset<Row> rows, String name) {
    org.apache.spark.sql.Column p = CandidatePipeline.positiveProbability(name);
    Dataset<Row> pa = a.model().transform(rows).select(col("customer_id"), p.as("pa"));
    Dataset<Row> pb = b.model().transform(rows).select(col("customer_id"), p.as("pb"));
    Row r = pa.join(pb, "customer_id").agg(
        org.apache.spark.sql.functions.max(org.apache.spark.sql.functions.abs(
            col("pa").minus(col("pb")))), org.apache.spark.sql.functions.count("*")).first();
    assertThat(r.getLong(1)).isEqualTo(rows.count());
    return r.getDouble(0);
  }
}
