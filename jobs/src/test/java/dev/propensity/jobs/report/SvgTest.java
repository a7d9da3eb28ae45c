package dev.propensity.jobs.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The report's SVG charts, read back from their markup. */
class SvgTest {

  private static List<Double> attr(String svg, String element, String cls, String name) {
    Matcher m = Pattern.compile("<" + element + " class=\"" + cls + "\"[^>]*? " + name
        + "=\"([-0-9.]+)\"").matcher(svg);
    List<Double> out = new ArrayList<>();
    while (m.find()) {
      out.add(Double.parseDouble(m.group(1)));
    }
    return out;
  }

  @Test
  void importanceBarsAreHorizontalWithOneReadableLabelPerBar() {
    List<String> names = new ArrayList<>();
    List<Double> values = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      names.add("orders_sum_amount_last_" + i + "_months");
      values.add(1.0 / (i + 1));
    }
    names.set(3, "a_feature_name_much_longer_than_the_report_leaves_room_for_on_the_left");
    String svg = Svg.hbars("importance-gbt", "Importance: gbt", "importance", names, values,
        "%.4f");

    assertThat(svg).contains("data-chart=\"importance-gbt\"").contains("data-kind=\"horizontal\"");
    List<Double> barY = attr(svg, "rect", "bar", "y");
    List<Double> barX = attr(svg, "rect", "bar", "x");
    List<Double> width = attr(svg, "rect", "bar", "width");
    List<Double> labelY = attr(svg, "text", "category", "y");
    assertThat(barY).hasSize(20);
    assertThat(labelY).hasSize(20);
    assertThat(attr(svg, "text", "value", "y")).hasSize(20);
    for (int i = 1; i < 20; i++) {
      // one row per bar, top to bottom, at least a 12px line apart: no label over another
      assertThat(barY.get(i) - barY.get(i - 1)).isGreaterThanOrEqualTo(12);
      assertThat(labelY.get(i) - labelY.get(i - 1)).isGreaterThanOrEqualTo(12);
      assertThat(barX.get(i)).isEqualTo(barX.get(0)); // all grow from the same left edge
      assertThat(width.get(i)).isLessThan(width.get(i - 1)); // length is the value
    }
    // every label ends left of the bars; the long one is cut and keeps its full name as tooltip
    assertThat(svg).contains("<title>" + names.get(3) + "</title>a_feature_name_much_longer")
        .contains("\u2026</text>");
    assertThat(svg).contains(">1.0000</text>").contains(">0.0500</text>");
    assertThat(svg).doesNotContain("NaN");
  }

  @Test
  void anUndefinedValueHasNoBarAndReadsNotAvailable() {
    String svg = Svg.hbars("lift", "Lift by bin", "lift", List.of("bin 1", "bin 2", "bin 3"),
        List.of(2.5, Double.NaN, 0.4), "%.2f");
    assertThat(svg).contains(">2.50</text>").contains(">n/a</text>").contains(">0.40</text>")
        .doesNotContain("NaN").doesNotContain("Infinity");
  }

  @Test
  void negativeValuesGrowLeftOfZero() {
    String svg = Svg.hbars("dependence-region", "Dependence", "mean contribution",
        List.of("north", "south"), List.of(0.2, -0.1), "%+.4f");
    List<Double> x = attr(svg, "rect", "bar", "x");
    List<Double> w = attr(svg, "rect", "bar", "width");
    assertThat(x.get(1) + w.get(1)).isCloseTo(x.get(0), org.assertj.core.data.Offset.offset(0.2));
    assertThat(svg).contains(">+0.2000</text>").contains(">-0.1000</text>");
  }

  @Test
  void beeswarmHasOneRowPerFeatureAndOneDotPerCustomer() {
    String svg = Svg.beeswarm("shap-summary", "SHAP summary", List.of(
        new Svg.Swarm("recency", new double[] {0.1, 0.1, 0.1, -0.2}, new double[] {0, 1, 0.5,
            Double.NaN}),
        new Svg.Swarm("region", new double[] {0.0, 0.05, 0.0, 0.0}, new double[] {Double.NaN,
            Double.NaN, Double.NaN, Double.NaN})));
    assertThat(attr(svg, "text", "category", "y")).hasSize(2);
    assertThat(svg.split("<circle class=\"dot\"", -1)).hasSize(9);
    assertThat(svg).contains(Svg.colour(0)).contains(Svg.colour(1)).contains("#999999")
        .doesNotContain("NaN");
  }

  @Test
  void scatterDrawsEveryPoint() {
    String svg = Svg.scatter("dependence-spend", "Dependence: spend", "spend", "contribution",
        new double[] {1, 2, 3}, new double[] {-0.1, 0, 0.1});
    assertThat(svg.split("<circle class=\"dot\"", -1)).hasSize(4);
    assertThat(svg).contains("data-kind=\"scatter\"").doesNotContain("NaN");
  }
}
