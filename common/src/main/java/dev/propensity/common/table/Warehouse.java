package dev.propensity.common.table;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import io.delta.tables.DeltaTable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
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

  private final SparkSession spark;
  private final String root;

  /**
   * @param spark the session
   * @param root warehouse root; a path without a scheme is made absolute as {@code file:}
   */
  public Warehouse(SparkSession spark, String root) {
    this.spark = spark;
    this.root = normalize(root);
  }

  /** @return the warehouse of {@code propensity.warehouse} */
  public static Warehouse of(SparkSession spark, JobConfig config) {
    return new Warehouse(spark, config.string("propensity.warehouse"));
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

  /** @return whether a Delta table exists under that name */
  public boolean exists(String table) {
    return DeltaTable.isDeltaTable(spark, path(table));
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
    df.write().format("delta").mode("append").option("mergeSchema", "true")
        .partitionBy(partitionBy).save(path(table));
    LOG.info("Appended to {} ({})", table, path(table));
  }

  /** Replaces the whole table in one commit (readers see the old or the new, never neither). */
  public void overwrite(Dataset<Row> df, String table, String... partitionBy) {
    df.write().format("delta").mode("overwrite").option("overwriteSchema", "true")
        .partitionBy(partitionBy).save(path(table));
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
    String predicate = column + " = '" + value.replace("'", "''") + "'";
    if (!exists(table)) {
      df.write().format("delta").mode("overwrite").options(Tables.properties(table))
          .partitionBy(column).save(path(table));
    } else {
      setProperties(table);
      df.write().format("delta").mode("overwrite").option("replaceWhere", predicate)
          .option("mergeSchema", "true")
          .save(path(table));
    }
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
    String predicate = equals.entrySet().stream()
        .map(e -> e.getKey() + " = '" + e.getValue().replace("'", "''") + "'")
        .collect(Collectors.joining(" AND "));
    if (!exists(table)) {
      df.write().format("delta").mode("overwrite").partitionBy(partitionBy).save(path(table));
    } else {
      df.write().format("delta").mode("overwrite").option("replaceWhere", predicate)
          .option("mergeSchema", "true")
          .save(path(table));
    }
    LOG.info("Replaced {} where {} ({})", table, predicate, path(table));
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
    String predicate = column + " IN (" + values.stream()
        .map(v -> "'" + v.replace("'", "''") + "'").collect(Collectors.joining(", ")) + ")";
    if (!exists(table)) {
      df.write().format("delta").mode("overwrite").partitionBy(column).save(path(table));
    } else {
      df.write().format("delta").mode("overwrite").option("replaceWhere", predicate)
          .option("mergeSchema", "true")
          .save(path(table));
    }
    LOG.info("Replaced {} where {} ({})", table, predicate, path(table));
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
    if (!exists(table)) {
      updates.write().format("delta").mode("overwrite").options(Tables.properties(table))
          .save(path(table));
      LOG.info("Created {} from the MERGE source ({})", table, path(table));
      return;
    }
    setProperties(table);
    String condition = keys.stream().map(k -> "t." + k + " = s." + k)
        .collect(Collectors.joining(" AND "));
    var merge = DeltaTable.forPath(spark, path(table)).as("t")
        .merge(updates.as("s"), condition)
        .withSchemaEvolution()
        .whenMatched().updateAll()
        .whenNotMatched().insertAll();
    if (missing.deleteRows()) {
      merge = merge.whenNotMatchedBySource().delete();
    } else if (!missing.set().isEmpty()) {
      merge = merge.whenNotMatchedBySource().updateExpr(missing.set());
    }
    merge.execute();
    LOG.info("Merged into {} on {} ({})", table, keys, path(table));
  }

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
        if (st.isDirectory() && fs.exists(new Path(st.getPath(), "_delta_log"))) {
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
      throw Errors.tableNotFound(table, path(table),
          "Run the job that writes it first (see README 'Tables'), or check propensity.warehouse"
              + " (now " + root + ").");
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
