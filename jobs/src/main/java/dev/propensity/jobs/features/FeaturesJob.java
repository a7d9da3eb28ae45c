package dev.propensity.jobs.features;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.datediff;
import static org.apache.spark.sql.functions.date_add;
import static org.apache.spark.sql.functions.date_sub;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.when;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.Job;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Point-in-time customer features, one {@code features} partition per snapshot date.
 *
 * <p>A snapshot is the instant 00:00 UTC of its date: events dated before it feed the features;
 * the label is 1 when the customer orders in the {@code label-horizon-days} days from the
 * snapshot on, and null when that window reaches past the last day of order data.
 */
public final class FeaturesJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(FeaturesJob.class);

  @Override
  public String name() {
    return "features";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    Warehouse warehouse = Warehouse.of(spark, config);
    int horizon = config.integer("propensity.features.label-horizon-days");
    List<String> snapshots = snapshotDates(config);
    Dataset<Row> customers = warehouse.read(Tables.RAW_CUSTOMERS);
    Dataset<Row> orders = warehouse.read(Tables.RAW_ORDERS);
    Dataset<Row> sessions = warehouse.read(Tables.RAW_WEB_SESSIONS);
    Dataset<Row> emails = warehouse.read(Tables.RAW_EMAIL_EVENTS);
    Object lastOrderDay = orders.agg(max("order_date")).first().get(0);
    if (lastOrderDay == null) {
      throw Errors.emptyTable(warehouse.path(Tables.RAW_ORDERS), "(no order_date)");
    }
    LocalDate dataEnd = LocalDate.parse(lastOrderDay.toString());

    List<String> written = new ArrayList<>();
    for (String snapshot : snapshots) {
      boolean labelled = !LocalDate.parse(snapshot).plusDays(horizon).isAfter(dataEnd.plusDays(1));
      Dataset<Row> features = snapshotFeatures(customers, orders, sessions, emails, snapshot,
          horizon, labelled);
      warehouse.overwritePartition(features, Tables.FEATURES, "snapshot_date", snapshot);
      written.add(snapshot + (labelled ? " (labelled)" : " (label window not over: label null)"));
      LOG.info("features: snapshot {} written, labelled={}", snapshot, labelled);
    }
    return "features: " + String.join(", ", written) + " -> " + warehouse.path(Tables.FEATURES);
  }

  static Dataset<Row> snapshotFeatures(Dataset<Row> customers, Dataset<Row> orders,
      Dataset<Row> sessions, Dataset<Row> emails, String snapshot, int horizon,
      boolean labelled) {
    Column s = to_date(lit(snapshot));
    Column before = col("order_date").lt(s);
    Column d = col("order_date");
    Dataset<Row> rfm = orders
        .where(d.lt(date_add(s, horizon)))
        .groupBy("customer_id")
        .agg(
            max(when(before, d)).as("last_order"),
            sum(when(before.and(d.geq(date_sub(s, 90))), 1).otherwise(0)).as("frequency_90d"),
            sum(when(before.and(d.geq(date_sub(s, 365))), 1).otherwise(0)).as("frequency_365d"),
            sum(when(before.and(d.geq(date_sub(s, 365))), col("revenue")).otherwise(0.0))
                .as("monetary_365d"),
            max(when(d.geq(s), 1).otherwise(0)).as("converted"));
    Column t = col("session_start");
    Dataset<Row> web = sessions
        .where(t.lt(s.cast("timestamp")).and(t.geq(date_sub(s, 90).cast("timestamp"))))
        .groupBy("customer_id").agg(count(lit(1)).as("web_sessions_90d"));
    Column sent = col("sent_at");
    Column inWindow = sent.lt(s.cast("timestamp")).and(sent.geq(date_sub(s, 90).cast("timestamp")));
    Dataset<Row> mail = emails.where(inWindow)
        .groupBy("customer_id")
        .agg(
            avg(when(col("opened_at").lt(s.cast("timestamp")), 1.0).otherwise(0.0))
                .as("email_open_rate_90d"),
            avg(when(col("clicked_at").lt(s.cast("timestamp")), 1.0).otherwise(0.0))
                .as("email_click_rate_90d"));

    Dataset<Row> base = customers.where(col("signup_date").lt(s));
    Column tenure = datediff(s, col("signup_date"));
    return base
        .join(rfm, "customer_id", "left")
        .join(web, "customer_id", "left")
        .join(mail, "customer_id", "left")
        .select(
            col("customer_id"),
            s.as("snapshot_date"),
            // no order yet: recency is the whole tenure (documented rule)
            coalesce(datediff(s, col("last_order")), tenure).cast("double").as("recency_days"),
            coalesce(col("frequency_90d"), lit(0)).cast("double").as("frequency_90d"),
            coalesce(col("frequency_365d"), lit(0)).cast("double").as("frequency_365d"),
            coalesce(col("monetary_365d"), lit(0.0)).as("monetary_365d"),
            when(col("frequency_365d").gt(0),
                col("monetary_365d").divide(col("frequency_365d"))).as("avg_order_value"),
            tenure.cast("double").as("tenure_days"),
            col("age").cast("double").as("age"),
            coalesce(col("web_sessions_90d"), lit(0)).cast("double").as("web_sessions_90d"),
            col("email_open_rate_90d"),
            col("email_click_rate_90d"),
            col("region"), col("channel"), col("segment"), col("gender"),
            (labelled ? coalesce(col("converted"), lit(0)) : lit(null)).cast("int").as("label"));
  }

  private static List<String> snapshotDates(JobConfig config) {
    List<String> dates = config.strings("propensity.features.snapshot-dates");
    if (dates.isEmpty()) {
      throw Errors.invalidConfig("propensity.features.snapshot-dates", "[]",
          "at least one date, e.g. [\"2026-05-31\"]");
    }
    for (String d : dates) {
      try {
        LocalDate.parse(d);
      } catch (DateTimeParseException e) {
        throw Errors.invalidConfig("propensity.features.snapshot-dates", d,
            "ISO dates (yyyy-MM-dd)");
      }
    }
    return dates;
  }
}
