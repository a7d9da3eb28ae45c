package dev.propensity.jobs.features;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.when;

import dev.propensity.common.Errors;
import dev.propensity.common.PropensityException;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.schema.FeatureCatalog;
import dev.propensity.common.schema.FeatureFamily;
import dev.propensity.common.schema.FeatureSpec;
import dev.propensity.common.spark.InputShufflePartitions;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.Job;
import dev.propensity.jobs.Steps;
import dev.propensity.jobs.features.RawInputs.Input;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Point-in-time customer features, one {@code features} partition per snapshot date, all written
 * in one Delta commit (a failed run changes nothing; a re-run replaces only its snapshots).
 *
 * <p>A snapshot is the instant 00:00 UTC of its date: events dated before it feed the features;
 * the label is 1 when the customer orders in the {@code label-horizon-days} days from the
 * snapshot on ({@code order_date} in {@code [snapshot, snapshot + horizon)}, i.e. the instants
 * {@code (snapshot, snapshot + horizon]} for day-stamped orders), and null when that window
 * reaches past the last day of order data.
 *
 * <p>Bounded passes: each raw table is read once to check and count its rows (cleaning rules,
 * bad rows) and once more for one conditional aggregation over all snapshots at once; the
 * handful of aggregates is joined to the customers once. Nothing is collected but counts.
 */
public final class FeaturesJob implements Job {

  private static final Logger LOG = LoggerFactory.getLogger(FeaturesJob.class);
  private static final String SNAPSHOTS_KEY = "propensity.features.snapshot-dates";

  @Override
  public String name() {
    return "features";
  }

  @Override
  public String run(SparkSession spark, JobConfig config) {
    long start = System.nanoTime();
    Warehouse warehouse = Warehouse.of(spark, config);
    Built built;
    try (InputShufflePartitions wide = InputShufflePartitions.forInputs(spark,
        inputs(warehouse, config), "features")) {
      built = build(warehouse, config, start);
      try {
        warehouse.overwritePartitions(built.table(), Tables.FEATURES, "snapshot_date",
            built.snapshots());
      } finally {
        built.cleaning().release();
      }
    }
    LOG.info("features: written ({} s)", elapsed(start));
    String summary = summary(warehouse, built, (System.nanoTime() - start) / 1e9);
    summary.lines().forEach(l -> LOG.info("{}", l));
    return summary;
  }

  /**
   * @return the raw tables the enabled feature families read, as read (not yet scanned), for
   *     their sizes; one that cannot be read is left out here: {@link #build} reports it, after
   *     the checks that come first
   */
  private static List<Dataset<Row>> inputs(Warehouse warehouse, JobConfig config) {
    Set<FeatureFamily> families = FeatureCatalog.enabledFamilies(config);
    List<Dataset<Row>> out = new ArrayList<>();
    for (RawInputs.Spec spec : RawInputs.ALL) {
      if (spec.needed(families)) {
        try {
          out.add(RawInputs.read(warehouse, config, spec).rows());
        } catch (PropensityException e) {
          LOG.debug("features: input {} not sized: {}", spec.key(), e.getMessage());
        }
      }
    }
    return out;
  }

  /** @return propensity.features.as-of, when set */
  static Optional<LocalDate> asOf(JobConfig config) {
    String v = config.string("propensity.features.as-of").trim();
    if (v.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(LocalDate.parse(v));
    } catch (java.time.format.DateTimeParseException e) {
      throw Errors.invalidConfig("propensity.features.as-of", v, "empty, or a date yyyy-MM-dd");
    }
  }

  /**
   * What a run builds before it writes: the table (a plan, not yet computed) and what the
   * summary reports.
   */
  record Built(Dataset<Row> table, List<String> snapshots, List<String> labelled,
      LocalDate lastOrder, Set<FeatureFamily> families, List<FeatureSpec> features,
      Cleaning cleaning) {}

