package dev.propensity.jobs.bins;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.bins.BinEdges;
import dev.propensity.common.config.JobConfig;
import java.util.List;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** The Spark bin expression agrees with the pure rule, and fixed cut points mean "at least". */
class BinColumnsTest extends SparkTestBase {

  private static List<Row> binned(BinColumns bins, List<Double> scores) {
    return spark().createDataset(scores, Encoders.DOUBLE()).toDF("s")
        .select(col("s"), bins.bin(col("s")).as("bin"), bins.label(bins.bin(col("s"))))
        .collectAsList();
  }

  @Test
  void expressionMatchesThePureRuleIncludingTiesAndOutOfRangeScores() {
    double[] edges = {0.2, 0.5, 0.8};
    BinColumns bins = new BinColumns(edges, BinColumns.quantileLabels(4));
    for (Row r : binned(bins, List.of(-1.0, 0.0, 0.2, 0.35, 0.5, 0.8, 0.81, 2.0))) {
      assertThat(r.getInt(1)).as("score " + r.getDouble(0))
          .isEqualTo(BinEdges.binOf(r.getDouble(0), edges));
    }
  }

  @Test
  void fixedCutPointsAreTheLowestScoreOfTheirGroup() {
    BinColumns bins = BinsJob.fixedBins(JobConfig.defaults().with("bins.method=fixed"));
    List<Row> rows = binned(bins, List.of(0.95, 0.7, 0.6999, 0.4, 0.39, 0.0));
    assertThat(rows).extracting(r -> r.getString(2))
        .containsExactly("High", "High", "Medium", "Medium", "Low", "Low");
    assertThatThrownBy(() -> BinsJob.fixedBins(JobConfig.defaults()
        .with("bins.fixed.cuts=[0.4, 0.7]")))
        .hasMessageContaining("propensity.bins.fixed.cuts").hasMessageContaining("decreasing");
    assertThatThrownBy(() -> BinsJob.fixedBins(JobConfig.defaults()
        .with("bins.fixed.labels=[High, Low]")))
        .hasMessageContaining("one label more than propensity.bins.fixed.cuts");
  }
}
