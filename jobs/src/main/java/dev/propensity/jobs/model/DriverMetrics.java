package dev.propensity.jobs.model;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeMap;

/**
 * {@link Metrics#evaluate}'s metrics of rows collected on the driver, computed as its Spark SQL
 * does, operation for operation, so that both give the same doubles: every exact sum adds each
 * row's term rounded to {@code decimal(38, 18)} as Spark's cast does ({@link Double#toString},
 * rounded half up), and the logarithm and power are {@link StrictMath}'s, as in
 * Spark's expressions. A small split (validation, test, out-of-fold rows) is scored in a
 * fraction of the ten Spark jobs the SQL form runs.
 *
 * <p>Scores and labels are taken as non-null, non-NaN doubles, a score of -0.0 read as 0.0 (Spark
 * groups the two as one score); {@link Metrics} keeps rows with nulls or NaN on Spark. The
 * calibration table's label sums are plain double sums, as Spark's {@code sum}: exact for 0/1
 * labels in any order.
 */
final class DriverMetrics {

  private static final int SCALE = 18;

  /**
   * The distinct scores from the highest (NaN, Spark's largest double, first and one score):
   * positives, negatives, and both counted from the top.
   */
  private record Curve(double[] p, long[] pos, long[] neg, long[] tp, long[] fp) {

    static Curve of(double[] p, double[] y) {
      Integer[] order = new Integer[p.length];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
      int distinct = 0;
      for (int i = 0; i < order.length; i++) {
        if (i == 0 || Double.compare(p[order[i]], p[order[i - 1]]) != 0) {
          distinct++;
        }
      }
      Curve c = new Curve(new double[distinct], new long[distinct], new long[distinct],
          new long[distinct], new long[distinct]);
      int k = -1;
      for (int i = 0; i < order.length; i++) {
        if (i == 0 || Double.compare(p[order[i]], p[order[i - 1]]) != 0) {
          k++;
          c.p[k] = p[order[i]];
        }
        if (y[order[i]] == 1) {
          c.pos[k]++;
        } else {
          c.neg[k]++;
        }
      }
      long tp = 0;
      long fp = 0;
      for (int j = 0; j < distinct; j++) {
        tp += c.pos[j];
        fp += c.neg[j];
        c.tp[j] = tp;
        c.fp[j] = fp;
      }
      return c;
    }

    int size() {
      return p.length;
    }

    long positives() {
      return p.length == 0 ? 0 : tp[p.length - 1];
    }

    long negatives() {
      return p.length == 0 ? 0 : fp[p.length - 1];
    }
  }

  private DriverMetrics() {}

  /**
   * @param p the scores (no NaN)
   * @param y the labels: 1 positive, 0 negative (any other value counts as neither predicted
   *     class in the confusion counts, as on Spark)
   * @param fixed the threshold, or empty for the F1-maximising one
   * @return the metrics {@link Metrics#evaluate} returns for these rows
   */
  static Map<String, Object> evaluate(double[] p, double[] y, OptionalDouble fixed) {
    double[] scores = normalised(p);
    Curve curve = Curve.of(scores, y);
    long positives = curve.positives();
    long negatives = curve.negatives();
    long n = positives + negatives;
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("rows", n);
    if (n == 0) {
      return out;
    }
    boolean bothClasses = positives > 0 && positives < n;
    double threshold = Metrics.threshold(fixed, bothClasses,
        () -> bestF1Threshold(curve, positives));

    BigDecimal logLikelihood = BigDecimal.ZERO;
    BigDecimal squares = BigDecimal.ZERO;
    long tp = 0;
    long fp = 0;
    long fn = 0;
    for (int i = 0; i < scores.length; i++) {
      double s = scores[i];
      double label = y[i];
      double pc = Math.min(Math.max(s, Metrics.EPS), 1 - Metrics.EPS);
      logLikelihood = logLikelihood.add(decimal(label * StrictMath.log(pc)
          + (1 - label) * StrictMath.log(1 - pc)));
      squares = squares.add(decimal(StrictMath.pow(s - label, 2)));
      boolean predicted = s >= threshold;
      if (predicted && label == 1) {
        tp++;
      } else if (predicted && label == 0) {
        fp++;
      } else if (!predicted && label == 1) {
        fn++;
      }
    }
    long tn = n - tp - fp - fn;
    out.put("positives", positives);
    out.put("positive_rate", positives / (double) n);
    out.put("auc_roc", bothClasses ? aucRoc(curve, positives, negatives) : null);
    out.put("auc_pr", bothClasses ? aucPr(curve, positives) : null);
    out.put("log_loss", -logLikelihood.doubleValue() / n);
    out.put("brier", squares.doubleValue() / n);
    out.put("threshold", threshold);
    Metrics.putAtThreshold(out, tp, fp, tn, fn);
    out.put("top_decile_lift", positives == 0 ? null : topDecileLift(curve, n, positives));
    out.put("calibration", calibration(scores, y));
    return out;
  }

