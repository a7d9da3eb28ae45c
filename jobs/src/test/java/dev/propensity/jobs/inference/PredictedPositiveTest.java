package dev.propensity.jobs.inference;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.to_date;
import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRegistry;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.MonitoringFixture;
import dev.propensity.jobs.RunData;
import dev.propensity.jobs.model.Ensemble;
import dev.propensity.jobs.model.Splits;
import dev.propensity.jobs.selection.SelectJob;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** The threshold select chooses reaches the published scores as {@code predicted_positive}. */
class PredictedPositiveTest extends SparkTestBase {

  @Test
  void aTargetRecallThresholdFlagsCustomersAndReachesTheRecallOnValidation() {
    Path dir = MonitoringFixture.freshWarehouse("predicted-positive");
    JobConfig config = MonitoringFixture.base(dir).with("select.threshold.rule=target-recall",
        "select.threshold.target-recall=0.85");
    Warehouse wh = Warehouse.of(spark(), config);
    ModelRun run = new ModelRegistry(wh).open("latest");
    double maxF1 = Ensemble.threshold(run).orElseThrow();

    new SelectJob().run(spark(), config.with("select.run-id=" + run.id()));
    double threshold = Ensemble.threshold(run).orElseThrow();
    // reaching 85% recall takes a lower threshold than the F1 optimum on this small table
    assertThat(threshold).isLessThan(maxF1);
    new ScoreJob().run(spark(), config.with("score.snapshot=" + MonitoringFixture.LABELLED));

    Dataset<Row> scores = wh.read(Tables.CUSTOMER_SCORES)
        .where(col("snapshot_date").equalTo(to_date(lit(MonitoringFixture.LABELLED))));
    assertThat(scores.where(col("predicted_positive").isNull()).count()).isZero();
    assertThat(scores.where(col("predicted_positive")
        .notEqual(col("propensity").geq(threshold))).count()).isZero();
    assertThat(scores.where(col("predicted_positive")).count()).isPositive();
    assertThat(scores.where(col("predicted_positive").equalTo(false)).count()).isPositive();
    assertThat(wh.read(Tables.CUSTOMER_PROPENSITY).where(col("predicted_positive")
        .notEqual(col("propensity").geq(threshold))).count()).isZero();

    // recall of the published flag on the run's validation rows: at least the target
    FeatureSchema schema = FeatureSchema.fromConfig(config);
    Dataset<Row> validation = RunData.splitRows(wh, schema, run)
        .where(col(Splits.COLUMN).equalTo(Splits.VALIDATION))
        .select(col(schema.idColumn()).cast("string").as("customer_id"),
            col(schema.labelColumn()).cast("double").as("label"));
    List<Row> positives = scores.join(validation, "customer_id")
        .where(col("label").equalTo(1.0)).select("predicted_positive").collectAsList();
    assertThat(positives).hasSizeGreaterThan(10);
    long caught = positives.stream().filter(r -> r.getBoolean(0)).count();
    assertThat((double) caught / positives.size()).isGreaterThanOrEqualTo(0.85);
  }
}
