package dev.propensity.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.SparkTestBase;
import dev.propensity.jobs.cli.Jobs;
import dev.propensity.common.config.JobConfig;
import dev.propensity.common.spark.SparkSessions;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The whole pipeline submitted through {@code submit.sh --master spark://...} to a real Spark
 * standalone cluster (a master and two workers on 127.0.0.1, started from the Maven classpath)
 * with the warehouse on s3a:// (S3Proxy): the suite's one pipeline run on object storage, with
 * {@code PipelineChecks} on its tables. Runs after {@code package} (failsafe), because it submits
 * the cluster jar. Skip it locally with {@code -DexcludedGroups=cluster}.
 */
@Tag("cluster")
class ClusterPipelineIT extends SparkTestBase {

  private static final List<Process> PROCESSES = new ArrayList<>();
  private static S3ProxyServer s3;
  private static String masterUrl;
  private static Path work;
  private static String classpath;

  @BeforeAll
  static void startCluster() throws Exception {
    work = Files.createTempDirectory("spark-cluster");
    classpath = Files.readString(Path.of("target/local-classpath.txt")).trim();
    Path sparkHome = Files.createDirectories(work.resolve("spark-home/jars"));
    s3 = S3ProxyServer.start("propensity");
    int port = freePort();
    int ui = freePort();
    masterUrl = "spark://127.0.0.1:" + port;
    start("master", List.of("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
        "--port", String.valueOf(port), "--webui-port", String.valueOf(ui)),
        sparkHome.getParent());
    for (int i = 1; i <= 2; i++) {
      Path dir = Files.createDirectories(work.resolve("worker-" + i));
      start("worker-" + i, List.of("org.apache.spark.deploy.worker.Worker", masterUrl,
          "--host", "127.0.0.1", "--cores", "1", "--memory", "1g",
          "--webui-port", String.valueOf(freePort()), "--work-dir", dir.toString()),
          sparkHome.getParent());
    }
    awaitWorkers(ui, 2, Duration.ofSeconds(120));
  }

  @AfterAll
  static void stopCluster() {
    PROCESSES.forEach(Process::destroy);
    PROCESSES.forEach(p -> {
      try {
        p.waitFor(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    if (s3 != null) {
      s3.close();
    }
  }

  @Test
  void submitShRunsThePipelineOnAStandaloneClusterWithTablesOnS3() throws Exception {
    String warehouse = "s3a://propensity/cluster-warehouse";
    // the same small pipeline as PipelineIT, with fewer customers
    List<String> cmd = new ArrayList<>(List.of("bash", "../submit.sh", "pipeline",
        "--master", masterUrl));
    cmd.addAll(PipelineIT.SMALL);
    cmd.addAll(List.of("generate.customers=1500",
        "warehouse=" + warehouse, "s3.endpoint=\"" + s3.endpoint() + "\"",
        "s3.path-style-access=true", "spark.shuffle-partitions=2",
        "spark.conf.\"spark.executor.memory\"=768m"));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(work.resolve("submit.log").toFile());
    pb.environment().remove("SPARK_HOME");
    Process submit = pb.start();
    boolean done = submit.waitFor(15, TimeUnit.MINUTES);
    String log = Files.readString(work.resolve("submit.log"));
    assertThat(done).as("pipeline finished in time; log:\n" + tail(log)).isTrue();
    assertThat(submit.exitValue()).as("submit.sh exit code; log:\n" + tail(log)).isZero();
    // executors on the workers did the work, not a local master
    int steps = Jobs.STEPS.size();
    assertThat(log).contains("step " + steps + " of " + steps + ": drift");
    assertThat(Files.walk(work).anyMatch(p -> p.getFileName().toString().equals("stderr")
        && p.toString().contains("worker-"))).as("executor logs on a worker").isTrue();

    JobConfig config = PipelineIT.small(warehouse).with("s3.endpoint=\"" + s3.endpoint() + "\"",
        "s3.path-style-access=true");
    SparkSessions.configureObjectStorage(spark(), config);
    PipelineChecks.assertComplete(spark(), config);
    // the tables really are in the bucket
    try (Stream<Path> files = Files.walk(s3.dataDir().resolve("propensity"))) {
      assertThat(files.map(Path::toString))
          .anyMatch(p -> p.contains("customer_propensity") && p.contains("_delta_log"))
          .anyMatch(p -> p.contains("model_registry") && p.contains("_delta_log"));
    }
  }

  private static void start(String name, List<String> args, Path sparkHome) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
        "-cp", classpath));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(work.resolve(name + ".log").toFile());
    Map<String, String> env = pb.environment();
    env.put("SPARK_HOME", sparkHome.toString());
    env.put("SPARK_SCALA_VERSION", "2.13");
    env.put("SPARK_DIST_CLASSPATH", classpath);
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    PROCESSES.add(pb.start());
  }

  private static void awaitWorkers(int uiPort, int workers, Duration timeout) throws Exception {
    Instant end = Instant.now().plus(timeout);
    String last = "";
    while (Instant.now().isBefore(end)) {
      try {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + uiPort + "/json/")
            .toURL().openConnection();
        last = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (last.replaceAll("\\s", "").contains("\"aliveworkers\":" + workers)) {
          return;
        }
      } catch (IOException notYet) {
        // master not up yet
      }
      Thread.sleep(1000);
    }
    throw new IllegalStateException("Spark workers did not register in " + timeout + ": " + last
        + "\nmaster log: " + Files.readString(work.resolve("master.log")));
  }

  private static String tail(String log) {
    return log.length() > 6000 ? log.substring(log.length() - 6000) : log;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
