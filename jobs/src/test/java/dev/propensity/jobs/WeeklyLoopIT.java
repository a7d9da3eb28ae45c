package dev.propensity.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.to_date;

import dev.propensity.common.PropensityException;
import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.run.ModelRegistry;
import dev.propensity.common.run.ModelRun;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.bins.BinsJob;
import dev.propensity.jobs.generate.GenerateJob;
import dev.propensity.jobs.loop.CycleJob;
import dev.propensity.jobs.loop.PolicyJob;
import dev.propensity.jobs.loop.SimulateJob;
import dev.propensity.jobs.promotion.PromoteJob;
import dev.propensity.jobs.selection.SelectJob;
import dev.propensity.jobs.training.TrainJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The weekly loop over simulated weeks, through the real jobs: {@code simulate} runs 5 weekly
 * cycles on a few thousand generated customers (a 14-day label horizon, one fast candidate) with
 * data and concept drift from week 4: two quiet weeks after the first training, labels maturing
 * from week 3, and two weeks after the event (the fewest that show every rule, kept small for CI). One simulation is shared by the tests, which run in order:
 * the last ones add runs of their own to the same warehouse.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WeeklyLoopIT extends SparkTestBase {

  private static final LocalDate START = LocalDate.parse("2026-06-07");
  private static final int WEEKS = 5;
  private static final int DRIFT_WEEK = 4;
  private static final int HORIZON = 14;

  private static Path warehouse;
  private static JobConfig config;
  private static Warehouse wh;
  private static String summary;

  static JobConfig config(Path dir) {
    return JobConfig.defaults().with("warehouse=\"" + dir + "\"",
        "generate.customers=4000", "generate.history-months=15",
        "features.label-horizon-days=" + HORIZON,
        "train.cv.num-folds=2", "train.candidates=[logistic]",
        "train.logistic.reg-param=[0.01]", "train.logistic.elastic-net-param=[0.0]",
        "train.logistic.max-iter=25", "select.top-n=1", "select.importance-rows=0",
        "bins.count=5", "explain.top-k=0", "report.on-complete=false",
        // retraining only on drift, degradation or a missing champion, so causes are visible
        "loop.cadence-weeks=0", "performance.max-auc-drop=0.2",
        "simulate.weeks=" + WEEKS, "simulate.start=" + START, "simulate.drift-week=" + DRIFT_WEEK);
  }

  @BeforeAll
  static void simulate() {
    warehouse = tempWarehouse("weekly-loop");
    config = config(warehouse);
    wh = Warehouse.of(spark(), config);
    summary = new SimulateJob().run(spark(), config);
  }

  private static List<Row> timeline() {
    return wh.read("loop_timeline").orderBy("cycle_date").collectAsList();
  }

  private static LocalDate week(int w) {
    return START.plusWeeks(w - 1L);
  }

  @Test
  @Order(1)
  void everyWeekIsScoredByTheChampionOfThatWeek() {
    List<Row> rows = timeline();
    assertThat(rows).hasSize(WEEKS);
    for (int w = 1; w <= WEEKS; w++) {
      Row r = rows.get(w - 1);
      assertThat(r.getAs("cycle_date").toString()).isEqualTo(week(w).toString());
      List<Row> scored = wh.read(Tables.CUSTOMER_SCORES)
          .where(col("snapshot_date").equalTo(to_date(lit(week(w).toString()))))
          .groupBy("run_id").count().collectAsList();
      assertThat(scored).as("week %d scored by one run", w).hasSize(1);
      assertThat(scored.get(0).getString(0)).as("week %d scored by its champion", w)
          .isEqualTo(r.getAs("champion_run_id"));
      assertThat(scored.get(0).getLong(1)).isEqualTo((Long) r.getAs("scored_customers"))
          .isGreaterThan(2000);
    }
    // the lookup table holds the newest snapshot, scored by the champion
    String champion = new ModelRegistry(wh).championId().orElseThrow();
    List<Row> lookup = wh.read(Tables.CUSTOMER_PROPENSITY).where(col("is_stale").equalTo(false))
        .groupBy("snapshot_date", "run_id").count().collectAsList();
    assertThat(lookup).hasSize(1);
    assertThat(lookup.get(0).get(0).toString()).isEqualTo(week(WEEKS).toString());
    assertThat(lookup.get(0).getString(1)).isEqualTo(champion);
    assertThat(summary).contains("simulate: " + WEEKS + " weeks").contains("loop_timeline");
  }

  @Test
  @Order(2)
  void labelsMatureAfterTheHorizonAndEachMaturedWeekIsEvaluatedOnce() {
    List<Row> perf = wh.read(Tables.MODEL_PERFORMANCE).where(col("bin").isNull())
        .orderBy("snapshot_date").collectAsList();
    List<String> matured = new ArrayList<>();
    for (int w = 1; w <= WEEKS; w++) {
      if (!week(w).plusDays(HORIZON).isAfter(week(WEEKS))) {
        matured.add(week(w).toString());
      }
    }
    assertThat(perf.stream().map(r -> r.getAs("snapshot_date").toString()).toList())
        .as("one row per matured scored week, none for weeks whose labels are not in yet")
        .isEqualTo(matured);
    List<Row> rows = timeline();
    for (int w = 1; w <= WEEKS; w++) {
      Object m = rows.get(w - 1).getAs("matured_snapshot");
      boolean due = w > HORIZON / 7;
      assertThat(m == null ? null : m.toString()).as("week %d", w)
          .isEqualTo(due ? week(w).minusDays(HORIZON).toString() : null);
      if (due) {
        assertThat((Double) rows.get(w - 1).getAs("matured_auc_roc")).isBetween(0.5, 1.0);
      }
    }
  }

  @Test
  @Order(3)
  void driftIsDetectedAfterTheInjectedEventAndTriggersRetraining() {
    List<Row> rows = timeline();
    assertThat((String) rows.get(0).getAs("retrain_reason")).isEqualTo("no-champion");
    for (int w = 2; w < DRIFT_WEEK; w++) {
      assertThat((String) rows.get(w - 1).getAs("retrain_reason")).as("week %d", w)
          .isEqualTo("none");
      assertThat((Double) rows.get(w - 1).getAs("max_feature_psi")).as("week %d", w)
          .isLessThan(0.2);
    }
    List<Integer> driftWeeks = new ArrayList<>();
    for (int w = DRIFT_WEEK; w <= WEEKS; w++) {
      if ("drift".equals(rows.get(w - 1).getAs("retrain_reason"))) {
        driftWeeks.add(w);
        assertThat((Double) rows.get(w - 1).getAs("max_feature_psi")).isGreaterThanOrEqualTo(0.2);
        assertThat((String) rows.get(w - 1).getAs("challenger_run_id")).isNotNull();
      }
    }
    assertThat(driftWeeks).as("retraining on drift after week " + DRIFT_WEEK).isNotEmpty();
  }

  @Test
  @Order(4)
  void everyGateDecisionFollowsTheRuleAndLatestIsAlwaysTheChampion() {
    ModelRegistry registry = new ModelRegistry(wh);
    List<Row> history = registry.history();
    String champion = null;
    for (Row r : history) {
      String stage = r.getAs("stage");
      if ("champion".equals(stage)) {
        champion = r.getAs("run_id");
      }
      Double run = r.getAs("run_metric");
      Double old = r.getAs("champion_metric");
      if (run != null && old != null && !(Boolean) r.getAs("forced")) {
        assertThat((Boolean) r.getAs("promoted")).as(r.toString())
            .isEqualTo(run > old + (Double) r.getAs("margin"));
      }
    }
    assertThat(registry.open("latest").id()).isEqualTo(champion);
    // every timeline row names the champion the registry had after that cycle
    for (Row t : timeline()) {
      if ((Boolean) t.getAs("promoted")) {
        assertThat((String) t.getAs("champion_run_id"))
            .isEqualTo(t.getAs("challenger_run_id"));
      }
    }
  }

  @Test
  @Order(5)
  void thePolicyJobSaysWhyByItsExitCode() {
    assertThatThrownBy(() -> new PolicyJob().run(spark(), config.with(
        "loop.date=" + week(WEEKS), "loop.force-retrain=true")))
        .isInstanceOfSatisfying(PropensityException.class, e -> {
          assertThat(e.isSignal()).isTrue();
          assertThat(e.exitCode()).isEqualTo(6);
        })
        .hasMessageContaining("retrain: forced");
    LocalDate later = week(WEEKS).plusWeeks(9);
    assertThatThrownBy(() -> new PolicyJob().run(spark(), config.with("loop.date=" + later,
        "loop.cadence-weeks=8", "loop.retrain-on-degraded=false")))
        .isInstanceOfSatisfying(PropensityException.class,
            e -> assertThat(e.exitCode()).isEqualTo(5))
        .hasMessageContaining("retrain: cadence");
    assertThat(new PolicyJob().run(spark(), config.with("loop.date=" + later,
        "loop.retrain-on-degraded=false"))).contains("no retraining due");
  }

  @Test
  @Order(6)
  void reRunningTheNewestWeekChangesNothing() {
    List<String> tables = List.of(Tables.FEATURES, Tables.CUSTOMER_SCORES,
        Tables.CUSTOMER_PROPENSITY, Tables.MODEL_PERFORMANCE, Tables.DRIFT_REPORT,
        ModelRegistry.TABLE, "loop_timeline", Tables.BIN_STATS, Tables.LEADERBOARD);
    Map<String, List<String>> before = contents(tables);
    List<String> runs = new ModelRegistry(wh).runs().list();
    new CycleJob().run(spark(), config.with("loop.date=" + week(WEEKS)));
    assertThat(contents(tables)).isEqualTo(before);
    assertThat(new ModelRegistry(wh).runs().list()).isEqualTo(runs);
    // an older week would publish an older snapshot: refused
    assertThatThrownBy(() -> new CycleJob().run(spark(), config.with("loop.date=" + week(2))))
        .hasMessageContaining("propensity.loop.date")
        .hasMessageContaining("customer_scores already holds snapshot " + week(WEEKS));
  }

  @Test
  @Order(7)
  void aWorseChallengerIsNotPromotedAndABetterOneIs() {
    ModelRegistry registry = new ModelRegistry(wh);
    String champion = registry.championId().orElseThrow();
    // crippled: trained on two features that do not drive conversion in the generator
    JobConfig worse = config.with("train.run-id=crippled", "select.run-id=crippled",
        "bins.run-id=crippled", "promote.run-id=crippled", "schema.numeric=[age]",
        "schema.categorical=[gender]");
    new TrainJob().run(spark(), worse);
    new SelectJob().run(spark(), worse);
    new BinsJob().run(spark(), worse);
    String out = new PromoteJob().run(spark(), worse);
    assertThat(out).contains("run crippled -> challenger").contains("champion kept");
    assertThat(registry.championId()).contains(champion);

    // pinned by hand, then a sound challenger beats it through the gate
    new PromoteJob().run(spark(), worse.with("promote.force=true"));
    assertThat(registry.championId()).contains("crippled");
    JobConfig better = config.with("train.run-id=sound", "select.run-id=sound",
        "bins.run-id=sound", "promote.run-id=sound");
    new TrainJob().run(spark(), better);
    new SelectJob().run(spark(), better);
    new BinsJob().run(spark(), better);
    assertThat(new PromoteJob().run(spark(), better)).contains("run sound -> champion");
    assertThat(registry.open("latest").id()).isEqualTo("sound");
    Row decision = registry.gateDecision("sound").orElseThrow();
    assertThat((Double) decision.getAs("run_metric"))
        .isGreaterThan((Double) decision.getAs("champion_metric"));
    assertThat(registry.history().stream().filter(r -> "crippled".equals(r.getAs("run_id"))
        && "archived".equals(r.getAs("stage")))).hasSize(1);
  }

  @Test
  @Order(8)
  void aFailedOrUnfinishedRunIsNeverPromoted() throws Exception {
    ModelRegistry registry = new ModelRegistry(wh);
    String champion = registry.championId().orElseThrow();
    ModelRun killed = registry.runs().create("killed");
    killed.writeJson(ModelRun.MANIFEST, Map.of("run_id", "killed", "status", "running"));
    assertThatThrownBy(() -> new PromoteJob().run(spark(), config.with("promote.run-id=killed")))
        .hasMessageContaining("Cannot run promote on run killed")
        .hasMessageContaining("says 'running'");
    assertThatThrownBy(() -> new PromoteJob().run(spark(),
        config.with("promote.run-id=killed", "promote.force=true")))
        .hasMessageContaining("manifest status is 'running'");
    assertThatThrownBy(() -> new SelectJob().run(spark(), config.with("select.run-id=killed")))
        .hasMessageContaining("Cannot run select on run killed");
    assertThat(registry.championId()).contains(champion);
    assertThat(registry.history().stream().filter(r -> "killed".equals(r.getAs("run_id"))
        && "failed".equals(r.getAs("stage")))).hasSize(1);
  }

  @Test
  @Order(9)
  void theGeneratorsPastDoesNotDependOnAsOf() throws Exception {
    // generated up to week 3 with the simulation's anchor: the orders up to week 3 are the same
    Path other = tempWarehouse("weekly-loop-asof");
    String asOf = week(3).toString();
    new GenerateJob().run(spark(), config(other).with("generate.as-of=" + asOf,
        "generate.history-end=" + week(WEEKS),
        "generate.drift.date=" + week(DRIFT_WEEK), "generate.drift.session-rate-factor=4.0",
        "generate.drift.concept=true"));
    Warehouse o = new Warehouse(spark(), other.toString());
    Dataset<Row> full = wh.read(Tables.RAW_ORDERS)
        .where(col("order_date").leq(to_date(lit(asOf))));
    Dataset<Row> cut = o.read(Tables.RAW_ORDERS);
    assertThat(cut.count()).isEqualTo(full.count()).isPositive();
    assertThat(cut.exceptAll(full).count()).isZero();
    // sessions of the year before week 3 (both event windows hold it), the same both ways
    org.apache.spark.sql.Column year = col("session_start")
        .geq(to_date(lit(week(3).minusDays(330).toString())))
        .and(col("session_start").lt(to_date(lit(week(3).plusDays(1).toString()))));
    Dataset<Row> mine = o.read(Tables.RAW_WEB_SESSIONS).where(year);
    Dataset<Row> theirs = wh.read(Tables.RAW_WEB_SESSIONS).where(year);
    assertThat(mine.count()).isEqualTo(theirs.count()).isPositive();
    assertThat(mine.exceptAll(theirs).count()).isZero();
  }

  @Test
  @Order(10)
  void theTimelinePageRendersItsChartsInHeadlessChromium() throws Exception {
    Path page = Path.of(java.net.URI.create(wh.root() + "/loop_timeline.html"));
    String html = Files.readString(page);
    assertThat(html).doesNotContain("http://").doesNotContain("https://")
        .contains("id=\"auc-chart\"").contains("id=\"psi-chart\"");
    Path work = Files.createTempDirectory("timeline-check");
    Path copy = work.resolve("timeline.html");
    Files.writeString(copy, html.replace("</body>", "<script>window.addEventListener('load',"
        + "()=>{document.body.dataset.lines=document.querySelectorAll('svg polyline').length;"
        + "document.body.dataset.rows=document.querySelectorAll('table tr').length;});"
        + "</script></body>"));
    HeadlessChromium.Rendered r = HeadlessChromium.render(copy, work);
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("data-lines=\"(\\d+)\" data-rows=\"(\\d+)\"").matcher(r.dom());
    assertThat(m.find()).as("check script ran; DOM:\n" + r.dom()).isTrue();
    assertThat(Integer.parseInt(m.group(1))).as("AUC and PSI lines").isGreaterThanOrEqualTo(3);
    assertThat(Integer.parseInt(m.group(2))).isEqualTo(WEEKS + 1);
    assertThat(r.log()).doesNotContain("Uncaught");
    assertThat(r.colours()).isGreaterThan(5);
  }

  /** Each table's rows as sorted strings, without the columns that hold a write's time. */
  private static Map<String, List<String>> contents(List<String> tables) {
    Map<String, List<String>> out = new TreeMap<>();
    for (String t : tables) {
      Dataset<Row> df = wh.read(t);
      List<String> keep = Arrays.stream(df.columns()).filter(c -> !List.of("scored_at",
          "computed_at", "created_at", "decided_at", "recorded_at", "fit_seconds").contains(c))
          .toList();
      out.put(t, df.select(keep.stream().map(c -> col(c)).toArray(org.apache.spark.sql.Column[]::new))
          .collectAsList().stream().map(Row::toString).sorted().toList());
    }
    return out;
  }
}
