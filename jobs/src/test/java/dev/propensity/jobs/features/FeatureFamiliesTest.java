package dev.propensity.jobs.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.schema.FeatureCatalog;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each feature family on the hand-made data set of {@link HandMade}, against values worked out
 * by hand (the comments show the arithmetic), plus the label window's edges and the cleaning
 * counts of the job's summary.
 */
class FeatureFamiliesTest extends SparkTestBase {

  private static final double EPS = 1e-9;
  private static Map<String, Row> features;
  private static String summary;
  private static Warehouse warehouse;
  private static JobConfig config;

  @BeforeAll
  static void run() {
    Path wh = tempWarehouse("families");
    warehouse = HandMade.warehouse(wh);
    HandMade.data().write(spark(), warehouse);
    config = HandMade.config(wh);
    summary = new FeaturesJob().run(spark(), config);
    features = HandMade.read(warehouse);
  }

  private static Row row(String customer) {
    return row("2026-05-01", customer);
  }

  private static Row row(String snapshot, String customer) {
    Row r = features.get(snapshot + "/" + customer);
    assertThat(r).as(snapshot + "/" + customer).isNotNull();
    return r;
  }

  private static double num(String customer, String feature) {
    Object v = row(customer).getAs(feature);
    assertThat(v).as(customer + "." + feature).isNotNull();
    return ((Number) v).doubleValue();
  }

  private static Object value(String customer, String feature) {
    return row(customer).getAs(feature);
  }

  @Test
  void writesEveryCatalogueFeatureInOrderAndTheSchemaMatches() {
    List<String> expected = new ArrayList<>(List.of("customer_id", "snapshot_date"));
    FeatureCatalog.ALL.forEach(f -> expected.add(f.name()));
    expected.add("label");
    assertThat(warehouse.read(Tables.FEATURES).columns()).containsExactlyElementsOf(expected);
    assertThat(FeatureCatalog.ALL).hasSizeGreaterThanOrEqualTo(50);
    // the schema the model jobs use is the catalogue's, and the table passes its type checks
    FeatureSchema schema = FeatureSchema.fromConfig(config);
    assertThat(schema.features()).containsExactlyInAnyOrderElementsOf(
        FeatureCatalog.ALL.stream().map(f -> f.name()).toList());
    assertThat(schema.validate(warehouse.read(Tables.FEATURES)
        .where("snapshot_date = '2026-05-01'"), FeatureSchema.Mode.TRAINING)).isEqualTo(7);
  }

  @Test
  void oneRowPerCustomerWhoSignedUpBeforeTheSnapshotAfterMergingDuplicates() {
    assertThat(HandMade.rows(warehouse, "2026-05-01")).isEqualTo(7);
    assertThat(features.keySet()).filteredOn(k -> k.startsWith("2026-05-01/"))
        .containsExactlyInAnyOrder("2026-05-01/A", "2026-05-01/B", "2026-05-01/C",
            "2026-05-01/D", "2026-05-01/F", "2026-05-01/I", "2026-05-01/J");
  }

  @Test
  void profileFamily() {
    assertThat(num("A", "age")).isEqualTo(40);
    // 2025-01-01 -> 2026-05-01: 365 + 31 + 28 + 31 + 30
    assertThat(num("A", "tenure_days")).isEqualTo(485);
    assertThat(value("A", "region")).isEqualTo("North");
    assertThat(value("A", "channel")).isEqualTo("web");
    assertThat(value("A", "segment")).isEqualTo("consumer");
    // F: age 150 is impossible, region blank, gender missing
    assertThat(value("F", "age")).isNull();
    assertThat(value("F", "region")).isEqualTo("unknown");
    assertThat(value("F", "gender")).isEqualTo("unknown");
    assertThat(value("D", "age")).isNull();
  }

