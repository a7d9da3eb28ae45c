package dev.propensity.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.inference.ScoreJob;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * A new version of the lookup table is swapped in while clients keep asking: no request fails,
 * every answer comes from one whole version, both on {@code POST /admin/reload} and on the
 * background check.
 */
class ReloadTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void reloadsUnderConcurrentRequestsFailNone() throws Exception {
    ServeFixture fixture = ServeFixture.get();
    Warehouse warehouse = Warehouse.of(ServeFixture.spark(), fixture.config);
    List<String> ids = warehouse.read(LookupTable.TABLE).select("customer_id").limit(200)
        .collectAsList().stream().map(r -> r.getString(0)).toList();
    long before = warehouse.version(LookupTable.TABLE);
    try (ServeServer manual = fixture.start(Map.of());
        ServeServer background = fixture.start(Map.of(), "serve.reload-interval=1s")) {
      ServeFixture.Client client = new ServeFixture.Client(manual, null);
      ServeFixture.Client watcher = new ServeFixture.Client(background, null);
      AtomicBoolean running = new AtomicBoolean(true);
      AtomicLong ok = new AtomicLong();
      Set<String> failures = ConcurrentHashMap.newKeySet();
      Set<String> versions = ConcurrentHashMap.newKeySet();
      ExecutorService pool = Executors.newFixedThreadPool(4);
      List<Future<?>> load = List.of(0, 1, 2, 3).stream().map(t -> pool.submit(() -> {
        int i = t;
        while (running.get()) {
          String id = ids.get(i++ % ids.size());
          ServeFixture.Client c = i % 2 == 0 ? client : watcher;
          ServeFixture.Reply r = c.get("/customers/" + id);
          if (r.status() != 200) {
            failures.add(r.status() + " " + r.body());
          } else {
            ok.incrementAndGet();
            versions.add(r.raw().headers().firstValue("X-Table-Version").orElse("?"));
          }
        }
      })).collect(java.util.stream.Collectors.toList());

      // a new table version written by the score job while the clients run
      new ScoreJob().run(ServeFixture.spark(), fixture.config);
      long after = warehouse.version(LookupTable.TABLE);
      assertThat(after).isGreaterThan(before);
      for (int i = 0; i < 3; i++) {
        ServeFixture.Reply reload = client.post("/admin/reload", "");
        assertThat(reload.status()).as(reload.body()).isEqualTo(200);
        assertThat(JSON.readTree(reload.body()).get("table_version").asLong()).isEqualTo(after);
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      long seen = -1;
      while (System.nanoTime() < deadline && seen != after) {
        JsonNode ready = JSON.readTree(watcher.get("/ready").body());
        seen = ready.get("table_version").asLong();
        Thread.sleep(200);
      }
      Thread.sleep(300);
      running.set(false);
      for (Future<?> f : load) {
        f.get(30, TimeUnit.SECONDS);
      }
      pool.shutdown();

      assertThat(failures).isEmpty();
      assertThat(ok.get()).isGreaterThan(100);
      assertThat(seen).as("the background check loads the new version").isEqualTo(after);
      assertThat(versions).contains(Long.toString(before), Long.toString(after));
      assertThat(client.get("/metrics").body()).contains("propensity_serve_reloads_total 4")
          .contains("propensity_serve_reload_failures_total 0");
      // lookups answer from the new version's rows
      Row r = warehouse.read(LookupTable.TABLE).where("customer_id = '" + ids.get(0) + "'")
          .first();
      JsonNode row = JSON.readTree(client.get("/customers/" + ids.get(0)).body());
      assertThat(row.get("scored_at").asText()).isEqualTo(
          r.getTimestamp(r.fieldIndex("scored_at")).toInstant().toString());
    }
  }
}
