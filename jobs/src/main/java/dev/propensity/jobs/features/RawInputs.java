package dev.propensity.jobs.features;

import static dev.propensity.common.schema.FeatureFamily.BEHAVIOUR;
import static dev.propensity.common.schema.FeatureFamily.ENGAGEMENT;
import static dev.propensity.common.schema.FeatureFamily.INTERACTIONS;
import static dev.propensity.common.schema.FeatureFamily.RFM;
import static dev.propensity.common.schema.FeatureFamily.TRENDS;
import static org.apache.spark.sql.functions.col;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.schema.FeatureFamily;
import dev.propensity.common.table.TableFormat;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DateType;
import org.apache.spark.sql.types.IntegralType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.types.TimestampNTZType;
import org.apache.spark.sql.types.TimestampType;

/**
 * The raw tables the features job reads ({@code propensity.features.input.<key>}), the columns
 * it needs from each with their types, and which feature families need the table at all. A table
 * no enabled family needs is not read; customers and orders always are (they give the rows, the
 * label, and all the profile and bins families need).
 */
final class RawInputs {

  /** The kinds of column types the job accepts. */
  enum Type {
    ID("string or integer"),
    TEXT("string"),
    NUMBER("a numeric type"),
    FLAG("boolean or 0/1 integer"),
    TIME("date or timestamp");

    final String expected;

    Type(String expected) {
      this.expected = expected;
    }

    boolean accepts(DataType t) {
      return switch (this) {
        case ID -> t instanceof StringType || t instanceof IntegralType;
        case TEXT -> t instanceof StringType;
        case NUMBER -> t instanceof NumericType;
        case FLAG -> t instanceof BooleanType || t instanceof IntegralType;
        case TIME -> t instanceof DateType || t instanceof TimestampType
            || t instanceof TimestampNTZType;
      };
    }

    /** The column as the job uses it: numbers as double, flags as boolean, ids/text as is. */
    Column normalise(String name) {
      return switch (this) {
        case NUMBER -> col(name).cast("double").as(name);
        case FLAG -> col(name).cast("boolean").as(name);
        default -> col(name);
      };
    }
  }

  /**
   * One raw table.
   *
   * @param key the config key under {@code propensity.features.input}
   * @param defaultTable the warehouse table used when no path is configured
   * @param columns the needed columns and their types, in order
   * @param usedBy the families that need it (empty: always read)
   */
  record Spec(String key, String defaultTable, Map<String, Type> columns,
      Set<FeatureFamily> usedBy) {

    String configKey() {
      return "propensity.features.input." + key;
    }

    boolean needed(Set<FeatureFamily> enabled) {
      return usedBy.isEmpty() || usedBy.stream().anyMatch(enabled::contains);
    }
  }

  /** A raw table as read: where it is and its needed columns, typed. */
  record Input(Spec spec, String location, Dataset<Row> rows) {}

  static final Spec CUSTOMERS = spec("customers", Tables.RAW_CUSTOMERS, Set.of(),
      "customer_id", Type.ID, "email", Type.TEXT, "age", Type.NUMBER, "gender", Type.TEXT,
      "region", Type.TEXT, "channel", Type.TEXT, "segment", Type.TEXT, "signup_date", Type.TIME);
  static final Spec ORDERS = spec("orders", Tables.RAW_ORDERS, Set.of(),
      "order_id", Type.ID, "customer_id", Type.ID, "order_date", Type.TIME,
      "revenue", Type.NUMBER, "discount", Type.NUMBER, "promo", Type.FLAG,
      "returned", Type.FLAG);
  static final Spec ORDER_LINES = spec("order-lines", Tables.RAW_ORDER_LINES,
      Set.of(BEHAVIOUR), "order_id", Type.ID, "category", Type.TEXT, "quantity", Type.NUMBER);
  static final Spec WEB_SESSIONS = spec("web-sessions", Tables.RAW_WEB_SESSIONS,
      Set.of(ENGAGEMENT, BEHAVIOUR, TRENDS, INTERACTIONS), "customer_id", Type.ID,
      "session_start", Type.TIME, "device", Type.TEXT, "duration_sec", Type.NUMBER,
      "pages", Type.NUMBER, "cart_adds", Type.NUMBER, "ordered", Type.FLAG);
  static final Spec EMAIL_EVENTS = spec("email-events", Tables.RAW_EMAIL_EVENTS,
      Set.of(ENGAGEMENT, TRENDS, INTERACTIONS), "customer_id", Type.ID, "sent_at", Type.TIME,
      "opened_at", Type.TIME, "clicked_at", Type.TIME);
  static final Spec SOCIAL_FOLLOWS = spec("social-follows", Tables.RAW_SOCIAL_FOLLOWS,
      Set.of(ENGAGEMENT, INTERACTIONS), "customer_id", Type.ID, "platform", Type.TEXT,
      "followed_at", Type.TIME, "unfollowed_at", Type.TIME);
  static final Spec SUPPORT_CONTACTS = spec("support-contacts", Tables.RAW_SUPPORT_CONTACTS,
      Set.of(BEHAVIOUR), "customer_id", Type.ID, "contacted_at", Type.TIME, "reason", Type.TEXT);
  static final Spec PROFIT = spec("profit", Tables.RAW_PROFIT, Set.of(RFM, TRENDS),
      "customer_id", Type.ID, "month", Type.TIME, "profit", Type.NUMBER);