  /**
   * Reads and checks the inputs, runs the counting passes (cleaning rules, bad rows, first and
   * last order) and plans the features table; nothing is written.
   */
  static Built build(Warehouse warehouse, JobConfig config, long start) {
    int horizon = config.integer("propensity.features.label-horizon-days");
    if (horizon < 1) {
      throw Errors.invalidConfig("propensity.features.label-horizon-days", horizon,
          "a number of days >= 1");
    }
    List<String> snapshots = snapshotDates(config);
    Set<FeatureFamily> families = FeatureCatalog.enabledFamilies(config);
    List<FeatureSpec> features = FeatureCatalog.of(families);
    Cleaning cleaning = new Cleaning(config);
    Aggregates aggregates = new Aggregates(snapshots, horizon);

    List<String> columns = new ArrayList<>(List.of("customer_id", "snapshot_date"));
    features.forEach(f -> columns.add(f.name()));
    columns.add("label");
    checkCompatible(warehouse, columns);
    // read and check every needed input before any Spark job runs on them
    Steps.describe(warehouse.spark(), "features", "check and count the input tables");
    Map<RawInputs.Spec, Input> inputs = new LinkedHashMap<>();
    for (RawInputs.Spec spec : RawInputs.ALL) {
      if (spec.needed(families)) {
        inputs.put(spec, RawInputs.read(warehouse, config, spec));
      }
    }

    LOG.info("features: {} input tables checked ({} s)", inputs.size(), elapsed(start));
    Input customersIn = inputs.get(RawInputs.CUSTOMERS);
    Dataset<Row> customers = cleaning.customers(customersIn);
    LOG.info("features: customers cleaned ({} s)", elapsed(start));
    Input ordersIn = inputs.get(RawInputs.ORDERS);
    Cleaning.Cleaned orders = cleaning.events(ordersIn, "order_date",
        Map.of("orders with a missing revenue (counted as orders, left out of revenue)",
            col("revenue").isNull()),
        List.of(min(col("order_date").cast("date")), max(col("order_date").cast("date"))));
    LocalDate firstOrder = date(orders.extras().get(0), ordersIn);
    LocalDate newestOrder = date(orders.extras().get(1), ordersIn);
    Optional<LocalDate> asOf = asOf(config);
    // what a run on as-of sees: no order from that day on (labels past it stay null)
    LocalDate lastOrder = asOf.filter(d -> !newestOrder.isBefore(d)).map(d -> d.minusDays(1))
        .orElse(newestOrder);
    Dataset<Row> orderRows = asOf.map(d -> orders.rows().where(col("order_date").cast("date")
        .lt(to_date(lit(d.toString()))))).orElse(orders.rows());
    checkSnapshots(snapshots, firstOrder, ordersIn);
    snapshots.stream().filter(d -> LocalDate.parse(d).isAfter(lastOrder.plusDays(1)))
        .forEach(d -> LOG.warn("features: snapshot {} is after the last order date {} in {}:"
            + " its recent windows see no orders", d, lastOrder, ordersIn.location()));
    List<String> labelled = snapshots.stream()
        .filter(s -> !LocalDate.parse(s).plusDays(horizon).isAfter(lastOrder.plusDays(1)))
        .toList();

    Dataset<Row> ordersAgg = aggregates.orders(orderRows);
    List<Dataset<Row>> aggs = new ArrayList<>(List.of(ordersAgg));
    if (inputs.containsKey(RawInputs.ORDER_LINES)) {
      aggs.add(aggregates.orderLines(cleaning.orderLines(inputs.get(RawInputs.ORDER_LINES)),
          orderRows));
    }
    if (inputs.containsKey(RawInputs.WEB_SESSIONS)) {
      aggs.add(aggregates.sessions(events(cleaning, inputs, RawInputs.WEB_SESSIONS,
          "session_start", Map.of("sessions with a missing duration (left out of durations)",
              col("duration_sec").isNull()))));
    }
    if (inputs.containsKey(RawInputs.EMAIL_EVENTS)) {
      aggs.add(aggregates.emails(events(cleaning, inputs, RawInputs.EMAIL_EVENTS, "sent_at",
          Map.of())));
    }
    if (inputs.containsKey(RawInputs.SOCIAL_FOLLOWS)) {
      aggs.add(aggregates.social(events(cleaning, inputs, RawInputs.SOCIAL_FOLLOWS,
          "followed_at", Map.of())));
    }
    if (inputs.containsKey(RawInputs.SUPPORT_CONTACTS)) {
      aggs.add(aggregates.support(events(cleaning, inputs, RawInputs.SUPPORT_CONTACTS,
          "contacted_at", Map.of())));
    }
    if (inputs.containsKey(RawInputs.PROFIT)) {
      aggs.add(aggregates.profit(events(cleaning, inputs, RawInputs.PROFIT, "month",
          Map.of())));
    }

    LOG.info("features: event tables checked and counted ({} s)", elapsed(start));
    Dataset<Row> joined = customers
        .withColumn("snapshot_date", explode(aggregates.snapshotArray()))
        .where(col("signup_date").lt(col("snapshot_date")));
    for (Dataset<Row> agg : aggs) {
      joined = joined.join(agg, scala.jdk.javaapi.CollectionConverters.asScala(Aggregates.KEYS)
          .toSeq(), "left");
      if (agg == ordersAgg) {
        // quintiles among the snapshot's customers with an order (one small aggregate)
        Dataset<Row> cuts = FeatureColumns.rfmCuts(joined);
        joined = joined.join(broadcast(cuts), "snapshot_date", "left");
      }
    }

    Map<String, Column> expressions = FeatureColumns.all();
    List<Column> out = new ArrayList<>(List.of(col("customer_id"), col("snapshot_date")));
    features.forEach(f -> out.add(expressions.get(f.name())));
    out.add(when(col("snapshot_date").cast("string").isin(labelled.toArray()),
        org.apache.spark.sql.functions.coalesce(col("converted"), lit(0)))
        .cast("int").as("label"));
    Dataset<Row> table = joined.select(out.toArray(new Column[0]));
    return new Built(table, snapshots, labelled, lastOrder, families, features, cleaning);
  }

