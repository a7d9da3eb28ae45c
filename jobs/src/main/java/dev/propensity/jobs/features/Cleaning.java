package dev.propensity.jobs.features;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.count_distinct;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.lower;
import static org.apache.spark.sql.functions.map;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.regexp_replace;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.try_element_at;
import static org.apache.spark.sql.functions.when;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.jobs.features.RawInputs.Input;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cleaning rules (README "Cleaning"), each counting the rows it touches in one aggregation
 * pass per table:
 *
 * <ul>
 *   <li>Bad rows (null customer id, event time, signup date or order id): fail, or drop and
 *       count ({@code propensity.features.on-bad-rows}).
 *   <li>Duplicate customers: accounts whose emails match after trimming and lower-casing are one
 *       person; the account with the earliest signup (then the smallest id) survives with its
 *       own attributes, the others are dropped and their events re-keyed to the survivor.
 *   <li>Missing region, channel, segment or gender (null or blank) become {@code unknown};
 *       surrounding spaces are trimmed.
 *   <li>Ages outside [min-age, max-age] become null; missing ages stay null (the model pipeline
 *       imputes them).
 *   <li>Category spellings are trimmed, lower-cased, inner spaces collapsed, then mapped by
 *       {@code propensity.features.cleaning.category-aliases}; a missing category is
 *       {@code unknown}.
 * </ul>
 */
final class Cleaning {

  private static final Logger LOG = LoggerFactory.getLogger(Cleaning.class);
  static final List<String> ON_BAD_ROWS = List.of("fail", "drop");
  private static final List<String> ATTRIBUTES = List.of("region", "channel", "segment",
      "gender");

  private final boolean drop;
  private final double minAge;
  private final double maxAge;
  private final Map<String, String> aliases;
  /** Rule -> rows touched, in the order the rules ran. */
  private final Map<String, Long> counts = new LinkedHashMap<>();
  private Dataset<Row> survivors;

  Cleaning(JobConfig config) {
    this.drop = "drop".equals(config.oneOf("propensity.features.on-bad-rows", ON_BAD_ROWS));
    this.minAge = config.number("propensity.features.cleaning.min-age");
    this.maxAge = config.number("propensity.features.cleaning.max-age");
    this.aliases = config.section("propensity.features.cleaning.category-aliases");
  }

  /** Frees the cached duplicate map. */
  void release() {
    if (survivors != null) {
      survivors.unpersist();
    }
  }

  /** @return each rule's description and the rows it touched, in order */
  Map<String, Long> counts() {
    return counts;
  }

  /**
   * Cleans the customers and builds the duplicate map (kept for {@link #events}).
   *
   * @return one row per person: customer_id, age (double), the attributes, signup_date (date)
   */
  Dataset<Row> customers(Input in) {
    Column id = col("customer_id");
    Column signup = col("signup_date");
    Column age = col("age");
    List<Column> aggs = new ArrayList<>(List.of(
        sum(when(id.isNull(), 1).otherwise(0)),
        sum(when(id.isNotNull().and(signup.isNull()), 1).otherwise(0)),
        sum(when(age.isNull(), 1).otherwise(0)),
        sum(when(age.lt(minAge).or(age.gt(maxAge)), 1).otherwise(0))));
    for (String a : ATTRIBUTES) {
      aggs.add(sum(when(missing(col(a)), 1).otherwise(0)));
    }
    Row r = in.rows().agg(count(lit(1)), aggs.toArray(new Column[0])).first();
    Dataset<Row> rows = badRows(in, in.rows(), r.getLong(1), "customer_id",
        "a null customer id", id.isNull());
    rows = badRows(in, rows, r.getLong(2), "signup_date", "a null signup date", signup.isNull());
    counts.put("customers: missing ages left null", r.getLong(3));
    counts.put("customers: ages outside [" + fmt(minAge) + ", " + fmt(maxAge) + "] set to null",
        r.getLong(4));
    for (int i = 0; i < ATTRIBUTES.size(); i++) {
      counts.put("customers: missing " + ATTRIBUTES.get(i) + " set to 'unknown'",
          r.getLong(5 + i));
    }

    Column email = lower(trim(col("email")));
    Dataset<Row> groups = rows.where(email.isNotNull().and(email.notEqual("")))
        .groupBy(email.as("email_key"))
        .agg(min(struct(signup.cast("date"), id)).as("first"), collect_list(id).as("ids"))
        .where(org.apache.spark.sql.functions.size(col("ids")).gt(1));
    survivors = groups
        .select(explode(col("ids")).as("customer_id"), col("first.customer_id").as("survivor_id"))
        .where(col("customer_id").notEqual(col("survivor_id")))
        .persist(StorageLevel.MEMORY_AND_DISK());
    Row d = survivors.agg(count(lit(1)), count_distinct(col("survivor_id"))).first();
    counts.put("customers: duplicate accounts merged into " + d.getLong(1) + " surviving"
        + " customers (same email)", d.getLong(0));

    List<Column> out = new ArrayList<>(List.of(id,
        when(age.geq(minAge).and(age.leq(maxAge)), age).as("age")));
    for (String a : ATTRIBUTES) {
      out.add(when(missing(col(a)), lit("unknown")).otherwise(trim(col(a))).as(a));
    }
    out.add(signup.cast("date").as("signup_date"));
    return rows.join(broadcast(survivors.select("customer_id")), "customer_id", "left_anti")
        .select(out.toArray(new Column[0]));
  }

