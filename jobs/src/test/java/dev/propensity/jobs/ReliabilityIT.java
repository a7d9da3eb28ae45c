package dev.propensity.jobs;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.PropensityException;
import dev.propensity.common.SparkTestBase;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.spark.SparkSessions;
import dev.propensity.common.table.Tables;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.inference.Publication;
import dev.propensity.jobs.inference.ScoreJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileUtil;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * Fault injection with real processes (README "Reliability"): {@code kill -9} of a scoring JVM
 * before, between and after its two commits; two scorers and another writer at once on one
 * warehouse; the S3 server stopped under a scorer and restarted. Every case ends with readable
 * tables, an honest publish state and a re-run that converges to a clean run's tables.
 */
class ReliabilityIT extends SparkTestBase {

  private static final Duration JOB_TIMEOUT = Duration.ofMinutes(15);
  private static final String LOG4J = "-Dlog4j.configurationFile="
      + Path.of("../conf/log4j2.properties").toAbsolutePath().normalize();
  /** What {@code Warehouse} logs when a write lost a retryable conflict and is re-run. */
  private static final String CONFLICT = "conflict with another writer";
  /** ... when it lost to the test JVM's property change (the scorers' own races say WRITE or MERGE). */
  private static final String LOST_TO_ALTER = "their operation: SET TBLPROPERTIES";

  /** customer_id -> what a clean run decides (propensity, bin, snapshot, run; not scored_at). */
  private static Map<String, String> content(Warehouse wh, String table) {
    Map<String, String> out = new TreeMap<>();
    for (Row r : wh.read(table).select(col("customer_id"), col("propensity"), col("bin"),
        col("snapshot_date").cast("string"), col("run_id")).collectAsList()) {
      out.put(r.getString(0) + "@" + r.getString(3),
          r.getDouble(1) + "|" + r.get(2) + "|" + r.getString(4));
    }
    return out;
  }

  private static boolean anyLog(List<JobProcess> jobs, String text) throws IOException {
    for (JobProcess j : jobs) {
      if (j.log().contains(text)) {
        return true;
      }
    }
    return false;
  }

  private static Path logFile(Path dir, String name) {
    return dir.resolveSibling(dir.getFileName() + "-" + name + ".log");
  }

  private static JobProcess score(Path wh, String name, List<String> props, String... extra)
      throws Exception {
    List<String> sys = new ArrayList<>(props);
    sys.add(LOG4J);
    List<String> args = new ArrayList<>(List.of("score", "warehouse=\"" + wh + "\""));
    args.addAll(List.of(extra));
    return JobProcess.start(logFile(wh, name), sys, args.toArray(new String[0]));
  }

