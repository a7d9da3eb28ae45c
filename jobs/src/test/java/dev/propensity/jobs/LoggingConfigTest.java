package dev.propensity.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * conf/log4j2.properties puts an ISO date-time, the level, the job and the run id on every line,
 * threads the job starts included; conf/log4j2-json.properties writes the same as JSON lines.
 * Each runs in its own JVM with that file, as submit.sh passes it.
 */
class LoggingConfigTest {

  /** Logs as a job does: MDC from the CLI and the registry, a line from another thread. */
  public static void main(String[] args) throws Exception {
    Logger log = LoggerFactory.getLogger("dev.propensity.jobs.Demo");
    MDC.put("job", "score");
    MDC.put("run_id", "20260101-000000-abcd");
    log.info("main thread line");
    Thread t = new Thread(() -> log.info("worker thread line"));
    t.start();
    t.join();
  }

  private static String run(Path dir, String config) throws Exception {
    JobProcess p = JobProcess.startMain(dir.resolve(config + ".log"), List.of(
        "-Dlog4j.configurationFile=" + new File("../conf/" + config).getCanonicalPath()),
        LoggingConfigTest.class.getName());
    assertThat(p.exitCode(Duration.ofMinutes(1))).as(p.tail()).isZero();
    return p.log();
  }

  @Test
  void everyLineHasIsoTimeLevelJobAndRun(@TempDir Path dir) throws Exception {
    List<String> lines = run(dir, "log4j2.properties").lines()
        .filter(l -> l.contains("thread line")).toList();
    assertThat(lines).hasSize(2).allSatisfy(l -> assertThat(l).matches(
        "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z INFO  \\[job=score"
            + " run=20260101-000000-abcd\\] Demo: (main|worker) thread line"));
  }

  @Test
  void jsonLayoutCarriesTheSameFields(@TempDir Path dir) throws Exception {
    List<String> lines = run(dir, "log4j2-json.properties").lines()
        .filter(l -> l.startsWith("{") && l.contains("thread line")).toList();
    assertThat(lines).hasSize(2);
    for (String line : lines) {
      JsonNode event = new ObjectMapper().readTree(line);
      assertThat(event.get("level").asText()).isEqualTo("INFO");
      assertThat(event.get("contextMap").get("job").asText()).isEqualTo("score");
      assertThat(event.get("contextMap").get("run_id").asText())
          .isEqualTo("20260101-000000-abcd");
      assertThat(event.get("instant").get("epochSecond").asLong()).isPositive();
    }
  }
}
