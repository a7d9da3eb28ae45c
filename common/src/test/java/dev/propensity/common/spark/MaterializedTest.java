package dev.propensity.common.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.spark_partition_id;
import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.SparkTestBase;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

class MaterializedTest extends SparkTestBase {

  /** Rows in a shuffled, windowed order over several partitions, as the training folds are. */
  private static Dataset<Row> rows() {
    return spark().range(0, 500).repartition(5, col("id").mod(3))
        .withColumn("x", col("id").multiply(7).mod(11));
  }

  private static List<Row> byPartition(Dataset<Row> rows) {
    return rows.select(spark_partition_id().as("part"), col("id"), col("x")).collectAsList();
  }

  @Test
  void aCheckpointKeepsEveryRowInItsPartitionAndOrderWithAOneRddLineage() {
    Dataset<Row> plain = rows();
    Dataset<Row> kept = Materialized.of(rows(), true);
    try {
      assertThat(kept.rdd().getNumPartitions()).isEqualTo(plain.rdd().getNumPartitions());
      assertThat(byPartition(kept)).containsExactlyElementsOf(byPartition(plain));
      // the plan that made the rows is gone: no exchange (shuffle) left to run or to ship
      assertThat(kept.queryExecution().executedPlan().toString()).doesNotContain("Exchange");
      assertThat(plain.queryExecution().executedPlan().toString()).contains("Exchange");
    } finally {
      Materialized.release(kept);
    }
  }

  @Test
  void releaseFreesTheBlocksOfEitherKind() {
    int before = spark().sparkContext().getPersistentRDDs().size();
    Dataset<Row> checkpointed = Materialized.of(rows(), true);
    Dataset<Row> cached = Materialized.of(rows(), false);
    cached.count();
    assertThat(spark().sparkContext().getPersistentRDDs().size()).isEqualTo(before + 2);
    assertThat(cached.storageLevel().useMemory()).isTrue();

    Materialized.release(checkpointed);
    Materialized.release(cached);
    assertThat(spark().sparkContext().getPersistentRDDs().size()).isEqualTo(before);
    assertThat(cached.storageLevel().useMemory()).isFalse();
  }
}
