package dev.propensity.jobs.model;

import static org.apache.spark.ml.functions.array_to_vector;
import static org.apache.spark.ml.functions.vector_to_array;
import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.exp;
import static org.apache.spark.sql.functions.lit;

import java.util.Arrays;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * A fitted {@link PlattScaling}: adds {@code outputCol} = {@code [1 - p, p]} with
 * {@code p = 1 / (1 + exp(-(slope * margin + intercept)))}. Saved and loaded with its pipeline
 * (slope and intercept are params, so Spark's default params writer stores them).
 */
public final class PlattScalingModel extends Model<PlattScalingModel>
    implements DefaultParamsWritable {

  private final String uid;
  private final Param<String> inputCol;
  private final Param<String> outputCol;
  private final DoubleParam slope;
  private final DoubleParam intercept;

  public PlattScalingModel(String uid) {
    this.uid = uid;
    this.inputCol = new Param<>(this, "inputCol", "raw prediction vector; entry 1 is the margin");
    this.outputCol = new Param<>(this, "outputCol", "probability vector [1 - p, p]");
    this.slope = new DoubleParam(this, "slope", "coefficient of the margin");
    this.intercept = new DoubleParam(this, "intercept", "intercept");
  }

  /** @return the reader {@link org.apache.spark.ml.PipelineModel#load} finds by reflection */
  public static MLReader<PlattScalingModel> read() {
    return new DefaultParamsReader<>();
  }

  public Param<String> inputCol() {
    return inputCol;
  }

  public Param<String> outputCol() {
    return outputCol;
  }

  public DoubleParam slope() {
    return slope;
  }

  public DoubleParam intercept() {
    return intercept;
  }

  public PlattScalingModel setInputCol(String value) {
    set(inputCol, value);
    return this;
  }

  public PlattScalingModel setOutputCol(String value) {
    set(outputCol, value);
    return this;
  }

  public PlattScalingModel setSlope(double value) {
    set(slope, value);
    return this;
  }

  public PlattScalingModel setIntercept(double value) {
    set(intercept, value);
    return this;
  }

  public double getSlope() {
    return (Double) $(slope);
  }

  public double getIntercept() {
    return (Double) $(intercept);
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    Column margin = vector_to_array(col($(inputCol)), "float64").getItem(1);
    Column p = lit(1.0).divide(lit(1.0).plus(
        exp(margin.multiply(-getSlope()).minus(getIntercept()))));
    return dataset.withColumn($(outputCol), array_to_vector(array(lit(1.0).minus(p), p)));
  }

  @Override
  public StructType transformSchema(StructType schema) {
    return withVector(schema, $(outputCol));
  }

  static StructType withVector(StructType schema, String column) {
    if (Arrays.asList(schema.fieldNames()).contains(column)) {
      throw new IllegalArgumentException("Output column " + column + " already exists");
    }
    return schema.add(column, SQLDataTypes.VectorType(), false);
  }

  @Override
  public PlattScalingModel copy(ParamMap extra) {
    return copyValues(new PlattScalingModel(uid), extra).setParent(parent());
  }

  @Override
  public String uid() {
    return uid;
  }
}
