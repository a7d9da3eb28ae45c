package dev.propensity.jobs.segments;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.MonitoringFixture;
import dev.propensity.jobs.inference.ScoreJob;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The profit x propensity matrix on a real scored snapshot and the generated profit table. */
class SegmentsJobTest extends SparkTestBase {

  private static Path dir;
  private static JobConfig config;
  private static Warehouse wh;
  private static Map<String, Double> profit;

  @BeforeAll
  static void scoreAndComputeProfitByHand() {
    dir = MonitoringFixture.freshWarehouse("segments");
    config = MonitoringFixture.base(dir);
    wh = Warehouse.of(spark(), config);
    new ScoreJob().run(spark(), config);
    // the 12 months whose first day is before the 2026-06-30 snapshot: 2025-07 .. 2026-06
    LocalDate from = LocalDate.parse("2025-07-01");
    LocalDate snapshot = LocalDate.parse(MonitoringFixture.NEWEST);
    profit = new HashMap<>();
    for (Row r : wh.read(Tables.RAW_PROFIT).collectAsList()) {
      LocalDate month = ((java.sql.Date) r.getAs("month")).toLocalDate();
      if (!month.isBefore(from) && month.isBefore(snapshot)) {
        profit.merge(r.getAs("customer_id"), ((Number) r.getAs("profit")).doubleValue(),
            Double::sum);
      }
    }
  }

  private static String expectedAction(String group, String tier) {
    if (group.equals("low") && tier.equals("high")) {
      return "retention-offer";
    } else if (group.equals("low") && tier.equals("medium")) {
      return "win-back-email";
    } else if (group.equals("high") && tier.equals("high")) {
      return "loyalty-upsell";
    } else if (group.equals("high")) {
      return "cross-sell";
    } else if (tier.equals("low")) {
      return "no-spend";
    }
    return "nurture-email";
  }

  @Test
  void everyScoredCustomerGetsAGroupATierAndTheRulesAction() {
    String summary = new SegmentsJob().run(spark(), config);

    List<Row> rows = wh.read(Tables.CUSTOMER_SEGMENTS).collectAsList();
    assertThat(rows).hasSize((int) wh.read(Tables.CUSTOMER_SCORES).count());
    Map<String, double[]> tierRange = new HashMap<>();
    Map<String, Integer> tierCount = new HashMap<>();
    for (Row r : rows) {
      String id = r.getAs("customer_id");
      assertThat((double) r.getAs("profit")).as(id)
          .isCloseTo(profit.getOrDefault(id, 0.0), within(1e-6));
      int bin = r.getAs("bin");
      String group = bin <= 3 ? "high" : bin <= 6 ? "medium" : "low";
      String tier = r.getAs("profit_tier");
      assertThat((String) r.getAs("propensity_group")).isEqualTo(group);
      assertThat((String) r.getAs("action")).isEqualTo(expectedAction(group, tier));
      assertThat((String) r.getAs("segment"))
          .isEqualTo(group + " propensity, " + tier + " profit");
      double p = r.getAs("profit");
      tierRange.merge(tier, new double[] {p, p},
          (a, b) -> new double[] {Math.min(a[0], b[0]), Math.max(a[1], b[1])});
      tierCount.merge(tier, 1, Integer::sum);
    }
    // quantile tiers: top 20%, next 30%, the rest; ordered by profit
    assertThat(tierRange.get("high")[0]).isGreaterThanOrEqualTo(tierRange.get("medium")[1]);
    assertThat(tierRange.get("medium")[0]).isGreaterThanOrEqualTo(tierRange.get("low")[1]);
    assertThat(tierCount.get("high") / (double) rows.size()).isCloseTo(0.2, within(0.02));
    assertThat(tierCount.get("medium") / (double) rows.size()).isCloseTo(0.3, within(0.02));

    List<Row> cells = wh.read(Tables.SEGMENT_SUMMARY).collectAsList();
    assertThat(cells).hasSize(9);
    long customers = 0;
    for (Row c : cells) {
      String group = c.getAs("propensity_group");
      String tier = c.getAs("profit_tier");
      List<Row> in = rows.stream().filter(r -> group.equals(r.getAs("propensity_group"))
          && tier.equals(r.getAs("profit_tier"))).toList();
      assertThat((long) c.getAs("customers")).isEqualTo(in.size());
      assertThat((double) c.getAs("total_profit")).isCloseTo(in.stream()
          .mapToDouble(r -> r.<Double>getAs("profit")).sum(), within(1e-6));
      assertThat((String) c.getAs("action")).isEqualTo(expectedAction(group, tier));
      customers += c.<Long>getAs("customers");
    }
    assertThat(customers).isEqualTo(rows.size());
    assertThat(summary).contains("retention-offer");

    // a re-run replaces the snapshot's rows
    new SegmentsJob().run(spark(), config);
    assertThat(wh.read(Tables.CUSTOMER_SEGMENTS).count()).isEqualTo(rows.size());
    assertThat(wh.read(Tables.SEGMENT_SUMMARY).count()).isEqualTo(9);
  }

