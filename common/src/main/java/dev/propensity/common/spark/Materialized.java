package dev.propensity.common.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.LogicalRDD;
import org.apache.spark.storage.StorageLevel;

/**
 * Rows kept in executor memory (spilling to disk) for many later jobs, either cached
 * ({@code persist}) or locally checkpointed: computed once and cut from the plan that made them.
 *
 * <p>Why cut: every task of a job carries its stage's whole lineage, and a cached DataFrame's
 * lineage is still the plan that computed it (for preprocessed features: the imputers, indexers,
 * encoders, assembler and scaler, and the windows of the splits). An iterative fit (an L-BFGS
 * iteration, a tree level, a boosting round) is one or more jobs, so each task deserialises that
 * plan again: on small folds that costs far more than the fit itself. A local checkpoint holds
 * the same partitions with the same rows in the same order (the fits see identical input) and a
 * lineage of one RDD. The price: its blocks live on the executors only, so losing an executor
 * that holds some fails the job instead of recomputing them.
 */
public final class Materialized {

  private Materialized() {}

  /**
   * @param rows the rows to keep
   * @param checkpoint true: a local checkpoint (computed now); false: {@code persist} (computed
   *     on first use, recomputable)
   * @return the kept rows; release them with {@link #release}
   */
  public static Dataset<Row> of(Dataset<Row> rows, boolean checkpoint) {
    return checkpoint ? rows.localCheckpoint(true, StorageLevel.MEMORY_AND_DISK())
        : rows.persist(StorageLevel.MEMORY_AND_DISK());
  }

  /** Frees rows from {@link #of} (either kind); other Datasets are unpersisted. */
  public static void release(Dataset<Row> rows) {
    LogicalPlan plan = rows.queryExecution().logical();
    if (plan instanceof LogicalRDD checkpointed) {
      checkpointed.rdd().unpersist(false);
    } else {
      rows.unpersist();
    }
  }
}
