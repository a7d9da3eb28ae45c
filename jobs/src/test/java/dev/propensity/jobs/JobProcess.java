package dev.propensity.jobs;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A job ({@code dev.propensity.jobs.cli.Main}) in its own JVM on the test classpath, as a
 * scheduler would run it: for fault injection ({@code kill -9} at a named point, stopping the S3
 * server under it) and for concurrent writers.
 */
public final class JobProcess {

  private final Process process;
  private final Path log;
  private final Instant started = Instant.now();

  private JobProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /**
   * @param log where stdout and stderr go
   * @param sysProps -Dkey=value for the JVM (fault points)
   * @param args the job's arguments ({@code score warehouse=...})
   */
  public static JobProcess start(Path log, List<String> sysProps, String... args)
      throws IOException {
    return startMain(log, sysProps, "dev.propensity.jobs.cli.Main", args);
  }

  /** {@link #start} of another main class on the test classpath. */
  public static JobProcess startMain(Path log, List<String> sysProps, String mainClass,
      String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // the test JVM's --add-opens, JIT and GC settings and friends (surefire's argLine), minus
    // its heap and agents
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-") || a.startsWith("-Djdk.") || a.startsWith("-Dio.netty")
          || a.startsWith("-XX:+IgnoreUnrecognized") || a.startsWith("-XX:TieredStopAtLevel")
          || a.startsWith("-XX:Tier4") || a.matches("-XX:\\+Use\\w+GC")) {
        cmd.add(a);
      }
    }
    cmd.add("-Xmx1g");
    cmd.addAll(List.of("-Dspark.ui.enabled=false", "-Dspark.ui.showConsoleProgress=false",
        "-Dspark.sql.shuffle.partitions=2", "-Dspark.default.parallelism=2",
        "-Dspark.databricks.delta.snapshotPartitions=2", "-Dspark.master=local[2]"));
    cmd.addAll(sysProps);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    return new JobProcess(pb.start(), log);
  }

  /** Waits until the log contains {@code text} (or the process ends). */
  public boolean awaitLog(String text, Duration timeout) throws Exception {
    Instant end = Instant.now().plus(timeout);
    while (Instant.now().isBefore(end)) {
      if (log().contains(text)) {
        return true;
      }
      if (!process.isAlive()) {
        return log().contains(text);
      }
      Thread.sleep(200);
    }
    return false;
  }

  /** @return whether the process still runs */
  public boolean alive() {
    return process.isAlive();
  }

  /** SIGKILL, as {@code kill -9}: no shutdown hook, no finally block runs. */
  public void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** @return the exit code, waiting at most {@code timeout} (then kills it and fails) */
  public int exitCode(Duration timeout) throws Exception {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      kill9();
      throw new AssertionError("job did not end in " + timeout + "; log:\n" + tail());
    }
    return process.exitValue();
  }

  /** @return seconds since start */
  public double seconds() {
    return Duration.between(started, Instant.now()).toMillis() / 1000.0;
  }

  public String log() throws IOException {
    return Files.exists(log) ? Files.readString(log) : "";
  }

  /** @return the last 60 lines of the log */
  public String tail() throws IOException {
    List<String> lines = log().lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
  }

  /** @return the lines starting with {@code ERROR:} */
  public List<String> errorLines() throws IOException {
    return log().lines().filter(l -> l.startsWith("ERROR:")).toList();
  }
}