  /**
   * Applies the bad-row rule to an event table (null customer id or event time) and re-keys the
   * events of duplicate accounts to their survivor.
   *
   * @param in the table ({@link #customers} must have run)
   * @param time its event time column
   * @param notes further counts to report for this table: description -> row condition
   * @param extras aggregates the caller needs from the same pass (e.g. the first order date)
   * @return the cleaned rows, and the extras' values
   */
  Cleaned events(Input in, String time, Map<String, Column> notes, List<Column> extras) {
    Dataset<Row> keyed = in.rows().join(broadcast(survivors), "customer_id", "left");
    List<Column> aggs = new ArrayList<>(List.of(
        sum(when(col("customer_id").isNull(), 1).otherwise(0)),
        sum(when(col("customer_id").isNotNull().and(col(time).isNull()), 1).otherwise(0)),
        sum(when(col("survivor_id").isNotNull(), 1).otherwise(0))));
    notes.values().forEach(c -> aggs.add(sum(when(c, 1).otherwise(0))));
    aggs.addAll(extras);
    Row r = keyed.agg(count(lit(1)), aggs.toArray(new Column[0])).first();
    String table = in.spec().defaultTable();
    Dataset<Row> rows = badRows(in, keyed, r.getLong(1), "customer_id", "a null customer id",
        col("customer_id").isNull());
    rows = badRows(in, rows, r.getLong(2), time, "a null " + time, col(time).isNull());
    counts.put(table + ": rows of duplicate accounts re-keyed to the surviving customer",
        r.getLong(3));
    int i = 4;
    for (String note : notes.keySet()) {
      counts.put(table + ": " + note, r.getLong(i++));
    }
    List<Object> extraValues = new ArrayList<>();
    for (int j = 0; j < extras.size(); j++) {
      extraValues.add(r.get(i + j));
    }
    Dataset<Row> cleaned = rows
        .withColumn("customer_id", coalesce(col("survivor_id"), col("customer_id")))
        .drop("survivor_id");
    return new Cleaned(cleaned, extraValues);
  }

  /** An event table after cleaning, with the extra aggregates asked for. */
  record Cleaned(Dataset<Row> rows, List<Object> extras) {}

  /**
   * The order lines rules: bad rows (null order id) and category spellings.
   *
   * @return order_id, category (normalised), quantity
   */
  Dataset<Row> orderLines(Input in) {
    Column raw = col("category");
    Column normal = category(raw);
    Row r = in.rows().agg(count(lit(1)),
        sum(when(col("order_id").isNull(), 1).otherwise(0)),
        sum(when(raw.isNotNull().and(normal.notEqual(raw)), 1).otherwise(0)),
        sum(when(missing(raw), 1).otherwise(0))).first();
    Dataset<Row> rows = badRows(in, in.rows(), r.getLong(1), "order_id", "a null order id",
        col("order_id").isNull());
    counts.put(in.spec().defaultTable() + ": category spellings normalised", r.getLong(2));
    counts.put(in.spec().defaultTable() + ": missing categories set to 'unknown'",
        r.getLong(3));
    return rows.withColumn("category", normal);
  }

  /** @return the normalised category: trimmed, lower case, single spaces, aliases applied */
  Column category(Column raw) {
    Column n = regexp_replace(lower(trim(raw)), "\\s+", " ");
    Column out = n;
    if (!aliases.isEmpty()) {
      List<Column> pairs = new ArrayList<>();
      aliases.forEach((from, to) -> {
        pairs.add(lit(from));
        pairs.add(lit(to));
      });
      out = coalesce(try_element_at(map(pairs.toArray(new Column[0])), n), n);
    }
    return when(missing(raw), lit("unknown")).otherwise(out);
  }

  private Dataset<Row> badRows(Input in, Dataset<Row> df, long rows, String column,
      String problem, Column bad) {
    String rule = in.spec().defaultTable() + ": rows with " + problem + " dropped";
    if (rows > 0 && !drop) {
      throw Errors.badInputRows(in.location(), column, rows, problem);
    }
    counts.put(rule, rows);
    if (rows > 0) {
      LOG.warn("features: dropped {} row(s) of {} with {} in column '{}'", rows, in.location(),
          problem, column);
      return df.where(not(bad));
    }
    return df;
  }

  private static Column missing(Column c) {
    return c.isNull().or(trim(c).equalTo(""));
  }

  private static String fmt(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
  }
}
