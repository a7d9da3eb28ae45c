package dev.propensity.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.propensity.common.SparkTestBase;
import io.delta.kernel.defaults.engine.DefaultEngine;
import io.delta.kernel.engine.Engine;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The lookup table loader on a small table Spark writes, with strings JSON must escape (quotes,
 * backslashes, control characters, non-ASCII) in ids, top-level and nested columns, and the
 * segments join per lookup: on one thread (a reload) and on several (the start-up), where the
 * segments load beside the table.
 */
class LookupTableTest extends SparkTestBase {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> IDS = List.of("plain", "quo\"te", "back\\slash",
      "tab\tnew\nline", "café", "emoji \uD83D\uDE00", "no-segment", "other-run");
  private static Path warehouse;

  @BeforeAll
  static void write() {
    warehouse = tempWarehouse("lookup-table");
    // a few rows per file, several files: the loader reads them in parallel
    spark().sql("SELECT id AS customer_id, CAST(length(id) AS DOUBLE) / 64 AS propensity, 2 AS bin,"
        + " concat('group ', id) AS group_label,"
        + " map(concat('voter ', id), 0.25D, 'logistic', 0.5D) AS voter_probabilities,"
        + " array(named_struct('feature', concat('f_', id), 'value', id,"
        + "   'contribution', -0.125D)) AS reason_codes,"
        + " 'run-1' AS run_id, DATE'2026-06-30' AS snapshot_date,"
        + " TIMESTAMP'2026-07-01 02:03:04.5' AS scored_at, false AS is_stale"
        + " FROM VALUES " + values() + " AS t(id)").repartition(3)
        .write().format("delta").save(warehouse.resolve(LookupTable.TABLE).toString());
    spark().sql("SELECT id AS customer_id, DATE'2026-06-30' AS snapshot_date,"
        + " CASE WHEN id = 'other-run' THEN 'run-0' ELSE 'run-1' END AS run_id,"
        + " concat('seg \"', id, '\"') AS segment, 'nurture-email' AS action"
        + " FROM VALUES " + values() + " AS t(id) WHERE id <> 'no-segment'")
        .write().format("delta").partitionBy("snapshot_date")
        .save(warehouse.resolve(Segments.TABLE).toString());
  }

  @Test
  void rowsEqualSparksValuesWithEscapedStringsOnOneThreadAndOnSeveral() throws Exception {
    for (int threads : new int[] {1, 3}) {
      LookupTable table = load(threads);
      assertThat(table.size()).as("threads %s", threads).isEqualTo(IDS.size());
      for (Row r : spark().read().format("delta")
          .load(warehouse.resolve(LookupTable.TABLE).toString()).collectAsList()) {
        String id = r.getString(r.fieldIndex("customer_id"));
        JsonNode row = JSON.readTree(text(table.get(id)));
        assertThat(row.get("customer_id").asText()).isEqualTo(id);
        assertThat(row.get("propensity").asDouble())
            .isEqualTo(id.codePointCount(0, id.length()) / 64.0);
        assertThat(row.get("group_label").asText()).isEqualTo("group " + id);
        assertThat(row.get("voter_probabilities").get("voter " + id).asDouble()).isEqualTo(0.25);
        JsonNode code = row.get("reason_codes").get(0);
        assertThat(code.get("feature").asText()).isEqualTo("f_" + id);
        assertThat(code.get("value").asText()).isEqualTo(id);
        assertThat(code.get("contribution").asDouble()).isEqualTo(-0.125);
        assertThat(row.get("snapshot_date").asText()).isEqualTo("2026-06-30");
        assertThat(row.get("scored_at").asText()).isEqualTo("2026-07-01T02:03:04.500Z");
        // the segment of the same snapshot and run only
        if (id.equals("no-segment") || id.equals("other-run")) {
          assertThat(row.has("segment")).as(id).isFalse();
        } else {
          assertThat(row.get("segment").asText()).isEqualTo("seg \"" + id + "\"");
          assertThat(row.get("action").asText()).isEqualTo("nurture-email");
        }
      }
      assertThat(table.get("unknown")).isNull();
      assertThat(table.segmented()).isEqualTo(IDS.size() - 1);
    }
  }

  private static LookupTable load(int threads) throws Exception {
    Engine engine = DefaultEngine.create(new Configuration());
    return LookupTable.load(
        new KernelTable(engine, warehouse.resolve(LookupTable.TABLE).toUri().toString()),
        new KernelTable(engine, warehouse.resolve(Segments.TABLE).toUri().toString()), threads);
  }

  private static String text(ByteBuffer b) {
    byte[] bytes = new byte[b.remaining()];
    b.duplicate().get(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static String values() {
    StringBuilder sb = new StringBuilder();
    for (String id : IDS) {
      sb.append(sb.length() == 0 ? "" : ", ").append("('")
          .append(id.replace("\\", "\\\\").replace("'", "\\'").replace("\t", "\\t")
              .replace("\n", "\\n"))
          .append("')");
    }
    return sb.toString();
  }
}
