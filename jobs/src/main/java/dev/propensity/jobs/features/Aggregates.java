package dev.propensity.jobs.features;

import static org.apache.spark.sql.functions.add_months;
import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_set;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.date_add;
import static org.apache.spark.sql.functions.date_sub;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.lower;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.mode;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.trunc;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * One conditional aggregation per raw table, keyed by (customer_id, snapshot_date): each event
 * row is paired with every snapshot whose look-back window holds it, then all the windows'
 * counts and sums come out of one {@code groupBy}. A snapshot is the instant 00:00 (session time
 * zone, UTC by default) of its date; an event counts for it only when strictly before it, except
 * the label's orders, which lie in {@code [snapshot, snapshot + horizon)}.
 */
final class Aggregates {

  static final List<String> KEYS = List.of("customer_id", "snapshot_date");
  /** Look-back of the windowed event tables, in days. */
  static final int YEAR = 365;

  private final List<String> snapshots;
  private final int horizon;

  Aggregates(List<String> snapshots, int horizon) {
    this.snapshots = List.copyOf(snapshots);
    this.horizon = horizon;
  }

  /** Days back from the snapshot at which a window starts. */
  private static final int[] BOUNDS = {30, 90, 120, YEAR};

  /** @return the snapshot dates as a column of one row per snapshot, for exploding */
  Column snapshotArray() {
    return array(snapshots.stream().map(s -> to_date(lit(s))).toArray(Column[]::new));
  }

  /**
   * Pairs each event with every snapshot, with the snapshot's window bounds precomputed: the
   * bounds are literals (constant-folded once), so per row the windows are plain comparisons
   * rather than date arithmetic and time-zone conversions.
   */
  private Dataset<Row> perSnapshot(Dataset<Row> events) {
    Column[] structs = snapshots.stream().map(d -> {
      Column s = to_date(lit(d));
      List<Column> fields = new ArrayList<>(List.of(s.as("snapshot_date"),
          s.cast("timestamp").as("t0"), date_add(s, horizon).as("label_end"),
          trunc(s, "month").as("m0")));
      for (int b : BOUNDS) {
        fields.add(date_sub(s, b).as("d" + b));
        fields.add(date_sub(s, b).cast("timestamp").as("t" + b));
      }
      for (int m : new int[] {3, 6, 12}) {
        fields.add(add_months(trunc(s, "month"), -m).as("m" + m));
      }
      return struct(fields.toArray(new Column[0]));
    }).toArray(Column[]::new);
    return events.withColumn("__w", explode(array(structs))).select(col("*"), col("__w.*"))
        .drop("__w");
  }

  private static Column s() {
    return col("snapshot_date");
  }

  /** The instant of the snapshot, {@code daysBack} days back (a precomputed bound). */
  private static Column instant(int daysBack) {
    return col("t" + daysBack);
  }

  /** Date d in the {@code days} days before the snapshot. */
  private static Column lastDays(Column d, int days) {
    return d.geq(col("d" + days)).and(d.lt(s()));
  }

  /** Timestamp t in the {@code days} days before the snapshot. */
  private static Column lastDaysAt(Column t, int days) {
    return t.geq(instant(days)).and(t.lt(instant(0)));
  }

  /** Timestamp t in [snapshot - from, snapshot - to). */
  private static Column betweenAt(Column t, int from, int to) {
    return t.geq(instant(from)).and(t.lt(instant(to)));
  }

  private static Dataset<Row> group(Dataset<Row> df, Column... aggs) {
    return df.groupBy(KEYS.get(0), KEYS.get(1))
        .agg(aggs[0], java.util.Arrays.copyOfRange(aggs, 1, aggs.length));
  }

  /** Orders: recency, counts and revenue per window, promo/returns/discounts, the label. */
  Dataset<Row> orders(Dataset<Row> orders) {
    Column d = col("order_date");
    Column rev = col("revenue");
    Column before = d.lt(s());
    Column year = lastDays(d, YEAR);
    Column prev = d.geq(col("d120")).and(d.lt(col("d30")));
    Column label = d.geq(s()).and(d.lt(col("label_end")));
    return group(perSnapshot(orders.withColumn("order_date", d.cast("date")))
            .where(d.lt(col("label_end"))),
        max(when(before, d)).as("last_order"),
        min(when(before, d)).as("first_order"),
        count(when(before, 1)).as("orders_life"),
        sum(when(before, rev)).as("revenue_life"),
        count(when(lastDays(d, 30), 1)).as("orders_30"),
        count(when(lastDays(d, 90), 1)).as("orders_90"),
        count(when(year, 1)).as("orders_365"),
        sum(when(lastDays(d, 30), rev)).as("revenue_30"),
        sum(when(lastDays(d, 90), rev)).as("revenue_90"),
        sum(when(year, rev)).as("revenue_365"),
        count(when(year, rev)).as("revenue_known_365"),
        count(when(year.and(col("promo")), 1)).as("promo_365"),
        count(when(year.and(col("returned")), 1)).as("returned_365"),
        sum(when(year, col("discount"))).as("discount_365"),
        count(when(prev, 1)).as("orders_prev"),
        sum(when(prev, rev)).as("revenue_prev"),
        max(when(label, 1)).as("converted"));
  }

