package dev.propensity.common;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/**
 * One SparkSession for the whole test JVM ({@code local[2]}, UI off, few partitions, Delta on);
 * each test class makes its own temporary warehouse.
 */
public abstract class SparkTestBase {

  private static SparkSession spark;

  /** @return the shared session, created on first use */
  public static synchronized SparkSession spark() {
    if (spark == null) {
      spark = SparkSession.builder()
          .master("local[2]")
          .appName("propensity-tests")
          .config("spark.ui.enabled", "false")
          .config("spark.ui.showConsoleProgress", "false")
          .config("spark.sql.shuffle.partitions", "2")
          .config("spark.default.parallelism", "2")
          .config("spark.databricks.delta.snapshotPartitions", "2")
          .config("spark.sql.session.timeZone", "UTC")
          // as train gives its session one (SparkSessions.ensureCheckpointDir): GBT cuts its
          // lineage with it
          .config("spark.checkpoint.dir", tempWarehouse("checkpoints").toString())
          .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
          .config("spark.sql.catalog.spark_catalog",
              "org.apache.spark.sql.delta.catalog.DeltaCatalog")
          .getOrCreate();
    }
    return spark;
  }

  /** @return a new empty directory for a test's warehouse */
  public static Path tempWarehouse(String prefix) {
    try {
      return Files.createTempDirectory("propensity-" + prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
