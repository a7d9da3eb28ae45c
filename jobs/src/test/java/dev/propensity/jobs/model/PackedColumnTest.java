package dev.propensity.jobs.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Columns packed in the narrowest type that holds them, and decoded bit for bit. */
class PackedColumnTest {

  private static void assertPacksAs(String type, long bytes, double... values) {
    PackedColumn c = PackedColumn.of(values, 0, 1, values.length);
    assertThat(c.type()).as(Arrays.toString(values)).isEqualTo(type);
    assertThat(c.bytes()).as("bytes of %s", Arrays.toString(values)).isEqualTo(bytes);
    double[] back = new double[values.length];
    c.decode(0, values.length, back, 0, 1);
    assertThat(Arrays.stream(back).mapToLong(Double::doubleToRawLongBits).toArray())
        .as("decoded bit for bit: %s", Arrays.toString(values))
        .containsExactly(Arrays.stream(values).mapToLong(Double::doubleToRawLongBits).toArray());
  }

  @Test
  void eachColumnTakesTheNarrowestTypeThatHoldsEveryValueExactly() {
    assertPacksAs("constant", 8, 1, 1, 1, 1);
    assertPacksAs("constant", 8, Double.NaN, Double.NaN);
    assertPacksAs("byte", 4, 0, 1, 0, 0);
    assertPacksAs("byte", 3, -128, 127, 5);
    assertPacksAs("short", 6, 0, 128, -300);
    assertPacksAs("int", 8, 40_000, -7);
    assertPacksAs("float", 12, 0.5, 0.25, 3);
    assertPacksAs("float", 8, 1, Double.NaN);
    assertPacksAs("float", 8, 0.0, -0.0); // -0.0 is not the byte 0
    assertPacksAs("float", 8, 1e10, 2); // beyond an int, but a float's 24 bits hold it
    assertPacksAs("double", 16, 0.1, 1);
    assertPacksAs("double", 16, 1e10 + 1, 2);
    assertPacksAs("double", 24, 1, Double.POSITIVE_INFINITY, Double.MIN_VALUE);
  }

  @Test
  void aColumnOfARowMajorArrayIsPackedAndDecodedInPlace() {
    // 3 rows x 2 columns, row-major: column 0 counts, column 1 amounts
    double[] rows = {1, 0.1, 2, 0.2, 300, 0.3};
    PackedColumn counts = PackedColumn.of(rows, 0, 2, 3);
    PackedColumn amounts = PackedColumn.of(rows, 1, 2, 3);
    assertThat(counts.type()).isEqualTo("short");
    assertThat(amounts.type()).isEqualTo("double");

    double[] back = new double[6];
    counts.decode(0, 3, back, 0, 2);
    amounts.decode(0, 3, back, 1, 2);
    assertThat(back).containsExactly(rows);

    double[] tail = new double[4];
    counts.decode(1, 2, tail, 0, 2);
    amounts.decode(1, 2, tail, 1, 2);
    assertThat(tail).as("rows 1 and 2").containsExactly(2, 0.2, 300, 0.3);
  }
}
