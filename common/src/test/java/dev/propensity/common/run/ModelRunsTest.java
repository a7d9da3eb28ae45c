package dev.propensity.common.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRunsTest {

  @TempDir
  Path dir;

  private ModelRuns runs() {
    return new ModelRuns("file:" + dir, new Configuration());
  }

  @Test
  void latestMovesOnlyWhenARunCompletes() {
    ModelRuns runs = runs();
    ModelRun first = runs.create("r1");
    assertThat(runs.latestId()).isNull();
    assertThatThrownBy(() -> runs.open("latest"))
        .hasMessageContaining("Cannot load model run 'latest'")
        .hasMessageContaining("Available runs: r1");
    runs.markCompleted(first);
    runs.create("r2");
    assertThat(runs.open("latest").id()).isEqualTo("r1");
    assertThat(runs.openOrNewest("").id()).isEqualTo("r2");
    assertThat(runs.list()).containsExactly("r1", "r2");
  }

  @Test
  void unknownRunListsTheAvailableOnes() {
    ModelRuns runs = runs();
    runs.create("r1");
    assertThatThrownBy(() -> runs.open("r9"))
        .hasMessage("Cannot load model run 'r9': no such run under file:" + dir + "/runs."
            + " Available runs: r1. Set propensity.score.run to one of them or to 'latest'.");
  }

  @Test
  void runIdsAreValidatedAndNeverReused() {
    ModelRuns runs = runs();
    runs.create("r1");
    assertThatThrownBy(() -> runs.create("r1")).hasMessageContaining("propensity.train.run-id")
        .hasMessageContaining("not used before");
    assertThatThrownBy(() -> runs.create("../x")).hasMessageContaining("letters, digits");
    assertThat(runs.create("").id()).matches("\\d{8}-\\d{6}-[0-9a-f]{4}");
  }

  @Test
  void jsonFilesAreWrittenWholeWithoutTempLeftovers() throws Exception {
    ModelRun run = runs().create("r1");
    run.writeJson("bins/edges.json", Map.of("edges", new double[] {0.1, 0.2}));
    run.writeJson("bins/edges.json", Map.of("edges", new double[] {0.3}));
    Map<String, Object> read = run.readJson("bins/edges.json", new TypeReference<>() {});
    assertThat(read.get("edges")).asList().containsExactly(0.3);
    File bins = dir.resolve("runs/r1/bins").toFile();
    // Hadoop's local file system keeps a .crc beside each file; no temp file may remain
    assertThat(bins.list()).contains("edges.json").noneMatch(n -> n.endsWith(".tmp"));
    assertThat(Files.readString(dir.resolve("runs/r1/bins/edges.json"))).contains("0.3");
  }
}
