package dev.propensity.common.bins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class BinsMathTest {

  @Test
  void binOneHoldsTheHighestScoresAndEdgeTiesGoDown() {
    double[] edges = {0.2, 0.5, 0.8};
    assertThat(BinEdges.binOf(0.95, edges)).isEqualTo(1);
    assertThat(BinEdges.binOf(0.8, edges)).isEqualTo(2);
    assertThat(BinEdges.binOf(0.5, edges)).isEqualTo(3);
    assertThat(BinEdges.binOf(0.0, edges)).isEqualTo(4);
    assertThat(BinEdges.binOf(2.0, edges)).isEqualTo(1);
    assertThat(BinEdges.binOf(-1.0, edges)).isEqualTo(4);
  }

  @Test
  void duplicateQuantilesGiveFewerButNonEmptyBins() {
    // all scores equal: every quantile equals the minimum -> one bin
    assertThat(BinEdges.fromQuantiles(new double[] {0.3, 0.3, 0.3}, 0.3)).isEmpty();
    // many ties at the bottom
    assertThat(BinEdges.fromQuantiles(new double[] {0.1, 0.1, 0.1, 0.4, 0.7}, 0.1))
        .containsExactly(0.4, 0.7);
    assertThat(BinEdges.quantileProbabilities(4)).containsExactly(0.25, 0.5, 0.75);
  }

  @Test
  void statisticsMatchAHandComputedTable() {
    // 3 bins of 10 rows with 5, 3, 2 positives: overall rate 10/30
    List<BinStatistics> s = BinStatistics.of(List.of(
        new BinStatistics.Counts(1, 10, 5, 0.7, 0.9),
        new BinStatistics.Counts(2, 10, 3, 0.4, 0.7),
        new BinStatistics.Counts(3, 10, 2, 0.1, 0.4)));
    assertThat(s.get(0).conversionRate()).isCloseTo(0.5, within(1e-12));
    assertThat(s.get(0).lift()).isCloseTo(1.5, within(1e-12));
    assertThat(s.get(1).lift()).isCloseTo(0.9, within(1e-12));
    assertThat(s.get(2).lift()).isCloseTo(0.6, within(1e-12));
    assertThat(s.get(0).cumulativeGain()).isCloseTo(0.5, within(1e-12));
    assertThat(s.get(1).cumulativeGain()).isCloseTo(0.8, within(1e-12));
    assertThat(s.get(2).cumulativeGain()).isCloseTo(1.0, within(1e-12));
    assertThat(s.get(1).cumulativeCustomers()).isCloseTo(2.0 / 3, within(1e-12));
    assertThat(s.get(1).cumulativeLift()).isCloseTo(0.8 / (2.0 / 3), within(1e-12));
  }
}
