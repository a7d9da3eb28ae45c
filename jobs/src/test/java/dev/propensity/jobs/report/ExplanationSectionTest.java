package dev.propensity.jobs.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.propensity.common.config.JobConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The explanation section's settings and its choice of example customers, without Spark. */
class ExplanationSectionTest {

  @Test
  void defaultsArePinnedAndNegativeValuesRejected() {
    assertThat(ExplanationSection.Settings.of(JobConfig.defaults()))
        .isEqualTo(new ExplanationSection.Settings(500, 15, 4, 3));
    assertThatThrownBy(() -> ExplanationSection.Settings.of(JobConfig.defaults()
        .with("report.dependence-top=-1")))
        .hasMessageContaining("Invalid config 'propensity.report.dependence-top' = '-1'")
        .hasMessageContaining("at least 0");
  }

  @Test
  void examplesAreTopBinCustomersByIdElseTheHighestScores() {
    List<Explanations.Customer> scored = List.of(customer("b", 1, 0.5), customer("c", 2, 0.9),
        customer("a", 1, 0.4), customer("d", 1, 0.7));
    assertThat(ExplanationSection.examples(scored, 2)).extracting(Explanations.Customer::id)
        .containsExactly("a", "b");
    List<Explanations.Customer> unscored = List.of(customer("x", null, 0.2),
        customer("y", null, 0.8), customer("z", null, 0.5));
    assertThat(ExplanationSection.examples(unscored, 2)).extracting(Explanations.Customer::id)
        .containsExactly("y", "z");
  }

  private static Explanations.Customer customer(String id, Integer bin, double output) {
    return new Explanations.Customer(id, bin, null, null, 0.1, output, List.of());
  }

  @Test
  void missingNumericValuesAreMissingNotACategoryNamedNaN() {
    // a ratio feature that is NaN for most customers (no opens), a number for the rest
    List<Explanations.Customer> customers = new java.util.ArrayList<>();
    for (int i = 0; i < 20; i++) {
      String value = i < 15 ? "NaN" : String.valueOf(0.1 * i);
      customers.add(new Explanations.Customer("c" + i, 1 + i % 2, "g" + i % 2, null, 0.1,
          0.1 + 0.01 * i, List.of(org.apache.spark.sql.RowFactory.create("click_to_open", value,
              0.01 * (i - 10)))));
    }
    Explanations ex = new Explanations("test", "probability", List.of("click_to_open"),
        List.of(), customers);
    assertThat(ex.numeric("click_to_open")).isTrue();
    assertThat(ex.dependence("click_to_open")[0]).hasSize(5);
    HtmlReport page = new HtmlReport("t");
    ExplanationSection.add(page, ex, ExplanationSection.Settings.of(JobConfig.defaults()));
    assertThat(page.render()).contains("click_to_open = missing").doesNotContain("NaN");
  }
}
