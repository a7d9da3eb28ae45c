package dev.propensity.jobs.generate;

import static dev.propensity.jobs.generate.GenerateJob.DAYS_PER_PERIOD;
import static org.apache.spark.sql.functions.add_months;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.date_add;
import static org.apache.spark.sql.functions.date_sub;
import static org.apache.spark.sql.functions.datediff;
import static org.apache.spark.sql.functions.exp;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.initcap;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.round;
import static org.apache.spark.sql.functions.sequence;
import static org.apache.spark.sql.functions.timestamp_seconds;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.trunc;
import static org.apache.spark.sql.functions.unix_date;
import static org.apache.spark.sql.functions.upper;
import static org.apache.spark.sql.functions.when;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The generated event tables, each driven by the customers' hidden traits (see
 * {@link GenerateJob}). Rows are keyed by hashes of (customer number, period, index), so they do
 * not depend on partitioning.
 */
final class EventTables {

  static final String[] CATEGORIES = {"electronics", "home", "beauty", "kids", "grocery"};
  /** What a sloppy export calls each category now and then (same order as CATEGORIES). */
  private static final String[] SYNONYMS = {"Electronic", "Home & Garden", "Health & Beauty",
      "Toys & Kids", "Groceries"};
  static final Column[] ORDER_COLUMNS = {col("order_id"), col("customer_id"), col("order_date"),
      col("revenue"), col("discount"), col("promo"), col("returned")};

  /**
   * A change of behaviour from {@code date} on, event by event: session rates multiplied by
   * {@code sessionRateFactor} (data drift: extra sessions on and after the date) and, with
   * {@code concept}, orders on and after the date follow a monthly probability driven by
   * engagement and the app channel instead of purchase frequency. Events before the date are
   * exactly those of a history without drift.
   *
   * @param date the first day of the new behaviour, null for none
   */
  record Drift(String date, double sessionRateFactor, boolean concept) {
    static final Drift NONE = new Drift(null, 1.0, false);

    /** @return whether an event on {@code day} follows the new behaviour */
    Column after(Column day) {
      return date == null ? lit(false) : day.geq(to_date(lit(date)));
    }

    boolean conceptDrift() {
      return concept && date != null;
    }

    boolean dataDrift() {
      return sessionRateFactor != 1.0 && date != null;
    }
  }

  private final Random rnd;
  private final Column asOf;
  private final Drift drift;
  private final int eventMonths;

  /**
   * @param asOf the day the history is anchored to (generate.history-end, else as-of)
   * @param eventMonths months of emails and profit before the anchor (sessions and support
   *     contacts: the periods the caller passes)
   */
  EventTables(Random rnd, Column asOf, Drift drift, int eventMonths) {
    this.rnd = rnd;
    this.asOf = asOf;
    this.drift = drift;
    this.eventMonths = eventMonths;
  }

  /** The monthly order probability after the concept drift. */
  private static Column driftedProbability() {
    return sigmoid(lit(-3.6)
        .plus(col("z_freq").multiply(0.2)).plus(col("z_eng").multiply(1.1))
        .plus(when(col("segment").equalTo("premium"), 0.5)
            .when(col("segment").equalTo("smb"), 0.2).otherwise(0.0))
        .plus(when(col("channel").equalTo("app"), 0.7).otherwise(0.0)));
  }

  /** The month's order probability behind an event on {@code day}, after any concept drift. */
  private Column orderProbability(Column day) {
    return drift.conceptDrift()
        ? when(drift.after(day), driftedProbability()).otherwise(col("p_month"))
        : col("p_month");
  }

  /** One row per customer and 30-day period k (0 = the last 30 days) in which they are active. */
  Dataset<Row> activePeriods(Dataset<Row> latent, int months) {
    return latent
        .withColumn("k", explode(sequence(lit(0), lit(months - 1))))
        .withColumn("period_end", date_sub(asOf, col("k").multiply(DAYS_PER_PERIOD).cast("int")))
        .withColumn("period_start", date_sub(col("period_end"), DAYS_PER_PERIOD - 1))
        .where(col("period_end").geq(col("signup_date"))
            .and(col("churn_date").isNull().or(col("period_start").lt(col("churn_date")))));
  }

