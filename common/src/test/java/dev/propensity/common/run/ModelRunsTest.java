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
  void runsOpenByIdOnlyAndNeverOutsideTheRunsFolder() {
    ModelRuns runs = runs();
    runs.create("r1");
    runs.create("r2");
    assertThat(runs.openOrNewest("").id()).isEqualTo("r2");
    assertThat(runs.list()).containsExactly("r1", "r2");
    // latest is the registry's word; a path is not a run id
    assertThatThrownBy(() -> runs.open("latest"))
        .hasMessageContaining("Cannot load model run 'latest'");
    assertThatThrownBy(() -> runs.open("../.."))
        .hasMessageContaining("Cannot load model run '../..'")
        .hasMessageContaining("Available runs: r1, r2");
  }

  @Test
  void statusMovesForwardAndAFailedRunStaysFailed() {
    ModelRun run = runs().create("r1");
    assertThat(run.status()).isEqualTo("missing");
    run.writeJson(ModelRun.MANIFEST, Map.of("run_id", "r1", "status", "trained"));
    run.setStatus(ModelRun.COMPLETED);
    Map<String, Object> manifest = run.readJson(ModelRun.MANIFEST, new TypeReference<>() {});
    assertThat(manifest).containsEntry("status", "completed").containsEntry("run_id", "r1")
        .containsKey("completed_at");
    ModelRun failed = runs().create("r2");
    failed.writeJson(ModelRun.MANIFEST, Map.of("status", ModelRun.FAILED));
    assertThatThrownBy(() -> failed.setStatus(ModelRun.COMPLETED))
        .hasMessageContaining("Cannot mark run r2 'completed'")
        .hasMessageContaining("says 'failed'");
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
