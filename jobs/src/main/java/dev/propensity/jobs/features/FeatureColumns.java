package dev.propensity.jobs.features;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.datediff;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log1p;
import static org.apache.spark.sql.functions.percentile_approx;
import static org.apache.spark.sql.functions.when;

import dev.propensity.common.schema.FeatureCatalog;
import dev.propensity.common.schema.FeatureSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The expression of every catalogue feature over the customers joined with the per-table
 * aggregates of {@link Aggregates} (absent aggregates read as "no events"). The descriptions in
 * {@link FeatureCatalog} say the same in words; a test keeps the two lists equal.
 */
final class FeatureColumns {

  /** Quintile cut points for the RFM scores. */
  private static final double[] QUINTILES = {0.2, 0.4, 0.6, 0.8};

  private FeatureColumns() {}

  /**
   * The RFM quintile cut points per snapshot, among customers with an order before it: one small
   * aggregate, joined back by snapshot.
   *
   * @param orders the snapshot's customers joined with {@link Aggregates#orders}
   * @return snapshot_date, r_cuts, f_cuts, m_cuts (arrays of 4)
   */
  static Dataset<Row> rfmCuts(Dataset<Row> orders) {
    Column probs = array(java.util.Arrays.stream(QUINTILES).mapToObj(p -> lit(p))
        .toArray(Column[]::new));
    Column accuracy = lit(10_000);
    return orders.where(col("last_order").isNotNull())
        .groupBy("snapshot_date")
        .agg(percentile_approx(datediff(s(), col("last_order")).cast("double"), probs, accuracy)
                .as("r_cuts"),
            percentile_approx(col("orders_365").cast("double"), probs, accuracy).as("f_cuts"),
            percentile_approx(coalesce(col("revenue_365"), lit(0.0)), probs, accuracy)
                .as("m_cuts"));
  }

  private static Column s() {
    return col("snapshot_date");
  }

  private static Column n(String aggregate) {
    return coalesce(col(aggregate).cast("double"), lit(0.0));
  }

  private static Column ratio(Column num, Column den) {
    return when(den.gt(0), num.divide(den));
  }

  /** (this month + 1) / (mean month of the previous three + 1). */
  private static Column growth(Column thisMonth, Column previous3) {
    return thisMonth.plus(1.0).divide(previous3.divide(3.0).plus(1.0));
  }

  /** Cut points strictly below {@code value}. */
  private static Column below(String cuts, Column value) {
    Column out = lit(0);
    for (int i = 0; i < QUINTILES.length; i++) {
      out = out.plus(when(col(cuts).getItem(i).lt(value), 1).otherwise(0));
    }
    return out;
  }

