package dev.propensity.common.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.SparkTestBase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RuntimeConfig;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** Shuffles widened for a job with large inputs, for its duration only, never over the user's. */
class InputShufflePartitionsTest {

  private static final String KEY = SparkSessions.INITIAL_PARTITIONS_KEY;

  @Test
  void largeInputsWidenTheShufflesUntilClosedSmallOnesDoNot() {
    SparkSession spark = SparkTestBase.spark(); // 2 shuffle partitions
    RuntimeConfig conf = spark.conf();
    assertThat(conf.contains(KEY)).isFalse();
    try (InputShufflePartitions small = InputShufflePartitions.forBytes(spark, 32L << 20,
        16L << 20, "test")) {
      assertThat(small.widened()).as("2 partitions' worth: the session's 2").isFalse();
      assertThat(conf.contains(KEY)).isFalse();
    }
    try (InputShufflePartitions large = InputShufflePartitions.forBytes(spark, (1L << 30) + 1,
        16L << 20, "test")) {
      assertThat(large.widened()).isTrue();
      assertThat(conf.get(KEY)).isEqualTo("65");
      // a join of the job's starts that wide; adaptive execution coalesces its tiny output
      Dataset<Row> a = spark.range(1000).toDF("id");
      Dataset<Row> b = spark.range(1000).toDF("id");
      assertThat(a.join(b, "id").count()).isEqualTo(1000);
    }
    assertThat(conf.contains(KEY)).as("the session as it was after the job").isFalse();
  }

  @Test
  void aWidthTheUserSetIsLeftAlone() {
    SparkSession spark = SparkTestBase.spark();
    RuntimeConfig conf = spark.conf();
    conf.set(KEY, "12");
    try {
      try (InputShufflePartitions large = InputShufflePartitions.forBytes(spark, 1L << 40,
          16L << 20, "test")) {
        assertThat(large.widened()).isFalse();
        assertThat(conf.get(KEY)).isEqualTo("12");
      }
      assertThat(conf.get(KEY)).isEqualTo("12");
    } finally {
      conf.unset(KEY);
    }
  }

  /** The width follows the inputs' stored size: a Delta table's data files, a CSV's file. */
  @Test
  void sizesComeFromTheInputsPlans() throws IOException {
    SparkSession spark = SparkTestBase.spark();
    Path dir = SparkTestBase.tempWarehouse("input-width");
    String delta = dir.resolve("delta").toString();
    String csv = dir.resolve("csv").toString();
    spark.range(20000).selectExpr("id", "cast(id * 7 as string) as s").write().format("delta")
        .save(delta);
    spark.range(5000).selectExpr("id").coalesce(1).write().csv(csv);
    long bytes = size(Path.of(delta), ".parquet") + size(Path.of(csv), ".csv");
    assertThat(bytes).isGreaterThan(4096);
    List<Dataset<Row>> inputs = List.of(spark.read().format("delta").load(delta),
        spark.read().csv(csv));
    try (InputShufflePartitions wide = InputShufflePartitions.forInputs(spark, inputs, 1024,
        "test")) {
      assertThat(wide.widened()).isTrue();
      assertThat(spark.conf().get(KEY)).isEqualTo(String.valueOf((bytes + 1023) / 1024));
    }
  }

  private static long size(Path dir, String suffix) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(p -> p.getFileName().toString().endsWith(suffix)).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      }).sum();
    }
  }
}
