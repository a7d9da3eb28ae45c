package dev.propensity.common.schema;

import static dev.propensity.common.schema.FeatureFamily.BEHAVIOUR;
import static dev.propensity.common.schema.FeatureFamily.BINS;
import static dev.propensity.common.schema.FeatureFamily.ENGAGEMENT;
import static dev.propensity.common.schema.FeatureFamily.INTERACTIONS;
import static dev.propensity.common.schema.FeatureFamily.PROFILE;
import static dev.propensity.common.schema.FeatureFamily.RFM;
import static dev.propensity.common.schema.FeatureFamily.TRENDS;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.schema.FeatureSpec.Kind;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Every feature the features job can write, in column order, with its family, kind and a one-line
 * description. A snapshot is the instant 00:00 UTC of its date; "N days" means the N days before
 * it. The features job writes the features of the enabled families
 * ({@code propensity.features.families.*}); the model jobs validate their input against the same
 * list unless {@code propensity.schema.numeric} / {@code categorical} name their own columns.
 */
public final class FeatureCatalog {

  /** All features, in the order the features job writes them. */
  public static final List<FeatureSpec> ALL = List.of(
      // profile
      num("age", PROFILE, "Age in years; null when missing or outside 16-100 (imputed later)"),
      num("tenure_days", PROFILE, "Days from signup_date to the snapshot"),
      cat("region", PROFILE, "Region of the customer; 'unknown' when missing"),
      cat("channel", PROFILE, "Acquisition channel; 'unknown' when missing"),
      cat("segment", PROFILE, "Customer segment; 'unknown' when missing"),
      cat("gender", PROFILE, "Gender as recorded; 'unknown' when missing"),
      // rfm
      num("recency_days", RFM, "Days since the last order; tenure_days when the customer never"
          + " ordered"),
      num("frequency_30d", RFM, "Orders in the last 30 days"),
      num("frequency_90d", RFM, "Orders in the last 90 days"),
      num("frequency_365d", RFM, "Orders in the last 365 days"),
      num("frequency_lifetime", RFM, "Orders before the snapshot, all history"),
      num("monetary_30d", RFM, "Revenue (net of discounts) of the orders of the last 30 days"),
      num("monetary_90d", RFM, "Revenue of the orders of the last 90 days"),
      num("monetary_365d", RFM, "Revenue of the orders of the last 365 days"),
      num("monetary_lifetime", RFM, "Revenue of all orders before the snapshot"),
      num("avg_order_value", RFM, "Mean revenue of the last 365 days' orders with a known"
          + " revenue; null when none"),
      num("days_since_first_order", RFM, "Days since the first order; null when none"),
      num("r_score", RFM, "Recency quintile score among customers with an order: 5 = most"
          + " recent, 0 = never ordered"),
      num("f_score", RFM, "Quintile score of frequency_365d among customers with an order: 5 ="
          + " highest, 0 = never ordered"),
      num("m_score", RFM, "Quintile score of monetary_365d among customers with an order: 5 ="
          + " highest, 0 = never ordered"),
      num("rfm_score", RFM, "r_score + f_score + m_score (3-15; 0 = never ordered)"),
      num("profit_3m", RFM, "Finance profit of the last 3 complete calendar months; null when"
          + " finance has no row"),
      num("profit_12m", RFM, "Finance profit of the last 12 complete calendar months; null when"
          + " finance has no row"),
      // engagement
      num("web_sessions_30d", ENGAGEMENT, "Web (device 'web') sessions in the last 30 days"),
      num("web_sessions_90d", ENGAGEMENT, "Web sessions in the last 90 days"),
      num("app_sessions_90d", ENGAGEMENT, "App (device 'app') sessions in the last 90 days"),
      num("session_minutes_90d", ENGAGEMENT, "Minutes on site or app in the last 90 days"),
      num("avg_session_seconds_90d", ENGAGEMENT, "Mean session duration in the last 90 days;"
          + " null when none"),
      num("pages_per_session_90d", ENGAGEMENT, "Mean pages per session in the last 90 days;"
          + " null when none"),
      num("days_since_last_session", ENGAGEMENT, "Days since the last web or app session,"
          + " capped at 365 (365 when none)"),
      num("emails_sent_90d", ENGAGEMENT, "Emails sent in the last 90 days"),
      num("email_open_rate_90d", ENGAGEMENT, "Share of the last 90 days' emails opened before"
          + " the snapshot; null when none sent"),
      num("email_click_rate_90d", ENGAGEMENT, "Share of the last 90 days' emails clicked before"
          + " the snapshot; null when none sent"),
      num("email_click_to_open_90d", ENGAGEMENT, "Clicks per opened email in the last 90 days;"
          + " null when none opened"),
      num("days_since_last_email_open", ENGAGEMENT, "Days since the last email open, capped at"
          + " 365 (365 when none)"),
      num("social_follower", ENGAGEMENT, "1 when the customer follows the brand on any social"
          + " platform at the snapshot, else 0"),
      num("social_platforms", ENGAGEMENT, "Social platforms followed at the snapshot"),
      num("engagement_score", ENGAGEMENT, "0-100: 30 sessions (12+ in 90 days = full), 30 open"
          + " rate, 20 click rate (50%+ = full), 10 app use (6+ sessions), 10 social follow"),
      // behaviour
      cat("lifecycle_stage", BEHAVIOUR, "new (tenure < 90 days), lapsing (no order for 180+"
          + " days), loyal (4+ orders in 365 days), growing (90-day order rate above the"
          + " 365-day rate), else mature"),
      num("purchase_velocity", BEHAVIOUR, "Orders per 30 days of tenure (lifetime orders x 30 /"
          + " max(tenure_days, 30))"),
      num("avg_days_between_orders", BEHAVIOUR, "Mean days between orders (first to last);"
          + " null with fewer than 2 orders"),
      cat("value_tier", BEHAVIOUR, "By monetary_365d: none (0), low (< 100), mid (< 300),"
          + " high"),
      num("browse_to_purchase_ratio_90d", BEHAVIOUR, "Web and app sessions per order in the"
          + " last 90 days (sessions / max(orders, 1))"),
      num("cart_adds_90d", BEHAVIOUR, "Items added to a cart in the last 90 days"),
      num("cart_abandonment_rate_90d", BEHAVIOUR, "Share of the last 90 days' sessions with"
          + " cart adds that did not end in an order; null when none"),
      num("promo_share_365d", BEHAVIOUR, "Share of the last 365 days' orders with a promotion;"
          + " null when none"),
      num("discount_share_365d", BEHAVIOUR, "Discounts / (revenue + discounts) in the last 365"
          + " days; null when no revenue"),
      num("return_rate_365d", BEHAVIOUR, "Share of the last 365 days' orders returned; null"
          + " when none"),
      num("items_per_order_365d", BEHAVIOUR, "Items (line quantities) per order in the last"
          + " 365 days; null when none"),
      num("category_breadth_365d", BEHAVIOUR, "Distinct (normalised) product categories bought"
          + " in the last 365 days"),
      cat("favourite_category_365d", BEHAVIOUR, "Most frequent category of the last 365 days'"
          + " order lines (ties: first by name); 'none' without lines"),
      num("support_contacts_90d", BEHAVIOUR, "Support contacts in the last 90 days"),
      num("complaints_365d", BEHAVIOUR, "Support contacts with reason 'complaint' in the last"
          + " 365 days"),
      // trends
      num("revenue_growth_30d", TRENDS, "(revenue of the last 30 days + 1) / (mean monthly"
          + " revenue of the 90 days before them + 1)"),
      num("orders_growth_30d", TRENDS, "(orders of the last 30 days + 1) / (mean monthly orders"
          + " of the 90 days before them + 1)"),
      num("time_on_site_minutes_30d", TRENDS, "Minutes on site or app in the last 30 days"),
      num("time_on_site_growth_30d", TRENDS, "(minutes of the last 30 days + 1) / (mean monthly"
          + " minutes of the 90 days before them + 1)"),
      num("sessions_growth_30d", TRENDS, "(sessions of the last 30 days + 1) / (mean monthly"
          + " sessions of the 90 days before them + 1)"),
      num("email_open_rate_trend_30d", TRENDS, "Open rate of the last 30 days' emails minus"
          + " that of the 60 days before; null when either has no email"),
      num("profit_change_3m", TRENDS, "profit_3m minus the profit of the 3 months before"
          + " them; null when either is missing"),
      // interactions
      num("engagement_x_recency", INTERACTIONS, "engagement_score / (1 + recency_days / 30)"),
      num("value_x_frequency", INTERACTIONS, "ln(1 + monetary_365d) x frequency_365d"),
      num("email_x_web", INTERACTIONS, "email_open_rate_90d (0 when none) x web and app"
          + " sessions in the last 90 days"),
      num("recency_x_frequency", INTERACTIONS, "frequency_365d / (1 + recency_days / 30)"),
      // bins
      cat("age_group", BINS, "16-24, 25-34, 35-44, 45-54, 55-64, 65+ or unknown"),
      cat("tenure_band", BINS, "0-3m (< 91 days), 3-12m (< 365), 1-2y (< 730) or 2y+"),
      cat("recency_band", BINS, "0-30d, 31-90d, 91-180d, 181-365d, 365d+ or never"));

