package dev.propensity.jobs.explain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;

/** The waterfall's steps without Spark: small contributions summed, the end is the output. */
class WaterfallTest {

  @Test
  void stepsBeyondTheShownOnesAreSummedAndTheEndIsTheOutput() {
    List<Row> codes = List.of(RowFactory.create("spend", "120.5", 0.30),
        RowFactory.create("region", null, -0.12), RowFactory.create("visits", "3", 0.05),
        RowFactory.create("recency", "40", -0.02));
    Waterfall w = Waterfall.of("c<1>", 0.2, 0.41, "probability", codes, 2);
    assertThat(w.steps()).extracting(Waterfall.Step::feature)
        .containsExactly("spend", "region", "other 2 features");
    assertThat(w.steps().get(2).contribution()).isCloseTo(0.03, within(1e-12));
    assertThat(w.end()).isCloseTo(0.41, within(1e-12));
    String svg = w.svg("waterfall-c1");
    assertThat(svg).contains("spend = 120.5").contains(">region<").contains("c&lt;1&gt;")
        .contains("data-output=\"0.41\"").contains("data-base=\"0.2\"");
    assertThat(svg.split("class=\"bar\"", -1)).hasSize(4);
    assertThat(Waterfall.compact("77.94117647058823")).isEqualTo("77.94");
    assertThat(Waterfall.compact("16.0")).isEqualTo("16");
    assertThat(Waterfall.compact("0-30d")).isEqualTo("0-30d");
    assertThat(w.page("Customer c<1>")).startsWith("<!DOCTYPE html>").doesNotContain("c<1>");
  }

  @Test
  void aMissingNumericValueReadsMissingNotNaN() {
    List<Row> codes = List.of(RowFactory.create("click_to_open", "NaN", 0.2),
        RowFactory.create("visits", "3", 0.05));
    Waterfall w = Waterfall.of("c2", 0.1, 0.35, "probability", codes, 5);
    assertThat(w.svg("waterfall-c2")).contains("click_to_open = missing").doesNotContain("NaN");
    assertThat(w.page("Customer c2")).contains("<td>missing</td>").doesNotContain("NaN");
  }
}