  /** Orders with their generation keys (n, k, j, lines, gross) for {@link #orderLines}. */
  Dataset<Row> orders(Dataset<Row> periods) {
    Column id = col("n");
    Column k = col("k");
    Column noise = exp(rnd.normal("month-noise", id, k).multiply(0.3));
    Column p = col("p_month").multiply(noise);
    Column count = when(rnd.uniform("order-1", id, k).lt(p), 1).otherwise(0)
        .plus(when(rnd.uniform("order-2", id, k).lt(p.multiply(0.3)), 1).otherwise(0));
    // concept drift: a second draw from the new probability, whose orders count from the date on
    Column pNew = driftedProbability().multiply(noise);
    Column countNew = drift.conceptDrift()
        ? when(rnd.uniform("order-1-drift", id, k).lt(pNew), 1).otherwise(0)
            .plus(when(rnd.uniform("order-2-drift", id, k).lt(pNew.multiply(0.3)), 1)
                .otherwise(0))
        : lit(0);
    Column drawnNew = col("j").gt(col("n_old"));
    Column j = col("j");
    Column orderDate = date_add(col("period_start"),
        floor(rnd.uniform("order-day", id, k, j).multiply(DAYS_PER_PERIOD)).cast("int"));
    Column promo = rnd.uniform("promo", id, k, j).lt(0.25);
    Column gross = round(col("aov").multiply(exp(rnd.normal("revenue", id, k, j).multiply(0.4))),
        2);
    Column discount = when(promo, round(gross.multiply(rnd.uniform("discount", id, k, j)
        .multiply(0.2).plus(0.1)), 2)).otherwise(0.0);
    return periods.withColumn("n_old", count).withColumn("n_orders", count.plus(countNew))
        .where(col("n_orders").gt(0))
        .withColumn("j", explode(sequence(lit(1), col("n_orders"))))
        .withColumn("order_date", orderDate)
        .where(drift.conceptDrift() ? drawnNew.equalTo(drift.after(col("order_date"))) : lit(true))
        .where(col("order_date").geq(col("signup_date")).and(col("order_date").leq(asOf))
            .and(col("churn_date").isNull().or(col("order_date").lt(col("churn_date")))))
        .withColumn("gross", gross)
        .withColumn("promo", promo)
        .withColumn("discount", discount)
        .select(
            col("n"), k, j, col("gross"),
            floor(rnd.uniform("lines", id, k, j).multiply(2.6)).cast("int").plus(1).as("lines"),
            concat_ws("-", lit("O"), col("n"), k, j).as("order_id"),
            secondAccount("order", col("order_date")),
            col("order_date"),
            when(rnd.uniform("revenue-missing", id, k, j).lt(0.003), lit(null).cast("double"))
                .otherwise(round(col("gross").minus(col("discount")), 2)).as("revenue"),
            col("discount"),
            col("promo"),
            rnd.uniform("returned", id, k, j).lt(0.06).as("returned"));
  }

  /** Lines of each order: category (spelled inconsistently now and then), quantity, amount. */
  Dataset<Row> orderLines(Dataset<Row> orders) {
    Column key = col("order_id");
    Column line = col("line_no");
    Column category = pick(rnd.uniform("category", key, line), CATEGORIES,
        new double[] {0.15, 0.4, 0.6, 0.75});
    Column synonym = pick(rnd.uniform("category", key, line), SYNONYMS,
        new double[] {0.15, 0.4, 0.6, 0.75});
    Column dirt = rnd.uniform("category-spelling", key, line);
    Column spelled = when(dirt.lt(0.03), initcap(category))
        .when(dirt.lt(0.05), upper(category))
        .when(dirt.lt(0.07), concat(category, lit("  ")))
        .when(dirt.lt(0.09), synonym)
        .otherwise(category);
    return orders
        .withColumn("line_no", explode(sequence(lit(1), col("lines"))))
        .select(
            key,
            line,
            spelled.as("category"),
            floor(rnd.uniform("quantity", key, line).multiply(2.5)).cast("int").plus(1)
                .as("quantity"),
            round(col("gross").divide(col("lines")), 2).as("amount"));
  }

