package dev.propensity.common.schema;

import java.util.Locale;

/**
 * A group of features the features job computes together, switched on or off as one with
 * {@code propensity.features.families.<name>} (the {@link #configName()}).
 */
public enum FeatureFamily {
  /** The customer table's own attributes: age, tenure, region, channel, segment, gender. */
  PROFILE,
  /** Recency, frequency and monetary value over 30/90/365 days, quintile scores, profit. */
  RFM,
  /** Email, web, app and social engagement and an overall engagement score. */
  ENGAGEMENT,
  /** Lifecycle stage, velocity, value tier, cart, promo, returns, categories, support. */
  BEHAVIOUR,
  /** The last 30 days against the previous months: growth ratios and changes. */
  TRENDS,
  /** Products of features from different families. */
  INTERACTIONS,
  /** Age groups, tenure and recency bands. */
  BINS;

  /** @return the name used in config, e.g. {@code rfm} */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** @return the config key that switches this family, e.g. {@code propensity.features.families.rfm} */
  public String configKey() {
    return "propensity.features.families." + configName();
  }
}