  /** @return every catalogue feature's expression, by name, in catalogue order */
  static Map<String, Column> all() {
    Column tenure = datediff(s(), col("signup_date")).cast("double");
    Column bought = col("last_order").isNotNull();
    Column recency = coalesce(datediff(s(), col("last_order")).cast("double"), tenure);
    Column f30 = n("orders_30");
    Column f90 = n("orders_90");
    Column f365 = n("orders_365");
    Column fLife = n("orders_life");
    Column m365 = n("revenue_365");
    Column sessions90 = n("sessions_90");
    Column openRate = ratio(n("opened_90"), n("sent_90"));
    Column clickRate = ratio(n("clicked_90"), n("sent_90"));
    Column follower = when(n("platforms").gt(0), 1.0).otherwise(0.0);
    Column engagement = lit(100.0).multiply(
        least(lit(1.0), sessions90.divide(12.0)).multiply(0.3)
            .plus(coalesce(openRate, lit(0.0)).multiply(0.3))
            .plus(least(lit(1.0), coalesce(clickRate, lit(0.0)).multiply(2.0)).multiply(0.2))
            .plus(least(lit(1.0), n("app_90").divide(6.0)).multiply(0.1))
            .plus(follower.multiply(0.1)));
    Column rScore = when(bought, lit(5).minus(below("r_cuts", recency))).otherwise(0);
    Column fScore = when(bought, lit(1).plus(below("f_cuts", f365))).otherwise(0);
    Column mScore = when(bought, lit(1).plus(below("m_cuts", m365))).otherwise(0);
    Column age = col("age");

    Map<String, Column> f = new LinkedHashMap<>();
    // profile
    f.put("age", age);
    f.put("tenure_days", tenure);
    f.put("region", col("region"));
    f.put("channel", col("channel"));
    f.put("segment", col("segment"));
    f.put("gender", col("gender"));
    // rfm
    f.put("recency_days", recency);
    f.put("frequency_30d", f30);
    f.put("frequency_90d", f90);
    f.put("frequency_365d", f365);
    f.put("frequency_lifetime", fLife);
    f.put("monetary_30d", n("revenue_30"));
    f.put("monetary_90d", n("revenue_90"));
    f.put("monetary_365d", m365);
    f.put("monetary_lifetime", n("revenue_life"));
    f.put("avg_order_value", ratio(n("revenue_365"), n("revenue_known_365")));
    f.put("days_since_first_order", datediff(s(), col("first_order")));
    f.put("r_score", rScore);
    f.put("f_score", fScore);
    f.put("m_score", mScore);
    f.put("rfm_score", rScore.plus(fScore).plus(mScore));
    f.put("profit_3m", col("profit_3m"));
    f.put("profit_12m", col("profit_12m"));
    // engagement
    f.put("web_sessions_30d", n("web_30"));
    f.put("web_sessions_90d", n("web_90"));
    f.put("app_sessions_90d", n("app_90"));
    f.put("session_minutes_90d", n("seconds_90").divide(60.0));
    f.put("avg_session_seconds_90d", ratio(n("seconds_90"), n("durations_90")));
    f.put("pages_per_session_90d", col("pages_90"));
    f.put("days_since_last_session",
        least(lit(365.0), coalesce(datediff(s(), col("last_session")).cast("double"),
            lit(365.0))));
    f.put("emails_sent_90d", n("sent_90"));
    f.put("email_open_rate_90d", openRate);
    f.put("email_click_rate_90d", clickRate);
    f.put("email_click_to_open_90d", ratio(n("clicked_90"), n("opened_90")));
    f.put("days_since_last_email_open",
        least(lit(365.0), coalesce(datediff(s(), col("last_open")).cast("double"),
            lit(365.0))));
    f.put("social_follower", follower);
    f.put("social_platforms", n("platforms"));
    f.put("engagement_score", engagement);
    // behaviour
    f.put("lifecycle_stage", when(tenure.lt(90), "new")
        .when(recency.gt(180), "lapsing")
        .when(f365.geq(4), "loyal")
        .when(f90.multiply(365).gt(f365.multiply(90)), "growing")
        .otherwise("mature"));
    f.put("purchase_velocity", fLife.multiply(30.0).divide(greatest(tenure, lit(30.0))));
    f.put("avg_days_between_orders", when(fLife.geq(2),
        datediff(col("last_order"), col("first_order")).divide(fLife.minus(1.0))));
    f.put("value_tier", when(m365.leq(0), "none").when(m365.lt(100), "low")
        .when(m365.lt(300), "mid").otherwise("high"));
    f.put("browse_to_purchase_ratio_90d", sessions90.divide(greatest(f90, lit(1.0))));
    f.put("cart_adds_90d", n("cart_adds_90"));
    f.put("cart_abandonment_rate_90d", ratio(n("abandoned_90"), n("cart_sessions_90")));
    f.put("promo_share_365d", ratio(n("promo_365"), f365));
    f.put("discount_share_365d", ratio(n("discount_365"), m365.plus(n("discount_365"))));
    f.put("return_rate_365d", ratio(n("returned_365"), f365));
    f.put("items_per_order_365d", when(col("items_365").isNotNull(),
        ratio(n("items_365"), f365)));
    f.put("category_breadth_365d", n("category_breadth"));
    f.put("favourite_category_365d", coalesce(col("favourite_category"), lit("none")));
    f.put("support_contacts_90d", n("support_90"));
    f.put("complaints_365d", n("complaints_365"));
    // trends
    f.put("revenue_growth_30d", growth(n("revenue_30"), n("revenue_prev")));
    f.put("orders_growth_30d", growth(f30, n("orders_prev")));
    f.put("time_on_site_minutes_30d", n("seconds_30").divide(60.0));
    f.put("time_on_site_growth_30d", growth(n("seconds_30").divide(60.0),
        n("seconds_prev").divide(60.0)));
    f.put("sessions_growth_30d", growth(n("sessions_30"), n("sessions_prev")));
    f.put("email_open_rate_trend_30d", when(n("sent_30").gt(0).and(n("sent_prev").gt(0)),
        n("opened_30").divide(n("sent_30")).minus(n("opened_prev").divide(n("sent_prev")))));
    f.put("profit_change_3m", col("profit_3m").minus(col("profit_prev_3m")));
    // interactions
    f.put("engagement_x_recency", engagement.divide(recency.divide(30.0).plus(1.0)));
    f.put("value_x_frequency", log1p(m365).multiply(f365));
    f.put("email_x_web", coalesce(openRate, lit(0.0)).multiply(sessions90));
    f.put("recency_x_frequency", f365.divide(recency.divide(30.0).plus(1.0)));
    // bins
    f.put("age_group", when(age.isNull(), "unknown").when(age.lt(25), "16-24")
        .when(age.lt(35), "25-34").when(age.lt(45), "35-44").when(age.lt(55), "45-54")
        .when(age.lt(65), "55-64").otherwise("65+"));
    f.put("tenure_band", when(tenure.lt(91), "0-3m").when(tenure.lt(365), "3-12m")
        .when(tenure.lt(730), "1-2y").otherwise("2y+"));
    f.put("recency_band", when(col("last_order").isNull(), "never")
        .when(recency.leq(30), "0-30d").when(recency.leq(90), "31-90d")
        .when(recency.leq(180), "91-180d").when(recency.leq(365), "181-365d")
        .otherwise("365d+"));

    Map<String, Column> typed = new LinkedHashMap<>();
    for (FeatureSpec spec : FeatureCatalog.ALL) {
      Column c = f.get(spec.name());
      if (c != null) {
        typed.put(spec.name(), c.cast(spec.sparkType()).as(spec.name()));
      }
    }
    if (typed.size() != f.size() || typed.size() != FeatureCatalog.ALL.size()) {
      throw new IllegalStateException("FeatureColumns and FeatureCatalog list different"
          + " features: " + f.keySet() + " vs " + FeatureCatalog.ALL);
    }
    return typed;
  }
}
