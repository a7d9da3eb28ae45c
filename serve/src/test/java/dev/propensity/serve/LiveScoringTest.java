package dev.propensity.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.propensity.common.schema.FeatureSchema;
import dev.propensity.common.table.Warehouse;
import dev.propensity.jobs.FeatureInput;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructField;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Live scoring over HTTP equals the batch score job on every customer of the scored snapshot,
 * and every kind of bad input gets a 4xx JSON error naming the field while the service runs on.
 */
class LiveScoringTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static ServeFixture fixture;
  private static ServeServer server;
  private static ServeFixture.Client client;
  private static List<Map<String, Object>> features;

  @BeforeAll
  static void start() throws Exception {
    fixture = ServeFixture.get();
    server = fixture.start(Map.of());
    client = new ServeFixture.Client(server, null);
    Warehouse warehouse = Warehouse.of(ServeFixture.spark(), fixture.config);
    FeatureSchema schema = FeatureSchema.fromConfig(fixture.config);
    List<String> columns = new ArrayList<>(schema.inputColumns());
    if (!columns.contains(schema.idColumn())) {
      columns.add(0, schema.idColumn());
    }
    FeatureInput input = FeatureInput.forScoring(warehouse, schema,
        fixture.config.string("propensity.score.snapshot"));
    features = new ArrayList<>();
    for (Row r : input.rows().select(columns.stream().map(functions::col)
        .toArray(Column[]::new)).collectAsList()) {
      Map<String, Object> m = new LinkedHashMap<>();
      StructField[] fields = r.schema().fields();
      for (int i = 0; i < fields.length; i++) {
        Object v = r.get(i);
        if (v instanceof Double d && d.isNaN()) {
          v = null;
        }
        m.put(fields[i].name(), v);
      }
      m.put("customer_id", String.valueOf((Object) r.get(r.fieldIndex(schema.idColumn()))));
      features.add(m);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void liveScoresEqualTheBatchScorerOnEveryRowOfTheScoredSnapshot() throws Exception {
    Warehouse warehouse = Warehouse.of(ServeFixture.spark(), fixture.config);
    Map<String, Row> batch = new HashMap<>();
    for (Row r : warehouse.read(LookupTable.TABLE).collectAsList()) {
      batch.put(r.getString(r.fieldIndex("customer_id")), r);
    }
    assertThat(features).hasSizeGreaterThan(1000).hasSize(batch.size());
    int compared = 0;
    for (int from = 0; from < features.size(); from += 500) {
      List<Map<String, Object>> chunk = features.subList(from,
          Math.min(features.size(), from + 500));
      ServeFixture.Reply reply = client.post("/score/batch",
          JSON.writeValueAsString(Map.of("rows", chunk)));
      assertThat(reply.status()).as(reply.body()).isEqualTo(200);
      JsonNode results = JSON.readTree(reply.body()).get("results");
      assertThat(results.size()).isEqualTo(chunk.size());
      for (JsonNode live : results) {
        Row expected = batch.get(live.get("customer_id").asText());
        assertThat(expected).as(live.toString()).isNotNull();
        assertThat(live.get("propensity").asDouble()).as(live.toString())
            .isCloseTo(expected.getDouble(expected.fieldIndex("propensity")), within(1e-9));
        assertThat(live.get("bin").asInt()).isEqualTo(expected.getInt(expected.fieldIndex("bin")));
        assertThat(live.get("group_label").asText())
            .isEqualTo(expected.getString(expected.fieldIndex("group_label")));
        assertThat(live.get("run_id").asText())
            .isEqualTo(expected.getString(expected.fieldIndex("run_id")));
        assertSameReasonCodes(live, expected);
        compared++;
      }
    }
    assertThat(compared).isEqualTo(batch.size());
    // one row alone gives the same as in a batch
    Map<String, Object> first = features.get(0);
    JsonNode single = JSON.readTree(client.post("/score", JSON.writeValueAsString(first)).body());
    Row expected = batch.get((String) first.get("customer_id"));
    assertThat(single.get("propensity").asDouble())
        .isCloseTo(expected.getDouble(expected.fieldIndex("propensity")), within(1e-9));
    assertSameReasonCodes(single, expected);
  }

  /** The live reason codes are the batch scorer's: same features, order and values. */
  private static void assertSameReasonCodes(JsonNode live, Row expected) {
    List<Row> codes = expected.getList(expected.fieldIndex("reason_codes"));
    JsonNode got = live.get("reason_codes");
    assertThat(got).as(live.toString()).isNotNull();
    assertThat(got.size()).as(live.toString()).isEqualTo(codes.size()).isPositive();
    for (int i = 0; i < codes.size(); i++) {
      Row code = codes.get(i);
      JsonNode g = got.get(i);
      String where = live.get("customer_id").asText() + " code " + i + ": " + got;
      assertThat(g.get("feature").asText()).as(where).isEqualTo(code.getString(0));
      assertThat(g.get("value").isNull() ? null : g.get("value").asText()).as(where)
          .isEqualTo(code.getString(1));
      assertThat(g.get("contribution").asDouble()).as(where)
          .isCloseTo(code.getDouble(2), within(1e-9));
    }
  }

  private static Map<String, Object> row() {
    return new LinkedHashMap<>(features.get(0));
  }

  private static String numericFeature() {
    FeatureSchema schema = FeatureSchema.fromConfig(fixture.config);
    return schema.numeric().get(0);
  }

  private static String categoricalFeature() {
    FeatureSchema schema = FeatureSchema.fromConfig(fixture.config);
    return schema.categorical().get(0);
  }

  private static JsonNode error(ServeFixture.Reply reply, int status) throws Exception {
    assertThat(reply.status()).as(reply.body()).isEqualTo(status);
    assertThat(reply.raw().headers().firstValue("Content-Type").orElse(""))
        .startsWith("application/json");
    return JSON.readTree(reply.body());
  }

  @Test
  void malformedJsonIs400() throws Exception {
    JsonNode e = error(client.post("/score", "{\"age\": 3,"), 400);
    assertThat(e.get("field").asText()).isEqualTo("body");
    assertThat(e.get("error").asText()).startsWith("Malformed JSON at line 1");
    assertThat(error(client.post("/score", "[1, 2]"), 400).get("error").asText())
        .contains("expected a JSON object of features, got an array");
    assertThat(error(client.post("/score", ""), 400).get("error").asText())
        .startsWith("Empty body");
  }

  @Test
  void aMissingFeatureIs400NamingIt() throws Exception {
    Map<String, Object> row = row();
    String name = numericFeature();
    row.remove(name);
    JsonNode e = error(client.post("/score", JSON.writeValueAsString(row)), 400);
    assertThat(e.get("field").asText()).isEqualTo(name);
    assertThat(e.get("error").asText()).startsWith("Missing feature '" + name + "'");
  }

  @Test
  void aWronglyTypedFeatureIs400NamingIt() throws Exception {
    Map<String, Object> row = row();
    String name = numericFeature();
    row.put(name, "many");
    JsonNode e = error(client.post("/score", JSON.writeValueAsString(row)), 400);
    assertThat(e.get("field").asText()).isEqualTo(name);
    assertThat(e.get("error").asText())
        .isEqualTo("Invalid feature '" + name + "': expected a number or null, got a string");
    row = row();
    row.put(categoricalFeature(), Map.of("a", 1));
    e = error(client.post("/score", JSON.writeValueAsString(row)), 400);
    assertThat(e.get("field").asText()).isEqualTo(categoricalFeature());
    assertThat(e.get("error").asText()).contains("expected a string category or null");
  }

  @Test
  void aBadRowInABatchIsNamedByItsIndex() throws Exception {
    Map<String, Object> bad = row();
    bad.put(numericFeature(), true);
    JsonNode e = error(client.post("/score/batch", JSON.writeValueAsString(
        Map.of("rows", List.of(row(), bad)))), 400);
    assertThat(e.get("field").asText()).isEqualTo("rows[1]." + numericFeature());
    assertThat(error(client.post("/score/batch", "{\"rows\": 3}"), 400).get("field").asText())
        .isEqualTo("rows");
  }

  @Test
  void anUnknownCategoryIsScoredAndFlagged() throws Exception {
    Map<String, Object> row = row();
    row.put(categoricalFeature(), "never-seen-value");
    ServeFixture.Reply reply = client.post("/score", JSON.writeValueAsString(row));
    assertThat(reply.status()).as(reply.body()).isEqualTo(200);
    JsonNode body = JSON.readTree(reply.body());
    assertThat(body.get("propensity").asDouble()).isBetween(0.0, 1.0);
    assertThat(body.get("unseen_categories").get(categoricalFeature()).asText())
        .isEqualTo("never-seen-value");
  }

  @Test
  void aBatchOverTheLimitAndAnOversizedBodyAre413() throws Exception {
    try (ServeServer small = fixture.start(Map.of(), "serve.batch-limit=2",
        "serve.max-body-size=2k")) {
      ServeFixture.Client c = new ServeFixture.Client(small, null);
      JsonNode e = error(c.post("/score/batch", JSON.writeValueAsString(
          Map.of("rows", List.of(Map.of(), Map.of(), Map.of())))), 413);
      assertThat(e.get("field").asText()).isEqualTo("rows");
      assertThat(e.get("error").asText()).contains("the limit is propensity.serve.batch-limit = 2");
      e = error(c.post("/score", "{\"x\": \"" + "y".repeat(5000) + "\"}"), 413);
      assertThat(e.get("field").asText()).isEqualTo("body");
      assertThat(e.get("error").asText()).contains("over the limit of 2048");
      // the service runs on
      assertThat(c.post("/score", JSON.writeValueAsString(row())).status()).isEqualTo(200);
      assertThat(c.get("/health").status()).isEqualTo(200);
    }
  }
}