  @Test
  void killMinus9BeforeBetweenAndAfterTheCommitsThenARerunConverges() throws Exception {
    Path clean = MonitoringFixture.freshWarehouse("rel-clean");
    new ScoreJob().run(spark(), MonitoringFixture.base(clean));
    Warehouse cleanWh = Warehouse.of(spark(), MonitoringFixture.base(clean));
    Map<String, String> cleanScores = content(cleanWh, Tables.CUSTOMER_SCORES);
    Map<String, String> cleanLookup = content(cleanWh, Tables.CUSTOMER_PROPENSITY);

    Path dir = MonitoringFixture.freshWarehouse("rel-kill");
    Warehouse wh = Warehouse.of(spark(), MonitoringFixture.base(dir));
    for (String point : List.of("score.before-scores", "score.between-commits",
        "score.after-publish")) {
      JobProcess p = score(dir, point, List.of("-Dpropensity.test.halt-at=" + point));
      assertThat(p.awaitLog("FAULT POINT " + point + " reached", JOB_TIMEOUT))
          .as(point + ":\n" + p.tail()).isTrue();
      p.kill9();
      Publication.State state = Publication.check(wh);
      System.out.printf("kill -9 at %s after %.0f s: %s%n", point, p.seconds(), state.describe());
      switch (point) {
        case "score.before-scores" -> {
          assertThat(wh.exists(Tables.CUSTOMER_SCORES)).isFalse();
          assertThat(state.consistent()).isTrue();
        }
        case "score.between-commits" -> {
          // the history is ahead of the lookup, and the check says so
          assertThat(state.consistent()).isFalse();
          assertThat(state.describe()).startsWith("INCONSISTENT: customer_scores version 0")
              .contains("has no publish marker in its last 200 commits");
          assertThat(wh.exists(Tables.CUSTOMER_PROPENSITY)).isFalse();
          assertThat(content(wh, Tables.CUSTOMER_SCORES)).isEqualTo(cleanScores);
        }
        default -> {
          // this run republished the killed one's commit first, then its own
          assertThat(state.consistent()).as(state.describe()).isTrue();
          assertThat(state.lookup().orElseThrow().scoresVersion()).isEqualTo(1);
          assertThat(p.log()).contains("republish", "INCONSISTENT");
          assertThat(content(wh, Tables.CUSTOMER_PROPENSITY)).isEqualTo(cleanLookup);
        }
      }
      // every table readable at each committed version
      for (String t : List.of(Tables.CUSTOMER_SCORES, Tables.CUSTOMER_PROPENSITY)) {
        if (!wh.exists(t)) {
          continue;
        }
        for (long v = 0; v <= wh.version(t); v++) {
          wh.readAtVersion(t, v).count();
        }
      }
    }
    new ScoreJob().run(spark(), MonitoringFixture.base(dir));
    assertThat(Publication.check(wh).consistent()).isTrue();
    assertThat(content(wh, Tables.CUSTOMER_SCORES)).isEqualTo(cleanScores);
    assertThat(content(wh, Tables.CUSTOMER_PROPENSITY)).isEqualTo(cleanLookup);
  }