  private FeatureCatalog() {}

  /**
   * @param config reads {@code propensity.features.families.*}
   * @return the families switched on
   */
  public static Set<FeatureFamily> enabledFamilies(JobConfig config) {
    Set<FeatureFamily> on = EnumSet.noneOf(FeatureFamily.class);
    for (FeatureFamily f : FeatureFamily.values()) {
      if (config.bool(f.configKey())) {
        on.add(f);
      }
    }
    if (on.isEmpty()) {
      throw Errors.invalidConfig("propensity.features.families", "(all false)",
          "at least one family switched on");
    }
    return on;
  }

  /** @return the features of the given families, in column order */
  public static List<FeatureSpec> of(Set<FeatureFamily> families) {
    List<FeatureSpec> out = new ArrayList<>();
    for (FeatureSpec f : ALL) {
      if (families.contains(f.family())) {
        out.add(f);
      }
    }
    return out;
  }

  /** @return the features of the families enabled in config, in column order */
  public static List<FeatureSpec> enabled(JobConfig config) {
    return of(enabledFamilies(config));
  }

  /** @return the feature of that name, if the catalogue has it */
  public static Optional<FeatureSpec> byName(String name) {
    return ALL.stream().filter(f -> f.name().equals(name)).findFirst();
  }

  private static FeatureSpec num(String name, FeatureFamily family, String description) {
    return new FeatureSpec(name, family, Kind.NUMERIC, description);
  }

  private static FeatureSpec cat(String name, FeatureFamily family, String description) {
    return new FeatureSpec(name, family, Kind.CATEGORICAL, description);
  }
}
