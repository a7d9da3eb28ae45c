package dev.propensity.jobs.model;

import dev.propensity.common.config.JobConfig;
import java.sql.Date;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A small feature table with a known signal for the training tests: the label follows a logistic
 * model of x1, x2 and the segment, with an interaction tree models can find; x3 is noise. Some
 * x2 values are null.
 */
public final class TrainingData {

  public static final StructType SCHEMA = new StructType()
      .add("customer_id", DataTypes.LongType)
      .add("snapshot_date", DataTypes.DateType)
      .add("x1", DataTypes.DoubleType)
      .add("x2", DataTypes.DoubleType)
      .add("x3", DataTypes.IntegerType)
      .add("segment", DataTypes.StringType)
      .add("label", DataTypes.IntegerType);

  private TrainingData() {}

  /** @return {@code n} rows of one snapshot, about 20% positive, fixed by {@code seed} */
  public static List<Row> rows(int n, long seed) {
    Random r = new Random(seed);
    String[] segments = {"a", "b", "c"};
    List<Row> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double x1 = r.nextGaussian();
      double x2 = r.nextDouble() * 10;
      int x3 = r.nextInt(100);
      String seg = segments[r.nextInt(3)];
      double z = -2.2 + 1.2 * x1 + 0.15 * x2 + ("a".equals(seg) ? 0.8 : 0.0)
          + (x1 > 0.5 && x2 > 5 ? 1.0 : 0.0);
      int label = r.nextDouble() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
      out.add(RowFactory.create((long) i, Date.valueOf("2026-05-31"), x1,
          r.nextDouble() < 0.1 ? null : x2, x3, seg, label));
    }
    return out;
  }

  public static Dataset<Row> frame(SparkSession spark, int n, long seed) {
    return spark.createDataFrame(rows(n, seed), SCHEMA);
  }

  /** Writes the table as {@code features} under the warehouse. */
  public static void write(SparkSession spark, String warehouse, Dataset<Row> df) {
    df.write().format("delta").mode("overwrite").save(warehouse + "/features");
  }

  /** @return a config training on this table with small, fast grids */
  public static JobConfig config(String warehouse, String... overrides) {
    List<String> all = new ArrayList<>(List.of("warehouse=" + warehouse,
        "schema.numeric=[x1, x2, x3]", "schema.categorical=[segment]",
        "train.cv.num-folds=3", "train.time-budget-seconds=0",
        "train.logistic.reg-param=[0.001]", "train.logistic.elastic-net-param=[0.0]",
        "train.decision-tree.max-depth=[4]", "train.decision-tree.min-instances-per-node=[20]",
        "train.random-forest.num-trees=[10]", "train.random-forest.max-depth=[5]",
        "train.gbt.max-depth=[3]", "train.gbt.max-iter=20",
        "train.linear-svc.reg-param=[0.01]", "train.naive-bayes.model-type=[multinomial]",
        "train.mlp.hidden-layers=[[4]]", "train.mlp.max-iter=50",
        "train.factorization-machines.factor-size=[2]",
        "train.factorization-machines.reg-param=[0.01]",
        "train.factorization-machines.max-iter=30",
        "train.xgboost.max-depth=[3]", "train.xgboost.num-round=40",
        "train.xgboost.subsample=[1.0]", "train.xgboost.colsample-bytree=[1.0]",
        "train.xgboost-rf.num-trees=[10]", "train.xgboost-rf.max-depth=[5]"));
    all.addAll(List.of(overrides));
    return JobConfig.defaults().with(all.toArray(new String[0]));
  }
}
