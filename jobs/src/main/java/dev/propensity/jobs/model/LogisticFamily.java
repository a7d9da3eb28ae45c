package dev.propensity.jobs.model;

import dev.propensity.common.PropensityException;
import dev.propensity.common.explain.Link;
import dev.propensity.jobs.model.Candidates.Candidate;
import dev.propensity.jobs.model.Candidates.Context;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.ParamGridBuilder;
import dev.propensity.jobs.model.CandidatePipeline.Scaling;
import org.apache.spark.ml.linalg.Matrix;

/**
 * The {@code logistic} family in one place: binomial logistic regression on standardised inputs
 * (grid from {@code propensity.train.logistic.*}), explained exactly by linear SHAP of its margin
 * (log-odds) against the training means, importance {@code |coef_j| * sd_j}, the non-zero
 * coefficients as facts.
 */
final class LogisticFamily implements Family {

  @Override
  public Candidate build(String name, Context ctx) {
    String k = Candidates.KEY + name + ".";
    LogisticRegression lr = new LogisticRegression().setFamily("binomial")
        .setMaxIter(ctx.config().integer(k + "max-iter")).setTol(ctx.config().number(k + "tol"));
    Candidates.columns(lr, name);
    if (ctx.weights()) {
      lr.setWeightCol(CandidatePipeline.WEIGHT);
    }
    ParamMap[] grid = new ParamGridBuilder()
        .addGrid(lr.regParam(), Candidates.doubles(ctx.config(), k + "reg-param"))
        .addGrid(lr.elasticNetParam(), Candidates.doubles(ctx.config(), k + "elastic-net-param"))
        .build();
    return Candidates.plain(name, Scaling.STANDARD, lr, grid, ctx.weights());
  }

  @Override
  public Space space() {
    return Space.margin(Link.LOGISTIC);
  }

  @Override
  public Optional<Exact> exact(Transformer predictor) {
    LogisticRegressionModel lr = binary(predictor);
    Matrix m = lr.coefficientMatrix();
    double intercept = m.numRows() == 1 ? lr.interceptVector().apply(0)
        : lr.interceptVector().apply(1) - lr.interceptVector().apply(0);
    return Optional.of(Exact.linear(coefficients(lr), intercept));
  }

  @Override
  public Optional<SlotImportance> importance(Transformer predictor) {
    double[] coef = coefficients((LogisticRegressionModel) predictor);
    for (int j = 0; j < coef.length; j++) {
      coef[j] = Math.abs(coef[j]);
    }
    return Optional.of(new SlotImportance("abs-standardized-coefficient", coef, true));
  }

  @Override
  public Map<String, Object> facts(Transformer predictor) {
    LogisticRegressionModel lr = (LogisticRegressionModel) predictor;
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("non_zero_coefficients", lr.coefficients().numNonzeros());
    out.put("coefficients", lr.coefficients().size());
    return out;
  }

  private static LogisticRegressionModel binary(Transformer predictor) {
    LogisticRegressionModel lr = (LogisticRegressionModel) predictor;
    if (lr.numClasses() != 2) {
      throw new PropensityException(String.format("Cannot explain logistic regression %s: it has"
          + " %d classes; explanations support binary classifiers", lr.uid(), lr.numClasses()));
    }
    return lr;
  }

  /** Binomial: the coefficients; a 2-class multinomial fit: class 1's margin over class 0's. */
  private static double[] coefficients(LogisticRegressionModel lr) {
    Matrix m = lr.coefficientMatrix();
    double[] coef = new double[m.numCols()];
    for (int j = 0; j < coef.length; j++) {
      coef[j] = m.numRows() == 1 ? m.apply(0, j) : m.apply(1, j) - m.apply(0, j);
    }
    return coef;
  }
}
