package dev.propensity.jobs.loop;

import dev.propensity.common.Errors;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.Job;
import dev.propensity.jobs.Steps;
import dev.propensity.jobs.generate.GenerateJob;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ./submit.sh simulate}: W weekly cycles on generated data, as-of moving one week per
 * cycle, with a drift event (data and concept drift) from a chosen week. The raw history is
 * generated once, anchored to the last week ({@code generate.history-end}); each cycle sees only
 * what happened before its date ({@code features.as-of}), which is the history a weekly
 * {@code generate} up to that date would give (the generator's past never changes). Each cycle
 * runs exactly {@link CycleJob}'s steps and policy. Prints the timeline, which is also the
 * {@code loop_timeline} table and the page {@code <warehouse>/loop_timeline.html}.
 */
public final class SimulateJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(SimulateJob.class);

  @Override
  public String name() {
    return "simulate";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    int weeks = config.integer("propensity.simulate.weeks");
    if (weeks < 1) {
      throw Errors.invalidConfig("propensity.simulate.weeks", weeks, "at least 1");
    }
    LocalDate start;
    try {
      start = LocalDate.parse(config.string("propensity.simulate.start").trim());
    } catch (DateTimeParseException e) {
      throw Errors.invalidConfig("propensity.simulate.start",
          config.string("propensity.simulate.start"), "a date yyyy-MM-dd");
    }
    int driftWeek = config.integer("propensity.simulate.drift-week");
    if (driftWeek < 0 || driftWeek > weeks) {
      throw Errors.invalidConfig("propensity.simulate.drift-week", driftWeek,
          "0 (no drift event) or a week from 1 to propensity.simulate.weeks (" + weeks + ")");
    }
    LocalDate last = start.plusWeeks(weeks - 1L);
    String driftDate = driftWeek == 0 ? "" : start.plusWeeks(driftWeek - 1L).toString();
    // the earliest snapshot (start minus the label horizon) sees a full year of events too
    long span = java.time.temporal.ChronoUnit.DAYS.between(start.minusDays(
        config.integer("propensity.features.label-horizon-days")), last);
    int eventMonths = config.integer("propensity.generate.event-months")
        + (int) Math.ceil(span / 30.0);
    JobConfig c = config.with("generate.as-of=" + last, "generate.history-end=" + last,
        "generate.event-months=" + eventMonths,
        "generate.drift.date=\"" + driftDate + "\"",
        "generate.drift.session-rate-factor=" + config.number(
            "propensity.simulate.session-rate-factor"),
        "generate.drift.concept=" + config.bool("propensity.simulate.concept"));
    long t0 = System.nanoTime();
    Steps.run(new GenerateJob(), spark, c);
    List<Timeline.Entry> entries = new ArrayList<>();
    for (int w = 0; w < weeks; w++) {
      LocalDate date = start.plusWeeks(w);
      LOG.info("simulate: week {} of {} ({}), {} s", w + 1, weeks, date,
          (System.nanoTime() - t0) / 1_000_000_000L);
      entries.add(CycleJob.runCycle(spark, c, date));
    }
    Warehouse warehouse = Warehouse.of(spark, c);
    if (c.bool("propensity.report.on-complete")) {
      dev.propensity.jobs.report.ReportJob.write(spark, c,
          new dev.propensity.common.run.ModelRegistry(warehouse).open("latest"));
    }
    List<Row> rows = new Timeline(warehouse).rows();
    String page = TimelinePage.write(warehouse, rows, driftDate);
    return String.format("simulate: %d weeks from %s, drift event %s, in %d s%n%s%ntimeline:"
            + " table %s, page %s", weeks, start, driftDate.isEmpty() ? "none" : "from " + driftDate,
        (System.nanoTime() - t0) / 1_000_000_000L, TimelinePage.text(rows),
        warehouse.path(Timeline.TABLE), page);
  }
}