  /** Order lines of the last 365 days: category breadth, favourite category, items. */
  Dataset<Row> orderLines(Dataset<Row> lines, Dataset<Row> orders) {
    Column d = col("order_date");
    Dataset<Row> withOrder = lines.join(orders.select(col("order_id"), col("customer_id"),
        d.cast("date").as("order_date")), "order_id");
    return group(perSnapshot(withOrder).where(lastDays(d, YEAR)),
        size(collect_set(col("category"))).as("category_breadth"),
        mode(col("category"), true).as("favourite_category"),
        sum(col("quantity")).as("items_365"));
  }

  /** Web and app sessions of the last 365 days. */
  Dataset<Row> sessions(Dataset<Row> sessions) {
    Column t = col("session_start");
    Column device = col("device");
    Column in30 = lastDaysAt(t, 30);
    Column in90 = lastDaysAt(t, 90);
    Column prev = betweenAt(t, 120, 30);
    Column seconds = col("duration_sec");
    Column cart = in90.and(col("cart_adds").gt(0));
    Dataset<Row> typed = sessions.withColumn("session_start", t.cast("timestamp"))
        .withColumn("device", lower(trim(device)))
        .withColumn("ordered", coalesce(col("ordered"), lit(false)));
    return group(perSnapshot(typed).where(lastDaysAt(t, YEAR)),
        count(when(in30.and(device.equalTo("web")), 1)).as("web_30"),
        count(when(in90.and(device.equalTo("web")), 1)).as("web_90"),
        count(when(in90.and(device.equalTo("app")), 1)).as("app_90"),
        count(when(in30, 1)).as("sessions_30"),
        count(when(in90, 1)).as("sessions_90"),
        count(when(prev, 1)).as("sessions_prev"),
        sum(when(in30, seconds)).as("seconds_30"),
        sum(when(in90, seconds)).as("seconds_90"),
        sum(when(prev, seconds)).as("seconds_prev"),
        count(when(in90, seconds)).as("durations_90"),
        avg(when(in90, col("pages"))).as("pages_90"),
        max(t).as("last_session"),
        count(when(cart, 1)).as("cart_sessions_90"),
        count(when(cart.and(col("ordered").equalTo(false)), 1)).as("abandoned_90"),
        sum(when(in90, col("cart_adds"))).as("cart_adds_90"));
  }

  /** Emails sent in the last 365 days; opens and clicks count only when before the snapshot. */
  Dataset<Row> emails(Dataset<Row> emails) {
    Column t = col("sent_at");
    Column opened = col("opened_at").lt(instant(0));
    Column clicked = col("clicked_at").lt(instant(0));
    Column in30 = lastDaysAt(t, 30);
    Column in90 = lastDaysAt(t, 90);
    Column prev = betweenAt(t, 90, 30);
    Dataset<Row> typed = emails.withColumn("sent_at", t.cast("timestamp"))
        .withColumn("opened_at", col("opened_at").cast("timestamp"))
        .withColumn("clicked_at", col("clicked_at").cast("timestamp"));
    return group(perSnapshot(typed).where(lastDaysAt(t, YEAR)),
        count(when(in30, 1)).as("sent_30"),
        count(when(in30.and(opened), 1)).as("opened_30"),
        count(when(in90, 1)).as("sent_90"),
        count(when(in90.and(opened), 1)).as("opened_90"),
        count(when(in90.and(clicked), 1)).as("clicked_90"),
        count(when(prev, 1)).as("sent_prev"),
        count(when(prev.and(opened), 1)).as("opened_prev"),
        max(when(opened, col("opened_at"))).as("last_open"));
  }

  /** Social platforms followed at the snapshot (followed before it, not unfollowed by then). */
  Dataset<Row> social(Dataset<Row> follows) {
    Column followed = col("followed_at");
    Column unfollowed = col("unfollowed_at");
    Column active = unfollowed.isNull().or(unfollowed.geq(instant(0)));
    Dataset<Row> typed = follows.withColumn("followed_at", followed.cast("timestamp"))
        .withColumn("unfollowed_at", unfollowed.cast("timestamp"))
        .withColumn("platform", coalesce(lower(trim(col("platform"))), lit("unknown")));
    return group(perSnapshot(typed).where(followed.lt(instant(0))),
        size(collect_set(when(active, col("platform")))).as("platforms"));
  }

  /** Support contacts of the last 365 days. */
  Dataset<Row> support(Dataset<Row> contacts) {
    Column t = col("contacted_at");
    Dataset<Row> typed = contacts.withColumn("contacted_at", t.cast("timestamp"))
        .withColumn("complaint", lower(trim(col("reason"))).equalTo("complaint"));
    return group(perSnapshot(typed).where(lastDaysAt(t, YEAR)),
        count(when(lastDaysAt(t, 90), 1)).as("support_90"),
        count(when(col("complaint"), 1)).as("complaints_365"));
  }

  /**
   * Finance profit of complete calendar months: a month counts once it has ended before the
   * snapshot (May counts from the snapshot of 1 June on).
   */
  Dataset<Row> profit(Dataset<Row> profit) {
    Column m = col("month");
    Column last3 = m.geq(col("m3"));
    Column prev3 = m.geq(col("m6")).and(m.lt(col("m3")));
    Dataset<Row> typed = profit.withColumn("month", trunc(m.cast("date"), "month"));
    return group(perSnapshot(typed).where(m.geq(col("m12")).and(m.lt(col("m0")))),
        sum(when(last3, col("profit"))).as("profit_3m"),
        sum(when(prev3, col("profit"))).as("profit_prev_3m"),
        sum(col("profit")).as("profit_12m"));
  }
}