  @Test
  void amountTiersAndGroupLabelsFromTheScores() {
    JobConfig byLabel = config.with("segments.propensity-groups=[]",
        "segments.profit.tier-by=amount", "segments.profit.cuts=[400, 100]",
        "segments.rules=[{propensity = \"top 0-10%\", profit = high, action = vip}]");
    new SegmentsJob().run(spark(), byLabel);
    for (Row r : wh.read(Tables.CUSTOMER_SEGMENTS).collectAsList()) {
      double p = r.getAs("profit");
      String tier = p >= 400 ? "high" : p >= 100 ? "medium" : "low";
      assertThat((String) r.getAs("profit_tier")).isEqualTo(tier);
      assertThat((String) r.getAs("propensity_group")).isEqualTo(r.getAs("group_label"));
      assertThat((String) r.getAs("action")).isEqualTo(
          r.getAs("group_label").equals("top 0-10%") && tier.equals("high") ? "vip"
              : "nurture-email");
    }
    assertThat(wh.read(Tables.SEGMENT_SUMMARY).count()).isEqualTo(10 * 3);
  }

  @Test
  void fixedProbabilityGroupsAreThePropensityGroupsUnderTheDefaultConfig() {
    Path fixedDir = MonitoringFixture.freshWarehouse("segments-fixed");
    JobConfig base = MonitoringFixture.base(fixedDir);
    Warehouse fixedWh = Warehouse.of(spark(), base);
    new ScoreJob().run(spark(), base);
    // cuts inside this small run's score range, so that every group holds customers
    double[] q = fixedWh.read(Tables.CUSTOMER_SCORES).stat()
        .approxQuantile("propensity", new double[] {0.8, 0.4}, 0);
    JobConfig fixed = base.with("bins.method=fixed",
        "bins.fixed.cuts=[" + q[0] + ", " + q[1] + "]", "bins.fixed.labels=[High, Medium, Low]");
    new dev.propensity.jobs.bins.BinsJob().run(spark(), fixed);
    new ScoreJob().run(spark(), fixed);
    new SegmentsJob().run(spark(), fixed); // the default propensity-groups and rules

    Map<String, Long> byGroup = new HashMap<>();
    for (Row r : fixedWh.read(Tables.CUSTOMER_SEGMENTS).collectAsList()) {
      String group = r.getAs("propensity_group");
      assertThat(group).isEqualTo(r.getAs("group_label"));
      byGroup.merge(group, 1L, Long::sum);
      // the default rules name high / medium / low: they match High / Medium / Low
      assertThat((String) r.getAs("action"))
          .isEqualTo(expectedAction(group.toLowerCase(), r.getAs("profit_tier")));
    }
    assertThat(byGroup).containsOnlyKeys("High", "Medium", "Low");
    assertThat(fixedWh.read(Tables.SEGMENT_SUMMARY).count()).isEqualTo(3 * 3);
  }

  @Test
  void badRulesAreRejectedWithTheKeyAndTheKnownNames() {
    assertThatThrownBy(() -> new SegmentsJob().run(spark(), config.with(
        "segments.rules=[{propensity = lowest, profit = high, action = x}]")))
        .hasMessageContaining("Unknown propensity 'lowest'; known: high, medium, low"
            + " (config key 'propensity.segments.rules.propensity')");
    assertThatThrownBy(() -> new SegmentsJob().run(spark(), config.with(
        "segments.profit.cuts=[0.5]")))
        .hasMessageContaining("Invalid config 'propensity.segments.profit.cuts' = '[0.5]':"
            + " expected 2 cut(s)");
    assertThatThrownBy(() -> new SegmentsJob().run(spark(), config.with(
        "segments.propensity-groups=[{name = high, bins = [1, 2]}]",
        "segments.rules=[]")))
        .hasMessageContaining("bin(s) [3, 4, 5, 6, 7, 8, 9, 10] of snapshot "
            + MonitoringFixture.NEWEST + " are in none");
    assertThatThrownBy(() -> new SegmentsJob().run(spark(), config.with(
        "segments.propensity-groups=[]",
        "segments.rules=[{propensity = vip, profit = \"*\", action = x}]")))
        .hasMessageContaining("Unknown propensity 'vip'; known: top 0-10%, top 10-20%");
  }
}
