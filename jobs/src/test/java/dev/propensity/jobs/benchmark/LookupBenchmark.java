package dev.propensity.jobs.benchmark;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.format_string;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.xxhash64;

import dev.propensity.common.config.JobConfig;
import dev.propensity.common.spark.SparkSessions;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.maintenance.MaintainJob;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.metric.SQLMetric;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Single-customer lookups on a large {@code customer_propensity} before and after the {@code
 * maintain} job (OPTIMIZE ... ZORDER BY customer_id): how many of the table's files a lookup
 * reads (Delta's data skipping on the {@code customer_id} statistics) and how long it takes.
 * Not a unit test: {@code benchmarks/lookup.sh ROWS}.
 *
 * <p>The table: ROWS synthetic rows with the lookup table's columns (three reason codes, three
 * voter probabilities), written in one commit as {@code benchmark.files} (200) files with every
 * file holding ids from the whole range, the way weekly MERGEs leave it.
 */
public final class LookupBenchmark {

  private static final int LOOKUPS = 20;

  private LookupBenchmark() {}

  public static void main(String[] args) throws Exception {
    long rows = args.length > 0 ? Long.parseLong(args[0]) : 10_000_000L;
    int files = Integer.getInteger("benchmark.files", 200);
    String dir = System.getProperty("benchmark.warehouse", "/tmp/propensity-lookup-" + rows);
    System.setProperty("spark.ui.enabled", "false");
    JobConfig config = JobConfig.defaults().with("warehouse=\"" + dir + "\"",
        "maintain.optimize=[customer_propensity]", "maintain.vacuum=[]");
    SparkSession spark = SparkSessions.getOrCreate(config);
    spark.sparkContext().setLogLevel("WARN");
    Warehouse wh = Warehouse.of(spark, config);
    FileSystem.get(new Path(dir).toUri(), spark.sparkContext().hadoopConfiguration())
        .delete(new Path(dir), true);

    long t0 = System.nanoTime();
    wh.overwrite(table(spark, rows, files), Tables.CUSTOMER_PROPENSITY);
    System.out.printf("table: %,d rows in %d files, %.0f MB, written in %.0f s%n", rows,
        fileCount(spark, wh), sizeMb(spark, wh), seconds(t0));
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < LOOKUPS; i++) {
      ids.add(String.format("C%010d", (long) ((i + 0.5) * rows / LOOKUPS)));
    }
    report("before maintain", spark, wh, ids);

    t0 = System.nanoTime();
    String summary = new MaintainJob().run(spark, config);
    System.out.printf("maintain in %.0f s: %s%n", seconds(t0), summary.replace('\n', ' '));
    System.out.printf("table: %d files, %.0f MB%n", fileCount(spark, wh), sizeMb(spark, wh));
    report("after maintain", spark, wh, ids);
  }

  /** Lookups by id: files read (the scan's metric), files in the table, wall time. */
  private static void report(String when, SparkSession spark, Warehouse wh, List<String> ids) {
    long total = fileCount(spark, wh);
    long filesRead = 0;
    List<Double> times = new ArrayList<>();
    // one lookup to warm the snapshot and the code paths, not counted
    lookup(spark, wh, ids.get(0));
    for (String id : ids) {
      long t = System.nanoTime();
      Lookup l = lookup(spark, wh, id);
      times.add(seconds(t) * 1000);
      if (l.rows() != 1) {
        throw new IllegalStateException("lookup of " + id + " returned " + l.rows() + " rows");
      }
      filesRead += l.filesRead();
    }
    times.sort(Double::compare);
    System.out.printf("%s: %d lookups, files read per lookup %.2f of %d (%.1f%%), wall ms"
            + " median %.0f max %.0f%n", when, ids.size(), (double) filesRead / ids.size(), total,
        100.0 * filesRead / ids.size() / total, times.get(times.size() / 2),
        times.get(times.size() - 1));
  }

  private record Lookup(long rows, long filesRead) {}

  private static Lookup lookup(SparkSession spark, Warehouse wh, String id) {
    Dataset<Row> q = wh.read(Tables.CUSTOMER_PROPENSITY).where(col("customer_id").equalTo(id));
    long n = q.collectAsList().size();
    long read = 0;
    SparkPlan plan = q.queryExecution().executedPlan();
    if (plan instanceof org.apache.spark.sql.execution.adaptive.AdaptiveSparkPlanExec a) {
      plan = a.finalPhysicalPlan();
    }
    for (SparkPlan leaf : CollectionConverters.asJava(plan.collectLeaves())) {
      scala.Option<SQLMetric> files = leaf.metrics().get("numFiles");
      if (files.isDefined()) {
        read += files.get().value();
      }
    }
    return new Lookup(n, read);
  }

  private static Dataset<Row> table(SparkSession spark, long rows, int files) {
    Column h = xxhash64(col("id"));
    Column p = pmod(h, lit(1_000_000L)).divide(1_000_000.0);
    Column code = struct(lit("recency_days").as("feature"), lit("12").as("value"),
        p.multiply(0.3).as("contribution"));
    return spark.range(0, rows, 1, files)
        .repartition(files) // round robin: every file gets ids from the whole range
        .select(
            format_string("C%010d", col("id")).as("customer_id"),
            p.as("propensity"),
            floor(p.multiply(10)).plus(1).cast("int").as("bin"),
            format_string("bin %d", floor(p.multiply(10)).plus(1).cast("int")).as("group_label"),
            p.geq(0.5).as("predicted_positive"),
            map(lit("logistic"), p, lit("random_forest"), p.multiply(0.9), lit("gbt"),
                p.multiply(1.1)).as("voter_probabilities"),
            array(code, code, code).as("reason_codes"),
            lit("20260628-031500-bench").as("run_id"),
            to_date(lit("2026-06-28")).as("snapshot_date"),
            current_timestamp().as("scored_at"),
            lit(false).as("is_stale"));
  }

  private static long fileCount(SparkSession spark, Warehouse wh) {
    return spark.sql("DESCRIBE DETAIL delta.`" + wh.path(Tables.CUSTOMER_PROPENSITY) + "`")
        .select("numFiles").first().getLong(0);
  }

  private static double sizeMb(SparkSession spark, Warehouse wh) {
    return spark.sql("DESCRIBE DETAIL delta.`" + wh.path(Tables.CUSTOMER_PROPENSITY) + "`")
        .select("sizeInBytes").first().getLong(0) / 1e6;
  }

  private static double seconds(long start) {
    return (System.nanoTime() - start) / 1e9;
  }
}
