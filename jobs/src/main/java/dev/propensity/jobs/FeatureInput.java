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
 * so a run can be reproduced (and its validation set rebuilt) later.
 *
 * @param table the table's name or path
 * @param version the Delta version read
 * @param snapshot the snapshot date used, empty when the table has no snapshot column
 * @param rows the rows of that snapshot
 */
public record FeatureInput(String table, long version, Optional<String> snapshot,
    Dataset<Row> rows) {

  /** The newest snapshot whose labels are all known, or {@code requested} when given. */
  public static FeatureInput forTraining(Warehouse warehouse, FeatureSchema schema,
      String requested) {
    long version = warehouse.version(schema.table());
    Dataset<Row> all = warehouse.readAtVersion(schema.table(), version);
    return pick(schema, version, all, requested, true);
  }

  /** The newest snapshot (labelled or not), or {@code requested} when given. */
  public static FeatureInput forScoring(Warehouse warehouse, FeatureSchema schema,
      String requested) {
    long version = warehouse.version(schema.table());
    Dataset<Row> all = warehouse.readAtVersion(schema.table(), version);
    return pick(schema, version, all, requested, false);
  }

  /** Exactly the input a run recorded: table version and snapshot. */
  public static FeatureInput pinned(Warehouse warehouse, FeatureSchema schema, long version,
      Optional<String> snapshot) {
    Dataset<Row> all = warehouse.readAtVersion(schema.table(), version);
    Dataset<Row> rows = snapshot.map(s -> all.where(col(schema.snapshotColumn().get())
        .cast("string").equalTo(s))).orElse(all);
    return new FeatureInput(schema.table(), version, snapshot, rows);
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
