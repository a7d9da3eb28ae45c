package dev.propensity.serve;

import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.config.JobConfig;
import dev.propensity.common.serving.ServingModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Why live scoring is off, as 501 and /ready report it; no Spark. */
class ChampionModelTest {

  @TempDir
  Path warehouse;

  private ServeSettings settings() {
    return ServeSettings.fromConfig(JobConfig.defaults().with("warehouse=" + warehouse),
        Map.of());
  }

  @Test
  void aRunThatCannotBeExportedSaysWhy() throws Exception {
    Path file = warehouse.resolve("runs/r1/" + ChampionModel.FILE);
    Files.createDirectories(file.getParent());
    Files.write(file, ServingModel.notExportable("r1", "voter nb's classifier NaiveBayesModel has"
        + " no plain form for live scoring", new double[] {0.5}, List.of("high", "low"))
        .toJson());
    ChampionModel m = ChampionModel.load(settings(), ChampionModel.hadoop(), Optional.of("r1"));
    assertThat(m.scorer()).isEmpty();
    assertThat(m.unavailable()).hasValue("champion run r1 cannot be scored live: voter nb's"
        + " classifier NaiveBayesModel has no plain form for live scoring");
  }

  @Test
  void aRunWithoutTheFileNamesTheCommandThatWritesIt() {
    ChampionModel m = ChampionModel.load(settings(), ChampionModel.hadoop(), Optional.of("r2"));
    assertThat(m.unavailable().orElseThrow()).isEqualTo("champion run r2 has no "
        + "serving/model.json (it completed before live scoring existed): re-run ./submit.sh"
        + " bins bins.run-id=r2 to export it");
  }

  @Test
  void noChampionYet() {
    ChampionModel m = ChampionModel.load(settings(), ChampionModel.hadoop(), Optional.empty());
    assertThat(m.unavailable().orElseThrow()).startsWith("no run has been promoted to champion");
  }

  @Test
  void servingModelOfAnotherFormatIsRejectedWithTheFix() throws Exception {
    Path file = warehouse.resolve("runs/r3/" + ChampionModel.FILE);
    Files.createDirectories(file.getParent());
    Files.writeString(file, "{\"format\": 99, \"runId\": \"r3\", \"exportable\": false}");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ChampionModel.load(settings(),
        ChampionModel.hadoop(), Optional.of("r3")))
        .hasMessageContaining("format 99, this version reads format "
            + dev.propensity.common.serving.ServingModel.FORMAT + ". Re-run the bins job");
  }
}
