package dev.propensity.jobs;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;

import dev.propensity.common.Errors;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Warehouse;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The feature rows a job works on: one snapshot of the feature table, pinned to a Delta version
 * so a run can be reproduced (and its validation set rebuilt) later. A Parquet or CSV table
 * ({@code propensity.schema.format}) has no versions: its version is {@link #UNVERSIONED} and a
 * pinned read re-reads the path.
 *
 * @param table the table's name or path
 * @param version the Delta version read, or {@link #UNVERSIONED}
 * @param snapshot the snapshot date used, empty when the table has no snapshot column
 * @param rows the rows of that snapshot
 */
public record FeatureInput(String table, long version, Optional<String> snapshot,
    Dataset<Row> rows) {

  /** The version of a table that has none (Parquet, CSV). */
  public static final long UNVERSIONED = -1;

  /** The newest snapshot whose labels are all known, or {@code requested} when given. */
  public static FeatureInput forTraining(Warehouse warehouse, FeatureSchema schema,
      String requested) {
    long version = currentVersion(warehouse, schema);
    Dataset<Row> all = read(warehouse, schema, version);
    return pick(schema, version, all, requested, true);
  }

  /**
   * Out-of-time training input: the newest fully labelled snapshot is held out whole for
   * evaluation, and the run trains on {@code requested} or else the labelled snapshot before it.
   *
   * @return the training input and the held-out snapshot
   * @throws dev.propensity.common.PropensityException when fewer than two snapshots are labelled
   */
  public static OutOfTime forTrainingOutOfTime(Warehouse warehouse, FeatureSchema schema,
      String requested) {
    if (schema.snapshotColumn().isEmpty()) {
      throw Errors.invalidConfig("propensity.train.out-of-time", true,
          "false for a feature table without a snapshot column (propensity.schema.snapshot-column"
              + " is empty): out-of-time validation holds out the newest labelled snapshot");
    }
    long version = currentVersion(warehouse, schema);
    Dataset<Row> all = read(warehouse, schema, version);
    String snap = schema.snapshotColumn().get();
    java.util.List<String> labelled = all.groupBy(col(snap))
        .agg(count(lit(1)).as("n"), count(col(schema.labelColumn())).as("labelled"))
        .where(col("labelled").equalTo(col("n"))).select(col(snap).cast("string"))
        .collectAsList().stream().map(r -> r.getString(0)).sorted().toList();
    if (labelled.size() < 2) {
      throw Errors.invalidConfig("propensity.train.out-of-time", true, String.format(
          "false, or a feature table %s with two fully labelled snapshots (it has %s): the newest"
              + " is held out, the run trains on an older one", schema.table(), labelled));
    }
    String holdout = labelled.get(labelled.size() - 1);
    String train = requested == null || requested.isBlank()
        ? labelled.get(labelled.size() - 2) : requested.trim();
    if (train.compareTo(holdout) >= 0) {
      throw Errors.invalidConfig("propensity.train.snapshot", train,
          "a snapshot before the held-out snapshot " + holdout + " (propensity.train.out-of-time)");
    }
    return new OutOfTime(pick(schema, version, all, train, true), holdout);
  }

  /** Training input with a later labelled snapshot held out whole for evaluation. */
  public record OutOfTime(FeatureInput training, String holdoutSnapshot) {}

  /** The newest snapshot (labelled or not), or {@code requested} when given. */
  public static FeatureInput forScoring(Warehouse warehouse, FeatureSchema schema,
      String requested) {
    long version = currentVersion(warehouse, schema);
    Dataset<Row> all = read(warehouse, schema, version);
    return pick(schema, version, all, requested, false);
  }

  /** Exactly the input a run recorded: table version (re-read when unversioned) and snapshot. */
  public static FeatureInput pinned(Warehouse warehouse, FeatureSchema schema, long version,
      Optional<String> snapshot) {
    Dataset<Row> all = read(warehouse, schema, version);
    Dataset<Row> rows = snapshot.map(s -> all.where(col(schema.snapshotColumn().get())
        .cast("string").equalTo(s))).orElse(all);
    return new FeatureInput(schema.table(), version, snapshot, rows);
  }

  private static long currentVersion(Warehouse warehouse, FeatureSchema schema) {
    return schema.format().isDelta() ? warehouse.version(schema.table()) : UNVERSIONED;
  }

  private static Dataset<Row> read(Warehouse warehouse, FeatureSchema schema, long version) {
    return version == UNVERSIONED ? warehouse.read(schema.table(), schema.format())
        : warehouse.readAtVersion(schema.table(), version);
  }

  private static FeatureInput pick(FeatureSchema schema, long version, Dataset<Row> all,
      String requested, boolean labelled) {
    if (schema.snapshotColumn().isEmpty()) {
      return new FeatureInput(schema.table(), version, Optional.empty(), all);
    }
    String snap = schema.snapshotColumn().get();
    String key = labelled ? "propensity.train.snapshot" : "propensity.score.snapshot";
    String chosen = requested;
    if (chosen == null || chosen.isBlank()) {
      Dataset<Row> perSnapshot = all.groupBy(col(snap))
          .agg(count(lit(1)).as("n"), count(col(schema.labelColumn())).as("labelled"));
      if (labelled) {
        perSnapshot = perSnapshot.where(col("labelled").equalTo(col("n")));
      }
      Object newest = perSnapshot.agg(max(col(snap))).first().get(0);
      if (newest == null) {
        throw Errors.emptyTable(schema.table(), labelled
            ? "with complete labels in any " + snap + " (set " + key + " or wait for labels)"
            : "in any " + snap);
      }
      chosen = newest.toString();
    }
    String s = chosen;
    Dataset<Row> rows = all.where(col(snap).cast("string").equalTo(s));
    return new FeatureInput(schema.table(), version, Optional.of(s), rows);
  }
}
