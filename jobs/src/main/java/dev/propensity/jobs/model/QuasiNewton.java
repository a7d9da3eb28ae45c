package dev.propensity.jobs.model;

import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * L-BFGS (history 10), or OWL-QN when coordinates carry an L1 weight, as a state machine that is
 * pushed values rather than pulling them: {@link #point()} is where it wants the smooth part of the
 * objective evaluated, {@link #accept} takes that value and gradient. Written here rather than
 * using Breeze's minimisers because those call the function themselves, one Spark job per call;
 * pushed values let many models share one Spark pass ({@link SharedLogistic}).
 *
 * <p>Line search: backtracking to the Armijo condition (each cut to the minimum of the quadratic
 * through the values and slope, within [0.1, 0.5] of the step), the first step of unit length as
 * in Breeze, later ones 1 or twice the last accepted step if that was shorter.
 * Stopping as Breeze's {@code FirstOrderMinimizer.defaultConvergenceCheck} that MLlib uses: max
 * iterations; the objective moved by at most {@code tol * |f(x0)|} over the last 20 iterations;
 * the (pseudo-)gradient's norm at most {@code max(tol * f, 1e-8)}; a failed line search (after one
 * retry with the history dropped).
 */
final class QuasiNewton {

  /** Why the minimiser stopped, or that it did not. */
  enum Stop { RUNNING, MAX_ITERATIONS, FUNCTION_VALUES, GRADIENT, SEARCH_FAILED }

  private static final int HISTORY = 10;
  private static final int VALUE_WINDOW = 20;
  private static final int MAX_BACKTRACKS = 30;
  private static final double ARMIJO = 1e-4;

  private final int n;
  private final double[] l1;
  private final int maxIter;
  private final double tol;

  private final double[][] s = new double[HISTORY][];
  private final double[][] y = new double[HISTORY][];
  private final double[] rho = new double[HISTORY];
  private int stored;
  private int newest = -1;

  private double[] x;
  private double[] grad;
  private double value;
  private double adjusted;
  private double[] adjustedGrad;
  private double initialAdjusted;
  private final ArrayDeque<Double> window = new ArrayDeque<>();

  private double[] trial;
  private double[] dir;
  private double step;
  private double lastStep = 1;
  private int backtracks;
  private boolean retried;
  private int iter;
  private int evaluations;
  private Stop stop = Stop.RUNNING;

  /**
   * @param x0 the starting point
   * @param l1 per coordinate L1 weight (all zero or null: L-BFGS)
   */
  QuasiNewton(double[] x0, double[] l1, int maxIter, double tol) {
    this.n = x0.length;
    this.l1 = l1 == null || Arrays.stream(l1).allMatch(v -> v == 0) ? null : l1.clone();
    this.maxIter = maxIter;
    this.tol = tol;
    this.trial = x0.clone();
  }

  /** @return the point whose smooth value and gradient {@link #accept} expects next */
  double[] point() {
    return trial;
  }

  boolean done() {
    return stop != Stop.RUNNING;
  }

  Stop stop() {
    return stop;
  }

  /** @return the best point so far (the solution once {@link #done()}) */
  double[] solution() {
    return x == null ? trial : x;
  }

  /** @return the objective (smooth part plus L1) at {@link #solution()} */
  double objective() {
    return adjusted;
  }

  int iterations() {
    return iter;
  }

  int evaluations() {
    return evaluations;
  }

  /** Takes the smooth objective's value and gradient at {@link #point()}. */
  void accept(double v, double[] g) {
    if (done()) {
      throw new IllegalStateException("Cannot accept a value: the minimiser has stopped (" + stop
          + ")");
    }
    evaluations++;
    double adj = v + l1Norm(trial);
    if (x == null) {
      if (!Double.isFinite(adj)) {
        throw new IllegalStateException("Cannot start minimising: the objective at the start"
            + " point is " + v);
      }
      moveTo(trial, v, g, adj);
      initialAdjusted = adjusted;
      window.add(Double.POSITIVE_INFINITY);
      if (maxIter <= 0) {
        stop = Stop.MAX_ITERATIONS;
      } else if (gradientConverged()) {
        stop = Stop.GRADIENT;
      } else {
        propose();
      }
      return;
    }
    double expected = 0;
    double[] pg = adjustedGrad;
    for (int i = 0; i < n; i++) {
      expected += pg[i] * (trial[i] - x[i]);
    }
    if (Double.isFinite(adj) && adj <= adjusted + ARMIJO * expected) {
      double[] sNew = new double[n];
      double[] yNew = new double[n];
      double sy = 0;
      for (int i = 0; i < n; i++) {
        sNew[i] = trial[i] - x[i];
        yNew[i] = g[i] - grad[i];
        sy += sNew[i] * yNew[i];
      }
      // keep a pair only with positive curvature (relative: near the optimum steps are tiny)
      if (sy > 1e-10 * Math.sqrt(dot(sNew, sNew) * dot(yNew, yNew))) {
        newest = (newest + 1) % HISTORY;
        s[newest] = sNew;
        y[newest] = yNew;
        rho[newest] = 1 / sy;
        stored = Math.min(stored + 1, HISTORY);
      }
      moveTo(trial, v, g, adj);
      lastStep = stored == 0 ? 1 : step;
      iter++;
      window.add(adjusted);
      while (window.size() > VALUE_WINDOW) {
        window.removeFirst();
      }
      double max = window.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
      if (iter >= maxIter) {
        stop = Stop.MAX_ITERATIONS;
      } else if (window.size() >= 2
          && Math.abs(adjusted - max) <= tol * Math.abs(initialAdjusted)) {
        stop = Stop.FUNCTION_VALUES;
      } else if (gradientConverged()) {
        stop = Stop.GRADIENT;
      } else {
        propose();
      }
      return;
    }
    backtracks++;
    if (backtracks > MAX_BACKTRACKS) {
      if (stored > 0 && !retried) {
        retried = true; // as Breeze: drop the history once and try again from here
        stored = 0;
        newest = -1;
        propose();
      } else {
        stop = Stop.SEARCH_FAILED;
      }
      return;
    }
    // the minimum of the quadratic through f(x), its slope and f(trial), kept in [0.1, 0.5] x step
    double next = 0.5 * step;
    if (Double.isFinite(adj) && expected < 0) {
      double curvature = adj - adjusted - expected;
      if (curvature > 0) {
        next = Math.min(0.5 * step, Math.max(0.1 * step, -expected * step / (2 * curvature)));
      }
    }
    step = next;
    trial = stepTo(step);
  }

  private void moveTo(double[] point, double v, double[] g, double adj) {
    x = point;
    grad = g.clone();
    value = v;
    adjusted = adj;
    adjustedGrad = pseudoGradient();
  }

  private boolean gradientConverged() {
    double norm = 0;
    for (double v : adjustedGrad) {
      norm += v * v;
    }
    return Math.sqrt(norm) <= Math.max(tol * adjusted, 1e-8);
  }

  /** Chooses a descent direction from x and the first trial point along it. */
  private void propose() {
    double[] q = adjustedGrad.clone();
    double[] alpha = new double[HISTORY];
    for (int k = 0, idx = newest; k < stored; k++, idx = (idx - 1 + HISTORY) % HISTORY) {
      alpha[idx] = rho[idx] * dot(s[idx], q);
      axpy(-alpha[idx], y[idx], q);
    }
    if (stored > 0) {
      q = scale(dot(s[newest], y[newest]) / dot(y[newest], y[newest]), q);
    }
    int oldest = (newest - stored + 1 + HISTORY) % HISTORY;
    for (int k = 0, idx = oldest; k < stored; k++, idx = (idx + 1) % HISTORY) {
      double beta = rho[idx] * dot(y[idx], q);
      axpy(alpha[idx] - beta, s[idx], q);
    }
    dir = scale(-1, q);
    if (l1 != null) {
      for (int i = 0; i < n; i++) {
        if (dir[i] * adjustedGrad[i] >= 0) {
          dir[i] = 0; // OWL-QN: only where the direction opposes the pseudo-gradient
        }
      }
    }
    double norm = Math.sqrt(dot(dir, dir));
    backtracks = 0;
    // unit steps once they work; after a cut-back, start at twice the last step (OWL-QN's
    // direction, corrected to the pseudo-gradient's orthant, often overshoots for a while)
    step = stored == 0 && norm > 0 ? 1 / norm : Math.min(1, 2 * lastStep);
    trial = stepTo(step);
  }

  private double[] stepTo(double t) {
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = x[i] + t * dir[i];
      if (l1 != null && l1[i] != 0) {
        // OWL-QN: stay in the orthant of x (or of -pseudo-gradient where x is zero)
        double orthant = x[i] != 0 ? Math.signum(x[i]) : Math.signum(-adjustedGrad[i]);
        if (Math.signum(out[i]) != orthant) {
          out[i] = 0;
        }
      }
    }
    return out;
  }

  private double[] pseudoGradient() {
    if (l1 == null) {
      return grad.clone();
    }
    double[] pg = new double[n];
    for (int i = 0; i < n; i++) {
      double w = l1[i];
      if (w == 0) {
        pg[i] = grad[i];
      } else if (x[i] > 0) {
        pg[i] = grad[i] + w;
      } else if (x[i] < 0) {
        pg[i] = grad[i] - w;
      } else if (grad[i] + w < 0) {
        pg[i] = grad[i] + w;
      } else if (grad[i] - w > 0) {
        pg[i] = grad[i] - w;
      }
    }
    return pg;
  }

  private double l1Norm(double[] p) {
    if (l1 == null) {
      return 0;
    }
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += l1[i] * Math.abs(p[i]);
    }
    return sum;
  }

  private static double dot(double[] a, double[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += a[i] * b[i];
    }
    return sum;
  }

  private static void axpy(double a, double[] xs, double[] ys) {
    for (int i = 0; i < xs.length; i++) {
      ys[i] += a * xs[i];
    }
  }

  private static double[] scale(double a, double[] v) {
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = a * v[i];
    }
    return out;
  }
}
