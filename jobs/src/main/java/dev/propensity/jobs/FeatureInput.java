package dev.propensity.jobs;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;

import dev.propensity.common.Errors;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Warehouse;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Column;
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

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(
      FeatureInput.class);

  /** The version of a table that has none (Parquet, CSV). */
  public static final long UNVERSIONED = -1;

  /** The newest snapshot whose labels are all known, or {@code requested} when given. */
  public static FeatureInput forTraining(Warehouse warehouse, FeatureSchema schema,
      String requested) {
    return forTraining(warehouse, schema, requested, 1, false).input();
  }

  /**
   * A run's training input: the newest {@code pool} fully labelled snapshots up to
   * {@code requested} (or the newest labelled one), and with {@code outOfTime} the newest
   * labelled snapshot held out whole for evaluation (then the pool ends before it). Pooled rows
   * of several snapshots get the id {@code <id>@<snapshot>}, so a customer's rows of two
   * snapshots stay two rows through splits, folds and out-of-fold predictions.
   *
   * @throws dev.propensity.common.PropensityException when no snapshot (two with
   *     {@code outOfTime}) is fully labelled, or pooling is asked of a table without snapshots
   */
  public static Training forTraining(Warehouse warehouse, FeatureSchema schema,
      String requested, int pool, boolean outOfTime) {
    long version = currentVersion(warehouse, schema);
    Dataset<Row> all = read(warehouse, schema, version);
    if (schema.snapshotColumn().isEmpty()) {
      if (outOfTime || pool > 1) {
        throw Errors.invalidConfig(outOfTime ? "propensity.train.out-of-time"
                : "propensity.train.snapshots", outOfTime ? "true" : pool,
            (outOfTime ? "false" : "1") + " for a feature table without a snapshot column"
                + " (propensity.schema.snapshot-column is empty)");
      }
      return new Training(new FeatureInput(schema.table(), version, Optional.empty(), all),
          Optional.empty());
    }
    String snap = schema.snapshotColumn().get();
    List<String> labelled = all.groupBy(col(snap))
        .agg(count(lit(1)).as("n"), count(col(schema.labelColumn())).as("labelled"))
        .where(col("labelled").equalTo(col("n"))).select(col(snap).cast("string"))
        .collectAsList().stream().map(r -> r.getString(0)).sorted().toList();
    Optional<String> holdout = Optional.empty();
    List<String> candidates = labelled;
    if (outOfTime) {
      if (labelled.size() < 2) {
        throw Errors.invalidConfig("propensity.train.out-of-time", true, String.format(
            "false, or a feature table %s with two fully labelled snapshots (it has %s): the"
                + " newest is held out, the run trains on older ones", schema.table(), labelled));
      }
      holdout = Optional.of(labelled.get(labelled.size() - 1));
      candidates = labelled.subList(0, labelled.size() - 1);
    }
    String end;
    if (requested != null && !requested.isBlank()) {
      end = requested.trim();
      if (holdout.isPresent() && end.compareTo(holdout.get()) >= 0) {
        throw Errors.invalidConfig("propensity.train.snapshot", end, "a snapshot before the"
            + " held-out snapshot " + holdout.get() + " (propensity.train.out-of-time)");
      }
    } else if (candidates.isEmpty()) {
      throw Errors.emptyTable(schema.table(), "with complete labels in any " + snap
          + " (set propensity.train.snapshot or wait for labels)");
    } else {
      end = candidates.get(candidates.size() - 1);
    }
    List<String> pooled = new ArrayList<>(candidates.stream()
        .filter(c -> c.compareTo(end) < 0).toList());
    pooled = new ArrayList<>(pooled.subList(Math.max(0, pooled.size() - (pool - 1)),
        pooled.size()));
    pooled.add(end);
    if (pooled.size() < pool) {
      LOG.warn("train: {} labelled snapshot(s) up to {} to pool, of propensity.train.snapshots"
          + " = {}: training on {}", pooled.size(), end, pool, pooled);
    }
    String joined = String.join(",", pooled);
    return new Training(new FeatureInput(schema.table(), version, Optional.of(joined),
        rowsOf(schema, all, pooled)), holdout);
  }

  /** Training input, and the snapshot held out whole for out-of-time evaluation if any. */
  public record Training(FeatureInput input, Optional<String> holdoutSnapshot) {}

  /** The rows of some snapshots; several get pooled ids {@code <id>@<snapshot>}. */
  private static Dataset<Row> rowsOf(FeatureSchema schema, Dataset<Row> all,
      List<String> snapshots) {
    Column snap = col(schema.snapshotColumn().get()).cast("string");
    if (snapshots.size() == 1) {
      return all.where(snap.equalTo(snapshots.get(0)));
    }
    return all.where(snap.isin(snapshots.toArray()))
        .withColumn(schema.idColumn(), concat_ws("@", col(schema.idColumn()).cast("string"),
            snap));
  }

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
    Dataset<Row> rows = snapshot.map(s -> rowsOf(schema, all, List.of(s.split(","))))
        .orElse(all);
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
