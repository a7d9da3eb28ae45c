package dev.propensity.common.spark;

import dev.propensity.common.config.JobConfig;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates (or reuses) the SparkSession the jobs run in: Delta's SQL extension and catalog, s3a
 * settings from config, and local defaults when no master was given by spark-submit.
 */
public final class SparkSessions {

  private static final Logger LOG = LoggerFactory.getLogger(SparkSessions.class);

  private SparkSessions() {}

  /**
   * @param config the job config ({@code propensity.spark.*}, {@code propensity.s3.*})
   * @return a session with Delta enabled and object storage configured
   */
  public static SparkSession getOrCreate(JobConfig config) {
    SparkConf conf = new SparkConf();
    if (!conf.contains("spark.master")) {
      conf.setMaster(config.string("propensity.spark.master"));
    }
    conf.setIfMissing("spark.app.name", config.string("propensity.spark.app-name"));
    conf.set("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension");
    conf.set("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog");
    conf.setIfMissing("spark.sql.shuffle.partitions",
        String.valueOf(config.integer("propensity.spark.shuffle-partitions")));
    conf.setIfMissing("spark.sql.session.timeZone", "UTC");
    if (conf.get("spark.master").startsWith("local")) {
      // Delta rebuilds table state with 50 tasks by default: far too many for small local tables
      conf.setIfMissing("spark.databricks.delta.snapshotPartitions",
          String.valueOf(config.integer("propensity.spark.shuffle-partitions")));
    }
    // a partitioned write of a few partition values (one snapshot_date, say) keeps one writer
    // open per value instead of sorting every row by the partition column first; more values
    // than this per task fall back to the sort (Spark and Delta's writers both honour it)
    conf.setIfMissing("spark.sql.maxConcurrentOutputFileWriters", "4");
    conf.setIfMissing("spark.ui.showConsoleProgress", "true");
    for (Map.Entry<String, String> e : config.section("propensity.spark.conf").entrySet()) {
      conf.set(e.getKey(), e.getValue());
    }
    SparkSession spark = SparkSession.builder().config(conf).getOrCreate();
    configureObjectStorage(spark, config);
    return spark;
  }

  /**
   * Applies the s3a settings to a running session's Hadoop configuration, so a session that
   * already exists (tests, notebooks) can reach the configured object store too.
   */
  public static void configureObjectStorage(SparkSession spark, JobConfig config) {
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    String endpoint = config.string("propensity.s3.endpoint");
    if (!endpoint.isBlank()) {
      hadoop.set("fs.s3a.endpoint", endpoint);
      hadoop.setBoolean("fs.s3a.connection.ssl.enabled", endpoint.startsWith("https:"));
    }
    hadoop.set("fs.s3a.endpoint.region", config.string("propensity.s3.region"));
    hadoop.setBoolean("fs.s3a.path.style.access", config.bool("propensity.s3.path-style-access"));
    // credentials: Hadoop's default chain (environment variables, then instance/container roles)
    boolean magic = config.bool("propensity.s3.magic-committer")
        && config.string("propensity.warehouse").startsWith("s3a:") && hasCloudCommitters();
    if (magic) {
      hadoop.set("fs.s3a.committer.name", "magic");
      hadoop.setBoolean("fs.s3a.committer.magic.enabled", true);
      spark.conf().set("spark.sql.sources.commitProtocolClass",
          "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol");
      spark.conf().set("spark.sql.parquet.output.committer.class",
          "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter");
      hadoop.set("mapreduce.outputcommitter.factory.scheme.s3a",
          "org.apache.hadoop.fs.s3a.commit.S3ACommitterFactory");
    }
    LOG.info("Object storage: endpoint={}, path-style={}, magic committer={}",
        endpoint.isBlank() ? "(AWS default)" : endpoint,
        config.bool("propensity.s3.path-style-access"), magic);
  }

  private static boolean hasCloudCommitters() {
    try {
      Class.forName("org.apache.spark.internal.io.cloud.PathOutputCommitProtocol");
      return true;
    } catch (ClassNotFoundException e) {
      LOG.warn("propensity.s3.magic-committer is on but spark-hadoop-cloud is not on the classpath;"
          + " MLlib saves to s3a use the slower rename committer. See README 'Running on a cluster'.");
      return false;
    }
  }
}
