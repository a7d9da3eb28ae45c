package dev.propensity.common.psi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** PSI math against values computed by hand (Python, see comments). */
class PsiTest {

  @Test
  void identicalDistributionsHaveZeroPsi() {
    assertThat(Psi.psi(new double[] {10, 20, 30}, new double[] {1, 2, 3}, 1e-4))
        .isCloseTo(0.0, within(1e-12));
  }

  @Test
  void matchesHandComputedValue() {
    // shares .25 x4 vs .1 .2 .3 .4: sum (a-e) ln(a/e) = 0.22821740957339182
    assertThat(Psi.psi(new double[] {25, 25, 25, 25}, new double[] {10, 20, 30, 40}, 1e-4))
        .isCloseTo(0.22821740957339182, within(1e-12));
  }

  @Test
  void emptyBucketUsesEpsilon() {
    // e = .5 .5 1e-4, a = .4 .4 .2 -> 1.5640491119253044
    assertThat(Psi.psi(new double[] {50, 50, 0}, new double[] {40, 40, 20}, 1e-4))
        .isCloseTo(1.5640491119253044, within(1e-12));
  }

  @Test
  void rejectsMismatchedOrEmptyInput() {
    assertThatThrownBy(() -> Psi.psi(new double[] {1, 2}, new double[] {1}, 1e-4))
        .hasMessageContaining("2 baseline buckets but 1 current buckets");
    assertThatThrownBy(() -> Psi.psi(new double[] {0, 0}, new double[] {1, 1}, 1e-4))
        .hasMessageContaining("the baseline has no rows");
    assertThatThrownBy(() -> Psi.psi(new double[] {1}, new double[] {1}, 0))
        .hasMessageContaining("epsilon");
  }

  @Test
  void valueOnAnEdgeGoesToTheLowerBucket() {
    double[] edges = {1.0, 2.0, 3.0};
    assertThat(Psi.bucketOf(0.5, edges)).isEqualTo(0);
    assertThat(Psi.bucketOf(1.0, edges)).isEqualTo(0);
    assertThat(Psi.bucketOf(1.5, edges)).isEqualTo(1);
    assertThat(Psi.bucketOf(3.0, edges)).isEqualTo(2);
    assertThat(Psi.bucketOf(99, edges)).isEqualTo(3);
  }

  @Test
  void duplicateQuantilesCollapse() {
    assertThat(Psi.distinctEdges(new double[] {0, 0, 0, 1, 1, 5, Double.NaN}))
        .containsExactly(0, 1, 5);
  }

  @Test
  void levelsFollowThresholds() {
    assertThat(Psi.level(0.05, 0.1, 0.2)).isEqualTo("stable");
    assertThat(Psi.level(0.1, 0.1, 0.2)).isEqualTo("moderate");
    assertThat(Psi.level(0.2, 0.1, 0.2)).isEqualTo("significant");
  }
}
