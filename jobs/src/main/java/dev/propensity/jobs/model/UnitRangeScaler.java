package dev.propensity.jobs.model;

import static org.apache.spark.sql.functions.col;

import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.stat.Summarizer;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * Min-max scaling to [0, 1] that clips at inference: a value below the training minimum becomes
 * 0, above the maximum 1. Naive Bayes (multinomial) rejects negative inputs and factorization
 * machines want bounded ones; MLlib's MinMaxScaler does not clip, so a new customer outside the
 * training range would fail or explode the score.
 */
public final class UnitRangeScaler extends Estimator<UnitRangeScalerModel>
    implements DefaultParamsWritable {

  private final String uid;
  private final Param<String> inputCol;
  private final Param<String> outputCol;

  public UnitRangeScaler() {
    this(Identifiable.randomUID("unitRangeScaler"));
  }

  public UnitRangeScaler(String uid) {
    this.uid = uid;
    this.inputCol = new Param<>(this, "inputCol", "feature vector");
    this.outputCol = new Param<>(this, "outputCol", "feature vector scaled and clipped to [0, 1]");
  }

  /** @return the reader {@link org.apache.spark.ml.PipelineModel#load} finds by reflection */
  public static MLReader<UnitRangeScaler> read() {
    return new DefaultParamsReader<>();
  }

  public Param<String> inputCol() {
    return inputCol;
  }

  public Param<String> outputCol() {
    return outputCol;
  }

  public UnitRangeScaler setInputCol(String value) {
    set(inputCol, value);
    return this;
  }

  public UnitRangeScaler setOutputCol(String value) {
    set(outputCol, value);
    return this;
  }

  @Override
  public UnitRangeScalerModel fit(Dataset<?> dataset) {
    Row r = dataset.select(Summarizer.metrics("min", "max").summary(col($(inputCol))).as("s"))
        .select("s.min", "s.max").first();
    Vector min = r.getAs(0);
    Vector max = r.getAs(1);
    return new UnitRangeScalerModel(uid).setInputCol($(inputCol)).setOutputCol($(outputCol))
        .setMin(min.toArray()).setMax(max.toArray()).setParent(this);
  }

  @Override
  public StructType transformSchema(StructType schema) {
    return PlattScalingModel.withVector(schema, $(outputCol));
  }

  @Override
  public UnitRangeScaler copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  @Override
  public String uid() {
    return uid;
  }
}
