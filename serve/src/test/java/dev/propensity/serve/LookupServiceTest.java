package dev.propensity.serve;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.propensity.common.run.ModelRegistry;
import dev.propensity.common.table.Warehouse;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Lookups, health, readiness and metrics over real HTTP on loopback, against a warehouse the
 * pipeline wrote; the service reads it with Delta Kernel.
 */
class LookupServiceTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static ServeFixture fixture;
  private static ServeServer server;
  private static ServeFixture.Client client;

  @BeforeAll
  static void start() throws Exception {
    fixture = ServeFixture.get();
    server = fixture.start(Map.of());
    client = new ServeFixture.Client(server, null);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void lookupsEqualTheLookupTableRowsSparkReads() throws Exception {
    Warehouse warehouse = Warehouse.of(ServeFixture.spark(), fixture.config);
    List<Row> rows = warehouse.read(LookupTable.TABLE).orderBy(col("customer_id")).limit(50)
        .collectAsList();
    assertThat(rows).hasSize(50);
    for (Row r : rows) {
      String id = r.getString(r.fieldIndex("customer_id"));
      ServeFixture.Reply reply = client.get("/customers/" + id);
      assertThat(reply.status()).isEqualTo(200);
      JsonNode body = JSON.readTree(reply.body());
      assertThat(body.get("customer_id").asText()).isEqualTo(id);
      assertThat(body.get("propensity").asDouble())
          .isEqualTo(r.getDouble(r.fieldIndex("propensity")));
      assertThat(body.get("bin").asInt()).isEqualTo(r.getInt(r.fieldIndex("bin")));
      assertThat(body.get("group_label").asText())
          .isEqualTo(r.getString(r.fieldIndex("group_label")));
      assertThat(body.get("run_id").asText()).isEqualTo(r.getString(r.fieldIndex("run_id")));
      assertThat(body.get("snapshot_date").asText())
          .isEqualTo(String.valueOf((Object) r.getDate(r.fieldIndex("snapshot_date"))));
      assertThat(body.get("is_stale").asBoolean()).isFalse();
      assertThat(body.get("reason_codes").isArray()).isTrue();
      assertThat(body.get("reason_codes").size())
          .isEqualTo(r.getList(r.fieldIndex("reason_codes")).size());
      assertThat(body.get("voter_probabilities").size()).isEqualTo(2);
      assertThat(reply.raw().headers().firstValue("X-Table-Version")).isPresent();
    }
  }

  @Test
  void lookupsCarryTheSegmentsJobsSegmentAndActionOfTheSameSnapshotAndRun() throws Exception {
    Warehouse warehouse = Warehouse.of(ServeFixture.spark(), fixture.config);
    List<Row> segments = warehouse.read(Segments.TABLE).join(
        warehouse.read(LookupTable.TABLE).select("customer_id", "snapshot_date", "run_id"),
        new String[] {"customer_id", "snapshot_date", "run_id"})
        .orderBy(col("customer_id")).limit(50).collectAsList();
    assertThat(segments).hasSize(50);
    for (Row r : segments) {
      String id = r.getString(r.fieldIndex("customer_id"));
      JsonNode body = JSON.readTree(client.get("/customers/" + id).body());
      assertThat(body.get("segment").asText()).as(id)
          .isEqualTo(r.getString(r.fieldIndex("segment")));
      assertThat(body.get("action").asText()).as(id)
          .isEqualTo(r.getString(r.fieldIndex("action")));
    }
    // a customer without a segment row of its snapshot and run has none
    Row other = warehouse.read(LookupTable.TABLE).join(warehouse.read(Segments.TABLE),
        new String[] {"customer_id"}, "left_anti").limit(1).collectAsList().stream().findFirst().orElse(null);
    if (other != null) {
      JsonNode body = JSON.readTree(client.get("/customers/"
          + other.getString(other.fieldIndex("customer_id"))).body());
      assertThat(body.has("segment")).isFalse();
    }
  }

  @Test
  void aChampionThatCannotBeExportedAnswers501WhileLookupsWork() throws Exception {
    // a warehouse with the fixture's registry and lookup table whose champion was exported as
    // not exportable, as ServingExport writes a run with a naive Bayes voter
    java.nio.file.Path w = ServeFixture.tempWarehouse("serve-501");
    for (String table : List.of(ChampionModel.REGISTRY, LookupTable.TABLE)) {
      org.apache.commons.io.FileUtils.copyDirectory(fixture.warehouse.resolve(table).toFile(),
          w.resolve(table).toFile());
    }
    Warehouse warehouse = Warehouse.of(ServeFixture.spark(), fixture.config);
    String champion = new ModelRegistry(warehouse).championId().orElseThrow();
    java.nio.file.Path file = w.resolve("runs/" + champion + "/" + ChampionModel.FILE);
    java.nio.file.Files.createDirectories(file.getParent());
    java.nio.file.Files.write(file, dev.propensity.common.serving.ServingModel.notExportable(
        champion, "voter nb's classifier NaiveBayesModel has no plain form for live scoring",
        new double[] {0.5}, List.of("high", "low")).toJson());
    try (ServeServer s = fixture.start(Map.of(), "warehouse=" + w)) {
      ServeFixture.Client c = new ServeFixture.Client(s, null);
      ServeFixture.Reply score = c.post("/score", "{\"customer_id\": \"x\"}");
      assertThat(score.status()).as(score.body()).isEqualTo(501);
      assertThat(JSON.readTree(score.body()).get("error").asText()).isEqualTo("champion run "
          + champion + " cannot be scored live: voter nb's classifier NaiveBayesModel has no"
          + " plain form for live scoring");
      assertThat(c.post("/score/batch", "{\"rows\": []}").status()).isEqualTo(501);
      JsonNode ready = JSON.readTree(c.get("/ready").body());
      assertThat(ready.get("ready").asBoolean()).isTrue();
      assertThat(ready.get("live_scoring").asBoolean()).isFalse();
      assertThat(ready.get("live_scoring_unavailable").asText()).contains("NaiveBayesModel");
      Row first = warehouse.read(LookupTable.TABLE).first();
      String id = first.getString(first.fieldIndex("customer_id"));
      assertThat(c.get("/customers/" + id).status()).isEqualTo(200);
    }
  }

  @Test
  void unknownCustomerIs404WithAJsonError() throws Exception {
    ServeFixture.Reply reply = client.get("/customers/no-such-customer");
    assertThat(reply.status()).isEqualTo(404);
    JsonNode body = JSON.readTree(reply.body());
    assertThat(body.get("field").asText()).isEqualTo("customer_id");
    assertThat(body.get("error").asText()).contains("Unknown customer_id 'no-such-customer'");
    assertThat(client.get("/nowhere").status()).isEqualTo(404);
    assertThat(client.post("/health", "{}").status()).isEqualTo(405);
  }

  @Test
  void healthAndReadinessNameTheVersionAndChampion() throws Exception {
    assertThat(client.get("/health").status()).isEqualTo(200);
    ServeFixture.Reply ready = client.get("/ready");
    assertThat(ready.status()).isEqualTo(200);
    JsonNode body = JSON.readTree(ready.body());
    Warehouse warehouse = Warehouse.of(ServeFixture.spark(), fixture.config);
    assertThat(body.get("ready").asBoolean()).isTrue();
    assertThat(body.get("table_version").asLong())
        .isEqualTo(warehouse.version(LookupTable.TABLE));
    assertThat(body.get("run_id").asText())
        .isEqualTo(new ModelRegistry(warehouse).championId().orElseThrow());
    assertThat(body.get("customers").asLong())
        .isEqualTo(warehouse.read(LookupTable.TABLE).count());
    assertThat(body.get("live_scoring").asBoolean()).isTrue();
  }

  @Test
  void notReadyBeforeATableExists() throws Exception {
    java.nio.file.Path empty = ServeFixture.tempWarehouse("serve-empty");
    try (ServeServer idle = fixture.start(Map.of(), "warehouse=" + empty)) {
      ServeFixture.Client c = new ServeFixture.Client(idle, null);
      assertThat(c.get("/health").status()).isEqualTo(200);
      ServeFixture.Reply ready = c.get("/ready");
      assertThat(ready.status()).isEqualTo(503);
      assertThat(JSON.readTree(ready.body()).get("ready").asBoolean()).isFalse();
      assertThat(c.get("/customers/1").status()).isEqualTo(503);
      assertThat(c.post("/score", "{}").status()).isEqualTo(503);
    }
  }

  /** Every line of the exposition is a comment or {@code name{labels} value}. */
  private static final Pattern SAMPLE = Pattern.compile(
      "[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\",?)*\\})?"
          + " -?[0-9.eE+-]+|[+-]Inf|NaN");

  @Test
  void metricsExpositionParsesAndCountsRequests() {
    client.get("/health");
    ServeFixture.Reply metrics = client.get("/metrics");
    assertThat(metrics.status()).isEqualTo(200);
    assertThat(metrics.raw().headers().firstValue("Content-Type").orElse(""))
        .startsWith("text/plain; version=0.0.4");
    for (String line : metrics.body().split("\n")) {
      if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
        continue;
      }
      assertThat(SAMPLE.matcher(line).matches()).as(line).isTrue();
    }
    assertThat(metrics.body())
        .contains("propensity_serve_requests_total{endpoint=\"/health\",status=\"200\"}")
        .contains("propensity_serve_request_seconds_bucket{endpoint=\"/health\",status=\"200\","
            + "le=\"+Inf\"}")
        .contains("propensity_serve_table_version ")
        .contains("propensity_serve_model_info{run_id=\"")
        .contains("propensity_serve_reloads_total 1");
  }
}
