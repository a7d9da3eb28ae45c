package dev.propensity.jobs.benchmark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.exp;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.format_string;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import dev.propensity.common.config.JobConfig;
import dev.propensity.common.psi.PsiBaseline;
import dev.propensity.common.psi.SparkPsi;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.spark.SparkSessions;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.bins.BinsJob;
import dev.propensity.jobs.promotion.PromoteJob;
import dev.propensity.jobs.inference.ScoreJob;
import dev.propensity.jobs.monitoring.DriftBaseline;
import dev.propensity.jobs.selection.SelectJob;
import dev.propensity.jobs.training.TrainJob;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Scoring and PSI throughput at scale (not a unit test: run it with {@code
 * benchmarks/scoring.sh ROWS...}). A synthetic feature table with the default schema's columns
 * (hash-based values, not the generate and features jobs, which are slow at 10M customers) gets a
 * 20,000-row labelled snapshot to train a real run on (train, select, bins) and one scoring
 * snapshot per size. After a warm-up score of a small snapshot, per size, in one JVM: a bare
 * Delta read + write of the snapshot, the score job with no lookup table yet (it is created),
 * the bare read + write again, the score job again (partition replaced, lookup MERGEd), the
 * same without reason codes ({@code explain.top-k = 0}), and the PSI of all features against one
 * aggregate scan of the snapshot (best of two each). The run is trained with the default
 * candidates and grids (logistic regression, random forest, XGBoost: what users run), so the reason
 * codes are TreeSHAP over the forest and the boosted trees plus linear SHAP.
 *
 * <p>{@code -Dbenchmark.reason-codes-only=true}: per size only the score job without reason codes
 * (creates the lookup), with them and without them again (both MERGE), plus a check of the fast
 * TreeSHAP against {@code ReferenceTreeShap} on a sample of the snapshot's rows.
 * {@code -Dbenchmark.warehouse=DIR -Dbenchmark.reuse-run=true} reuses a run trained before there.
 */
public final class ScoringBenchmark {

  private static final String TRAIN_SNAPSHOT = "2026-05-31";
  private static final long TRAIN_ROWS = 20_000;
  /** The columns {@link #features} makes (the catalogue's 67 would need the features job). */
  private static final String NUMERIC = "[recency_days, frequency_90d, frequency_365d,"
      + " monetary_365d, avg_order_value, tenure_days, age, web_sessions_90d,"
      + " email_open_rate_90d, email_click_rate_90d]";
  private static final String CATEGORICAL = "[region, channel, segment, gender]";

  private ScoringBenchmark() {}

