package dev.propensity.common.explain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Linear SHAP against the Shapley definition, the probability links, fold and top k. */
class LinearShapAndLinkTest {

  @Test
  void linearShapIsTheShapleyValueOfTheLinearModelAgainstTheMeans() {
    double[] coef = {0.5, -2, 0, 1.25};
    double[] mean = {1, 0.5, 3, -1};
    LinearShap lin = new LinearShap(coef, 0.7, mean);
    Random rnd = new Random(5);
    for (int row = 0; row < 20; row++) {
      double[] x = rnd.doubles(4, -3, 3).toArray();
      double[] phi = new double[4];
      lin.shap(x, phi);
      // oracle: enumerate coalitions with v(S) = f(x_S, mean_rest)
      double[] expected = new double[4];
      for (int i = 0; i < 4; i++) {
        for (int mask = 0; mask < 16; mask++) {
          if ((mask & (1 << i)) != 0) {
            continue;
          }
          int size = Integer.bitCount(mask);
          double w = fact(size) * fact(4 - size - 1) / fact(4);
          expected[i] += w * (lin.predict(mix(x, mean, mask | (1 << i)))
              - lin.predict(mix(x, mean, mask)));
        }
      }
      for (int j = 0; j < 4; j++) {
        assertThat(phi[j]).isCloseTo(expected[j], within(1e-12));
      }
      assertThat(Arrays.stream(phi).sum() + lin.expectedValue())
          .isCloseTo(lin.predict(x), within(1e-12));
    }
    assertThat(lin.expectedValue()).isCloseTo(0.7 + 0.5 - 1 + 0 - 1.25, within(1e-15));
  }

  @Test
  void linearShapRejectsMismatchedInput() {
    assertThatThrownBy(() -> new LinearShap(new double[2], 0, new double[3]))
        .hasMessageContaining("2 coefficients but 3 means");
    assertThatThrownBy(() -> new LinearShap(new double[] {Double.NaN}, 0, new double[1]))
        .hasMessageContaining("feature 0 has coefficient NaN");
  }

  @Test
  void linksMatchMllibFormulas() {
    assertThat(Link.IDENTITY.probability(0.3)).isEqualTo(0.3);
    assertThat(Link.LOGISTIC.probability(0.4)).isCloseTo(1 / (1 + Math.exp(-0.4)), within(1e-15));
    assertThat(Link.LOGISTIC_2X.probability(0.4)).isCloseTo(1 / (1 + Math.exp(-0.8)),
        within(1e-15));
    double h = 1e-6;
    for (Link link : Link.values()) {
      double numeric = (link.probability(0.3 + h) - link.probability(0.3 - h)) / (2 * h);
      assertThat(link.derivative(0.3)).as(link.name()).isCloseTo(numeric, within(1e-8));
    }
  }

  @Test
  void probabilitySpaceKeepsAdditivitySignsAndRatios() {
    for (Link link : Link.values()) {
      double[] phi = {0.8, -0.3, 0.1};
      double expected = -0.4;
      double output = expected + 0.6;
      double base = link.toProbabilitySpace(phi, expected, output);
      assertThat(Arrays.stream(phi).sum() + base).as(link.name())
          .isCloseTo(link.probability(output), within(1e-15));
      assertThat(phi[0] / phi[1]).isCloseTo(0.8 / -0.3, within(1e-12));
      // output == expected: the derivative is used, contributions still sum to zero change
      double[] zero = {0.5, -0.5};
      double b = link.toProbabilitySpace(zero, 1.0, 1.0);
      assertThat(b).isEqualTo(link.probability(1.0));
      assertThat(zero[0]).isCloseTo(0.5 * link.derivative(1.0), within(1e-15));
    }
  }

  @Test
  void foldSumsSlotsPerFeatureAndTopKOrdersByMagnitude() {
    double[] features = new double[3];
    Contributions.fold(new double[] {1, 2, 3, 4, 5}, new int[] {0, 2, 2, -1, 1}, 0.5, features);
    assertThat(features).containsExactly(0.5, 2.5, 2.5);
    assertThat(Contributions.topK(new double[] {0.1, -0.9, 0.5, 0.9, 0}, 3))
        .containsExactly(1, 3, 2);
    assertThat(Contributions.topK(new double[] {0.1}, 3)).containsExactly(0);
    assertThatThrownBy(() -> Contributions.fold(new double[2], new int[3], 1, new double[3]))
        .hasMessageContaining("2 slots but 3 entries");
  }

  @Test
  void topKAgreesWithAFullSortIncludingTies() {
    java.util.Random random = new java.util.Random(7);
    for (int trial = 0; trial < 500; trial++) {
      double[] c = new double[1 + random.nextInt(20)];
      for (int i = 0; i < c.length; i++) {
        // few distinct magnitudes, both signs: many ties
        c[i] = (random.nextInt(5) - 2) * 0.25;
      }
      Integer[] order = new Integer[c.length];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      java.util.Arrays.sort(order, (a, b) -> {
        int cmp = Double.compare(Math.abs(c[b]), Math.abs(c[a]));
        return cmp != 0 ? cmp : Integer.compare(a, b);
      });
      for (int k = 0; k <= c.length + 1; k++) {
        int[] expected = java.util.Arrays.stream(order).limit(k).mapToInt(Integer::intValue)
            .toArray();
        assertThat(Contributions.topK(c, k)).as("k=%d of %s", k, java.util.Arrays.toString(c))
            .containsExactly(expected);
      }
    }
  }

  private static double[] mix(double[] x, double[] mean, int mask) {
    double[] out = new double[x.length];
    for (int j = 0; j < x.length; j++) {
      out[j] = (mask & (1 << j)) != 0 ? x[j] : mean[j];
    }
    return out;
  }

  private static double fact(int n) {
    double f = 1;
    for (int i = 2; i <= n; i++) {
      f *= i;
    }
    return f;
  }
}
