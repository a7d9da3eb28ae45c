package dev.propensity.jobs.model;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The {@code leaderboard} table: one row per candidate per run (and one per ensemble, from select),
 * kept over time so runs can be compared; each job replaces its own rows of the run
 * ({@code replaceWhere}), so a re-run with the same run id adds no duplicates.
 */
public final class Leaderboard {

  /** The metrics kept per split, as {@code <split>_<metric>} columns. */
  public static final List<String> SPLIT_METRICS = List.of("auc_roc", "auc_pr", "log_loss",
      "brier", "precision", "recall", "f1", "top_decile_lift");

  /** The table's columns. */
  public static final StructType SCHEMA = build();

  private Leaderboard() {}

  private static StructType build() {
    StructType s = new StructType()
        .add("run_id", DataTypes.StringType)
        .add("candidate", DataTypes.StringType)
        .add("params", DataTypes.StringType)
        .add("cv_metric", DataTypes.StringType)
        .add("cv_mean", DataTypes.DoubleType)
        .add("cv_std", DataTypes.DoubleType)
        .add("cv_folds", DataTypes.IntegerType)
        .add("grid_points", DataTypes.IntegerType)
        .add("grid_points_evaluated", DataTypes.IntegerType)
        .add("budget_exhausted", DataTypes.BooleanType)
        .add("threshold", DataTypes.DoubleType);
    for (String split : List.of(Splits.VALIDATION, Splits.TEST)) {
      for (String m : SPLIT_METRICS) {
        s = s.add(split + "_" + m, DataTypes.DoubleType);
      }
    }
    return s.add("fit_seconds", DataTypes.DoubleType)
        .add("created_at", DataTypes.TimestampType);
  }

  /** @return the column names, in order */
  public static List<String> columns() {
    return Arrays.asList(SCHEMA.fieldNames());
  }

  /**
   * @param values column name -> value; columns left out are null
   * @return a row of {@link #SCHEMA}
   * @throws IllegalArgumentException for a name that is not a column
   */
  public static Row row(Map<String, ?> values) {
    for (String k : values.keySet()) {
      if (!columns().contains(k)) {
        throw new IllegalArgumentException("Not a leaderboard column: " + k + "; columns: "
            + columns());
      }
    }
    Object[] out = new Object[SCHEMA.size()];
    for (int i = 0; i < out.length; i++) {
      Object v = values.get(SCHEMA.fields()[i].name());
      DataType t = SCHEMA.fields()[i].dataType();
      if (v instanceof Number n && t == DataTypes.DoubleType) {
        v = n.doubleValue();
      } else if (v instanceof Number n && t == DataTypes.IntegerType) {
        v = n.intValue();
      }
      out[i] = v;
    }
    return RowFactory.create(out);
  }
}
