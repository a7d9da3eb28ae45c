package dev.propensity.common.schema;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.count_distinct;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.table.TableFormat;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DateType;
import org.apache.spark.sql.types.IntegralType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.TimestampType;

/**
 * The typed description of a feature table: where it is and how it is stored, which column is
 * the customer id, the snapshot date, the label, and which columns are numeric or categorical
 * features. Training and inference validate their input against it.
 *
 * <p>By default ({@code propensity.schema.numeric} and {@code categorical} both empty) the
 * features are those of the enabled families of the {@link FeatureCatalog}, and validation also
 * checks each column's type against the catalogue. A table of your own lists its columns.
 *
 * @param table the table's name or path, for messages
 * @param idColumn customer id (string or integral), unique per snapshot
 * @param snapshotColumn snapshot date column, or empty when the table has none
 * @param labelColumn binary label (0/1 numeric or boolean); null where not yet known
 * @param numeric numeric feature columns
 * @param categorical categorical feature columns (string, integral or boolean)
 * @param weightColumn optional instance weight column
 * @param profitColumn optional profit column
 * @param format how the table is stored (Delta, Parquet, CSV and reader options)
 * @param catalog the catalogue entries of the features when they come from the catalogue, else
 *     empty
 */
public record FeatureSchema(
    String table,
    String idColumn,
    Optional<String> snapshotColumn,
    String labelColumn,
    List<String> numeric,
    List<String> categorical,
    Optional<String> weightColumn,
    Optional<String> profitColumn,
    TableFormat format,
    List<FeatureSpec> catalog) {

  /** What a validation requires of the label. */
  public enum Mode {
    /** Labels must be present (non-null) and binary, both classes present. */
    TRAINING,
    /** Labels may be absent or null; when present and non-null they must be binary. */
    SCORING
  }

  private static final String KEY = "propensity.schema";

  public FeatureSchema {
    numeric = List.copyOf(numeric);
    categorical = List.copyOf(categorical);
    catalog = List.copyOf(catalog);
  }

  /** A Delta table with features listed by hand (no catalogue type checks). */
  public FeatureSchema(String table, String idColumn, Optional<String> snapshotColumn,
      String labelColumn, List<String> numeric, List<String> categorical,
      Optional<String> weightColumn, Optional<String> profitColumn) {
    this(table, idColumn, snapshotColumn, labelColumn, numeric, categorical, weightColumn,
        profitColumn, TableFormat.DELTA, List.of());
  }

  /**
   * @param config the job config; reads {@code propensity.schema.*}
   * @return the schema it describes
   */
  public static FeatureSchema fromConfig(JobConfig config) {
    List<String> numeric = config.strings(KEY + ".numeric");
    List<String> categorical = config.strings(KEY + ".categorical");
    List<FeatureSpec> catalog = List.of();
    if (numeric.isEmpty() && categorical.isEmpty()) {
      catalog = FeatureCatalog.enabled(config);
      numeric = catalog.stream().filter(f -> f.kind() == FeatureSpec.Kind.NUMERIC)
          .map(FeatureSpec::name).toList();
      categorical = catalog.stream().filter(f -> f.kind() == FeatureSpec.Kind.CATEGORICAL)
          .map(FeatureSpec::name).toList();
    }
    FeatureSchema schema = new FeatureSchema(
        config.string(KEY + ".table"),
        config.string(KEY + ".id-column"),
        optional(config.string(KEY + ".snapshot-column")),
        config.string(KEY + ".label-column"),
        numeric,
        categorical,
        optional(config.string(KEY + ".weight-column")),
        optional(config.string(KEY + ".profit-column")),
        TableFormat.fromConfig(config, KEY),
        catalog);
    List<String> both = new ArrayList<>(schema.numeric);
    both.retainAll(schema.categorical);
    if (!both.isEmpty()) {
      throw Errors.invalidConfig(KEY + ".categorical", both,
          "columns that are not also listed in " + KEY + ".numeric");
    }
    return schema;
  }

  /** @return the numeric then the categorical feature columns */
  public List<String> features() {
    List<String> all = new ArrayList<>(numeric);
    all.addAll(categorical);
    return all;
  }

  /** @return id, snapshot (if any) and feature columns, without the label */
  public List<String> inputColumns() {
    LinkedHashSet<String> cols = new LinkedHashSet<>();
    cols.add(idColumn);
    snapshotColumn.ifPresent(cols::add);
    cols.addAll(features());
    weightColumn.ifPresent(cols::add);
    return new ArrayList<>(cols);
  }

  /** @return a copy that names another table in messages */
  public FeatureSchema forTable(String otherTable) {
    return new FeatureSchema(otherTable, idColumn, snapshotColumn, labelColumn, numeric,
        categorical, weightColumn, profitColumn, format, catalog);
  }

  /**
   * Checks columns and types, then in one aggregation pass: the table is not empty, ids are not
   * null and unique (per snapshot), and the label is binary.
   *
   * @param df the table (already filtered to the snapshot(s) in use)
   * @param mode whether labels are required
   * @return the number of rows
   * @throws dev.propensity.common.PropensityException naming the table, column and config key
   */
  public long validate(Dataset<Row> df, Mode mode) {
    List<String> present = Arrays.asList(df.columns());
    List<String> missing = new ArrayList<>();
    for (String c : inputColumns()) {
      if (!present.contains(c)) {
        missing.add(c);
      }
    }
    boolean hasLabel = present.contains(labelColumn);
    if (mode == Mode.TRAINING && !hasLabel) {
      missing.add(labelColumn);
    }
    if (!missing.isEmpty()) {
      List<FeatureSpec> fromCatalog = catalog.stream()
          .filter(f -> missing.contains(f.name())).toList();
      if (!fromCatalog.isEmpty()) {
        throw Errors.missingCatalogFeatures(table,
            fromCatalog.stream().map(FeatureSpec::name).toList(),
            fromCatalog.stream().map(f -> f.family().configKey()).distinct().toList());
      }
      throw Errors.missingColumns(table, missing, present, KEY);
    }
    checkTypes(df);
    checkCatalogTypes(df);

    Column[] key = {col(idColumn), snapshotColumn.map(c -> col(c)).orElse(lit(0))};
    // distinct 64-bit hashes of the key first: equal keys hash equally, so as many distinct
    // hashes as rows proves the keys distinct, and a distinct count of longs costs about half
    // that of strings. Fewer (duplicates, or a hash collision) falls back to the exact count.
    List<Column> aggs = new ArrayList<>(List.of(
        count(lit(1)).as("rows"),
        sum(when(col(idColumn).isNull(), 1).otherwise(0)).as("null_ids"),
        count_distinct(xxhash64(key)).as("distinct_key_hashes")));
    if (hasLabel) {
      Column label = col(labelColumn).cast("double");
      aggs.add(sum(when(label.isNull(), 1).otherwise(0)).as("null_labels"));
      aggs.add(sum(when(label.isNotNull().and(label.notEqual(0.0)).and(label.notEqual(1.0)), 1)
          .otherwise(0)).as("bad_labels"));
      aggs.add(min(when(label.notEqual(0.0).and(label.notEqual(1.0)), label)).as("bad_example"));
      aggs.add(sum(when(label.equalTo(1.0), 1).otherwise(0)).as("positives"));
      aggs.add(max(label).as("max_label"));
    }
    Row r = df.agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(new Column[0])).first();
    long rows = r.getLong(0);
    if (rows == 0) {
      throw Errors.emptyTable(table, snapshotColumn.map(c -> "for the chosen " + c).orElse(""));
    }
    long nullIds = r.getLong(1);
    if (nullIds > 0) {
      throw Errors.badRows(table, idColumn, nullIds, "a null id",
          "Drop or repair those rows; every row needs a customer id (" + KEY + ".id-column).");
    }
    long duplicates = r.getLong(2) == rows ? 0
        : rows - df.agg(count_distinct(key[0], key[1])).first().getLong(0);
    if (duplicates > 0) {
      throw Errors.badRows(table, idColumn, duplicates, "a duplicate id"
          + snapshotColumn.map(c -> " within one " + c).orElse(""),
          "Keep one row per customer" + snapshotColumn.map(c -> " per snapshot").orElse("") + ".");
    }
    if (hasLabel) {
      long badLabels = r.getLong(4);
      if (badLabels > 0) {
        throw Errors.badRows(table, labelColumn, badLabels,
            "a label that is not binary (e.g. " + r.get(5) + ")",
            "The label must be 0/1 or true/false (" + KEY + ".label-column).");
      }
      if (mode == Mode.TRAINING) {
        long nullLabels = r.getLong(3);
        if (nullLabels > 0) {
          throw Errors.badRows(table, labelColumn, nullLabels, "a null label",
              snapshotColumn.isPresent()
                  ? "Train on a snapshot whose label window is over (propensity.train.snapshot)."
                  : "The table has no snapshot column (" + KEY + ".snapshot-column is empty),"
                      + " so every row is trained on: fill or drop the rows without a label.");
        }
        long positives = r.getLong(6);
        if (positives == 0 || positives == rows) {
          throw Errors.badRows(table, labelColumn, rows, "the same label " + (positives == 0 ? 0 : 1),
              "Training needs both classes: check the label definition and the snapshot.");
        }
      }
    }
    return rows;
  }

  private void checkTypes(Dataset<Row> df) {
    for (StructField f : df.schema().fields()) {
      String name = f.name();
      DataType t = f.dataType();
      if (numeric.contains(name) && !(t instanceof NumericType) && !(t instanceof BooleanType)) {
        throw Errors.wrongType(table, name, t.simpleString(), "a numeric type", KEY + ".numeric");
      }
      if (categorical.contains(name) && !(t instanceof StringType) && !(t instanceof IntegralType)
          && !(t instanceof BooleanType)) {
        throw Errors.wrongType(table, name, t.simpleString(), "string, integer or boolean",
            KEY + ".categorical");
      }
      if (name.equals(idColumn) && !(t instanceof StringType) && !(t instanceof IntegralType)) {
        throw Errors.wrongType(table, name, t.simpleString(), "string or integer",
            KEY + ".id-column");
      }
      if (name.equals(labelColumn) && !(t instanceof NumericType) && !(t instanceof BooleanType)) {
        throw Errors.wrongType(table, name, t.simpleString(), "0/1 numeric or boolean",
            KEY + ".label-column");
      }
      if (snapshotColumn.filter(name::equals).isPresent() && !(t instanceof DateType)
          && !(t instanceof TimestampType) && !(t instanceof StringType)) {
        throw Errors.wrongType(table, name, t.simpleString(), "date", KEY + ".snapshot-column");
      }
      if (weightColumn.filter(name::equals).isPresent() && !(t instanceof NumericType)) {
        throw Errors.wrongType(table, name, t.simpleString(), "a numeric type",
            KEY + ".weight-column");
      }
    }
  }

  private void checkCatalogTypes(Dataset<Row> df) {
    for (FeatureSpec f : catalog) {
      String actual = df.schema().apply(f.name()).dataType().simpleString();
      if (!actual.equals(f.sparkType())) {
        throw Errors.wrongType(table, f.name(), actual, f.sparkType() + " (feature catalogue,"
            + " family " + f.family().configName() + ")", KEY + ".numeric/categorical (empty:"
            + " the catalogue)");
      }
    }
  }

  private static Optional<String> optional(String value) {
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
  }
}
