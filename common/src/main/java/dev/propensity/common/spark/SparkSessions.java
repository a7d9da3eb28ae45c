package dev.propensity.common.spark;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.Secrets;
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

  /** The values of {@code propensity.s3.log-store}. */
  public static final java.util.List<String> LOG_STORES = java.util.List.of("single-driver",
      "dynamodb");
  private static final String DYNAMODB_LOG_STORE = "io.delta.storage.S3DynamoDBLogStore";
  static final String EXTENSIONS_KEY = "spark.sql.extensions";
  static final String CATALOG_KEY = "spark.sql.catalog.spark_catalog";
  static final String INITIAL_PARTITIONS_KEY =
      "spark.sql.adaptive.coalescePartitions.initialPartitionNum";
  static final String DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension";
  static final String DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog";
  /** Under the warehouse: RDD checkpoints, unless the user set {@code spark.checkpoint.dir}. */
  static final String CHECKPOINTS = "_checkpoints";

  private SparkSessions() {}

  /**
   * @param config the job config ({@code propensity.spark.*}, {@code propensity.s3.*})
   * @return a session with Delta enabled and object storage configured
   */
  public static SparkSession getOrCreate(JobConfig config) {
    SparkConf conf = configure(new SparkConf(), config);
    SparkSession spark = SparkSession.builder().config(conf).getOrCreate();
    configureObjectStorage(spark, config);
    return spark;
  }

  /**
   * Completes a SparkConf with the job's defaults. Settings the user made win: those that came
   * with spark-submit ({@code --conf}, {@code spark-defaults.conf}, a managed runtime's cluster
   * config) and {@code propensity.spark.conf}. Delta's SQL extension and catalog are added only
   * where the user has set no extension list or no {@code spark_catalog}; when the user has, they
   * are left alone (a Unity Catalog, Glue or Hive setup keeps working) and the log says so.
   *
   * @param conf the conf from spark-submit (changed in place)
   * @param config the job config ({@code propensity.spark.*})
   * @return {@code conf}
   */
  public static SparkConf configure(SparkConf conf, JobConfig config) {
    for (Map.Entry<String, String> e : config.section("propensity.spark.conf").entrySet()) {
      conf.set(e.getKey(), e.getValue());
    }
    if (!conf.contains("spark.master")) {
      conf.setMaster(config.string("propensity.spark.master"));
    }
    conf.setIfMissing("spark.app.name", config.string("propensity.spark.app-name"));
    setUnlessUserSet(conf, EXTENSIONS_KEY, DELTA_EXTENSION);
    setUnlessUserSet(conf, CATALOG_KEY, DELTA_CATALOG);
    conf.setIfMissing("spark.sql.shuffle.partitions",
        String.valueOf(config.integer("propensity.spark.shuffle-partitions")));
    int initial = config.integer("propensity.spark.initial-shuffle-partitions");
    if (initial < 0) {
      throw Errors.invalidConfig("propensity.spark.initial-shuffle-partitions", initial,
          "a number of partitions >= 1, or 0 for propensity.spark.shuffle-partitions");
    }
    if (initial > 0) {
      conf.setIfMissing(INITIAL_PARTITIONS_KEY, String.valueOf(initial));
    }
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
    // timestamps as Parquet's TIMESTAMP(MICROS) logical type rather than Spark's legacy INT96,
    // which other readers (Delta Kernel in the serve module, Trino, pandas) convert value by value
    conf.setIfMissing("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS");
    // the progress bar only on a terminal: under a scheduler it floods the log with \r lines
    conf.setIfMissing("spark.ui.showConsoleProgress", String.valueOf(System.console() != null));
    return conf;
  }

  /**
   * Gives the session a checkpoint directory, {@code <warehouse>/_checkpoints}, unless it has one
   * ({@code spark.checkpoint.dir}, or a notebook's {@code setCheckpointDir}). Iterative MLlib
   * fits cut their RDD lineage every {@code checkpointInterval} rounds only when one is set:
   * without it, GBT's 200 boosting rounds build a lineage deep enough to overflow the stack that
   * serialises a task. Called by the jobs that fit models once the warehouse has been reached
   * (it creates the directory), not at session start.
   *
   * @return the session's checkpoint directory
   */
  public static String ensureCheckpointDir(SparkSession spark, JobConfig config) {
    scala.Option<String> current = spark.sparkContext().getCheckpointDir();
    if (current.isDefined()) {
      return current.get();
    }
    String dir = checkpointDir(config);
    spark.sparkContext().setCheckpointDir(dir);
    LOG.info("Spark: RDD checkpoints under {} (set spark.checkpoint.dir to choose)", dir);
    return spark.sparkContext().getCheckpointDir().get();
  }

  /** @return {@code <warehouse>/_checkpoints} */
  static String checkpointDir(JobConfig config) {
    String warehouse = config.string("propensity.warehouse");
    return (warehouse.endsWith("/") ? warehouse : warehouse + "/") + CHECKPOINTS;
  }

  private static void setUnlessUserSet(SparkConf conf, String key, String deltaValue) {
    if (!conf.contains(key)) {
      conf.set(key, deltaValue);
      return;
    }
    String user = conf.get(key);
    boolean hasDelta = java.util.Arrays.stream(user.split(",")).map(String::trim)
        .anyMatch(deltaValue::equals);
    if (hasDelta) {
      LOG.info("Spark: {} = {} set by the user; it includes Delta's {}", key, user, deltaValue);
    } else {
      LOG.warn("Spark: {} = {} set by the user; left alone, so Delta's {} is not added (Delta"
          + " SQL such as OPTIMIZE needs it in the list, or a runtime that ships Delta)", key,
          user, deltaValue);
    }
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
    // bounded retries and timeouts: an outage fails the job in about a minute (exit 5), not 4+
    hadoop.setInt("fs.s3a.retry.limit", config.integer("propensity.s3.retry.limit"));
    hadoop.set("fs.s3a.retry.interval", duration(config, "propensity.s3.retry.interval"));
    hadoop.setInt("fs.s3a.attempts.maximum", config.integer("propensity.s3.retry.sdk-attempts"));
    hadoop.set("fs.s3a.connection.establish.timeout",
        duration(config, "propensity.s3.timeout.connect"));
    hadoop.set("fs.s3a.connection.timeout", duration(config, "propensity.s3.timeout.socket"));
    hadoop.set("fs.s3a.connection.request.timeout",
        duration(config, "propensity.s3.timeout.request"));
    String logStore = config.oneOf("propensity.s3.log-store", LOG_STORES);
    if ("dynamodb".equals(logStore)) {
      requireClass(DYNAMODB_LOG_STORE, "propensity.s3.log-store = dynamodb needs the"
          + " io.delta:delta-storage-s3-dynamodb jar on the classpath (README 'Reliability')");
      String region = config.string("propensity.s3.dynamodb.region");
      spark.conf().set("spark.delta.logStore.s3a.impl", DYNAMODB_LOG_STORE);
      spark.conf().set("spark.io.delta.storage.S3DynamoDBLogStore.ddb.tableName",
          config.string("propensity.s3.dynamodb.table"));
      spark.conf().set("spark.io.delta.storage.S3DynamoDBLogStore.ddb.region",
          region.isBlank() ? config.string("propensity.s3.region") : region);
    }
    LOG.info("Object storage: endpoint={}, path-style={}, magic committer={}, retries={} x {}"
            + " (from {}), timeouts connect/socket/request={}/{}/{}, Delta log store={}",
        endpoint.isBlank() ? "(AWS default)" : Secrets.redactValue(endpoint),
        config.bool("propensity.s3.path-style-access"), magic,
        config.integer("propensity.s3.retry.limit"),
        config.integer("propensity.s3.retry.sdk-attempts"),
        duration(config, "propensity.s3.retry.interval"),
        duration(config, "propensity.s3.timeout.connect"),
        duration(config, "propensity.s3.timeout.socket"),
        duration(config, "propensity.s3.timeout.request"), logStore);
  }

  /** @return a duration key as Hadoop reads it ("1500ms"), validated */
  static String duration(JobConfig config, String key) {
    try {
      return config.raw().getDuration(key).toMillis() + "ms";
    } catch (com.typesafe.config.ConfigException e) {
      throw Errors.invalidConfig(key, config.raw().hasPath(key)
          ? config.raw().getValue(key).unwrapped() : "(missing)", "a duration, e.g. 15s or 500ms");
    }
  }

  private static void requireClass(String name, String why) {
    try {
      Class.forName(name);
    } catch (ClassNotFoundException e) {
      throw new dev.propensity.common.PropensityException("Cannot use class " + name + ": "
          + why + ".");
    }
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