  @Test
  void twoScorersAndAnotherWriterAtOnceLoseNoCommit() throws Exception {
    Path dir = MonitoringFixture.freshWarehouse("rel-concurrent");
    JobConfig config = MonitoringFixture.base(dir);
    Warehouse wh = Warehouse.of(spark(), config);
    new ScoreJob().run(spark(), config);
    long scoresBefore = wh.version(Tables.CUSTOMER_SCORES);
    long lookupBefore = wh.version(Tables.CUSTOMER_PROPENSITY);

    List<JobProcess> jobs = List.of(
        score(dir, "scorer-a", List.of(), "write.conflict-backoff=1s", "write.conflict-retries=5"),
        score(dir, "scorer-b", List.of(), "write.conflict-backoff=1s", "write.conflict-retries=5"));
    // and the bins job re-run on the champion the scorers read (its edges, bin_stats, status)
    JobProcess bins = JobProcess.start(logFile(dir, "bins"), List.of(LOG4J), "bins",
        "warehouse=\"" + dir + "\"", "report.on-complete=false");
    // the other writer: this JVM changes customer_propensity's properties every second until a
    // scorer's MERGE has lost to it, then lets them finish (their retries must then commit)
    int altered = 0;
    long deadline = System.nanoTime() + JOB_TIMEOUT.toNanos();
    while (jobs.stream().anyMatch(JobProcess::alive) && System.nanoTime() < deadline
        && !anyLog(jobs, LOST_TO_ALTER)) {
      try {
        spark().sql("ALTER TABLE delta.`" + dir.resolve(Tables.CUSTOMER_PROPENSITY)
            + "` SET TBLPROPERTIES ('team' = 'ops-" + altered + "')");
        altered++;
      } catch (RuntimeException e) {
        System.out.println("the other writer lost a conflict: " + e.getClass().getSimpleName());
      }
      Thread.sleep(1000);
    }
    System.out.println("property changes committed while the scorers ran: " + altered);
    int retried = 0;
    int lostToAlter = 0;
    for (JobProcess j : jobs) {
      int code = j.exitCode(JOB_TIMEOUT);
      List<String> lines = j.log().lines().toList();
      retried += (int) lines.stream().filter(l -> l.contains(CONFLICT)).count();
      lostToAlter += (int) lines.stream().filter(l -> l.contains(LOST_TO_ALTER)).count();
      System.out.printf("concurrent job exit %d after %.0f s; %s%n", code, j.seconds(),
          j.errorLines());
      assertThat(code).as(j.tail()).isZero();
    }
    System.out.printf("conflict retries logged: %d, %d of them after losing to the property"
        + " change%n", retried, lostToAlter);
    assertThat(lostToAlter).as("a scorer's MERGE lost to the other writer and was retried")
        .isPositive();
    int binsCode = bins.exitCode(JOB_TIMEOUT);
    System.out.printf("concurrent bins exit %d after %.0f s%n", binsCode, bins.seconds());
    assertThat(binsCode).as(bins.tail()).isZero();
    for (long v = 0; v <= wh.version(Tables.BIN_STATS); v++) {
      assertThat(wh.readAtVersion(Tables.BIN_STATS, v).count()).isPositive();
    }
    String champion = new dev.propensity.common.run.ModelRegistry(wh).championId().orElseThrow();
    assertThat(wh.read(Tables.BIN_STATS).where(col("run_id").equalTo(champion)).count())
        .as("the re-run replaced its bin_stats rows, appended none").isEqualTo(10);
    // no lost or corrupt commit: both scorers committed to customer_scores, every version reads
    assertThat(wh.version(Tables.CUSTOMER_SCORES)).isEqualTo(scoresBefore + 2);
    assertThat(wh.version(Tables.CUSTOMER_PROPENSITY)).isGreaterThan(lookupBefore);
    for (String t : List.of(Tables.CUSTOMER_SCORES, Tables.CUSTOMER_PROPENSITY)) {
      for (long v = 0; v <= wh.version(t); v++) {
        assertThat(wh.readAtVersion(t, v).count()).isPositive();
      }
    }
    Map<String, String> lookup = content(wh, Tables.CUSTOMER_PROPENSITY);
    assertThat(wh.read(Tables.CUSTOMER_PROPENSITY).count()).isEqualTo(lookup.size());
    Publication.State state = Publication.check(wh);
    System.out.println("after the concurrent writers: " + state.describe());
    assertThat(state.consistent()).as(state.describe()).isTrue();
    assertThat(state.lookup().orElseThrow().scoresVersion()).isEqualTo(scoresBefore + 2);
  }

