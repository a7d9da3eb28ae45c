package dev.propensity.jobs.maintenance;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.run.ModelRuns;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.Job;
import dev.propensity.jobs.RunData;
import io.delta.tables.DeltaTable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delta maintenance of the warehouse (README "Maintenance"): OPTIMIZE with Z-ordering by the
 * lookup key, so data skipping on {@code customer_id} prunes files, then VACUUM with a retention
 * that keeps every table version a model run pinned (runs time-travel to the feature table
 * version in their manifest to report, explain and gate promotion).
 */
public final class MaintainJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(MaintainJob.class);
  /** Delta's own minimum unless its retention check is switched off. */
  static final Duration DELTA_MINIMUM = Duration.ofHours(168);
  private static final String MAX_FILE_SIZE = "spark.databricks.delta.optimize.maxFileSize";
  private static final String CHECK = "spark.databricks.delta.retentionDurationCheck.enabled";
  /**
   * How many tasks VACUUM's file listing is spread over: Delta repartitions the listing of the
   * table's folder to this many (Spark's default is 10,000, whatever the table's size).
   */
  static final String LISTING_PARALLELISM =
      "spark.sql.sources.parallelPartitionDiscovery.parallelism";

  @Override
  public String name() {
    return "maintain";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    Warehouse warehouse = Warehouse.of(spark, config);
    Duration retention = duration(config, "propensity.maintain.retention");
    Duration margin = duration(config, "propensity.maintain.pin-margin");
    List<String> zorder = config.strings("propensity.maintain.zorder-by");
    long maxFileSize = bytes(config, "propensity.maintain.max-file-size");
    int listing = listingParallelism(spark, config);
    Map<String, Long> pins = pinnedVersions(spark, warehouse);
    List<String> lines = new ArrayList<>();

    for (String table : config.strings("propensity.maintain.optimize")) {
      if (!warehouse.exists(table)) {
        continue;
      }
      spark.sparkContext().setJobDescription("maintain: optimize " + table);
      Row m = withSessionConf(spark, MAX_FILE_SIZE, String.valueOf(maxFileSize),
          () -> DeltaTable.forPath(spark, warehouse.path(table)).optimize()
              .executeZOrderBy(zorder.toArray(String[]::new))
              .select("metrics.numFilesAdded", "metrics.numFilesRemoved").first());
      lines.add(String.format("%s: optimized, z-ordered by %s (files %d -> %d)", table, zorder,
          m.getLong(1), m.getLong(0)));
    }
    for (String table : config.strings("propensity.maintain.vacuum")) {
      if (!warehouse.exists(table)) {
        continue;
      }
      String path = warehouse.path(table);
      Duration keep = retention;
      Long pinned = pins.get(path);
      if (pinned != null) {
        Duration needed = sinceReplaced(spark, path, pinned).map(d -> d.plus(margin))
            .orElse(Duration.ZERO);
        if (needed.compareTo(keep) > 0) {
          keep = needed;
        }
        keepLog(spark, path, keep);
      }
      // Delta's VACUUM rounds its retention to whole hours: round up, never down
      long hours = (keep.toMillis() + 3_599_999) / 3_600_000;
      vacuum(spark, path, hours, listing);
      lines.add(String.format("%s: vacuumed, retention %d h%s", table, hours,
          pinned == null ? "" : " (keeps version " + pinned + ", pinned by a run)"));
    }
    spark.sparkContext().setJobDescription(null);
    lines.forEach(l -> LOG.info("maintain: {}", l));
    return "maintain:\n  " + String.join("\n  ", lines);
  }

  /** @return the oldest version of each table path a run's manifest pins */
  static Map<String, Long> pinnedVersions(SparkSession spark, Warehouse warehouse) {
    Map<String, Long> pins = new TreeMap<>();
    ModelRuns runs = new ModelRuns(warehouse.root(), spark.sparkContext().hadoopConfiguration());
    for (String id : runs.list()) {
      ModelRun run = runs.open(id);
      if (!run.exists(ModelRun.MANIFEST)) {
        continue;
      }
      Object input = RunData.manifest(run).get("input");
      if (input instanceof Map<?, ?> in && in.get("path") instanceof String path
          && in.get("version") instanceof Number version) {
        pins.merge(path, version.longValue(), Math::min);
      }
    }
    return pins;
  }

  /**
   * @return how long ago the commit after {@code version} was made (the files {@code version}
   *     reads are removed at or after it), or empty when {@code version} is the newest
   */
  private static java.util.Optional<Duration> sinceReplaced(SparkSession spark, String path,
      long version) {
    List<Row> next = DeltaTable.forPath(spark, path).history()
        .where("version = " + (version + 1)).select("timestamp").collectAsList();
    if (next.isEmpty()) {
      return java.util.Optional.empty();
    }
    long at = next.get(0).getTimestamp(0).getTime();
    return java.util.Optional.of(Duration.ofMillis(Math.max(0, System.currentTimeMillis() - at)));
  }

  /** Keeps the table's log (time travel needs it) at least as long as the data files. */
  private static void keepLog(SparkSession spark, String path, Duration keep) {
    Duration wanted = keep.plusDays(1);
    if (wanted.compareTo(Duration.ofDays(30)) <= 0) {
      return; // Delta's default log retention already covers it
    }
    spark.sql("ALTER TABLE delta.`" + path.replace("`", "``") + "` SET TBLPROPERTIES ("
        + "'delta.logRetentionDuration' = 'interval " + wanted.toHours() + " hours')");
    LOG.info("maintain: {} keeps its log {} h for a pinned version", path, wanted.toHours());
  }

  /**
   * @return the VACUUM listing's task count: {@code propensity.maintain.listing-parallelism} when
   *     positive, else the session's own {@value #LISTING_PARALLELISM} when it sets one, else
   *     the session's default parallelism (its cores)
   */
  static int listingParallelism(SparkSession spark, JobConfig config) {
    String key = "propensity.maintain.listing-parallelism";
    int configured = config.integer(key);
    if (configured < 0) {
      throw Errors.invalidConfig(key, configured,
          "0 (the session's default parallelism) or a positive number of listing tasks");
    }
    if (configured > 0) {
      return configured;
    }
    String session = spark.conf().get(LISTING_PARALLELISM, null);
    if (session != null) {
      return Integer.parseInt(session.trim());
    }
    return Math.max(1, spark.sparkContext().defaultParallelism());
  }

  /** VACUUM with its listing spread over {@code listing} tasks. */
  private static void vacuum(SparkSession spark, String path, long hours, int listing) {
    spark.sparkContext().setJobDescription("maintain: vacuum " + path);
    Supplier<Dataset<Row>> vacuum = () -> withSessionConf(spark, LISTING_PARALLELISM,
        String.valueOf(listing), () -> DeltaTable.forPath(spark, path).vacuum(hours));
    if (hours < DELTA_MINIMUM.toHours()) {
      LOG.warn("maintain: VACUUM of {} with a retention of {} h, below Delta's 168 h minimum:"
          + " a reader or writer older than that may fail (propensity.maintain.retention)",
          path, hours);
      withSessionConf(spark, CHECK, "false", vacuum);
    } else {
      vacuum.get();
    }
  }

  /** Runs {@code action} with a session configuration set, then puts the session's back. */
  private static <T> T withSessionConf(SparkSession spark, String key, String value,
      Supplier<T> action) {
    String before = spark.conf().get(key, null);
    spark.conf().set(key, value);
    try {
      return action.get();
    } finally {
      if (before == null) {
        spark.conf().unset(key);
      } else {
        spark.conf().set(key, before);
      }
    }
  }

  private static long bytes(JobConfig config, String key) {
    try {
      long bytes = config.raw().getBytes(key);
      if (bytes > 0) {
        return bytes;
      }
    } catch (com.typesafe.config.ConfigException e) {
      // reported below
    }
    throw Errors.invalidConfig(key, config.raw().getValue(key)
        .unwrapped(), "a positive size, e.g. 64MB");
  }

  private static Duration duration(JobConfig config, String key) {
    try {
      return config.raw().getDuration(key);
    } catch (com.typesafe.config.ConfigException e) {
      throw Errors.invalidConfig(key, config.raw().getValue(key)
          .unwrapped(), "a duration, e.g. 168h");
    }
  }
}
