package dev.propensity.common.spark;

import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RuntimeConfig;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shuffles that start as wide as a job's inputs are large, for the job's duration: one initial
 * shuffle partition per {@link #BYTES_PER_PARTITION} of input (as stored), which adaptive query
 * execution then coalesces to the data ({@code
 * spark.sql.adaptive.coalescePartitions.initialPartitionNum}). With the 8 shuffle partitions of
 * the local default, the features job's sort-merge joins over 1.3 GB of event tables (3M
 * customers) ran a 4 GiB heap out of memory merging their spills; small inputs keep the session's
 * partitions, so small runs pay nothing. A width the user set ({@code
 * propensity.spark.initial-shuffle-partitions}, or the Spark key itself) is left alone.
 */
public final class InputShufflePartitions implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(InputShufflePartitions.class);

  /** Stored bytes of input per initial shuffle partition. */
  public static final long BYTES_PER_PARTITION = 16L << 20;

  private final RuntimeConfig conf;
  private final boolean set;

  private InputShufflePartitions(RuntimeConfig conf, boolean set) {
    this.conf = conf;
    this.set = set;
  }

  /**
   * @param inputs the job's inputs as read (their plans' size estimates are summed: a file
   *     source's files, a Delta table's snapshot; an input of unknown size counts nothing)
   * @param job for the log
   * @return the widening, undone on close (a no-op when the inputs are small or the user set
   *     the width)
   */
  public static InputShufflePartitions forInputs(SparkSession spark, List<Dataset<Row>> inputs,
      String job) {
    return forInputs(spark, inputs, BYTES_PER_PARTITION, job);
  }

  /** @param bytesPerPartition input per initial partition ({@link #BYTES_PER_PARTITION}) */
  static InputShufflePartitions forInputs(SparkSession spark, List<Dataset<Row>> inputs,
      long bytesPerPartition, String job) {
    long unknown = spark.sessionState().conf().defaultSizeInBytes();
    long bytes = 0;
    for (Dataset<Row> in : inputs) {
      long size = in.queryExecution().optimizedPlan().stats().sizeInBytes().longValue();
      bytes += size >= unknown ? 0 : size;
    }
    return forBytes(spark, bytes, bytesPerPartition, job);
  }

  /** @param bytesPerPartition input per initial partition ({@link #BYTES_PER_PARTITION}) */
  static InputShufflePartitions forBytes(SparkSession spark, long bytes, long bytesPerPartition,
      String job) {
    RuntimeConfig conf = spark.conf();
    if (conf.contains(SparkSessions.INITIAL_PARTITIONS_KEY)) {
      return new InputShufflePartitions(conf, false);
    }
    int session = Integer.parseInt(conf.get("spark.sql.shuffle.partitions"));
    long wanted = (bytes + bytesPerPartition - 1) / bytesPerPartition;
    if (wanted <= session) {
      return new InputShufflePartitions(conf, false);
    }
    int partitions = (int) Math.min(wanted, Integer.MAX_VALUE);
    conf.set(SparkSessions.INITIAL_PARTITIONS_KEY, partitions);
    LOG.info("{}: {} MiB of input: shuffles start with {} partitions (one per {} MiB; adaptive"
            + " execution coalesces them to the data) where the session has {};"
            + " propensity.spark.initial-shuffle-partitions sets a width of your own", job,
        bytes >> 20, partitions, bytesPerPartition >> 20, session);
    return new InputShufflePartitions(conf, true);
  }

  /** @return whether this widened the session's shuffles */
  public boolean widened() {
    return set;
  }

  @Override
  public void close() {
    if (set) {
      conf.unset(SparkSessions.INITIAL_PARTITIONS_KEY);
    }
  }
}
