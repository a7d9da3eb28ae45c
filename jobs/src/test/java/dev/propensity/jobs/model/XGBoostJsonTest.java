package dev.propensity.jobs.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The double threshold that decides every double as XGBoost's {@code (float) x < split}. */
class XGBoostJsonTest {

  @Test
  void thresholdDecidesEveryDoubleAsXGBoostsFloatComparison() {
    Random r = new Random(5);
    float[] splits = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1f, -1f, 0.1f, 1.4844257e-1f,
        16777216f, 1e-30f, -3.75e7f};
    for (int k = 0; k < 20_000; k++) {
      float s = k < splits.length ? splits[k] : (float) (r.nextGaussian() * Math.pow(10,
          r.nextInt(12) - 6));
      double t = XGBoostJson.threshold(s);
      float below = Math.nextDown(s);
      double mid = ((double) below + s) / 2;
      // the doubles around the two rounding boundaries, and the floats themselves
      double[] xs = {mid, Math.nextDown(mid), Math.nextUp(mid), s, below, Math.nextUp(s),
          Math.nextDown((double) s), Math.nextUp((double) below), t, Math.nextUp(t)};
      for (double x : xs) {
        assertThat(x <= t).as("split %s, x %s", s, x).isEqualTo((float) x < s);
      }
    }
  }
}