  /** A double as Spark casts it to {@code decimal(38, 18)}: its string, rounded half up. */
  private static BigDecimal decimal(double v) {
    return new BigDecimal(Double.toString(v)).setScale(SCALE, RoundingMode.HALF_UP);
  }

  /** @return {@link Metrics#aucRoc(double[], double[])}: 1 marks a positive, any other a negative */
  static double aucRoc(double[] p, double[] y) {
    Curve c = Curve.of(normalised(p), y);
    return aucRoc(c, c.positives(), c.negatives());
  }

  /**
   * @return the AUC-PR {@link Metrics#cvMetric} computes: 1 marks a positive, any other a
   *     negative; both classes must be present
   */
  static double aucPr(double[] p, double[] y) {
    Curve c = Curve.of(normalised(p), y);
    return aucPr(c, c.positives());
  }

  private static double[] normalised(double[] p) {
    double[] scores = new double[p.length];
    for (int i = 0; i < p.length; i++) {
      scores[i] = p[i] + 0.0; // -0.0 + 0.0 is 0.0: one score, as Spark groups them
    }
    return scores;
  }

  private static double aucRoc(Curve c, long positives, long negatives) {
    long pairs = 0;
    for (int j = 0; j < c.size(); j++) {
      pairs += c.neg[j] * (c.tp[j] * 2 - c.pos[j]);
    }
    return pairs / (2.0 * positives * negatives);
  }

  private static double aucPr(Curve c, long positives) {
    BigDecimal area = BigDecimal.ZERO;
    for (int j = 0; j < c.size(); j++) {
      double precision = (double) c.tp[j] / (double) (c.tp[j] + c.fp[j]);
      long prevTp = c.tp[j] - c.pos[j];
      long prevAll = prevTp + c.fp[j] - c.neg[j];
      double prevPrecision = prevAll == 0 ? precision : (double) prevTp / (double) prevAll;
      area = area.add(decimal((double) c.pos[j] / (double) positives
          * (precision + prevPrecision) / 2));
    }
    return area.doubleValue();
  }

  private static double bestF1Threshold(Curve c, long positives) {
    // the highest score among those of the largest F1: the curve runs from the highest score
    int best = 0;
    double bestF1 = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < c.size(); j++) {
      double f1 = (double) (c.tp[j] * 2) / (double) (c.tp[j] + c.fp[j] + positives);
      if (f1 > bestF1) {
        bestF1 = f1;
        best = j;
      }
    }
    return c.p[best];
  }

  private static double topDecileLift(Curve c, long n, long positives) {
    long k = (n + 9) / 10;
    int j = 0;
    while (c.tp[j] + c.fp[j] < k) {
      j++;
    }
    long tied = c.pos[j] + c.neg[j];
    long above = c.tp[j] + c.fp[j] - tied;
    long positivesAbove = c.tp[j] - c.pos[j];
    double hits = positivesAbove + (k - above) * c.pos[j] / (double) tied;
    return (hits / k) / (positives / (double) n);
  }

  /** One calibration bin's rows, exact sum of scores and sum of labels. */
  private static final class Bin {
    long rows;
    BigDecimal scores = BigDecimal.ZERO;
    double labels;
  }

  private static List<Map<String, Object>> calibration(double[] p, double[] y) {
    TreeMap<Integer, Bin> bins = new TreeMap<>();
    for (int i = 0; i < p.length; i++) {
      Bin bin = bins.computeIfAbsent((int) Math.min((long) Math.floor(
          p[i] * Metrics.CALIBRATION_BINS), Metrics.CALIBRATION_BINS - 1), b -> new Bin());
      bin.rows++;
      bin.scores = bin.scores.add(decimal(p[i]));
      bin.labels += y[i];
    }
    List<Map<String, Object>> out = new ArrayList<>();
    bins.forEach((b, bin) -> {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("bin", b);
      row.put("lower", b / (double) Metrics.CALIBRATION_BINS);
      row.put("upper", (b + 1) / (double) Metrics.CALIBRATION_BINS);
      row.put("rows", bin.rows);
      row.put("mean_predicted", bin.scores.doubleValue() / bin.rows);
      row.put("observed_rate", bin.labels / bin.rows);
      out.add(row);
    });
    return out;
  }
}
