package dev.propensity.jobs.training;

import dev.propensity.jobs.model.Splits;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.when;

import dev.propensity.common.Errors;
import dev.propensity.common.schema.FeatureSchema;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Checks of the training rows that the schema check cannot make: features that carry no
 * information (all null, or one value in every row) and classes too rare for the splits and folds.
 * One aggregation pass for the features; the class counts come from the split counts.
 */
public final class FeatureChecks {

  /**
   * @param schema the schema with the degenerate features removed
   * @param dropped the removed features
   * @param warnings one line per removed feature, for the log and the manifest
   */
  public record Result(FeatureSchema schema, List<String> dropped, List<String> warnings) {}

  /** Aggregates per Spark job: three per feature, under code generation's 100 fields. */
  static final int AGGREGATES_PER_PASS = 90;

  private FeatureChecks() {}

  /**
   * @param train the training rows
   * @param drop drop degenerate features with a warning (true) or fail (false)
   * @throws dev.propensity.common.PropensityException for a degenerate feature when not dropping,
   *     or when no feature is left
   */
  public static Result degenerateFeatures(Dataset<Row> train, FeatureSchema schema, boolean drop) {
    List<Column> numbers = new ArrayList<>(List.of(count(lit(1))));
    for (String c : schema.numeric()) {
      // the imputer treats NaN as missing too
      Column v = col(c).cast("double");
      Column valid = when(v.isNotNull().and(not(isnan(v))), v);
      numbers.addAll(List.of(count(valid), min(valid), max(valid)));
    }
    List<Column> strings = new ArrayList<>();
    for (String c : schema.categorical()) {
      Column s = col(c).cast("string");
      strings.addAll(List.of(count(s), min(s), max(s)));
    }
    // apart: a string's min and max keep the numbers from the faster hash aggregation
    List<Object> values = aggregate(train, numbers);
    values.addAll(aggregate(train, strings));
    Row r = RowFactory.create(values.toArray());
    long rows = r.getLong(0);
    List<String> numeric = new ArrayList<>();
    List<String> categorical = new ArrayList<>();
    List<String> dropped = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    int i = 1;
    for (String c : schema.numeric()) {
      // nulls are imputed with the median: a single non-null value makes the column constant
      String problem = r.getLong(i) == 0 ? "is null (or NaN) in every row"
          : r.get(i + 1).equals(r.get(i + 2)) ? "has the single value " + r.get(i + 1) : null;
      keepOrDrop(schema, c, problem, "propensity.schema.numeric", drop, numeric, dropped, warnings);
      i += 3;
    }
    for (String c : schema.categorical()) {
      // null is a category of its own (the extra slot), so a value plus nulls is informative
      long nonNull = r.getLong(i);
      String problem = nonNull == 0 ? "is null in every row"
          : nonNull == rows && r.get(i + 1).equals(r.get(i + 2))
              ? "has the single value '" + r.get(i + 1) + "'" : null;
      keepOrDrop(schema, c, problem, "propensity.schema.categorical", drop, categorical, dropped,
          warnings);
      i += 3;
    }
    if (numeric.isEmpty() && categorical.isEmpty()) {
      throw Errors.invalidConfig("propensity.schema.numeric", schema.features(),
          "at least one feature that varies in the training rows of " + schema.table()
              + " (all are null or constant: " + String.join("; ", warnings) + ")");
    }
    FeatureSchema kept = new FeatureSchema(schema.table(), schema.idColumn(),
        schema.snapshotColumn(), schema.labelColumn(), numeric, categorical,
        schema.weightColumn(), schema.profitColumn());
    return new Result(kept, dropped, warnings);
  }

  /**
   * @return the values of {@code aggs} over {@code rows}, in order: a few aggregations of at most
   *     {@link #AGGREGATES_PER_PASS} each (over a cached table each reads only its columns), as
   *     whole-stage code generation stops at 100 fields and a wide table's min and max per column
   *     would otherwise be interpreted, row by row
   */
  private static List<Object> aggregate(Dataset<Row> rows, List<Column> aggs) {
    List<Object> values = new ArrayList<>();
    for (int from = 0; from < aggs.size(); from += AGGREGATES_PER_PASS) {
      List<Column> part = aggs.subList(from, Math.min(aggs.size(), from + AGGREGATES_PER_PASS));
      Row r = rows.agg(part.get(0), part.subList(1, part.size()).toArray(new Column[0])).first();
      for (int k = 0; k < r.size(); k++) {
        values.add(r.get(k));
      }
    }
    return values;
  }

  private static void keepOrDrop(FeatureSchema schema, String column, String problem, String key,
      boolean drop, List<String> kept, List<String> dropped, List<String> warnings) {
    if (problem == null) {
      kept.add(column);
      return;
    }
    if (!drop) {
      throw Errors.uselessFeature(schema.table(), column, problem, key);
    }
    dropped.add(column);
    warnings.add("feature '" + column + "' " + problem + " in the training rows: dropped");
  }

  /**
   * Every class must reach each of the k training folds, and the validation split must hold both
   * classes (its metrics and the bins need them).
   *
   * @param counts split name -> {negatives, positives}
   */
  public static void classCounts(FeatureSchema schema, Map<String, long[]> counts, int folds) {
    long[] train = counts.getOrDefault(Splits.TRAIN, new long[2]);
    String fix = "Lower propensity.train.cv.num-folds (now " + folds + "), raise"
        + " propensity.train.split.train, or train on a snapshot with more labelled rows.";
    if (train[1] < folds) {
      throw Errors.tooFewLabels(schema.table(), schema.labelColumn(), Splits.TRAIN, "positive",
          train[1], folds, "Stratified cross-validation puts at least one in each fold. " + fix);
    }
    if (train[0] < folds) {
      throw Errors.tooFewLabels(schema.table(), schema.labelColumn(), Splits.TRAIN, "negative",
          train[0], folds, "Stratified cross-validation puts at least one in each fold. " + fix);
    }
    long[] val = counts.getOrDefault(Splits.VALIDATION, new long[2]);
    String valFix = "Raise propensity.train.split.validation or train on more labelled rows.";
    if (val[1] < 1) {
      throw Errors.tooFewLabels(schema.table(), schema.labelColumn(), Splits.VALIDATION,
          "positive", val[1], 1, valFix);
    }
    if (val[0] < 1) {
      throw Errors.tooFewLabels(schema.table(), schema.labelColumn(), Splits.VALIDATION,
          "negative", val[0], 1, valFix);
    }
  }
}