  @Test
  void rfmFamily() {
    // A's orders before the snapshot: S-1 100, S-30 50 (E's), S-31 missing, S-365 200, S-366 1000
    assertThat(num("A", "recency_days")).isEqualTo(1);
    assertThat(num("A", "frequency_30d")).isEqualTo(2);
    assertThat(num("A", "frequency_90d")).isEqualTo(3);
    assertThat(num("A", "frequency_365d")).isEqualTo(4);
    assertThat(num("A", "frequency_lifetime")).isEqualTo(5);
    assertThat(num("A", "monetary_30d")).isEqualTo(150);
    assertThat(num("A", "monetary_90d")).isEqualTo(150);
    assertThat(num("A", "monetary_365d")).isEqualTo(350);
    assertThat(num("A", "monetary_lifetime")).isEqualTo(1350);
    // 350 over the 3 orders with a known revenue
    assertThat(num("A", "avg_order_value")).isCloseTo(350.0 / 3, within(EPS));
    assertThat(num("A", "days_since_first_order")).isEqualTo(366);
    // never ordered: recency is the tenure (2024-01-01 -> 2026-05-01 = 366 + 365 + 120)
    assertThat(num("C", "recency_days")).isEqualTo(851);
    assertThat(num("C", "frequency_365d")).isZero();
    assertThat(value("C", "avg_order_value")).isNull();
    assertThat(value("C", "days_since_first_order")).isNull();
    // profit: complete months before May: Feb-Apr 60, Nov-Jan 15, May 2025-Apr 2026 175
    assertThat(num("A", "profit_3m")).isEqualTo(60);
    assertThat(num("A", "profit_12m")).isEqualTo(175);
    assertThat(value("C", "profit_3m")).isNull();
  }

  @Test
  void rfmQuintileScoresAmongBuyers() {
    // buyers A, B, F, I, J: recency 1, 10, 181, 89, 120; frequency_365d 4, 2, 1, 3, 2;
    // monetary_365d 350, 50, 5, 900, 85. Cut points: the 20/40/60/80% values.
    Map<String, int[]> expected = Map.of(
        "A", new int[] {5, 5, 4},
        "B", new int[] {4, 2, 2},
        "F", new int[] {1, 1, 1},
        "I", new int[] {3, 4, 5},
        "J", new int[] {2, 2, 3},
        "C", new int[] {0, 0, 0},
        "D", new int[] {0, 0, 0});
    expected.forEach((c, rfm) -> {
      assertThat(num(c, "r_score")).as(c + " r").isEqualTo(rfm[0]);
      assertThat(num(c, "f_score")).as(c + " f").isEqualTo(rfm[1]);
      assertThat(num(c, "m_score")).as(c + " m").isEqualTo(rfm[2]);
      assertThat(num(c, "rfm_score")).as(c + " rfm").isEqualTo(rfm[0] + rfm[1] + rfm[2]);
    });
  }

  @Test
  void engagementFamily() {
    // A's sessions in 90 days: S-1s web 600s 4p, S-16 app 300s 2p, S-11 web (E's) 200s 5p,
    // S-61 web (no duration) 6p
    assertThat(num("A", "web_sessions_30d")).isEqualTo(2);
    assertThat(num("A", "web_sessions_90d")).isEqualTo(3);
    assertThat(num("A", "app_sessions_90d")).isEqualTo(1);
    assertThat(num("A", "session_minutes_90d")).isCloseTo(1100.0 / 60, within(EPS));
    assertThat(num("A", "avg_session_seconds_90d")).isCloseTo(1100.0 / 3, within(EPS));
    assertThat(num("A", "pages_per_session_90d")).isCloseTo(17.0 / 4, within(EPS));
    assertThat(num("A", "days_since_last_session")).isEqualTo(1);
    // emails sent in 90 days: 4; opened before the snapshot: 3 (one opened at 00:00); clicked 1
    assertThat(num("A", "emails_sent_90d")).isEqualTo(4);
    assertThat(num("A", "email_open_rate_90d")).isCloseTo(0.75, within(EPS));
    assertThat(num("A", "email_click_rate_90d")).isCloseTo(0.25, within(EPS));
    assertThat(num("A", "email_click_to_open_90d")).isCloseTo(1.0 / 3, within(EPS));
    assertThat(num("A", "days_since_last_email_open")).isEqualTo(6);
    // instagram followed; facebook unfollowed before the snapshot
    assertThat(num("A", "social_follower")).isEqualTo(1);
    assertThat(num("A", "social_platforms")).isEqualTo(1);
    // 100 * (0.3 * 4/12 + 0.3 * 0.75 + 0.2 * min(1, 2 * 0.25) + 0.1 * 1/6 + 0.1 * 1)
    assertThat(num("A", "engagement_score")).isCloseTo(
        100 * (0.3 * 4 / 12 + 0.3 * 0.75 + 0.2 * 0.5 + 0.1 / 6 + 0.1), within(EPS));
    assertThat(num("C", "engagement_score")).isZero();
    assertThat(value("C", "email_open_rate_90d")).isNull();
    assertThat(num("C", "days_since_last_session")).isEqualTo(365);
  }