  public static void main(String[] args) throws Exception {
    List<Long> sizes = Arrays.stream(args.length == 0 ? new String[] {"1000000"} : args)
        .map(Long::parseLong).toList();
    String dir = System.getProperty("benchmark.warehouse",
        Files.createTempDirectory("propensity-bench").toString());
    JobConfig base = JobConfig.defaults().with("warehouse=\"" + dir + "\"",
        "spark.master=\"local[2]\"", "schema.numeric=" + NUMERIC,
        "schema.categorical=" + CATEGORICAL);
    // e.g. -Dbenchmark.config="train.gbt.max-depth=[3];train.random-forest.max-depth=[8]"
    String extra = System.getProperty("benchmark.config", "");
    JobConfig config = extra.isBlank() ? base : base.with(extra.split(";"));
    System.out.println("config overrides: " + (extra.isBlank() ? "none" : extra));
    boolean codesOnly = Boolean.getBoolean("benchmark.reason-codes-only");
    boolean reuse = Boolean.getBoolean("benchmark.reuse-run");
    System.setProperty("spark.ui.enabled", "false");
    SparkSession spark = SparkSessions.getOrCreate(config);
    Warehouse wh = Warehouse.of(spark, config);
    spark.sparkContext().setLogLevel("WARN");

    boolean psiOnly = Boolean.getBoolean("benchmark.psi-only");
    FeatureSchema schema = FeatureSchema.fromConfig(config);
    wh.overwritePartition(features(spark, TRAIN_ROWS, TRAIN_SNAPSHOT, true), Tables.FEATURES,
        "snapshot_date", TRAIN_SNAPSHOT);
    long t0 = System.nanoTime();
    if (!psiOnly && !reuse) {
      new TrainJob().run(spark, config);
      new SelectJob().run(spark, config);
      new BinsJob().run(spark, config);
      new PromoteJob().run(spark, config);
      System.out.printf("setup: trained a run on %,d rows in %.1f s%n", TRAIN_ROWS, secs(t0));
    }
    if (!psiOnly) {
      ReasonCodesCheck.describe(wh, spark, config);
    }
    // the PSI baseline of the training snapshot, as DriftBaseline stores it (without the score)
    List<PsiBaseline> baseline = SparkPsi.baseline(wh.read(Tables.FEATURES)
        .where(col("snapshot_date").equalTo(to_date(lit(TRAIN_SNAPSHOT)))), schema.numeric(),
        schema.categorical(), DriftBaseline.BUCKETS);

    if (!psiOnly) {
      // warm the JVM up (JIT, class loading) on a small snapshot, then drop what it wrote
      wh.overwritePartition(features(spark, TRAIN_ROWS, "2026-06-01", false), Tables.FEATURES,
          "snapshot_date", "2026-06-01");
      new ScoreJob().run(spark, config.with("score.snapshot=2026-06-01"));
      bareReadWrite(wh, "2026-06-01", "bare_copy");
      drop(spark, wh, Tables.CUSTOMER_SCORES, Tables.CUSTOMER_PROPENSITY, "bare_copy");
    }
    List<String> rows = new ArrayList<>();
    for (int i = 0; i < sizes.size(); i++) {
      long n = sizes.get(i);
      String snapshot = LocalDate.parse("2026-06-30").plusDays(i).toString();
      long g = System.nanoTime();
      wh.overwritePartition(features(spark, n, snapshot, false), Tables.FEATURES,
          "snapshot_date", snapshot);
      System.out.printf("setup: wrote %,d feature rows in %.1f s%n", n, secs(g));
      JobConfig scoreConfig = config.with("score.snapshot=" + snapshot);

      double bare1 = Double.NaN;
      double score1 = Double.NaN;
      double bare2 = Double.NaN;
      double score2 = Double.NaN;
      double score3 = Double.NaN;
      if (codesOnly) {
        drop(spark, wh, Tables.CUSTOMER_PROPENSITY);
        JobConfig noCodes = scoreConfig.with("explain.top-k=0");
        double plain1 = timed(() -> new ScoreJob().run(spark, noCodes));
        double codes = timed(() -> new ScoreJob().run(spark, scoreConfig));
        double plain2 = timed(() -> new ScoreJob().run(spark, noCodes));
        String row = String.format("| %,d | %.1f | %.1f | %.1f | %.2fx |", n, plain1, plain2,
            codes, codes / plain2);
        System.out.println(row);
        rows.add(row);
        ReasonCodesCheck.exactness(wh, spark, config, snapshot, 2000);
        continue;
      }
      if (!psiOnly) {
        drop(spark, wh, Tables.CUSTOMER_PROPENSITY);
        bare1 = bareReadWrite(wh, snapshot, "bare_copy");
        score1 = timed(() -> new ScoreJob().run(spark, scoreConfig));
        bare2 = bareReadWrite(wh, snapshot, "bare_copy");
        score2 = timed(() -> new ScoreJob().run(spark, scoreConfig));
        // the same MERGE run without reason codes (explain.top-k = 0)
        score3 = timed(() -> new ScoreJob().run(spark, scoreConfig.with("explain.top-k=0")));
      }
      Dataset<Row> current = wh.read(Tables.FEATURES)
          .where(col("snapshot_date").equalTo(to_date(lit(snapshot))));
      double scan = timed(() -> aggregateScan(current, schema));
      double psi = timed(() -> SparkPsi.compare(baseline, current, 1e-4));
      double scan2 = timed(() -> aggregateScan(current, schema));
      double psi2 = timed(() -> SparkPsi.compare(baseline, current, 1e-4));

      String row = String.format("| %,d | %.1f | %.1f | %.2fx | %.1f | %.1f | %.2fx | %.1f | %.2fx"
              + " | %.1f | %.1f | %.2fx |", n, bare1, score1, score1 / bare1, bare2, score2,
          score2 / bare2, score3, score3 / bare2, Math.min(scan, scan2), Math.min(psi, psi2), Math.min(psi, psi2) / Math.min(scan, scan2));
      rows.add(row);
      System.out.printf("scan %.1f / %.1f s, psi %.1f / %.1f s%n", scan, scan2, psi, psi2);
      System.out.println(row);
    }
    System.out.printf("%nmachine: %s, %d cores, Java %s, Spark %s, local[2]; date %s%n",
        InetAddress.getLocalHost().getHostName(), Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"), spark.version(), LocalDate.now());
    if (codesOnly) {
      System.out.println("| customers | score s, top-k 0 (create) | score s, top-k 0 (MERGE)"
          + " | score s, top-k 3 (MERGE) | with / without reason codes |");
      System.out.println("|---|---|---|---|---|");
      rows.forEach(System.out::println);
      spark.stop();
      return;
    }
    System.out.println("| customers | bare read+write s | score s (create) | ratio | bare s (2nd)"
        + " | score s (MERGE) | ratio | score s (MERGE, top-k 0) | ratio | aggregate scan s"
        + " | PSI all features s | ratio |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
    rows.forEach(System.out::println);
    spark.stop();
  }

  /** A snapshot with the default schema's columns; values from hashes of the row id. */
  static Dataset<Row> features(SparkSession spark, long n, String snapshot, boolean labelled) {
    Dataset<Row> base = spark.range(n).toDF();
    Column id = col("id");
    Dataset<Row> df = base.select(
        format_string("C%09d", id).as("customer_id"),
        to_date(lit(snapshot)).as("snapshot_date"),
        floor(u(id, 1).multiply(400)).cast("double").as("recency_days"),
        floor(u(id, 2).multiply(6)).cast("double").as("frequency_90d"),
        floor(u(id, 3).multiply(20)).cast("double").as("frequency_365d"),
        u(id, 4).multiply(2000).as("monetary_365d"),
        when(u(id, 5).lt(0.8), u(id, 6).multiply(150)).as("avg_order_value"),
        floor(u(id, 7).multiply(2000)).cast("double").as("tenure_days"),
        floor(u(id, 8).multiply(60).plus(18)).cast("double").as("age"),
        floor(u(id, 9).multiply(30)).cast("double").as("web_sessions_90d"),
        when(u(id, 10).lt(0.9), u(id, 11)).as("email_open_rate_90d"),
        when(u(id, 10).lt(0.9), u(id, 12).multiply(0.3)).as("email_click_rate_90d"),
        pick(u(id, 13), "North", "South", "East", "West", "Central").as("region"),
        pick(u(id, 14), "web", "app", "store", "referral").as("channel"),
        pick(u(id, 15), "new", "regular", "loyal", "lapsed").as("segment"),
        pick(u(id, 16), "f", "m", "x").as("gender"),
        u(id, 17).as("__u"));
    Column logit = lit(-2.0).plus(col("frequency_90d").multiply(0.4))
        .minus(col("recency_days").divide(150.0))
        .plus(when(col("channel").equalTo("app"), 0.5).otherwise(0.0));
    Column p = lit(1.0).divide(lit(1.0).plus(exp(logit.multiply(-1))));
    return df.withColumn("label", labelled ? when(col("__u").lt(p), 1).otherwise(0)
        : lit(null).cast("int")).drop("__u");
  }

  private static Column u(Column id, int salt) {
    return pmod(xxhash64(lit(salt), id), lit(1_000_003L)).cast("double").divide(1_000_003.0);
  }

  private static Column pick(Column u, String... values) {
    Column out = lit(values[values.length - 1]);
    for (int i = values.length - 2; i >= 0; i--) {
      out = when(u.lt((i + 1.0) / values.length), values[i]).otherwise(out);
    }
    return out;
  }

  private static void drop(SparkSession spark, Warehouse wh, String... tables) throws IOException {
    for (String t : tables) {
      Path p = new Path(wh.path(t));
      p.getFileSystem(spark.sparkContext().hadoopConfiguration()).delete(p, true);
    }
  }

  private static double bareReadWrite(Warehouse wh, String snapshot, String target) {
    return timed(() -> wh.read(Tables.FEATURES)
        .where(col("snapshot_date").equalTo(to_date(lit(snapshot))))
        .write().format("delta").mode("overwrite").save(wh.path(target)));
  }

  /** One pass computing count, sum of every numeric and min of every categorical column. */
  private static Object aggregateScan(Dataset<Row> df, FeatureSchema schema) {
    List<Column> aggs = new ArrayList<>();
    schema.numeric().forEach(c -> aggs.add(sum(col(c))));
    schema.categorical().forEach(c -> aggs.add(min(col(c))));
    aggs.add(max(col("customer_id")));
    return df.agg(count(lit(1)), aggs.toArray(new Column[0])).first();
  }

  private static double timed(Runnable r) {
    long t = System.nanoTime();
    r.run();
    return secs(t);
  }

  private static double secs(long start) {
    return (System.nanoTime() - start) / 1e9;
  }
}