  /** Every raw table, in the order the job reads them. */
  static final List<Spec> ALL = List.of(CUSTOMERS, ORDERS, ORDER_LINES, WEB_SESSIONS,
      EMAIL_EVENTS, SOCIAL_FOLLOWS, SUPPORT_CONTACTS, PROFIT);

  private RawInputs() {}

  /**
   * Reads one raw table from its configured place and checks its columns and their types.
   *
   * @throws dev.propensity.common.PropensityException naming the table, column and config key
   */
  static Input read(Warehouse warehouse, JobConfig config, Spec spec) {
    String path = config.string(spec.configKey() + ".path");
    String table = path.isBlank() ? spec.defaultTable() : path.trim();
    TableFormat format = TableFormat.fromConfig(config, spec.configKey());
    if (format.isDelta() && !warehouse.exists(table)) {
      throw Errors.tableNotFound(table, warehouse.path(table), "Run the generate job first, or"
          + " point " + spec.configKey() + ".path at your own table (README 'Tables' lists the"
          + " columns it needs).");
    }
    Dataset<Row> df = warehouse.read(table, format);
    String location = warehouse.path(table);
    if ("csv".equals(format.format())) {
      checkCsv(df, spec, location, format);
    }
    check(df.schema(), spec, location);
    List<Column> cols = new ArrayList<>();
    spec.columns().forEach((name, type) -> cols.add(type.normalise(name)));
    return new Input(spec, location, df.select(cols.toArray(new Column[0])));
  }

  /**
   * Names the usual CSV mistakes before the column check would hide them: an empty file, a
   * wrong delimiter (the whole header read as one column), a header without rows.
   */
  static void checkCsv(Dataset<Row> df, Spec spec, String location, TableFormat format) {
    String[] columns = df.schema().fieldNames();
    String delimiter = format.options().getOrDefault("delimiter",
        format.options().getOrDefault("sep", ","));
    if (columns.length == 0) {
      throw Errors.badCsv(location, "the file is empty (no header, no rows)",
          "Check the export", spec.configKey());
    }
    if (columns.length == 1 && spec.columns().size() > 1) {
      String found = columns[0].replaceAll("[A-Za-z0-9_ ]", "");
      throw Errors.badCsv(location, "only one column was read ('" + abbreviate(columns[0])
          + "') with delimiter '" + delimiter + "'", "Check the delimiter: set "
          + spec.configKey() + ".options.delimiter" + (found.isEmpty() ? ""
          : " (the header contains '" + found.charAt(0) + "')"), spec.configKey());
    }
    if (df.isEmpty()) {
      throw Errors.badCsv(location, "it has a header (" + String.join(", ", columns)
          + ") but no data rows", "Check the export", spec.configKey());
    }
  }

  private static String abbreviate(String s) {
    return s.length() > 60 ? s.substring(0, 57) + "..." : s;
  }

  /** Fails on a missing column or a column of the wrong type. */
  static void check(StructType schema, Spec spec, String location) {
    List<String> present = Arrays.asList(schema.fieldNames());
    List<String> missing = spec.columns().keySet().stream()
        .filter(c -> !present.contains(c)).toList();
    if (!missing.isEmpty()) {
      throw Errors.missingRawColumns(location, missing, present, spec.configKey());
    }
    spec.columns().forEach((name, type) -> {
      DataType actual = schema.apply(name).dataType();
      if (!type.accepts(actual)) {
        throw Errors.wrongRawType(location, name, actual.simpleString(), type.expected,
            spec.configKey());
      }
    });
  }

  private static Spec spec(String key, String table, Set<FeatureFamily> usedBy,
      Object... columns) {
    Map<String, Type> cols = new LinkedHashMap<>();
    for (int i = 0; i < columns.length; i += 2) {
      cols.put((String) columns[i], (Type) columns[i + 1]);
    }
    return new Spec(key, table, cols, usedBy);
  }
}
