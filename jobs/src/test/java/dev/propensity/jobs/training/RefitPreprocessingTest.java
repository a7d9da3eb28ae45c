package dev.propensity.jobs.training;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.jobs.model.CandidatePipeline;
import dev.propensity.jobs.model.CandidatePipeline.FeatureSelection;
import dev.propensity.jobs.model.CandidatePipeline.Scaling;
import dev.propensity.jobs.model.TrainingData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * The refit rows are preprocessed once per scaling kind and shared by its candidates: the shared
 * fit, given a candidate's column names, transforms exactly as that candidate's own preprocessing
 * fitted on the same rows, and saves and loads as one.
 */
class RefitPreprocessingTest extends SparkTestBase {

  @Test
  void sharedRefitPreprocessingEqualsEachCandidatesOwnFit() throws Exception {
    JobConfig config = TrainingData.config("/unused");
    FeatureSchema schema = FeatureSchema.fromConfig(config);
    Dataset<Row> rows = TrainingData.frame(spark(), 800, 11)
        .withColumn(CandidatePipeline.LABEL, col("label").cast("double"))
        .withColumn(CandidatePipeline.FOLD, col("customer_id").mod(3).cast("int")).cache();
    // unseen and null categories, missing numbers: every stage's learnt state is used
    Dataset<Row> scoring = TrainingData.frame(spark(), 200, 12)
        .withColumn("segment", when(col("customer_id").mod(5).equalTo(0), lit("z"))
            .when(col("customer_id").mod(7).equalTo(0), lit(null)).otherwise(col("segment")))
        .withColumn("x1", when(col("customer_id").mod(6).equalTo(0), lit(null))
            .otherwise(col("x1")));
    FeatureSelection variance = new FeatureSelection("variance", 0.01, "fpr", 0.05);
    FeatureSelection univariate = new FeatureSelection("univariate", 0.0, "fpr", 0.05);
    record Case(FeatureSelection selection, Scaling scaling) {}
    // every scaling kind and every selection method once
    List<Case> cases = List.of(new Case(FeatureSelection.none(), Scaling.NONE),
        new Case(variance, Scaling.STANDARD), new Case(univariate, Scaling.UNIT_RANGE));
    String candidate = "logistic";
    String features = CandidatePipeline.featuresCol(candidate);
    for (Case c : cases) {
      try (FoldData folds = new FoldData(rows, schema, c.selection(), 3, true)) {
        FoldData.Refit refit = folds.refit(c.scaling(), rows, "customer_id");
        assertThat(folds.refit(c.scaling(), rows, "customer_id"))
            .as("one fit per scaling kind").isSameAs(refit);
        Pipeline own = CandidatePipeline.preprocessing(candidate, schema, c.scaling(),
            c.selection());
        PipelineModel shared = refit.modelFor(own);
        PipelineModel fitted = own.fit(rows);
        assertThat(Arrays.stream(shared.transform(scoring).columns())
            .filter(col -> col.contains("__refit"))).as("no column of the shared prefix")
            .isEmpty();
        List<Vector> expected = vectors(fitted.transform(scoring), features);
        assertThat(vectors(shared.transform(scoring), features)).as("%s on new rows", c)
            .isEqualTo(expected);
        List<Vector> kept = vectors(fitted.transform(rows), features);
        assertThat(vectors(refit.forCandidate(candidate), features)).as("the kept refit rows")
            .isEqualTo(kept);
        assertThat(refit.size()).isEqualTo(kept.get(0).size());
        if (c.scaling() == Scaling.STANDARD) {
          Path dir = Files.createTempDirectory("refit-prep");
          shared.write().overwrite().save(dir.toString());
          assertThat(vectors(PipelineModel.load(dir.toString()).transform(scoring), features))
              .as("saved and loaded").isEqualTo(expected);
          Dataset<Row> other = rows.where(col("customer_id").lt(600));
          assertThat(folds.refit(c.scaling(), other, "customer_id"))
              .as("other rows are not the kept ones").isNotSameAs(refit);
        }
      }
    }
  }

  private static List<Vector> vectors(Dataset<Row> df, String column) {
    return df.orderBy("customer_id").select(column).collectAsList().stream()
        .map(r -> r.<Vector>getAs(0)).toList();
  }
}
