package dev.propensity.jobs.model;

import static org.apache.spark.sql.functions.col;

import org.apache.spark.ml.Model;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.DoubleArrayParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructType;

/** A fitted {@link UnitRangeScaler}: the training minimum and maximum of each slot. */
public final class UnitRangeScalerModel extends Model<UnitRangeScalerModel>
    implements DefaultParamsWritable {

  private final String uid;
  private final Param<String> inputCol;
  private final Param<String> outputCol;
  private final DoubleArrayParam min;
  private final DoubleArrayParam max;

  public UnitRangeScalerModel(String uid) {
    this.uid = uid;
    this.inputCol = new Param<>(this, "inputCol", "feature vector");
    this.outputCol = new Param<>(this, "outputCol", "feature vector scaled and clipped to [0, 1]");
    this.min = new DoubleArrayParam(this, "min", "training minimum per slot");
    this.max = new DoubleArrayParam(this, "max", "training maximum per slot");
  }

  /** @return the reader {@link org.apache.spark.ml.PipelineModel#load} finds by reflection */
  public static MLReader<UnitRangeScalerModel> read() {
    return new DefaultParamsReader<>();
  }

  public Param<String> inputCol() {
    return inputCol;
  }

  public Param<String> outputCol() {
    return outputCol;
  }

  public DoubleArrayParam min() {
    return min;
  }

  public DoubleArrayParam max() {
    return max;
  }

  public UnitRangeScalerModel setInputCol(String value) {
    set(inputCol, value);
    return this;
  }

  public UnitRangeScalerModel setOutputCol(String value) {
    set(outputCol, value);
    return this;
  }

  public UnitRangeScalerModel setMin(double[] value) {
    set(min, value);
    return this;
  }

  public UnitRangeScalerModel setMax(double[] value) {
    set(max, value);
    return this;
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    double[] lo = $(min);
    double[] hi = $(max);
    UserDefinedFunction scale = functions.udf((UDF1<Vector, Vector>) v -> {
      double[] out = new double[lo.length];
      for (int i = 0; i < out.length; i++) {
        double range = hi[i] - lo[i];
        double x = v.apply(i);
        // a constant slot carries no information: 0, never NaN
        double s = range > 0 && !Double.isNaN(x) ? (x - lo[i]) / range : 0.0;
        out[i] = Math.max(0.0, Math.min(1.0, s));
      }
      return Vectors.dense(out);
    }, SQLDataTypes.VectorType());
    return dataset.withColumn($(outputCol), scale.apply(col($(inputCol))));
  }

  @Override
  public StructType transformSchema(StructType schema) {
    return PlattScalingModel.withVector(schema, $(outputCol));
  }

  @Override
  public UnitRangeScalerModel copy(ParamMap extra) {
    return copyValues(new UnitRangeScalerModel(uid), extra).setParent(parent());
  }

  @Override
  public String uid() {
    return uid;
  }
}
