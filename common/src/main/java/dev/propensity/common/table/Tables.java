package dev.propensity.common.table;

import java.util.List;
import java.util.Map;

/** The names of the tables the jobs read and write under the warehouse root. */
public final class Tables {

  public static final String RAW_CUSTOMERS = "raw_customers";
  public static final String RAW_ORDERS = "raw_orders";
  public static final String RAW_ORDER_LINES = "raw_order_lines";
  public static final String RAW_WEB_SESSIONS = "raw_web_sessions";
  public static final String RAW_EMAIL_EVENTS = "raw_email_events";
  public static final String RAW_SOCIAL_FOLLOWS = "raw_social_follows";
  public static final String RAW_SUPPORT_CONTACTS = "raw_support_contacts";
  public static final String RAW_PROFIT = "raw_profit";
  public static final String FEATURES = "features";
  public static final String LEADERBOARD = "leaderboard";
  public static final String BIN_STATS = "bin_stats";
  public static final String CUSTOMER_SCORES = "customer_scores";
  public static final String CUSTOMER_PROPENSITY = "customer_propensity";
  public static final String CUSTOMER_SEGMENTS = "customer_segments";
  public static final String SEGMENT_SUMMARY = "segment_summary";
  public static final String DRIFT_REPORT = "drift_report";
  /** Written by performance tracking once a scored snapshot has labels (not by every pipeline). */
  public static final String MODEL_PERFORMANCE = "model_performance";

  /** Every table, in the order the pipeline writes them. */
  public static final List<String> ALL = List.of(RAW_CUSTOMERS, RAW_ORDERS, RAW_ORDER_LINES,
      RAW_WEB_SESSIONS, RAW_EMAIL_EVENTS, RAW_SOCIAL_FOLLOWS, RAW_SUPPORT_CONTACTS, RAW_PROFIT,
      FEATURES, LEADERBOARD, BIN_STATS, CUSTOMER_SCORES, CUSTOMER_PROPENSITY, CUSTOMER_SEGMENTS,
      SEGMENT_SUMMARY, DRIFT_REPORT);

  /**
   * The tables other systems read. Their schema changes only when
   * {@code propensity.write.schema-change-tables} names them: every other write that would add or
   * retype a column fails (no blanket schema evolution). The maintain job optimizes them.
   */
  public static final List<String> PUBLISHED = List.of(CUSTOMER_SCORES, CUSTOMER_PROPENSITY,
      CUSTOMER_SEGMENTS, SEGMENT_SUMMARY);

  /** The columns the scored tables keep data-skipping statistics on (see {@link #PROPERTIES}). */
  private static final String SCORED_STATS_COLUMNS = "customer_id,propensity,bin";

  /**
   * Delta table properties {@link Warehouse#overwritePartition} and {@link Warehouse#merge}
   * create a table with (and set on an older table without them). The scored tables keep data-skipping statistics on the columns lookups and
   * queries filter on only: Delta's default is every leaf of the first 32 columns, and per-row
   * min/max of {@code group_label}, {@code run_id} and the like cost write time for no skipping.
   */
  public static final Map<String, Map<String, String>> PROPERTIES = Map.of(
      CUSTOMER_SCORES, Map.of("delta.dataSkippingStatsColumns", SCORED_STATS_COLUMNS),
      CUSTOMER_PROPENSITY, Map.of("delta.dataSkippingStatsColumns", SCORED_STATS_COLUMNS,
          "delta.enableChangeDataFeed", "true"));

  /**
   * Tables with Delta's change data feed on, which consumers sync by version (README "Tables":
   * {@code table_changes}). A MERGE into one of them updates a matched row only when a value
   * other than its keys and {@link #CHANGE_IGNORED} columns differs, so the feed holds exactly
   * the customers whose values changed.
   */
  public static final java.util.Set<String> CHANGE_FEED = java.util.Set.of(CUSTOMER_PROPENSITY);

  /** Columns that alone do not make a row of a {@link #CHANGE_FEED} table changed. */
  public static final Map<String, java.util.Set<String>> CHANGE_IGNORED = Map.of(
      CUSTOMER_PROPENSITY, java.util.Set.of("scored_at"));

  /** @return the properties {@link #PROPERTIES} gives a table, or none */
  public static Map<String, String> properties(String table) {
    return PROPERTIES.getOrDefault(table, Map.of());
  }

  private Tables() {}
}
