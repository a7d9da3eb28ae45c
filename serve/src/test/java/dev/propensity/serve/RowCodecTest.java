package dev.propensity.serve;

import static org.assertj.core.api.Assertions.assertThat;

import dev.propensity.common.SparkTestBase;
import io.delta.kernel.data.ColumnVector;
import io.delta.kernel.data.Row;
import io.delta.kernel.defaults.engine.DefaultEngine;
import io.delta.kernel.types.StructType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The binary row form against the oracle of the JSON that {@link JsonBytes#value} writes straight
 * from the column vectors: every type a lookup table may hold, nulls at every level, strings
 * that JSON must escape, and doubles of every kind, with string columns read as UTF-8 bytes and
 * as Kernel's strings.
 */
class RowCodecTest extends SparkTestBase {

  private static Path table;

  @BeforeAll
  static void write() {
    table = tempWarehouse("row-codec").resolve("t");
    spark().sql("SELECT * FROM VALUES"
        + " ('a\"b\\\\c', 0.1D, 1.5F, 7, 9000000000L, CAST(3 AS SHORT), CAST(-2 AS TINYINT),"
        + "   true, CAST(12.345 AS DECIMAL(10,3)), DATE'2026-06-30',"
        + "   TIMESTAMP'2026-07-01 02:03:04.5', named_struct('x', 'caf\u00e9', 'y', 1e-4D),"
        + "   array(named_struct('f', 'tab\\tx', 'c', -0.125D), NULL),"
        + "   map('k\"1', 0.30000000000000004D, 'k2', NULL), map(1, 'one'), X'0102'),"
        + " ('\u4e2d \uD83D\uDE00', CAST('NaN' AS DOUBLE), NULL, NULL, NULL, NULL, NULL, false,"
        + "   NULL, NULL, NULL, NULL, array(), map(), NULL, NULL),"
        + " ('nulls', -1.7976931348623157E308D, CAST('-Infinity' AS FLOAT), -1, -1L,"
        + "   CAST(-300 AS SHORT), CAST(127 AS TINYINT), NULL, CAST(-0.001 AS DECIMAL(10,3)),"
        + "   DATE'1969-12-31', TIMESTAMP'1969-12-31 23:59:59.999999', named_struct('x', NULL,"
        + "   'y', NULL), NULL, NULL, map(-5, NULL), NULL)"
        + " AS t(id, d, f, i, l, s, b, bool, dec, day, ts, st, arr, m, mi, bin)")
        .coalesce(1).write().format("delta").save(table.toString());
  }

  @Test
  void aRowRendersFromItsBinaryFormToTheJsonWrittenFromTheVectors() throws Exception {
    KernelTable kernel = new KernelTable(DefaultEngine.create(new Configuration()),
        table.toUri().toString());
    KernelTable.Files files = kernel.files(Optional.empty());
    StructType schema = files.schema();
    RowCodec codec = new RowCodec(schema, schema.indexOf("id"));
    for (boolean utf8 : new boolean[] {true, false}) {
      List<String> expected = new ArrayList<>();
      List<String> rendered = new ArrayList<>();
      for (Row file : files.files()) {
        KernelTable.Batches check = (batch, selection) -> {
          ColumnVector[] columns = new ColumnVector[schema.length()];
          for (int c = 0; c < columns.length; c++) {
            columns[c] = batch.getColumnVector(c);
          }
          for (int r = 0; r < batch.getSize(); r++) {
            JsonBytes oracle = new JsonBytes();
            for (int c = 0; c < columns.length; c++) {
              oracle.raw(c == 0 ? '{' : ',').name(schema.at(c).getName())
                  .value(columns[c], r, schema.at(c).getDataType());
            }
            oracle.raw(',').name("extra").string("e").raw('}');
            expected.add(text(oracle));
            RowCodec.Writer row = new RowCodec.Writer();
            codec.encode(columns, r,
                KernelTable.string(columns[0], r).getBytes(StandardCharsets.UTF_8), row);
            JsonBytes json = new JsonBytes();
            codec.render(row.buffer(), 0, ",\"extra\":\"e\"".getBytes(StandardCharsets.UTF_8),
                json);
            rendered.add(text(json));
          }
        };
        if (utf8) {
          kernel.readUtf8(files, file, check);
        } else {
          kernel.read(files, file, check);
        }
      }
      assertThat(rendered).as("utf8 %s", utf8).hasSize(3).isEqualTo(expected);
    }
  }

  private static String text(JsonBytes json) {
    return new String(json.buffer(), 0, json.length(), StandardCharsets.UTF_8);
  }
}
