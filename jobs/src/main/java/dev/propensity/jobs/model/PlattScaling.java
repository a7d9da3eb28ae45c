package dev.propensity.jobs.model;

import static org.apache.spark.ml.functions.array_to_vector;
import static org.apache.spark.ml.functions.vector_to_array;
import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;

import dev.propensity.common.spark.Materialized;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * Platt scaling: turns a classifier's margin (the positive entry of a raw-prediction vector, e.g.
 * LinearSVC's) into a probability {@code 1 / (1 + exp(-(slope * margin + intercept)))}, with slope
 * and intercept from an unregularised, unweighted one-feature logistic regression of the label on
 * the margin. Unweighted on purpose: with balanced class weights the classifier's margin is shifted,
 * the calibration maps it back to the observed positive rate. MLlib has no calibrator, hence this.
 */
public final class PlattScaling extends Estimator<PlattScalingModel>
    implements DefaultParamsWritable {

  private final String uid;
  private final Param<String> inputCol;
  private final Param<String> outputCol;
  private final Param<String> labelCol;

  public PlattScaling() {
    this(Identifiable.randomUID("plattScaling"));
  }

  public PlattScaling(String uid) {
    this.uid = uid;
    this.inputCol = new Param<>(this, "inputCol", "raw prediction vector; entry 1 is the margin");
    this.outputCol = new Param<>(this, "outputCol", "probability vector [1 - p, p]");
    this.labelCol = new Param<>(this, "labelCol", "0/1 label (double)");
  }

  /** @return the reader {@link org.apache.spark.ml.PipelineModel#load} finds by reflection */
  public static MLReader<PlattScaling> read() {
    return new DefaultParamsReader<>();
  }

  public Param<String> inputCol() {
    return inputCol;
  }

  public Param<String> outputCol() {
    return outputCol;
  }

  public Param<String> labelCol() {
    return labelCol;
  }

  public PlattScaling setInputCol(String value) {
    set(inputCol, value);
    return this;
  }

  public PlattScaling setOutputCol(String value) {
    set(outputCol, value);
    return this;
  }

  public PlattScaling setLabelCol(String value) {
    set(labelCol, value);
    return this;
  }

  @Override
  public PlattScalingModel fit(Dataset<?> dataset) {
    double[] line = fitLine(dataset, vector_to_array(col($(inputCol)), "float64").getItem(1),
        col($(labelCol)));
    PlattScalingModel model = new PlattScalingModel(uid)
        .setInputCol($(inputCol)).setOutputCol($(outputCol))
        .setSlope(line[0]).setIntercept(line[1]);
    return model.setParent(this);
  }

  /**
   * The one Platt fit (candidates' margins here, the ensemble's logit in {@link Calibration}):
   * an unregularised, unweighted one-feature logistic regression of the label on {@code score}.
   *
   * @return {slope, intercept}
   */
  public static double[] fitLine(Dataset<?> rows, Column score, Column label) {
    // computed once and cut from the plan that scored it (often a whole ensemble): each L-BFGS
    // iteration's tasks then carry two columns' lineage, not the scoring pipelines
    Dataset<Row> in = Materialized.of(rows.select(array_to_vector(array(score)).as("score"),
        label.cast("double").as("label")), true);
    try {
      LogisticRegressionModel lr = new LogisticRegression().setFeaturesCol("score")
          .setLabelCol("label").setRegParam(0.0).setMaxIter(100).setFamily("binomial").fit(in);
      return new double[] {lr.coefficients().apply(0), lr.intercept()};
    } finally {
      Materialized.release(in);
    }
  }

  @Override
  public StructType transformSchema(StructType schema) {
    return PlattScalingModel.withVector(schema, $(outputCol));
  }

  @Override
  public PlattScaling copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  @Override
  public String uid() {
    return uid;
  }
}
