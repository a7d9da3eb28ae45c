package dev.propensity.common.table;

import dev.propensity.common.Errors;
import dev.propensity.common.Failures;
import dev.propensity.common.spark.JobDescriptions;
import dev.propensity.common.config.JobConfig;
import io.delta.tables.DeltaTable;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Named Delta tables under one root ({@code propensity.warehouse}: a local path, {@code file:} or
 * {@code s3a://}). Every write is one Delta commit, so a failed job leaves each table at its last
 * good version; a partition is replaced with {@code replaceWhere}, never deleted then written.
 */
public final class Warehouse {

  private static final Logger LOG = LoggerFactory.getLogger(Warehouse.class);

  /** Delta's commit and checkpoint files in {@code _delta_log}: 20 digits of version, a suffix. */
  private static final Pattern VERSION_FILE = Pattern.compile("\\d{20}\\..+");

  /** Defaults of {@code propensity.write.conflict-retries} and {@code conflict-backoff}. */
  public static final int DEFAULT_CONFLICT_RETRIES = 3;
  public static final Duration DEFAULT_CONFLICT_BACKOFF = Duration.ofSeconds(2);

  private final SparkSession spark;
  private final String root;
  private final int conflictRetries;
  private final Duration conflictBackoff;
  private final String catalogDatabase;
  private final java.util.Set<String> schemaChangeTables;
  private final java.util.Set<String> registered = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * @param spark the session
   * @param root warehouse root; a path without a scheme is made absolute as {@code file:}
   */
  public Warehouse(SparkSession spark, String root) {
    this(spark, root, DEFAULT_CONFLICT_RETRIES, DEFAULT_CONFLICT_BACKOFF);
  }

  /**
   * @param conflictRetries how often a write that lost a retryable Delta conflict is re-run
   * @param conflictBackoff the pause before the first re-run; it doubles each time
   */
  public Warehouse(SparkSession spark, String root, int conflictRetries,
      Duration conflictBackoff) {
    this(spark, root, conflictRetries, conflictBackoff, "");
  }

  /**
   * @param catalogDatabase when not empty, every table written is also registered in the
   *     session's catalog as {@code catalogDatabase.table} (an external Delta table at its path)
   */
  public Warehouse(SparkSession spark, String root, int conflictRetries,
      Duration conflictBackoff, String catalogDatabase) {
    this(spark, root, conflictRetries, conflictBackoff, catalogDatabase, java.util.Set.of());
  }

  /**
   * @param schemaChangeTables the {@link Tables#PUBLISHED} tables whose schema a write may change
   *     this time ({@code propensity.write.schema-change-tables}); other tables always may
   */
  public Warehouse(SparkSession spark, String root, int conflictRetries,
      Duration conflictBackoff, String catalogDatabase, java.util.Set<String> schemaChangeTables) {
    this.schemaChangeTables = java.util.Set.copyOf(schemaChangeTables);
    this.spark = spark;
    this.root = normalize(root);
    this.conflictRetries = conflictRetries;
    this.conflictBackoff = conflictBackoff;
    this.catalogDatabase = checkIdentifier(catalogDatabase);
  }

  /** @return the warehouse of {@code propensity.warehouse} with {@code propensity.write.*} */
  public static Warehouse of(SparkSession spark, JobConfig config) {
    int retries = config.integer("propensity.write.conflict-retries");
    if (retries < 0) {
      throw Errors.invalidConfig("propensity.write.conflict-retries", retries, "0 or more");
    }
    Duration backoff;
    try {
      backoff = config.raw().getDuration("propensity.write.conflict-backoff");
    } catch (com.typesafe.config.ConfigException e) {
      throw Errors.invalidConfig("propensity.write.conflict-backoff",
          config.raw().getValue("propensity.write.conflict-backoff").unwrapped(),
          "a duration, e.g. 2s");
    }
    return new Warehouse(spark, config.string("propensity.warehouse"), retries, backoff,
        config.string("propensity.catalog.database").trim(),
        new java.util.HashSet<>(config.strings("propensity.write.schema-change-tables")));
  }

  private static String checkIdentifier(String database) {
    if (!database.isEmpty() && !database.matches("[A-Za-z_][A-Za-z0-9_]*")) {
      throw Errors.invalidConfig("propensity.catalog.database", database,
          "a database name of letters, digits and underscores, or empty for path-only tables");
    }
    return database;
  }

  /** @return the catalog database tables are registered in; empty when path-only */
  public String catalogDatabase() {
    return catalogDatabase;
  }

  /**
   * Registers a table in the session's catalog as {@code database.table}, an external Delta
   * table at its path ({@code CREATE TABLE IF NOT EXISTS ... USING DELTA LOCATION}), so
   * notebooks, BI tools and {@code spark-sql} query it by name and access can be granted by
   * name. Nothing when {@code propensity.catalog.database} is empty or the table is a path.
   * Every write calls it; it runs once per table and warehouse.
   *
   * @param table a table name under the root
   */
  public void register(String table) {
    if (catalogDatabase.isEmpty() || !table.matches("[A-Za-z_][A-Za-z0-9_]*")
        || registered.contains(table)) {
      return;
    }
    if (registered.isEmpty()) {
      spark.sql("CREATE DATABASE IF NOT EXISTS `" + catalogDatabase + "`");
    }
    spark.sql("CREATE TABLE IF NOT EXISTS `" + catalogDatabase + "`.`" + table
        + "` USING DELTA LOCATION " + literal(path(table)));
    registered.add(table);
    LOG.info("Catalog: {}.{} -> {}", catalogDatabase, table, path(table));
  }

  /** @return the root as a URI string without a trailing slash */
  public String root() {
    return root;
  }

  public SparkSession spark() {
    return spark;
  }

  /** @return the location of a named table (or of a path given as is, when it has a scheme) */
  public String path(String table) {
    return table.contains(":") || table.startsWith("/") ? table : root + "/" + table;
  }

  /**
   * @return whether a Delta table exists under that name: its {@code _delta_log} folder holds a
   *     commit or a checkpoint. A first write that failed or was killed before its commit leaves
   *     the folder with only {@code _staged_commits} in it: no table, so the next write creates
   *     it and a read says the table is missing
   * @throws UncheckedIOException when the store cannot say (an outage), after the storage retry
   *     policy: unlike {@code DeltaTable.isDeltaTable}, which takes any failure for "no table" and
   *     then probes every parent folder, each probe waiting out the whole retry policy again
   */
  public boolean exists(String table) {
    Path log = new Path(path(table), "_delta_log");
    try {
      return hasCommit(log.getFileSystem(spark.sparkContext().hadoopConfiguration()), log);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot tell whether " + path(table) + " holds a Delta"
          + " table", e);
    }
  }

  /**
   * @return whether a {@code _delta_log} folder holds a commit or checkpoint file (object
   *     stores list in name order, and version files sort before {@code _last_checkpoint} and
   *     {@code _staged_commits}, so a table's first listed entry answers)
   */
  private static boolean hasCommit(FileSystem fs, Path log) throws IOException {
    RemoteIterator<FileStatus> entries;
    try {
      entries = fs.listStatusIterator(log);
    } catch (FileNotFoundException e) {
      return false;
    }
    while (entries.hasNext()) {
      if (VERSION_FILE.matcher(entries.next().getPath().getName()).matches()) {
        return true;
      }
    }
    return false;
  }

  /**
   * @return the table's current snapshot
   * @throws dev.propensity.common.PropensityException if there is no Delta table by that name
   */
  public Dataset<Row> read(String table) {
    requireExists(table);
    return spark.read().format("delta").load(path(table));
  }

  /**
   * Reads a table in any {@link TableFormat}: Delta through {@link #read(String)}, Parquet and CSV
   * from their path with the format's options.
   *
   * @param table a name under the root or a path with a scheme
   * @param format the table's format and reader options
   * @return the table's rows
   * @throws dev.propensity.common.PropensityException if nothing is at that path
   */
  public Dataset<Row> read(String table, TableFormat format) {
    format.check("format");
    if (format.isDelta()) {
      return read(table);
    }
    try {
      Path p = new Path(path(table));
      if (!p.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(p)) {
        throw Errors.inputNotFound(table, path(table), format.format(),
            "Check the path and propensity.warehouse (now " + root + ").");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot check " + path(table), e);
    }
    return spark.read().format(format.format()).options(format.options()).load(path(table));
  }

  /** @return the table as of a Delta version (time travel) */
  public Dataset<Row> readAtVersion(String table, long version) {
    requireExists(table);
    return spark.read().format("delta").option("versionAsOf", version).load(path(table));
  }

  /** @return the table's current Delta version */
  public long version(String table) {
    requireExists(table);
    return DeltaTable.forPath(spark, path(table)).history(1).select("version").first().getLong(0);
  }

  /** Appends rows in one commit; creates the table if needed. */
  public void append(Dataset<Row> df, String table, String... partitionBy) {
    boolean evolve = checkSchema(df, table);
    commit(table, "append", () -> df.write().format("delta").mode("append")
        .option("mergeSchema", String.valueOf(evolve)).partitionBy(partitionBy)
        .save(path(table)));
    LOG.info("Appended to {} ({})", table, path(table));
  }

  /** Replaces the whole table in one commit (readers see the old or the new, never neither). */
  public void overwrite(Dataset<Row> df, String table, String... partitionBy) {
    boolean evolve = checkSchema(df, table);
    commit(table, "overwrite", () -> df.write().format("delta").mode("overwrite")
        .option("overwriteSchema", String.valueOf(evolve)).partitionBy(partitionBy)
        .save(path(table)));
    LOG.info("Overwrote {} ({})", table, path(table));
  }

  /**
   * Replaces the rows where {@code column = value} (one partition when the table is partitioned by
   * it) in one commit with {@code replaceWhere}; other partitions are untouched. Creates the table,
   * partitioned by {@code column}, if it does not exist.
   *
   * @param value a SQL literal's value, e.g. a date {@code 2026-06-30}
   */
  public void overwritePartition(Dataset<Row> df, String table, String column, String value) {
    overwritePartition(df, table, column, value, "");
  }

  /**
   * {@link #overwritePartition(Dataset, String, String, String)} whose commit carries
   * {@code userMetadata} (Delta's commit info, shown by {@code DESCRIBE HISTORY}), e.g. a publish
   * marker; empty for none.
   */
  public void overwritePartition(Dataset<Row> df, String table, String column, String value,
      String userMetadata) {
    replace(df, table, column + " = " + literal(value), new String[] {column}, userMetadata);
  }

  /**
   * Replaces the rows where every {@code column = value} of {@code equals} holds, in one commit
   * with {@code replaceWhere} (on data columns when they are not partition columns); other rows
   * are untouched. Every row of {@code df} must match the predicate (Delta checks it). Creates the
   * table, partitioned by {@code partitionBy}, if it does not exist.
   *
   * @param equals column to SQL literal value, e.g. {@code run_id -> 20261122-031500-a1b2}
   */
  public void replaceWhere(Dataset<Row> df, String table, java.util.Map<String, String> equals,
      String... partitionBy) {
    if (equals.isEmpty()) {
      throw new IllegalArgumentException("replaceWhere needs at least one column = value");
    }
    replace(df, table, equals.entrySet().stream()
        .map(e -> e.getKey() + " = " + literal(e.getValue()))
        .collect(Collectors.joining(" AND ")), partitionBy, "");
  }

  /**
   * Replaces the rows where {@code column} is one of {@code values} (those partitions) in one
   * commit with {@code replaceWhere}: all of them change together or, on failure, none does;
   * other partitions are untouched. Creates the table, partitioned by {@code column}, if needed.
   *
   * @param values SQL literals' values, e.g. dates {@code 2026-05-31}
   */
  public void overwritePartitions(Dataset<Row> df, String table, String column,
      List<String> values) {
    replace(df, table, column + " IN (" + values.stream().map(Warehouse::literal)
        .collect(Collectors.joining(", ")) + ")", new String[] {column}, "");
  }

  /** The one replaceWhere write: creates the table (with its properties) when it is missing. */
  private void replace(Dataset<Row> df, String table, String predicate, String[] partitionBy,
      String userMetadata) {
    boolean evolve = checkSchema(df, table);
    commit(table, "replace where " + predicate, () -> {
      DataFrameWriter<Row> w = df.write().format("delta").mode("overwrite");
      if (!userMetadata.isEmpty()) {
        w = w.option("userMetadata", userMetadata);
      }
      if (!exists(table)) {
        w.options(Tables.properties(table)).partitionBy(partitionBy).save(path(table));
      } else {
        setProperties(table);
        w.option("replaceWhere", predicate).option("mergeSchema", String.valueOf(evolve))
            .save(path(table));
      }
    });
    LOG.info("Replaced {} where {} ({})", table, predicate, path(table));
  }

  /**
   * Sets the {@link Tables#properties} an existing table lacks (a table created before they
   * existed), in one metadata-only commit; nothing when it has them.
   */
  private void setProperties(String table) {
    java.util.Map<String, String> wanted = Tables.properties(table);
    if (wanted.isEmpty()) {
      return;
    }
    java.util.Map<String, String> has = DeltaTable.forPath(spark, path(table)).detail()
        .select("properties").first().getJavaMap(0);
    String changed = wanted.entrySet().stream()
        .filter(e -> !e.getValue().equals(has.get(e.getKey())))
        .map(e -> "'" + e.getKey() + "' = '" + e.getValue().replace("'", "''") + "'")
        .collect(Collectors.joining(", "));
    if (!changed.isEmpty()) {
      spark.sql("ALTER TABLE delta.`" + path(table).replace("`", "``")
          + "` SET TBLPROPERTIES (" + changed + ")");
      LOG.info("Set {} on {}", changed, table);
    }
  }

  private static String literal(String value) {
    return "'" + value.replace("'", "''") + "'";
  }

  /**
   * Runs one Delta write, re-running it when it lost a retryable conflict with another writer
   * (Delta's ConcurrentAppendException and kin), after a pause that doubles each time, at most
   * {@code conflictRetries} times. Every write here is idempotent (replaceWhere, MERGE by key,
   * overwrite), so a re-run converges.
   *
   * @throws dev.propensity.common.PropensityException naming the other writer's operation when
   *     the conflict outlives the retries or cannot be retried
   */
  void commit(String table, String what, Runnable write) {
    if (spark == null) {
      commitWithRetries(table, what, write);
      return;
    }
    // the Spark UI names the write's jobs "<job>: write <table> (<how>)"
    JobDescriptions.within(spark.sparkContext(), "write " + table + " (" + what + ")", () -> {
      commitWithRetries(table, what, write);
      return null;
    });
  }

  private void commitWithRetries(String table, String what, Runnable write) {
    long pause = conflictBackoff.toMillis();
    for (int attempt = 0; ; attempt++) {
      try {
        write.run();
        register(table);
        return;
      } catch (RuntimeException e) {
        Optional<Throwable> conflict = Failures.deltaConflict(e);
        if (conflict.isEmpty()) {
          throw e;
        }
        if (!Failures.isRetryableConflict(e) || attempt >= conflictRetries) {
          LOG.warn("{} of {} lost a write conflict {} time(s); giving up", what, table,
              attempt + 1);
          throw Errors.writeConflict(conflict.get());
        }
        long wait = pause + ThreadLocalRandom.current().nextLong(pause / 4 + 1);
        LOG.warn("{} of {}: conflict with another writer ({}, their operation: {}); retry {} of"
            + " {} in {} ms", what, table, conflict.get().getClass().getSimpleName(),
            Failures.conflictingOperation(conflict.get()), attempt + 1, conflictRetries, wait);
        sleep(wait);
        pause *= 2;
      }
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting to retry a write", ie);
    }
  }

  /** What a MERGE does with target rows that the source no longer has. */
  public record WhenMissing(boolean deleteRows, java.util.Map<String, String> set) {
    /** Leave them as they are. */
    public static WhenMissing keep() {
      return new WhenMissing(false, java.util.Map.of());
    }

    /** Delete them. */
    public static WhenMissing delete() {
      return new WhenMissing(true, java.util.Map.of());
    }

    /** Update them with SQL assignments, e.g. {@code is_stale -> true}. */
    public static WhenMissing set(java.util.Map<String, String> assignments) {
      return new WhenMissing(false, java.util.Map.copyOf(assignments));
    }
  }

  /**
   * Upserts {@code updates} into {@code table} by key with one MERGE: matched rows are updated,
   * new rows inserted, rows missing from {@code updates} handled by {@code missing}. Creates the
   * table from {@code updates} if it does not exist.
   */
  public void merge(Dataset<Row> updates, String table, List<String> keys, WhenMissing missing) {
    merge(updates, table, keys, missing, "");
  }

  /**
   * {@link #merge(Dataset, String, List, WhenMissing)} whose commit carries {@code userMetadata}
   * (Delta's commit info), e.g. a publish marker; empty for none.
   */
  public void merge(Dataset<Row> updates, String table, List<String> keys, WhenMissing missing,
      String userMetadata) {
    boolean evolve = checkSchema(updates, table);
    commit(table, "merge", () -> {
      if (!exists(table)) {
        DataFrameWriter<Row> w = updates.write().format("delta").mode("overwrite")
            .options(Tables.properties(table));
        if (!userMetadata.isEmpty()) {
          w = w.option("userMetadata", userMetadata);
        }
        w.save(path(table));
        LOG.info("Created {} from the MERGE source ({})", table, path(table));
        return;
      }
      setProperties(table);
      String condition = keys.stream().map(k -> "t." + k + " = s." + k)
          .collect(Collectors.joining(" AND "));
      boolean feed = Tables.CHANGE_FEED.contains(table);
      var builder = DeltaTable.forPath(spark, path(table)).as("t")
          .merge(updates.as("s"), condition);
      if (evolve) {
        builder = builder.withSchemaEvolution();
      }
      java.util.Set<String> targetColumns = java.util.Set.of(
          DeltaTable.forPath(spark, path(table)).toDF().columns());
      // a new column (an intended schema change) changes every row
      feed = feed && targetColumns.containsAll(java.util.List.of(updates.columns()));
      var merge = (feed ? builder.whenMatched(changedCondition(updates, keys, table))
          : builder.whenMatched()).updateAll()
          .whenNotMatched().insertAll();
      if (missing.deleteRows()) {
        merge = merge.whenNotMatchedBySource().delete();
      } else if (!missing.set().isEmpty()) {
        merge = (feed ? merge.whenNotMatchedBySource(missing.set().entrySet().stream()
            .map(e -> "NOT (t." + e.getKey() + " <=> (" + e.getValue() + "))")
            .collect(Collectors.joining(" OR ")))
            : merge.whenNotMatchedBySource()).updateExpr(missing.set());
      }
      // MERGE has no writer option: Delta reads the commit's user metadata from the session
      String key = "spark.databricks.delta.commitInfo.userMetadata";
      synchronized (Warehouse.class) {
        try {
          if (!userMetadata.isEmpty()) {
            spark.conf().set(key, userMetadata);
          }
          merge.execute();
        } finally {
          spark.conf().unset(key);
        }
      }
      LOG.info("Merged into {} on {} ({})", table, keys, path(table));
    });
  }

  /**
   * Stops a write that would add or retype a column of a {@link Tables#PUBLISHED} table unless
   * {@code propensity.write.schema-change-tables} names it.
   *
   * @return whether the write may evolve the table's schema
   * @throws dev.propensity.common.PropensityException naming the columns when it may not
   */
  boolean checkSchema(Dataset<Row> df, String table) {
    if (!Tables.PUBLISHED.contains(table) || schemaChangeTables.contains(table)) {
      return true;
    }
    if (!exists(table)) {
      return false;
    }
    java.util.Map<String, String> current = new java.util.HashMap<>();
    for (var f : DeltaTable.forPath(spark, path(table)).toDF().schema().fields()) {
      current.put(f.name().toLowerCase(java.util.Locale.ROOT), f.dataType().catalogString());
    }
    List<String> changes = new ArrayList<>();
    for (var f : df.schema().fields()) {
      String was = current.get(f.name().toLowerCase(java.util.Locale.ROOT));
      String now = f.dataType().catalogString();
      if (was == null) {
        changes.add("new column " + f.name() + " " + now);
      } else if (!was.equals(now) && !"void".equals(now)) {
        changes.add("column " + f.name() + " " + was + " -> " + now);
      }
    }
    if (!changes.isEmpty()) {
      throw Errors.schemaChange(table, path(table), String.join("; ", changes));
    }
    return false;
  }

  /**
   * @return a MERGE condition true when a matched row differs in a column other than the keys
   *     and {@link Tables#CHANGE_IGNORED} (maps compared as JSON: Spark cannot compare maps)
   */
  static String changedCondition(Dataset<Row> updates, List<String> keys, String table) {
    java.util.Set<String> ignored = Tables.CHANGE_IGNORED.getOrDefault(table, java.util.Set.of());
    return java.util.Arrays.stream(updates.schema().fields())
        .filter(f -> !keys.contains(f.name()) && !ignored.contains(f.name()))
        .map(f -> {
          String t = "t.`" + f.name() + "`";
          String s = "s.`" + f.name() + "`";
          return f.dataType().catalogString().contains("map<")
              ? "NOT (to_json(" + t + ") <=> to_json(" + s + "))"
              : "NOT (" + t + " <=> " + s + ")";
        })
        .collect(Collectors.joining(" OR "));
  }

  /**
   * @param table a Delta table
   * @param limit how many of the newest commits to read
   * @return the newest commits, newest first: version, operation and user metadata ("" for none)
   */
  public List<Commit> history(String table, int limit) {
    requireExists(table);
    List<Commit> out = new ArrayList<>();
    for (Row r : DeltaTable.forPath(spark, path(table)).history(limit)
        .select("version", "operation", "userMetadata").collectAsList()) {
      out.add(new Commit(r.getLong(0), r.getString(1), r.isNullAt(2) ? "" : r.getString(2)));
    }
    return out;
  }

  /** One Delta commit as {@link #history} reports it. */
  public record Commit(long version, String operation, String userMetadata) {}

  /** @return the names of the Delta tables directly under the root, sorted */
  public List<String> tables() {
    List<String> out = new ArrayList<>();
    try {
      Path rootPath = new Path(root);
      FileSystem fs = rootPath.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(rootPath)) {
        return out;
      }
      for (FileStatus st : fs.listStatus(rootPath)) {
        if (st.isDirectory() && hasCommit(fs, new Path(st.getPath(), "_delta_log"))) {
          out.add(st.getPath().getName());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list warehouse " + root, e);
    }
    out.sort(null);
    return out;
  }

  private void requireExists(String table) {
    if (!exists(table)) {
      throw Errors.tableNotFound(table, path(table), describeMissing(table)
          + " Run the job that writes it first (see README 'Tables'), or check"
          + " propensity.warehouse (now " + root + ").");
    }
  }

  /** @return why a table is missing: no such path (or warehouse), or a path that is not Delta */
  private String describeMissing(String table) {
    try {
      Path p = new Path(path(table));
      FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (fs.exists(new Path(p, "_delta_log"))) {
        return "The path has a _delta_log folder without a commit: a first write to it failed"
            + " or was stopped before it committed.";
      }
      if (fs.exists(p)) {
        return "The path exists but has no _delta_log: it is not a Delta table.";
      }
      Path rootPath = new Path(root);
      return fs.exists(rootPath) ? "The path does not exist."
          : "The path does not exist: the warehouse root " + root + " does not exist either.";
    } catch (IOException | IllegalArgumentException e) {
      return "";
    }
  }

  static String normalize(String root) {
    String r = root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
    if (URI.create(r.replace(" ", "%20")).getScheme() != null && !r.matches("^[A-Za-z]:.*")) {
      return r;
    }
    return "file:" + Paths.get(r).toAbsolutePath().normalize();
  }
}
