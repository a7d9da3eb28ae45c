package dev.propensity.common.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.propensity.common.SparkTestBase;
import dev.propensity.common.run.ModelRegistry.Decision;
import dev.propensity.common.run.ModelRegistry.Stage;
import dev.propensity.common.table.Warehouse;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

class ModelRegistryTest extends SparkTestBase {

  private final Warehouse wh = new Warehouse(spark(), tempWarehouse("registry").toString());
  private final ModelRegistry registry = new ModelRegistry(wh);

  private ModelRun run(String id, String status) {
    ModelRun run = registry.runs().create(id);
    run.writeJson(ModelRun.MANIFEST, Map.of("run_id", id, "status", status));
    return run;
  }

  private static Decision champion(String id, boolean forced) {
    return new Decision(id, Stage.CHAMPION, true, "auc_roc", 0.8, null, null, 0.0, "test",
        "because", forced, "test", LocalDate.parse("2026-06-07"));
  }

  @Test
  void latestIsTheNewestChampionAndAPromotionArchivesTheOldOneInOneCommit() throws Exception {
    run("r1", ModelRun.COMPLETED);
    run("r2", ModelRun.COMPLETED);
    assertThat(registry.championId()).isEmpty();
    assertThatThrownBy(() -> registry.open("latest"))
        .hasMessageContaining("Cannot load model run 'latest': no run has been promoted")
        .hasMessageContaining("./submit.sh promote RUN");

    registry.promote(champion("r1", false));
    assertThat(registry.open("latest").id()).isEqualTo("r1");
    long version = wh.version(ModelRegistry.TABLE);
    Thread.sleep(5);
    registry.promote(champion("r2", false));
    assertThat(wh.version(ModelRegistry.TABLE)).isEqualTo(version + 1);
    assertThat(registry.open("champion").id()).isEqualTo("r2");
    List<Row> history = registry.history();
    assertThat(history).extracting(r -> r.getAs("run_id") + ":" + r.getAs("stage"))
        .containsExactlyInAnyOrder("r1:champion", "r2:champion", "r1:archived");

    // a rollback by hand is recorded as forced and moves the pointer back
    Thread.sleep(5);
    registry.promote(champion("r1", true));
    assertThat(registry.championId()).contains("r1");
    assertThat(registry.gateDecision("r1").map(r -> (String) r.getAs("stage")))
        .contains("champion");
  }

  @Test
  void aFailedOrUnfinishedRunIsNeverPromoted() {
    run("bad", ModelRun.FAILED);
    run("half", "trained");
    assertThatThrownBy(() -> registry.promote(champion("bad", true)))
        .hasMessageContaining("propensity.promote.run-id")
        .hasMessageContaining("manifest status is 'failed'");
    assertThatThrownBy(() -> registry.promote(champion("half", false)))
        .hasMessageContaining("manifest status is 'trained'");
    assertThat(registry.championId()).isEmpty();
  }

  @Test
  void aReaderRacingPromotionsAlwaysSeesACompletedChampion() throws Exception {
    run("a", ModelRun.COMPLETED);
    run("b", ModelRun.COMPLETED);
    registry.promote(champion("a", false));
    java.util.concurrent.atomic.AtomicReference<Throwable> failure =
        new java.util.concurrent.atomic.AtomicReference<>();
    Thread writer = new Thread(() -> {
      try {
        for (int i = 0; i < 8; i++) {
          registry.promote(champion(i % 2 == 0 ? "b" : "a", true));
        }
      } catch (Throwable t) {
        failure.set(t);
      }
    });
    writer.start();
    int reads = 0;
    while (writer.isAlive() || reads < 5) {
      // the pointer resolves to a completed run at every instant, never to nothing
      ModelRun latest = new ModelRegistry(wh).open("latest");
      assertThat(latest.id()).isIn("a", "b");
      assertThat(latest.status()).isEqualTo(ModelRun.COMPLETED);
      reads++;
    }
    writer.join();
    assertThat(failure.get()).isNull();
    assertThat(registry.championId()).contains("a");
    assertThat(reads).isGreaterThan(5);
  }
}