  Dataset<Row> webSessions(Dataset<Row> periods) {
    Column id = col("n");
    Column k = col("k");
    Column j = col("j");
    Column count = least(lit(20), floor(col("sessions_rate")
        .multiply(rnd.uniform("sessions", id, k).multiply(2)))).cast("int");
    // data drift: extra sessions at (factor - 1) times the rate, kept from the date on
    Column extra = drift.dataDrift() ? floor(col("sessions_rate")
        .multiply(drift.sessionRateFactor() - 1)
        .multiply(rnd.uniform("sessions-drift", id, k).multiply(2))).cast("int") : lit(0);
    Column start = at(col("period_start"), floor(
        rnd.uniform("session-time", id, k, j).multiply(DAYS_PER_PERIOD * 86400)));
    Column appShare = when(col("channel").equalTo("app"), 0.65).otherwise(0.2);
    Column day = col("session_start").cast("date");
    Column cartAdds = floor(rnd.uniform("cart", id, k, j).multiply(orderProbability(day)
        .multiply(20))).cast("int");
    return periods.withColumn("n_base", count).withColumn("n_sessions", count.plus(extra))
        .where(col("n_sessions").gt(0))
        .withColumn("j", explode(sequence(lit(1), col("n_sessions"))))
        .withColumn("session_start", start)
        .where(col("j").leq(col("n_base")).or(drift.after(day)))
        .withColumn("cart_adds", cartAdds)
        .select(
            concat_ws("-", lit("S"), col("n"), k, j).as("session_id"),
            secondAccount("session", col("session_start").cast("date")),
            col("session_start"),
            when(rnd.uniform("device", id, k, j).lt(appShare), "app").otherwise("web")
                .as("device"),
            when(rnd.uniform("duration-missing", id, k, j).lt(0.01), lit(null).cast("int"))
                .otherwise(round(exp(rnd.normal("duration", id, k, j).multiply(0.6).plus(5.0)))
                    .cast("int")).as("duration_sec"),
            floor(exp(rnd.normal("pages", id, k, j).multiply(0.5).plus(1.2))).cast("int")
                .plus(1).as("pages"),
            col("cart_adds"),
            col("cart_adds").gt(0).and(rnd.uniform("checkout", id, k, j)
                .lt(least(lit(0.9), orderProbability(day).multiply(4).plus(0.15))))
                .as("ordered"));
  }

  Dataset<Row> emails(Dataset<Row> latent) {
    Column id = col("n");
    Column w = col("w");
    // campaigns go out every 14 days in 14 daily cohorts of customers, so the days since the
    // last email look alike whichever weekday a snapshot falls on
    Column cohort = floor(rnd.uniform("email-cohort", id).multiply(14)).cast("int");
    Column sentDay = date_sub(asOf, w.multiply(14).plus(cohort).cast("int"));
    Column sent = unix_date(sentDay).cast("long").multiply(86400).plus(10 * 3600);
    Column lapsed = col("churn_date").isNotNull().and(col("churn_date").lt(sentDay));
    Column opens = rnd.uniform("open", id, w)
        .lt(col("open_prob").multiply(when(lapsed, 0.3).otherwise(1.0)));
    Column openDelay = floor(rnd.uniform("open-delay", id, w).multiply(48 * 3600)).cast("int");
    Column clicks = opens.and(rnd.uniform("click", id, w).lt(col("click_prob")));
    Column opened = sent.plus(openDelay);
    return latent
        .withColumn("w", explode(sequence(lit(0), lit(eventMonths * 30 / 14))))
        .where(sentDay.geq(col("signup_date")))
        .select(
            concat_ws("-", lit("E"), col("n"), w).as("email_id"),
            col("customer_id"),
            concat_ws("-", lit("campaign"), w).as("campaign_id"),
            timestamp_seconds(sent).as("sent_at"),
            when(opens, timestamp_seconds(opened)).as("opened_at"),
            when(clicks, timestamp_seconds(opened.plus(300))).as("clicked_at"));
  }

