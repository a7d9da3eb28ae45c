package dev.propensity.jobs.generate;

import static org.apache.spark.sql.functions.add_months;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.date_add;
import static org.apache.spark.sql.functions.date_sub;
import static org.apache.spark.sql.functions.exp;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.format_string;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.make_interval;
import static org.apache.spark.sql.functions.round;
import static org.apache.spark.sql.functions.sequence;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.trunc;
import static org.apache.spark.sql.functions.when;

import dev.propensity.common.config.JobConfig;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.Job;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Synthetic raw customer tables: customers, orders, web sessions, email sends, monthly profit.
 * Deterministic by seed. Each customer has hidden traits (purchase rate, engagement, a churn
 * date for some) that drive all their events, so recency, frequency and engagement predict who
 * orders in the month after a snapshot (about 5% do), with noise on top.
 */
public final class GenerateJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(GenerateJob.class);
  private static final int DAYS_PER_PERIOD = 30;
  private static final int EVENT_MONTHS = 12;

  @Override
  public String name() {
    return "generate";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    long customers = config.longValue("propensity.generate.customers");
    Random rnd = new Random(config.longValue("propensity.generate.seed"));
    String asOf = config.string("propensity.generate.as-of");
    int months = config.integer("propensity.generate.history-months");
    Column asOfDate = to_date(lit(asOf));
    Warehouse warehouse = Warehouse.of(spark, config);

    Dataset<Row> latent = latentCustomers(spark, customers, months, rnd, asOfDate)
        .persist(StorageLevel.MEMORY_AND_DISK());
    warehouse.overwrite(latent.select("customer_id", "age", "gender", "region", "channel",
        "segment", "signup_date"), Tables.RAW_CUSTOMERS);

    Dataset<Row> periods = activePeriods(latent, months, asOfDate);
    warehouse.overwrite(orders(periods, rnd, asOfDate), Tables.RAW_ORDERS);
    Dataset<Row> recent = periods.where(col("k").lt(EVENT_MONTHS));
    warehouse.overwrite(webSessions(recent, rnd), Tables.RAW_WEB_SESSIONS);
    warehouse.overwrite(emails(latent, rnd, asOfDate), Tables.RAW_EMAIL_EVENTS);
    warehouse.overwrite(profit(latent, rnd, asOfDate), Tables.RAW_PROFIT);
    latent.unpersist();

    String summary = String.format("generate: %d customers, events up to %s, tables %s under %s",
        customers, asOf, String.join(", ", Tables.RAW_CUSTOMERS, Tables.RAW_ORDERS,
            Tables.RAW_WEB_SESSIONS, Tables.RAW_EMAIL_EVENTS, Tables.RAW_PROFIT),
        warehouse.root());
    LOG.info(summary);
    return summary;
  }

  private static Dataset<Row> latentCustomers(SparkSession spark, long n, int months,
      Random rnd, Column asOf) {
    Column id = col("n");
    int historyDays = months * DAYS_PER_PERIOD;
    Column segment = pick(rnd.uniform("segment", id),
        new String[] {"consumer", "smb", "premium"}, new double[] {0.7, 0.9});
    return spark.range(n).withColumnRenamed("id", "n")
        .withColumn("customer_id", format_string("C%08d", id))
        .withColumn("z_eng", rnd.normal("engagement", id))
        .withColumn("z_freq", rnd.normal("frequency", id))
        .withColumn("age", least(lit(85), greatest(lit(18),
            round(rnd.normal("age", id).multiply(13).plus(41)))).cast("int"))
        .withColumn("gender", pick(rnd.uniform("gender", id), new String[] {"F", "M", "U"},
            new double[] {0.49, 0.97}))
        .withColumn("region", pick(rnd.uniform("region", id),
            new String[] {"North", "South", "East", "West", "Central"},
            new double[] {0.2, 0.4, 0.6, 0.8}))
        .withColumn("channel", pick(rnd.uniform("channel", id),
            new String[] {"web", "app", "store", "referral"}, new double[] {0.45, 0.7, 0.9}))
        .withColumn("segment", segment)
        .withColumn("signup_date", date_sub(asOf, floor(rnd.uniform("signup", id)
            .multiply(historyDays + 365 - 60)).plus(60).cast("int")))
        // about a third of customers lapse at some point; nothing happens after that date
        .withColumn("churn_date", when(rnd.uniform("churn", id).lt(0.33),
            greatest(date_add(col("signup_date"), 45), date_sub(asOf,
                floor(rnd.uniform("churn-day", id).multiply(historyDays)).cast("int")))))
        .withColumn("p_month", sigmoid(lit(-3.6)
            .plus(col("z_freq").multiply(0.9)).plus(col("z_eng").multiply(0.6))
            .plus(when(col("segment").equalTo("premium"), 0.5)
                .when(col("segment").equalTo("smb"), 0.2).otherwise(0.0))
            .plus(when(col("channel").equalTo("app"), 0.2).otherwise(0.0))))
        .withColumn("sessions_rate", exp(col("z_eng").multiply(0.7)
            .plus(col("z_freq").multiply(0.3)).plus(0.3)))
        .withColumn("open_prob", sigmoid(col("z_eng").multiply(1.1).minus(0.9)))
        .withColumn("click_prob", sigmoid(col("z_eng").multiply(0.8).minus(1.4)))
        .withColumn("aov", exp(rnd.normal("aov", id).multiply(0.3).plus(3.8)
            .plus(when(col("segment").equalTo("premium"), 0.6).otherwise(0.0))));
  }

  /** One row per customer and 30-day period k (0 = the last 30 days) in which they are active. */
  private static Dataset<Row> activePeriods(Dataset<Row> latent, int months, Column asOf) {
    return latent
        .withColumn("k", explode(sequence(lit(0), lit(months - 1))))
        .withColumn("period_end", date_sub(asOf, col("k").multiply(DAYS_PER_PERIOD).cast("int")))
        .withColumn("period_start", date_sub(col("period_end"), DAYS_PER_PERIOD - 1))
        .where(col("period_end").geq(col("signup_date"))
            .and(col("churn_date").isNull().or(col("period_start").lt(col("churn_date")))));
  }

  private static Dataset<Row> orders(Dataset<Row> periods, Random rnd, Column asOf) {
    Column id = col("n");
    Column k = col("k");
    Column p = col("p_month").multiply(exp(rnd.normal("month-noise", id, k).multiply(0.3)));
    Column count = when(rnd.uniform("order-1", id, k).lt(p), 1).otherwise(0)
        .plus(when(rnd.uniform("order-2", id, k).lt(p.multiply(0.3)), 1).otherwise(0));
    Column j = col("j");
    Column orderDate = date_add(col("period_start"),
        floor(rnd.uniform("order-day", id, k, j).multiply(DAYS_PER_PERIOD)).cast("int"));
    return periods.withColumn("n_orders", count).where(col("n_orders").gt(0))
        .withColumn("j", explode(sequence(lit(1), col("n_orders"))))
        .withColumn("order_date", orderDate)
        .where(col("order_date").geq(col("signup_date")).and(col("order_date").leq(asOf))
            .and(col("churn_date").isNull().or(col("order_date").lt(col("churn_date")))))
        .select(
            concat_ws("-", lit("O"), col("n"), k, j).as("order_id"),
            col("customer_id"),
            col("order_date"),
            pick(rnd.uniform("category", id, k, j),
                new String[] {"electronics", "home", "beauty", "kids", "grocery"},
                new double[] {0.15, 0.4, 0.6, 0.75}).as("category"),
            round(col("aov").multiply(exp(rnd.normal("revenue", id, k, j).multiply(0.4))), 2)
                .as("revenue"),
            rnd.uniform("promo", id, k, j).lt(0.25).as("promo"),
            rnd.uniform("returned", id, k, j).lt(0.06).as("returned"));
  }

  private static Dataset<Row> webSessions(Dataset<Row> periods, Random rnd) {
    Column id = col("n");
    Column k = col("k");
    Column j = col("j");
    Column count = least(lit(20), floor(col("sessions_rate")
        .multiply(rnd.uniform("sessions", id, k).multiply(2)))).cast("int");
    Column seconds = floor(rnd.uniform("session-time", id, k, j).multiply(DAYS_PER_PERIOD * 86400))
        .cast("int");
    return periods.withColumn("n_sessions", count).where(col("n_sessions").gt(0))
        .withColumn("j", explode(sequence(lit(1), col("n_sessions"))))
        .select(
            concat_ws("-", lit("S"), col("n"), k, j).as("session_id"),
            col("customer_id"),
            col("period_start").cast("timestamp")
                .plus(make_interval(lit(0), lit(0), lit(0), lit(0), lit(0), lit(0), seconds))
                .as("session_start"),
            when(rnd.uniform("device", id, k, j).lt(0.35), "app").otherwise("web").as("device"),
            round(exp(rnd.normal("duration", id, k, j).multiply(0.6).plus(5.0))).cast("int")
                .as("duration_sec"),
            floor(exp(rnd.normal("pages", id, k, j).multiply(0.5).plus(1.2))).cast("int")
                .plus(1).as("pages"),
            floor(rnd.uniform("cart", id, k, j).multiply(col("p_month").multiply(20)))
                .cast("int").as("cart_adds"));
  }

  private static Dataset<Row> emails(Dataset<Row> latent, Random rnd, Column asOf) {
    Column id = col("n");
    Column w = col("w");
    Column sentAt = date_sub(asOf, w.multiply(14).cast("int")).cast("timestamp")
        .plus(make_interval(lit(0), lit(0), lit(0), lit(0), lit(10), lit(0), lit(0)));
    Column lapsed = col("churn_date").isNotNull().and(col("churn_date").lt(sentAt.cast("date")));
    Column opened = rnd.uniform("open", id, w)
        .lt(col("open_prob").multiply(when(lapsed, 0.3).otherwise(1.0)));
    Column openDelay = floor(rnd.uniform("open-delay", id, w).multiply(48 * 3600)).cast("int");
    Column clicked = opened.and(rnd.uniform("click", id, w).lt(col("click_prob")));
    Column openedAt = sentAt.plus(make_interval(lit(0), lit(0), lit(0), lit(0), lit(0), lit(0),
        openDelay));
    return latent
        .withColumn("w", explode(sequence(lit(0), lit(EVENT_MONTHS * 30 / 14))))
        .where(sentAt.cast("date").geq(col("signup_date")))
        .select(
            concat_ws("-", lit("E"), col("n"), w).as("email_id"),
            col("customer_id"),
            concat_ws("-", lit("campaign"), w).as("campaign_id"),
            sentAt.as("sent_at"),
            when(opened, openedAt).as("opened_at"),
            when(clicked, openedAt.plus(make_interval(lit(0), lit(0), lit(0), lit(0), lit(0),
                lit(5), lit(0)))).as("clicked_at"));
  }

  private static Dataset<Row> profit(Dataset<Row> latent, Random rnd, Column asOf) {
    Column id = col("n");
    Column m = col("m");
    Column month = add_months(trunc(asOf, "month"), m.multiply(-1).cast("int"));
    return latent
        .withColumn("m", explode(sequence(lit(0), lit(EVENT_MONTHS - 1))))
        .where(col("signup_date").leq(month))
        .select(col("customer_id"), month.as("month"),
            round(col("aov").multiply(col("p_month")).multiply(0.35)
                .plus(rnd.normal("profit", id, m).multiply(3.0)), 2).as("profit"));
  }

  /** Picks values[i] where u falls below cumulative[i]; the last value takes the rest. */
  private static Column pick(Column u, String[] values, double[] cumulative) {
    Column out = lit(values[values.length - 1]);
    for (int i = cumulative.length - 1; i >= 0; i--) {
      out = when(u.lt(cumulative[i]), values[i]).otherwise(out);
    }
    return out;
  }

  private static Column sigmoid(Column x) {
    return lit(1.0).divide(lit(1.0).plus(exp(x.multiply(-1))));
  }
}