  @Test
  void behaviourFamily() {
    assertThat(value("A", "lifecycle_stage")).isEqualTo("loyal");
    assertThat(value("B", "lifecycle_stage")).isEqualTo("growing");
    assertThat(value("C", "lifecycle_stage")).isEqualTo("lapsing");
    assertThat(value("D", "lifecycle_stage")).isEqualTo("new");
    assertThat(value("F", "lifecycle_stage")).isEqualTo("lapsing");
    assertThat(value("J", "lifecycle_stage")).isEqualTo("mature");
    assertThat(num("A", "purchase_velocity")).isCloseTo(5 * 30.0 / 485, within(EPS));
    // first 2025-04-30, last 2026-04-30: 365 days over 4 gaps
    assertThat(num("A", "avg_days_between_orders")).isCloseTo(91.25, within(EPS));
    assertThat(value("B", "avg_days_between_orders")).isNotNull();
    assertThat(value("F", "avg_days_between_orders")).isNull();
    assertThat(value("A", "value_tier")).isEqualTo("high");
    assertThat(value("B", "value_tier")).isEqualTo("low");
    assertThat(value("J", "value_tier")).isEqualTo("low");
    assertThat(value("C", "value_tier")).isEqualTo("none");
    assertThat(num("A", "browse_to_purchase_ratio_90d")).isCloseTo(4.0 / 3, within(EPS));
    assertThat(num("A", "cart_adds_90d")).isEqualTo(6);
    // cart sessions 3, of which one ended in an order
    assertThat(num("A", "cart_abandonment_rate_90d")).isCloseTo(2.0 / 3, within(EPS));
    assertThat(num("A", "promo_share_365d")).isCloseTo(0.25, within(EPS));
    assertThat(num("A", "discount_share_365d")).isCloseTo(10.0 / 360, within(EPS));
    assertThat(num("A", "return_rate_365d")).isCloseTo(0.25, within(EPS));
    // lines of the 4 orders in 365 days: 1 + 2 + 1 + 3 items; electronics, home, home, beauty
    assertThat(num("A", "items_per_order_365d")).isCloseTo(7.0 / 4, within(EPS));
    assertThat(num("A", "category_breadth_365d")).isEqualTo(3);
    assertThat(value("A", "favourite_category_365d")).isEqualTo("home");
    assertThat(value("C", "favourite_category_365d")).isEqualTo("none");
    assertThat(num("A", "support_contacts_90d")).isEqualTo(1);
    assertThat(num("A", "complaints_365d")).isEqualTo(2);
  }

  @Test
  void trendsFamily() {
    // last 30 days: 2 orders, 150 revenue; the 90 days before: 1 order, no known revenue
    assertThat(num("A", "revenue_growth_30d")).isCloseTo(151, within(EPS));
    assertThat(num("A", "orders_growth_30d")).isCloseTo(3 / (1 / 3.0 + 1), within(EPS));
    assertThat(num("A", "time_on_site_minutes_30d")).isCloseTo(1100.0 / 60, within(EPS));
    // previous 90 days: 1200 s (the other session has no duration)
    assertThat(num("A", "time_on_site_growth_30d"))
        .isCloseTo((1100.0 / 60 + 1) / (20.0 / 3 + 1), within(EPS));
    assertThat(num("A", "sessions_growth_30d")).isCloseTo(4 / (2 / 3.0 + 1), within(EPS));
    // open rate 1/2 in the last 30 days, 2/2 in the 60 days before
    assertThat(num("A", "email_open_rate_trend_30d")).isCloseTo(-0.5, within(EPS));
    assertThat(value("C", "email_open_rate_trend_30d")).isNull();
    assertThat(num("A", "profit_change_3m")).isEqualTo(45);
    assertThat(num("C", "revenue_growth_30d")).isEqualTo(1);
  }

  @Test
  void interactionsFamily() {
    double engagement = 100 * (0.3 * 4 / 12 + 0.3 * 0.75 + 0.2 * 0.5 + 0.1 / 6 + 0.1);
    assertThat(num("A", "engagement_x_recency")).isCloseTo(engagement / (1 + 1 / 30.0),
        within(EPS));
    assertThat(num("A", "value_x_frequency")).isCloseTo(Math.log(351) * 4, within(EPS));
    assertThat(num("A", "email_x_web")).isCloseTo(0.75 * 4, within(EPS));
    assertThat(num("A", "recency_x_frequency")).isCloseTo(4 / (1 + 1 / 30.0), within(EPS));
    assertThat(num("C", "value_x_frequency")).isZero();
  }

