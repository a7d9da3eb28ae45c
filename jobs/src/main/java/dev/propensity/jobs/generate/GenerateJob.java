package dev.propensity.jobs.generate;

import static dev.propensity.jobs.generate.EventTables.pick;
import static dev.propensity.jobs.generate.EventTables.sigmoid;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.date_add;
import static org.apache.spark.sql.functions.date_sub;
import static org.apache.spark.sql.functions.exp;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.format_string;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.round;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.upper;
import static org.apache.spark.sql.functions.when;

import dev.propensity.common.config.JobConfig;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.Job;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Synthetic raw customer tables: customers, orders and their lines, web and app sessions, email
 * sends, social follows, support contacts and monthly profit. Deterministic by seed.
 *
 * <p>Each customer has hidden traits (purchase rate, engagement, a churn date for some) that
 * drive all their events, so recency, frequency and engagement predict who orders in the month
 * after a snapshot (about 5% do), with noise on top. The tables carry the dirt of real exports:
 * about 0.5% of people have a second account (same email up to case and spaces, a later signup,
 * some of the orders and sessions); category spellings vary; ages, regions, genders, emails,
 * revenues and session durations are sometimes missing, and a few ages are impossible.
 */
public final class GenerateJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(GenerateJob.class);
  static final int DAYS_PER_PERIOD = 30;
  /** Ids of second accounts: the person's number plus this offset. */
  static final long DUPLICATE_ID_OFFSET = 90_000_000L;

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
    String anchor = historyEnd(config, asOf);
    Warehouse warehouse = Warehouse.of(spark, config);
    // the history is generated up to its anchor and cut at as-of: the same past for any as-of
    AsOfCut cut = anchor.equals(asOf) ? AsOfCut.NONE : new AsOfCut(asOf);
    // events of the last generate.event-months before as-of, counted back from the anchor
    int extra = (int) Math.ceil(java.time.temporal.ChronoUnit.DAYS.between(
        java.time.LocalDate.parse(asOf), java.time.LocalDate.parse(anchor))
        / (double) DAYS_PER_PERIOD);
    int eventMonths = config.integer("propensity.generate.event-months");
    if (eventMonths < 1) {
      throw dev.propensity.common.Errors.invalidConfig("propensity.generate.event-months",
          eventMonths, "at least 1 (12 gives the features' 365-day windows a full year)");
    }
    int recentMonths = Math.min(months, eventMonths + extra);
    EventTables events = new EventTables(rnd, to_date(lit(anchor)), drift(config),
        eventMonths + extra);

    Dataset<Row> latent = latentCustomers(spark, customers, months, rnd,
        to_date(lit(anchor))).persist(StorageLevel.MEMORY_AND_DISK());
    warehouse.overwrite(cut.onDay(customerRows(latent, rnd), "signup_date"),
        Tables.RAW_CUSTOMERS);

    Dataset<Row> periods = events.activePeriods(latent, months);
    Dataset<Row> orders = cut.onDay(events.orders(periods), "order_date")
        .persist(StorageLevel.MEMORY_AND_DISK());
    warehouse.overwrite(orders.select(EventTables.ORDER_COLUMNS), Tables.RAW_ORDERS);
    warehouse.overwrite(events.orderLines(orders), Tables.RAW_ORDER_LINES);
    orders.unpersist();
    Dataset<Row> recent = periods.where(col("k").lt(recentMonths));
    warehouse.overwrite(cut.onInstant(events.webSessions(recent), "session_start"),
        Tables.RAW_WEB_SESSIONS);
    warehouse.overwrite(cut.onInstant(events.emails(latent), "sent_at", "opened_at",
        "clicked_at"), Tables.RAW_EMAIL_EVENTS);
    warehouse.overwrite(cut.onInstant(events.socialFollows(latent), "followed_at",
        "unfollowed_at"), Tables.RAW_SOCIAL_FOLLOWS);
    warehouse.overwrite(cut.onInstant(events.supportContacts(recent), "contacted_at"),
        Tables.RAW_SUPPORT_CONTACTS);
    warehouse.overwrite(cut.onDay(events.profit(latent), "month"), Tables.RAW_PROFIT);
    latent.unpersist();

    List<String> tables = List.of(Tables.RAW_CUSTOMERS, Tables.RAW_ORDERS,
        Tables.RAW_ORDER_LINES, Tables.RAW_WEB_SESSIONS, Tables.RAW_EMAIL_EVENTS,
        Tables.RAW_SOCIAL_FOLLOWS, Tables.RAW_SUPPORT_CONTACTS, Tables.RAW_PROFIT);
    String summary = String.format("generate: %d customers, events up to %s, tables %s under %s",
        customers, asOf, String.join(", ", tables), warehouse.root());
    LOG.info(summary);
    return summary;
  }

  /** @return generate.history-end, or as-of when it is empty; never before as-of */
  static String historyEnd(JobConfig config, String asOf) {
    String end = config.string("propensity.generate.history-end").trim();
    if (end.isEmpty()) {
      return asOf;
    }
    if (java.time.LocalDate.parse(end).isBefore(java.time.LocalDate.parse(asOf))) {
      throw dev.propensity.common.Errors.invalidConfig("propensity.generate.history-end", end,
          "empty, or a day on or after propensity.generate.as-of (" + asOf + ")");
    }
    return end;
  }

  static EventTables.Drift drift(JobConfig config) {
    String date = config.string("propensity.generate.drift.date").trim();
    double factor = config.number("propensity.generate.drift.session-rate-factor");
    if (factor < 1) {
      throw dev.propensity.common.Errors.invalidConfig(
          "propensity.generate.drift.session-rate-factor", factor,
          "1 (no change) or more: sessions are added from the drift date on");
    }
    return date.isEmpty() ? EventTables.Drift.NONE
        : new EventTables.Drift(java.time.LocalDate.parse(date).toString(), factor,
            config.bool("propensity.generate.drift.concept"));
  }

  /**
   * Cuts generated rows at as-of: rows whose first time column is after it go, later times in
   * the other columns (an email opened after as-of) become null. {@link #NONE} when the history
   * ends at as-of.
   */
  record AsOfCut(String asOf) {
    static final AsOfCut NONE = new AsOfCut(null);

    Dataset<Row> onDay(Dataset<Row> df, String dayColumn) {
      return asOf == null ? df : df.where(col(dayColumn).leq(to_date(lit(asOf))));
    }

    Dataset<Row> onInstant(Dataset<Row> df, String column, String... nullAfter) {
      if (asOf == null) {
        return df;
      }
      Column limit = org.apache.spark.sql.functions.date_add(to_date(lit(asOf)), 1)
          .cast("timestamp");
      Dataset<Row> out = df.where(col(column).lt(limit));
      for (String c : nullAfter) {
        out = out.withColumn(c, when(col(c).lt(limit), col(c)));
      }
      return out;
    }
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
            .plus(when(col("segment").equalTo("premium"), 0.6).otherwise(0.0))))
        // a second account: same person, later signup, some orders and sessions under it
        .withColumn("dup_id", when(rnd.uniform("duplicate", id).lt(0.005),
            format_string("C%08d", id.plus(DUPLICATE_ID_OFFSET))))
        .withColumn("dup_signup", least(asOf, date_add(col("signup_date"),
            floor(rnd.uniform("duplicate-signup", id).multiply(300)).plus(10).cast("int"))));
  }

  /** The customer rows as an export shows them: missing values, bad ages, second accounts. */
  private static Dataset<Row> customerRows(Dataset<Row> latent, Random rnd) {
    Column id = col("n");
    Column email = format_string("user%08d@mail.example", id);
    Column ageDirt = rnd.uniform("age-missing", id);
    Dataset<Row> primary = latent.select(
        col("customer_id"),
        when(rnd.uniform("email-missing", id).lt(0.02), lit(null).cast("string"))
            .otherwise(email).as("email"),
        when(ageDirt.lt(0.02), lit(null).cast("int"))
            .when(ageDirt.lt(0.025), lit(0)).otherwise(col("age")).as("age"),
        when(rnd.uniform("gender-missing", id).lt(0.015), lit(null).cast("string"))
            .otherwise(col("gender")).as("gender"),
        pick(rnd.uniform("region-missing", id), new String[] {null, "", "REGION"},
            new double[] {0.01, 0.015}).as("region_dirt"),
        col("region"), col("channel"), col("segment"), col("signup_date"));
    Dataset<Row> cleanish = primary
        .withColumn("region", when(col("region_dirt").equalTo("REGION"), col("region"))
            .otherwise(col("region_dirt")))
        .drop("region_dirt");
    // the second account: the same email shouted or padded, the same person, signed up later
    Dataset<Row> duplicates = latent.where(col("dup_id").isNotNull()).select(
        col("dup_id").as("customer_id"),
        when(rnd.uniform("duplicate-email", id).lt(0.5), upper(email))
            .otherwise(concat(lit(" "), email, lit(" "))).as("email"),
        col("age"), col("gender"), lit(null).cast("string").as("region"), col("channel"),
        col("segment"), col("dup_signup").as("signup_date"));
    return cleanish.unionByName(duplicates);
  }
}
