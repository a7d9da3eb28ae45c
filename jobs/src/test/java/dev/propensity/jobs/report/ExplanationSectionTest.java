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
}