  private static long elapsed(long start) {
    return (System.nanoTime() - start) / 1_000_000_000L;
  }

  private static Dataset<Row> events(Cleaning cleaning, Map<RawInputs.Spec, Input> inputs,
      RawInputs.Spec spec, String time, Map<String, Column> notes) {
    return cleaning.events(inputs.get(spec), time, notes, List.of()).rows();
  }

  /** Switching families changes the columns: refuse to mix old and new columns in one table. */
  private static void checkCompatible(Warehouse warehouse, List<String> columns) {
    if (!warehouse.exists(Tables.FEATURES)) {
      return;
    }
    Set<String> existing = new TreeSet<>(Arrays.asList(warehouse.read(Tables.FEATURES).columns()));
    Set<String> now = new TreeSet<>(columns);
    if (!existing.equals(now)) {
      Set<String> gone = new TreeSet<>(existing);
      gone.removeAll(now);
      Set<String> added = new TreeSet<>(now);
      added.removeAll(existing);
      throw Errors.featureColumnsChanged(warehouse.path(Tables.FEATURES), gone, added);
    }
  }

  private static String summary(Warehouse warehouse, Built b, double seconds) {
    List<String> snapshots = b.snapshots();
    List<String> labelled = b.labelled();
    StringBuilder sb = new StringBuilder(String.format(
        "features: %d snapshot(s), %d features (families %s) -> %s in %.0f s%n",
        snapshots.size(), b.features().size(),
        String.join(", ", b.families().stream().map(FeatureFamily::configName).toList()),
        warehouse.path(Tables.FEATURES), seconds));
    for (Row r : warehouse.read(Tables.FEATURES)
        .where(col("snapshot_date").cast("string").isin(snapshots.toArray()))
        .groupBy(col("snapshot_date").cast("string").as("snapshot"))
        .agg(count(lit(1)), avg(col("label")))
        .orderBy("snapshot").collectAsList()) {
      String s = r.getString(0);
      sb.append(String.format("  snapshot %s: %,d customers, %s%n", s, r.getLong(1),
          labelled.contains(s) ? String.format("label rate %.2f%%", 100 * r.getDouble(2))
              : "label null (the label window ends after the last order date, "
                  + b.lastOrder() + ")"));
    }
    sb.append("  cleaning (rows touched):");
    b.cleaning().counts().forEach((rule, n) -> sb.append(String.format("%n    %-88s %,d", rule, n)));
    return sb.toString();
  }

  private static LocalDate date(Object value, Input in) {
    if (value == null) {
      throw Errors.emptyTable(in.location(), "with an order_date");
    }
    return LocalDate.parse(value.toString());
  }

  /** Every snapshot must have some order history before it. */
  private static void checkSnapshots(List<String> snapshots, LocalDate firstOrder, Input orders) {
    for (String s : snapshots) {
      if (!LocalDate.parse(s).isAfter(firstOrder)) {
        throw Errors.invalidConfig(SNAPSHOTS_KEY, s, "dates after the first order in "
            + orders.location() + " (" + firstOrder + "): a snapshot needs history before it");
      }
    }
  }

  static List<String> snapshotDates(JobConfig config) {
    List<String> dates = config.strings(SNAPSHOTS_KEY);
    if (dates.isEmpty()) {
      throw Errors.invalidConfig(SNAPSHOTS_KEY, "[]", "at least one date, e.g. [\"2026-05-31\"]");
    }
    TreeSet<String> sorted = new TreeSet<>();
    for (String d : dates) {
      try {
        sorted.add(LocalDate.parse(d).toString());
      } catch (DateTimeParseException e) {
        throw Errors.invalidConfig(SNAPSHOTS_KEY, d, "ISO dates (yyyy-MM-dd)");
      }
    }
    return new ArrayList<>(sorted);
  }
}