  @Test
  void binsFamily() {
    assertThat(value("A", "age_group")).isEqualTo("35-44");
    assertThat(value("I", "age_group")).isEqualTo("16-24");
    assertThat(value("C", "age_group")).isEqualTo("65+");
    assertThat(value("F", "age_group")).isEqualTo("unknown");
    assertThat(value("A", "tenure_band")).isEqualTo("1-2y");
    assertThat(value("C", "tenure_band")).isEqualTo("2y+");
    assertThat(value("D", "tenure_band")).isEqualTo("0-3m");
    assertThat(value("A", "recency_band")).isEqualTo("0-30d");
    assertThat(value("I", "recency_band")).isEqualTo("31-90d");
    assertThat(value("J", "recency_band")).isEqualTo("91-180d");
    assertThat(value("F", "recency_band")).isEqualTo("181-365d");
    assertThat(value("C", "recency_band")).isEqualTo("never");
  }

  @Test
  void labelWindowEdges() {
    // window [2026-05-01, 2026-05-31): A orders on the snapshot day, B on day 29, I on day 30
    assertThat(value("A", "label")).isEqualTo(1);
    assertThat(value("B", "label")).isEqualTo(1);
    assertThat(value("I", "label")).isEqualTo(0);
    assertThat(value("C", "label")).isEqualTo(0);
    // the order on the snapshot day is not a feature of that snapshot, but of the next one
    assertThat(num("A", "frequency_lifetime")).isEqualTo(5);
    assertThat(((Number) row("2026-05-02", "A").getAs("frequency_lifetime")).intValue())
        .isEqualTo(6);
    assertThat((Object) row("2026-05-02", "A").getAs("label")).isEqualTo(0);
    assertThat((Object) row("2026-05-02", "I").getAs("label")).isEqualTo(1);
    // the last order is dated 2026-05-31: the 05-02 window [05-02, 06-01) is over, 05-03's not
    assertThat((Object) row("2026-05-03", "B").getAs("label")).isNull();
    assertThat(features.keySet()).filteredOn(k -> k.startsWith("2026-05-03/")).hasSize(7);
    assertThat(summary).contains("snapshot 2026-05-01: 7 customers, label rate 28.57%")
        .contains("snapshot 2026-05-03: 7 customers, label null");
  }

  @Test
  void eventsAtOrAfterTheSnapshotChangeNoFeature() {
    // orders, lines, sessions, opens, clicks, follows, support contacts and profit months at or
    // after 2026-05-01 00:00 UTC, and a customer who signs up that day
    Path wh = tempWarehouse("point-in-time");
    Warehouse later = HandMade.warehouse(wh);
    HandMade.withLaterEvents().write(spark(), later);
    new FeaturesJob().run(spark(), HandMade.config(wh, "features.snapshot-dates=[\"2026-05-01\"]"));
    Map<String, Row> after = HandMade.read(later);
    assertThat(after.keySet()).containsExactlyInAnyOrderElementsOf(features.keySet().stream()
        .filter(k -> k.startsWith("2026-05-01/")).toList());
    int compared = 0;
    for (String key : after.keySet()) {
      for (var f : FeatureCatalog.ALL) {
        assertThat((Object) after.get(key).getAs(f.name())).as(key + " " + f.name())
            .isEqualTo(features.get(key).getAs(f.name()));
        compared++;
      }
    }
    assertThat(compared).isEqualTo(7 * FeatureCatalog.ALL.size());
    // the labels do see the new orders: C ordered on 2026-05-02
    assertThat((Object) after.get("2026-05-01/C").getAs("label")).isEqualTo(1);
    assertThat(value("C", "label")).isEqualTo(0);
  }

  @Test
  void summaryCountsEveryCleaningRule() {
    assertThat(summary)
        .containsPattern("customers: duplicate accounts merged into 1 surviving customers"
            + " \\(same email\\) +1\\b")
        .containsPattern("raw_orders: rows of duplicate accounts re-keyed to the surviving"
            + " customer +1\\b")
        .containsPattern("raw_web_sessions: rows of duplicate accounts re-keyed to the"
            + " surviving customer +1\\b")
        .containsPattern("customers: ages outside \\[16, 100\\] set to null +1\\b")
        .containsPattern("customers: missing ages left null +1\\b")
        .containsPattern("customers: missing region set to 'unknown' +1\\b")
        .containsPattern("customers: missing gender set to 'unknown' +1\\b")
        .containsPattern("raw_order_lines: category spellings normalised +3\\b")
        .containsPattern("raw_orders: orders with a missing revenue .* +1\\b")
        .containsPattern("raw_web_sessions: sessions with a missing duration .* +1\\b")
        .containsPattern("raw_orders: rows with a null customer id dropped +0\\b");
  }
}