  /** Follows of the brand on three platforms, more likely for engaged customers. */
  Dataset<Row> socialFollows(Dataset<Row> latent) {
    Column id = col("n");
    Column p = col("platform_no");
    Column likely = sigmoid(col("z_eng").multiply(1.2).minus(1.0))
        .multiply(when(p.equalTo(0), 0.6).when(p.equalTo(1), 0.45).otherwise(0.3));
    Column days = datediff(asOf, col("signup_date"));
    Column followed = unix_date(col("signup_date")).cast("long").multiply(86400).plus(floor(
        rnd.uniform("follow-time", id, p).multiply(days).multiply(86400)));
    Column leaves = rnd.uniform("unfollow", id, p)
        .lt(when(col("churn_date").isNotNull(), 0.4).otherwise(0.12));
    Column unfollowed = col("followed").plus(floor(rnd.uniform("unfollow-time", id, p)
        .multiply(unix_date(asOf).cast("long").multiply(86400).minus(col("followed")))));
    return latent
        .withColumn("platform_no", explode(sequence(lit(0), lit(2))))
        .where(rnd.uniform("follow", id, p).lt(likely))
        .withColumn("followed", followed)
        .select(
            col("customer_id"),
            pick(p.cast("double").divide(3), new String[] {"instagram", "facebook", "tiktok"},
                new double[] {0.3, 0.6}).as("platform"),
            timestamp_seconds(col("followed")).as("followed_at"),
            when(leaves, timestamp_seconds(unfollowed)).as("unfollowed_at"));
  }

  /** Support contacts: rare, and complaints cluster in the two months before a churn. */
  Dataset<Row> supportContacts(Dataset<Row> periods) {
    Column id = col("n");
    Column k = col("k");
    Column nearChurn = col("churn_date").isNotNull()
        .and(datediff(col("churn_date"), col("period_end")).lt(60));
    Column contacted = rnd.uniform("support", id, k)
        .lt(when(nearChurn, 0.3).otherwise(0.04));
    Column reason = rnd.uniform("support-reason", id, k);
    return periods.where(contacted)
        .select(
            concat_ws("-", lit("T"), col("n"), k).as("contact_id"),
            col("customer_id"),
            at(col("period_start"), floor(rnd.uniform("support-time", id, k)
                .multiply(DAYS_PER_PERIOD * 86400))).as("contacted_at"),
            pick(rnd.uniform("support-channel", id, k), new String[] {"phone", "chat", "email"},
                new double[] {0.4, 0.8}).as("channel"),
            when(reason.lt(when(nearChurn, 0.6).otherwise(0.15)), "complaint")
                .otherwise(pick(rnd.uniform("support-topic", id, k),
                    new String[] {"question", "delivery", "return"}, new double[] {0.5, 0.75}))
                .as("reason"));
  }

  Dataset<Row> profit(Dataset<Row> latent) {
    Column id = col("n");
    Column m = col("m");
    Column month = add_months(trunc(asOf, "month"), m.multiply(-1).cast("int"));
    return latent
        .withColumn("m", explode(sequence(lit(0), lit(eventMonths - 1))))
        .where(col("signup_date").leq(month))
        .select(col("customer_id"), month.as("month"),
            round(col("aov").multiply(col("p_month")).multiply(0.35)
                .plus(rnd.normal("profit", id, m).multiply(3.0)), 2).as("profit"));
  }

  /** The customer id an event is filed under: now and then the person's second account. */
  private Column secondAccount(String stream, Column day) {
    Column id = col("n");
    return when(col("dup_id").isNotNull().and(day.geq(col("dup_signup")))
            .and(rnd.uniform("second-account-" + stream, id, col("k"), col("j")).lt(0.3)),
        col("dup_id")).otherwise(col("customer_id")).as("customer_id");
  }

  /**
   * The instant {@code seconds} after 00:00 UTC of {@code day}: plain arithmetic on epoch
   * seconds, no per-row time-zone conversion.
   */
  private static Column at(Column day, Column seconds) {
    return timestamp_seconds(unix_date(day).cast("long").multiply(86400).plus(seconds));
  }

  /** Picks values[i] where u falls below cumulative[i]; the last value takes the rest. */
  static Column pick(Column u, String[] values, double[] cumulative) {
    Column out = lit(values[values.length - 1]);
    for (int i = cumulative.length - 1; i >= 0; i--) {
      out = when(u.lt(cumulative[i]), values[i]).otherwise(out);
    }
    return out;
  }

  static Column sigmoid(Column x) {
    return lit(1.0).divide(lit(1.0).plus(exp(x.multiply(-1))));
  }
}