  @Test
  void s3StoppedBetweenTheCommitsRetriesThenExits5AndARerunSucceeds() throws Exception {
    // its own bucket: s3a caches a file system per bucket, with the endpoint it was made with
    try (S3ProxyServer s3 = S3ProxyServer.start("reliability")) {
      Path local = MonitoringFixture.freshWarehouse("rel-s3");
      String warehouse = "s3a://reliability/wh";
      JobConfig config = MonitoringFixture.base(local).with("warehouse=\"" + warehouse + "\"",
          "s3.endpoint=\"" + s3.endpoint() + "\"", "s3.path-style-access=true");
      SparkSessions.configureObjectStorage(spark(), config);
      var hadoop = spark().sparkContext().hadoopConfiguration();
      org.apache.hadoop.fs.Path src = new org.apache.hadoop.fs.Path(local.toUri());
      org.apache.hadoop.fs.Path dst = new org.apache.hadoop.fs.Path(warehouse);
      for (var st : src.getFileSystem(hadoop).listStatus(src)) {
        FileUtil.copy(src.getFileSystem(hadoop), st.getPath(), dst.getFileSystem(hadoop),
            new org.apache.hadoop.fs.Path(dst, st.getPath().getName()), false, hadoop);
      }
      Path resume = Files.createTempDirectory("rel-s3-resume").resolve("go");
      JobProcess p = JobProcess.start(logFile(local, "s3-outage"),
          List.of(LOG4J, "-Dpropensity.test.halt-at=score.between-commits",
              "-Dpropensity.test.resume-file=" + resume),
          "score", "warehouse=\"" + warehouse + "\"", "s3.endpoint=\"" + s3.endpoint() + "\"",
          "s3.path-style-access=true");
      assertThat(p.awaitLog("FAULT POINT score.between-commits reached", JOB_TIMEOUT))
          .as(p.tail()).isTrue();
      s3.close(); // the outage starts after customer_scores committed, before the MERGE
      long down = System.nanoTime();
      Files.createFile(resume);
      int code = p.exitCode(JOB_TIMEOUT);
      double failSeconds = (System.nanoTime() - down) / 1e9;
      List<String> errors = p.errorLines();
      long retryLines = p.log().lines().filter(l -> l.contains("retry #")).count();
      System.out.printf("S3 down: exit %d after %.0f s, %d retry log lines, %s%n", code,
          failSeconds, retryLines, errors);
      assertThat(code).as(p.tail()).isEqualTo(PropensityException.EXIT_STORAGE_UNAVAILABLE);
      assertThat(errors).as(p.tail()).hasSize(1);
      assertThat(errors.get(0)).startsWith("ERROR: Storage unavailable at endpoint "
          + s3.endpoint()).contains("Nothing was published half-way");
      // the one ERROR line is the job's last word; each s3a retry round got a line before it
      List<String> lines = p.log().lines().filter(l -> !l.isBlank()).toList();
      assertThat(lines.get(lines.size() - 1)).isEqualTo(errors.get(0));
      assertThat(retryLines).as(p.tail()).isPositive();
      assertThat(failSeconds).isLessThan(120);

      s3.restart();
      Warehouse wh = Warehouse.of(spark(), config);
      Publication.State state = Publication.check(wh);
      assertThat(state.describe()).startsWith("INCONSISTENT"); // honest: scores ahead of lookup
      assertThat(wh.exists(Tables.CUSTOMER_PROPENSITY)).isFalse();
      new ScoreJob().run(spark(), config);
      assertThat(Publication.check(wh).consistent()).isTrue();
      assertThat(wh.read(Tables.CUSTOMER_PROPENSITY).count())
          .isEqualTo(wh.read(Tables.CUSTOMER_SCORES).count());
    }
  }

  @Test
  void anEndpointThatAcceptsAndNeverAnswersFailsWithinAboutAMinuteWithExit5() throws Exception {
    // a "hung" store: connections are accepted, no byte ever comes back
    try (java.net.ServerSocket blackhole = new java.net.ServerSocket(0, 50,
        java.net.InetAddress.getLoopbackAddress())) {
      List<java.net.Socket> held = new java.util.concurrent.CopyOnWriteArrayList<>();
      Thread acceptor = new Thread(() -> {
        while (!blackhole.isClosed()) {
          try {
            held.add(blackhole.accept());
          } catch (java.io.IOException e) {
            return;
          }
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      String endpoint = "http://127.0.0.1:" + blackhole.getLocalPort();
      Path dir = Files.createTempDirectory("rel-hung");
      // the default retry and timeout policy (reference.conf s3.retry, s3.timeout)
      JobProcess p = JobProcess.start(logFile(dir, "hung-endpoint"), List.of(LOG4J), "score",
          "warehouse=\"s3a://hung/wh\"", "s3.endpoint=\"" + endpoint + "\"",
          "s3.path-style-access=true");
      int code = p.exitCode(JOB_TIMEOUT);
      List<String> errors = p.errorLines();
      System.out.printf("hung endpoint: exit %d after %.0f s, %d connection(s) held, %s%n", code,
          p.seconds(), held.size(), errors);
      assertThat(code).as(p.tail()).isEqualTo(PropensityException.EXIT_STORAGE_UNAVAILABLE);
      assertThat(errors).as(p.tail()).hasSize(1);
      assertThat(errors.get(0)).startsWith("ERROR: Storage unavailable at endpoint " + endpoint);
      assertThat(held).as("the job reached the endpoint and waited on it").isNotEmpty();
      // JVM and Spark start-up included; the policy itself gives up after about a minute
      assertThat(p.seconds()).isLessThan(150);
      for (java.net.Socket s : held) {
        s.close();
      }
    }
  }
}
