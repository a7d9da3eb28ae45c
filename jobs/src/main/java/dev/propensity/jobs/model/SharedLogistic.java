package dev.propensity.jobs.model;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.function.Supplier;
import java.util.stream.DoubleStream;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.feature.StandardScalerModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Many binomial logistic regressions (grid points x folds) fitted together: each optimisation step
 * is ONE Spark pass that computes loss and gradient of every still-running model, where MLlib runs
 * one Spark job per step per model. Written here because MLlib's estimator has no shared mode and
 * those jobs' launch overhead was most of the logistic family's cross-validation time (issue 16).
 *
 * <p>The objective is MLlib's {@code LogisticRegression} with {@code standardization = true} and an
 * intercept: the weighted mean log-loss plus {@code regParam * ((1 - a) / 2 ||b||^2 + a ||b||_1)}
 * on the coefficients b of the features divided by their weighted (unbiased) standard deviation
 * on the model's rows; zero-variance features get coefficient 0; the intercept is not penalised
 * and starts at the log-odds of the weighted label counts. L-BFGS for {@code a = 0}, OWL-QN
 * otherwise ({@link QuasiNewton}), with MLlib's stopping rules, so the optimum is MLlib's to within
 * the tolerance (the path differs: MLlib also centres the features while optimising).
 */
public final class SharedLogistic {

  private static final Logger LOG = LoggerFactory.getLogger(SharedLogistic.class);

  /**
   * The most rows of one {@link Block}: 4096 rows of 110 features take 3.5 MiB as doubles while
   * a block is read, less once packed. A partition's rows are read into blocks of at most this
   * many, straight from its row iterator, so that a task holds one block at a time and Spark's
   * block manager can keep what fits of the cache in memory and put the rest on disk (one dense
   * block per partition ran a 4 GiB driver out of memory at 3M customers). The sums do not
   * depend on it: a partition's blocks are added up in row order.
   */
  static final int BLOCK_ROWS = 4096;

  /**
   * One model to fit.
   *
   * @param dataset index of its data set in the list given to {@link #fit}
   * @param excludedFold its rows are those whose fold differs from this one (-1: all rows)
   * @param start where the optimisation starts, in the original feature space (coefficients, then
   *     the intercept), or null for MLlib's start (zero coefficients, the log-odds intercept)
   */
  public record Task(int dataset, int excludedFold, double regParam, double elasticNetParam,
      int maxIter, double tol, double[] start) {

    /** @return the task of {@code lr}'s regularisation and stopping parameters */
    public static Task of(int dataset, int excludedFold, LogisticRegression lr) {
      return new Task(dataset, excludedFold, lr.getRegParam(), lr.getElasticNetParam(),
          lr.getMaxIter(), lr.getTol(), null);
    }

    /**
     * @return this task started at {@code point} (coefficients, then the intercept), e.g. the
     *     mean of its cross-validation fold models for the final refit: a warm start changes the
     *     path, not the optimum, and saves most of the iterations
     */
    public Task startingAt(double[] point) {
      return new Task(dataset, excludedFold, regParam, elasticNetParam, maxIter, tol,
          point.clone());
    }
  }

  /**
   * One fitted model in the original feature space.
   *
   * @param objective the objective at the solution, as MLlib's (standardised space)
   * @param stop why its optimisation stopped
   */
  public record Fit(double[] coefficients, double intercept, int iterations, int evaluations,
      double objective, String stop) {}

  /**
   * @param fits per task, in the order given
   * @param iterations the most iterations of one model
   * @param passes Spark passes (jobs) over the data, the statistics pass included; on the driver
   *     the one job that collects the rows
   * @param converged models that stopped by a convergence rule rather than max-iter or failure
   * @param heldOut per task, its held-out rows scored (null for a task without an excluded fold);
   *     the list is null when the passes ran as Spark jobs (the rows are not on the driver)
   */
  public record Result(List<Fit> fits, int iterations, int passes, int converged, double seconds,
      List<HeldOut> heldOut) {}

  /**
   * One task's held-out rows (its data set's rows in its excluded fold) scored by its fit, as its
   * MLlib model scores them up to rounding: {@code 1 / (1 + exp(-margin))}.
   *
   * @param probability the positive probability of each row
   * @param label its label, 0 or 1
   */
  public record HeldOut(double[] probability, double[] label) {}

  /**
   * Columns of the data sets: weight may be null (all 1), fold may be null (no exclusions).
   *
   * @param scalers null, or per data set null or the standard scaling the models' features are
   *     made with from {@code features}: the rows are then held unscaled (one-hot slots and counts
   *     pack to a byte or two, where scaled they are all doubles) and scaled as a pass reads them,
   *     to the same doubles as the scaler's
   */
  public record Columns(String features, String label, String weight, String fold,
      List<Scaler> scalers) {

    public Columns(String features, String label, String weight, String fold) {
      this(features, label, weight, fold, null);
    }

    Scaler scaler(int dataset) {
      return scalers == null ? null : scalers.get(dataset);
    }
  }

  /**
   * A fitted {@code StandardScalerModel} with mean and standard deviation: feature j becomes
   * {@code (x - shift[j]) * scale[j]}, with {@code scale[j] = 1 / std[j]} (0 where std is 0), as
   * that model computes it, so to the last bit.
   */
  public record Scaler(double[] shift, double[] scale) implements Serializable {

    /** @return the scaling of {@code m}, or null unless it both centres and scales */
    public static Scaler of(StandardScalerModel m) {
      if (!m.getWithMean() || !m.getWithStd()) {
        return null;
      }
      double[] std = m.std().toArray(); // a dense vector's own array: not to be written
      double[] scale = new double[std.length];
      for (int j = 0; j < scale.length; j++) {
        scale[j] = std[j] == 0 ? 0.0 : 1.0 / std[j];
      }
      return new Scaler(m.mean().toArray().clone(), scale);
    }

    /** Scales {@code rows} rows of width {@code shift.length} in {@code x}, row-major. */
    void apply(double[] x, int rows) {
      int width = shift.length;
      for (int r = 0; r < rows; r++) {
        int base = r * width;
        for (int j = 0; j < width; j++) {
          x[base + j] = (x[base + j] - shift[j]) * scale[j];
        }
      }
    }
  }

  private SharedLogistic() {}

  /** @return whether {@code lr} is a fit this trainer reproduces (binomial, standardised) */
  public static boolean supports(LogisticRegression lr) {
    return lr.getFitIntercept() && lr.getStandardization()
        && !"multinomial".equals(lr.getFamily()) && !lr.isSet(lr.lowerBoundsOnCoefficients())
        && !lr.isSet(lr.upperBoundsOnCoefficients()) && !lr.isSet(lr.lowerBoundsOnIntercepts())
        && !lr.isSet(lr.upperBoundsOnIntercepts());
  }

  /**
   * Fits every task, one Spark pass per optimisation step for all of them (never on the driver).
   *
   * @see #fit(List, Columns, List, String, long)
   */
  public static Result fit(List<Dataset<Row>> data, Columns columns, List<Task> tasks,
      String name) {
    return fit(data, columns, tasks, name, 0);
  }

  /**
   * Fits every task, one pass over the rows per optimisation step for all of them. The passes are
   * Spark jobs over the persisted rows, or, when those rows take at most {@code driverMaxBytes}
   * as dense doubles (and at most an eighth of the driver's heap), loops on the driver's cores
   * over a copy of them collected once: on small data a Spark job's fixed cost (a fraction of a
   * second) is most of a pass. Both evaluate the same sums block by block; the driver adds the
   * blocks up in a fixed order.
   *
   * <p>Rows no task fits on (a data set whose tasks all exclude one fold, as each fold's encoding
   * in cross-validation) are not held for the passes: that is a third of the rows at 3 folds,
   * which at millions of customers decides whether the blocks fit in memory or are read back
   * from disk on every pass. On the driver they are collected apart, to score the held-out rows.
   *
   * @param data the data sets the tasks refer to (labels 0/1, each best cached by the caller)
   * @param name for the Spark UI's job descriptions and the log
   * @param driverMaxBytes the most the rows may take to be fitted on the driver; 0: never
   */
  public static Result fit(List<Dataset<Row>> data, Columns columns, List<Task> tasks,
      String name, long driverMaxBytes) {
    return fit(data, columns, tasks, name, driverMaxBytes, BLOCK_ROWS);
  }

  /** @param blockRows the most rows of one block ({@link #BLOCK_ROWS}) */
  static Result fit(List<Dataset<Row>> data, Columns columns, List<Task> tasks, String name,
      long driverMaxBytes, int blockRows) {
    long start = System.nanoTime();
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(
        data.get(0).sparkSession().sparkContext());
    // slices: distinct (data set, excluded fold), the rows a model sees
    Map<List<Integer>, Integer> sliceIndex = new LinkedHashMap<>();
    int[] taskSlice = new int[tasks.size()];
    for (int t = 0; t < tasks.size(); t++) {
      Task task = tasks.get(t);
      taskSlice[t] = sliceIndex.computeIfAbsent(List.of(task.dataset(), task.excludedFold()),
          key -> sliceIndex.size());
    }
    int[][] slices = sliceIndex.keySet().stream()
        .map(k -> new int[] {k.get(0), k.get(1)}).toArray(int[][]::new);
    sc.setJobDescription("train: " + name + " shared logistic statistics");
    int[] unfitted = unfittedFolds(data.size(), slices, columns);
    try (Passes passes = Passes.of(blocks(data, columns, blockRows, unfitted), driverMaxBytes,
        () -> collect(heldOutBlocks(data, columns, blockRows, unfitted)))) {
      Moments[] moments = passes.moments(slices);
      Model[] models = new Model[tasks.size()];
      for (int t = 0; t < models.length; t++) {
        models[t] = new Model(tasks.get(t), moments[taskSlice[t]]);
      }
      int round = 0;
      while (true) {
        List<Integer> active = new ArrayList<>();
        for (int t = 0; t < models.length; t++) {
          if (!models[t].done()) {
            active.add(t);
          }
        }
        if (active.isEmpty()) {
          break;
        }
        int[] slice = new int[active.size()];
        double[][] gamma = new double[active.size()][];
        int[] offsets = new int[active.size() + 1];
        for (int a = 0; a < active.size(); a++) {
          int t = active.get(a);
          slice[a] = taskSlice[t];
          gamma[a] = models[t].effective();
          offsets[a + 1] = offsets[a] + gamma[a].length + 1;
        }
        sc.setJobDescription("train: " + name + " shared logistic pass " + (++round) + " ("
            + active.size() + " models)");
        double[] sums = passes.losses(slices, slice, gamma, offsets);
        for (int a = 0; a < active.size(); a++) {
          models[active.get(a)].accept(Arrays.copyOfRange(sums, offsets[a], offsets[a + 1]));
        }
      }
      List<Fit> fits = Arrays.stream(models).map(Model::fit).toList();
      int iterations = fits.stream().mapToInt(Fit::iterations).max().orElse(0);
      int converged = (int) fits.stream().filter(f -> f.stop().equals("FUNCTION_VALUES")
          || f.stop().equals("GRADIENT") || f.stop().equals("CONSTANT_LABEL")).count();
      double seconds = (System.nanoTime() - start) / 1e9;
      LOG.info("train: {} shared logistic fit of {} models: {} iterations (the most of one model),"
              + " {} passes {}, {} of {} models converged (others: max-iter or line search),"
              + " {} s", name, tasks.size(), iterations, round + 1, passes.where(), converged,
          tasks.size(), String.format("%.1f", seconds));
      return new Result(fits, iterations, passes.sparkPasses(), converged, seconds,
          passes.heldOut(tasks, fits));
    }
  }

  /**
   * @return MLlib's model of {@code fit}, with every param of {@code lr} (a grid point's estimator)
   *     copied as MLlib's own {@code fit} does, so that it saves, loads and scores as one
   */
  public static LogisticRegressionModel model(LogisticRegression lr, Fit fit) {
    LogisticRegressionModel m = new LogisticRegressionModel(lr.uid(),
        Vectors.dense(fit.coefficients()).compressed(), fit.intercept());
    return lr.copyValues(m, ParamMap.empty()).setParent(lr);
  }

  /**
   * Scores rows with several fits in one Spark job: one pass over a fold's held-out rows for all
   * grid points, where scoring each model apart reads them once per model (at millions of
   * customers, from disk). Each probability is {@code 1 / (1 + exp(-margin))}, the margin summed
   * in feature order as on the driver ({@link HeldOut}); the arrays come back to the driver
   * partition after partition, {@code 8 (fits + 1)} bytes a row.
   *
   * @return per fit, the rows' probabilities and labels
   */
  public static List<HeldOut> score(Dataset<Row> rows, Columns c, List<Fit> fits) {
    double[][] coefficients = fits.stream().map(Fit::coefficients).toArray(double[][]::new);
    double[] intercepts = fits.stream().mapToDouble(Fit::intercept).toArray();
    int m = fits.size();
    List<double[][]> parts = rows.select(col(c.features()), col(c.label()).cast("double"))
        .javaRDD().mapPartitions(it -> {
          DoubleStream.Builder[] out = new DoubleStream.Builder[m + 1];
          Arrays.setAll(out, i -> DoubleStream.builder());
          while (it.hasNext()) {
            Row row = it.next();
            double[] x = row.<Vector>getAs(0).toArray();
            for (int i = 0; i < m; i++) {
              out[i].add(probability(coefficients[i], intercepts[i], x, 0));
            }
            out[m].add(row.getDouble(1));
          }
          double[][] part = Arrays.stream(out).map(o -> o.build().toArray())
              .toArray(double[][]::new);
          return List.<double[][]>of(part).iterator();
        }).collect();
    double[][] all = new double[m + 1][];
    for (int i = 0; i <= m; i++) {
      int column = i;
      all[i] = parts.stream().flatMapToDouble(p -> Arrays.stream(p[column])).toArray();
    }
    List<HeldOut> out = new ArrayList<>();
    for (int i = 0; i < m; i++) {
      out.add(new HeldOut(all[i], all[m]));
    }
    return out;
  }

  /**
   * @return {@code 1 / (1 + exp(-margin))} of the row of {@code x} from {@code base}, its margin
   *     summed in feature order and the intercept added last: every held-out score, on the driver
   *     or in {@link #score}, the same to the last bit
   */
  private static double probability(double[] coefficients, double intercept, double[] x,
      int base) {
    double margin = 0;
    for (int j = 0; j < coefficients.length; j++) {
      margin += coefficients[j] * x[base + j];
    }
    margin += intercept;
    return 1 / (1 + Math.exp(-margin));
  }

  /**
   * @return per data set, the fold whose rows none of its slices fits on (every slice of it
   *     excludes that one fold, as cross-validation's fold encodings do), or -1: those rows are
   *     only scored, so the passes need not hold them
   */
  static int[] unfittedFolds(int datasets, int[][] slices, Columns c) {
    int[] out = new int[datasets];
    Arrays.fill(out, -2); // no slice yet
    for (int[] slice : slices) {
      int d = slice[0];
      out[d] = out[d] == -2 || out[d] == slice[1] ? slice[1] : -1;
    }
    for (int d = 0; d < datasets; d++) {
      out[d] = c.fold() == null || out[d] < 0 ? -1 : out[d];
    }
    return out;
  }

  /**
   * @param unfitted per data set, the fold whose rows to leave out (-1: none)
   * @return the data sets' rows the fits pass over as blocks of at most {@code blockRows},
   *     persisted (memory, then disk)
   */
  static JavaRDD<Block> blocks(List<Dataset<Row>> data, Columns c, int blockRows,
      int[] unfitted) {
    return read(data, c, blockRows, unfitted, false).persist(StorageLevel.MEMORY_AND_DISK());
  }

  /** @return the rows of each data set's unfitted fold as blocks (not persisted), or null */
  private static JavaRDD<Block> heldOutBlocks(List<Dataset<Row>> data, Columns c,
      int blockRows, int[] unfitted) {
    return Arrays.stream(unfitted).allMatch(f -> f < 0) ? null
        : read(data, c, blockRows, unfitted, true);
  }

  /**
   * @param heldOut true: only the rows of each data set's unfitted fold; false: all others
   */
  private static JavaRDD<Block> read(List<Dataset<Row>> data, Columns c, int blockRows,
      int[] unfitted, boolean heldOut) {
    List<JavaRDD<Block>> parts = new ArrayList<>();
    for (int i = 0; i < data.size(); i++) {
      if (heldOut && unfitted[i] < 0) {
        continue;
      }
      int dataset = i;
      Column weight = c.weight() == null ? lit(1.0) : col(c.weight()).cast("double");
      Column fold = c.fold() == null ? lit(-1) : col(c.fold()).cast("int");
      Dataset<Row> rows = data.get(i);
      if (unfitted[i] >= 0) {
        Column in = col(c.fold()).eqNullSafe(unfitted[i]);
        rows = rows.where(heldOut ? in : not(in));
      }
      Scaler scaler = c.scaler(i);
      parts.add(rows.select(col(c.features()), col(c.label()).cast("double"), weight, fold)
          .javaRDD().mapPartitions(it -> Block.read(dataset, scaler, it, blockRows)));
    }
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(
        data.get(0).sparkSession().sparkContext());
    return parts.size() == 1 ? parts.get(0) : sc.union(parts.toArray(JavaRDD[]::new));
  }

  /** @return the blocks of each partition, in partition order (none: an empty array) */
  private static Block[][] collect(JavaRDD<Block> blocks) {
    return blocks == null ? new Block[0][] : blocks.glom().collect().stream()
        .map(part -> part.toArray(Block[]::new)).toArray(Block[][]::new);
  }

  private static double[] sum(double[] a, double[] b) {
    for (int i = 0; i < a.length; i++) {
      a[i] += b[i];
    }
    return a;
  }

  /** Where the passes over the blocks run; frees what it holds on close. */
  private abstract static class Passes implements AutoCloseable {

    /**
     * @param heldOut on the driver: the blocks of the rows only scored, per partition
     * @return passes over {@code blocks} (persisted) as Spark jobs, or on the driver when they
     *     take at most {@code driverMaxBytes}
     */
    static Passes of(JavaRDD<Block> blocks, long driverMaxBytes,
        Supplier<Block[][]> heldOut) {
      // and at most an eighth of the driver's heap
      long limit = Math.min(driverMaxBytes, Runtime.getRuntime().maxMemory() / 8);
      if (limit > 0) {
        try {
          long bytes = blocks.map(Block::bytes).reduce(Long::sum);
          if (bytes <= limit) {
            Block[][] local = collect(blocks);
            blocks.unpersist(false);
            return new OnDriver(local, heldOut.get(), bytes);
          }
          return new OnSpark(blocks, String.format(" (%.1f MiB of rows, over the driver's %.1f)",
              bytes / 1048576.0, limit / 1048576.0));
        } catch (RuntimeException e) {
          blocks.unpersist(false);
          throw e;
        }
      }
      return new OnSpark(blocks, "");
    }

    abstract Moments[] moments(int[][] slices);

    abstract double[] losses(int[][] slices, int[] slice, double[][] gamma, int[] offsets);

    /** @return for the log: where the passes ran */
    abstract String where();

    /** @return per task its held-out rows scored, or null where the rows are not at hand */
    abstract List<HeldOut> heldOut(List<Task> tasks, List<Fit> fits);

    /** @return the Spark jobs that passed over the rows */
    abstract int sparkPasses();

    @Override
    public abstract void close();
  }

  /** Each pass one Spark job (a tree aggregation) over the persisted blocks. */
  private static final class OnSpark extends Passes {
    private final JavaRDD<Block> blocks;
    private final String why;
    private int jobs;

    OnSpark(JavaRDD<Block> blocks, String why) {
      this.blocks = blocks;
      this.why = why;
    }

    @Override
    Moments[] moments(int[][] slices) {
      jobs++;
      return blocks.treeAggregate(Moments.zeros(slices.length),
          (acc, b) -> Moments.add(acc, b, slices), Moments::merge, 2);
    }

    @Override
    double[] losses(int[][] slices, int[] slice, double[][] gamma, int[] offsets) {
      jobs++;
      return blocks.treeAggregate(new double[offsets[slice.length]],
          (acc, b) -> Block.addLoss(acc, b, slices, slice, gamma, offsets),
          SharedLogistic::sum, 2);
    }

    @Override
    String where() {
      return "as Spark jobs" + why;
    }

    @Override
    List<HeldOut> heldOut(List<Task> tasks, List<Fit> fits) {
      return null;
    }

    @Override
    int sparkPasses() {
      return jobs;
    }

    @Override
    public void close() {
      blocks.unpersist(false);
    }
  }

  /**
   * Each pass a loop over the collected blocks on the driver's cores (a parallel stream, one
   * partition per step, its blocks in row order as a Spark task adds them), the partitions' sums
   * added up in partition order: the same result every run.
   */
  private static final class OnDriver extends Passes {
    private final Block[][] partitions;
    private final Block[][] heldOut;
    private final long bytes;

    /**
     * @param partitions the blocks the fits pass over, per partition
     * @param heldOut the blocks of the rows they leave out, only scored
     */
    OnDriver(Block[][] partitions, Block[][] heldOut, long bytes) {
      this.partitions = partitions;
      this.heldOut = heldOut;
      this.bytes = bytes;
    }

    @Override
    Moments[] moments(int[][] slices) {
      List<Moments[]> parts = IntStream.range(0, partitions.length).parallel()
          .mapToObj(i -> {
            Moments[] acc = Moments.zeros(slices.length);
            for (Block b : partitions[i]) {
              acc = Moments.add(acc, b, slices);
            }
            return acc;
          }).toList();
      Moments[] out = Moments.zeros(slices.length);
      for (Moments[] part : parts) {
        out = Moments.merge(out, part);
      }
      return out;
    }

    @Override
    double[] losses(int[][] slices, int[] slice, double[][] gamma, int[] offsets) {
      int n = offsets[slice.length];
      List<double[]> parts = IntStream.range(0, partitions.length).parallel()
          .mapToObj(i -> {
            double[] acc = new double[n];
            for (Block b : partitions[i]) {
              acc = Block.addLoss(acc, b, slices, slice, gamma, offsets);
            }
            return acc;
          }).toList();
      double[] out = new double[n];
      for (double[] part : parts) {
        sum(out, part);
      }
      return out;
    }

    @Override
    String where() {
      return String.format("on the driver (%d partitions, %.1f MiB collected)",
          partitions.length, bytes / 1048576.0);
    }

    @Override
    int sparkPasses() {
      return heldOut.length == 0 ? 2 : 3; // the size and the collects
    }

    @Override
    List<HeldOut> heldOut(List<Task> tasks, List<Fit> fits) {
      List<HeldOut> out = new ArrayList<>();
      for (int t = 0; t < tasks.size(); t++) {
        Task task = tasks.get(t);
        if (task.excludedFold() < 0) {
          out.add(null);
          continue;
        }
        Fit fit = fits.get(t);
        double[] c = fit.coefficients();
        DoubleStream.Builder probability = DoubleStream.builder();
        DoubleStream.Builder label = DoubleStream.builder();
        Rows rows = new Rows();
        for (Block b : blocks()) {
          for (int from = 0; b.dataset == task.dataset() && from < b.rows;
              from += rows.count) {
            rows.load(b, from);
            for (int r = 0; r < rows.count; r++) {
              if (rows.fold[r] != task.excludedFold()) {
                continue;
              }
              probability.add(probability(c, fit.intercept(), rows.x, r * b.width));
              label.add(rows.label[r]);
            }
          }
        }
        out.add(new HeldOut(probability.build().toArray(), label.build().toArray()));
      }
      return out;
    }

    /**
     * @return the blocks in row order, those fitted on, then those only scored (a task's held-out
     *     rows are all in one or the other)
     */
    private List<Block> blocks() {
      return Stream.concat(Arrays.stream(partitions), Arrays.stream(heldOut))
          .flatMap(Arrays::stream).toList();
    }

    @Override
    public void close() {
      Arrays.fill(partitions, null);
      Arrays.fill(heldOut, null);
    }
  }

  /**
   * Consecutive rows of one partition for the passes, each column packed in the narrowest type
   * that holds its values exactly ({@link PackedColumn}): one-hot slots, flags and counts take a
   * byte or two where dense doubles took eight. The passes read a block a chunk of rows at a time
   * ({@link Rows}), decoded to the same doubles, so the sums are those of the dense rows.
   */
  static final class Block implements Serializable {
    private static final long serialVersionUID = 1L;
    final int dataset;
    final int rows;
    final int width;
    private final PackedColumn[] x;
    private final PackedColumn label;
    private final PackedColumn weight;
    private final PackedColumn fold;
    /** Null, or the scaling that makes the fitted features from {@link #x}. */
    private final Scaler scaler;

    private Block(int dataset, Scaler scaler, int rows, int width, double[] x, double[] label,
        double[] weight, double[] fold) {
      this.dataset = dataset;
      this.scaler = scaler;
      this.rows = rows;
      this.width = width;
      this.x = new PackedColumn[width];
      for (int j = 0; j < width; j++) {
        this.x[j] = PackedColumn.of(x, j, width, rows);
      }
      this.label = PackedColumn.of(label, 0, 1, rows);
      this.weight = PackedColumn.of(weight, 0, 1, rows);
      this.fold = PackedColumn.of(fold, 0, 1, rows);
    }

    /**
     * @return a partition's rows as blocks of at most {@code maxRows}, each read from {@code
     *     rows} when it is asked for (a lazy iterator: no more than one block in memory at a time)
     */
    static Iterator<Block> read(int dataset, Scaler scaler, Iterator<Row> rows, int maxRows) {
      return new Iterator<>() {
        private long read;
        private double[] x = new double[0];
        private final double[] label = new double[maxRows];
        private final double[] weight = new double[maxRows];
        private final double[] fold = new double[maxRows];

        @Override
        public boolean hasNext() {
          return rows.hasNext();
        }

        @Override
        public Block next() {
          if (!rows.hasNext()) {
            throw new NoSuchElementException();
          }
          Row first = rows.next();
          int width = first.<Vector>getAs(0).size();
          if (scaler != null && scaler.shift().length != width) {
            throw new IllegalArgumentException(String.format("Cannot fit a logistic regression:"
                + " the rows have %d features and their scaler %d", width,
                scaler.shift().length));
          }
          if (x.length != maxRows * width) {
            x = new double[maxRows * width];
          }
          int n = 0;
          for (Row row = first; ; row = rows.next()) {
            Vector v = row.getAs(0);
            if (v.size() != width) {
              throw new IllegalArgumentException(String.format("Cannot fit a logistic"
                  + " regression: row %d of a partition has %d features, the rows before it %d",
                  read, v.size(), width));
            }
            System.arraycopy(v.toArray(), 0, x, n * width, width);
            label[n] = row.getDouble(1);
            weight[n] = row.getDouble(2);
            fold[n] = row.getInt(3);
            if (!(label[n] == 0 || label[n] == 1) || !(weight[n] >= 0)) {
              throw new IllegalArgumentException(String.format("Cannot fit a binomial logistic"
                  + " regression: row %d of a partition has label %s and weight %s; labels must"
                  + " be 0 or 1 and weights non-negative", read, label[n], weight[n]));
            }
            n++;
            read++;
            if (n == maxRows || !rows.hasNext()) {
              break;
            }
          }
          return new Block(dataset, scaler, n, width, x, label, weight, fold);
        }
      };
    }

    /** @return the type each feature column is held in, for tests */
    List<String> types() {
      return Arrays.stream(x).map(PackedColumn::type).toList();
    }

    /** @return the fold of each row, for tests */
    int[] folds() {
      Rows r = new Rows();
      int[] out = new int[rows];
      for (int from = 0; from < rows; from += r.count) {
        r.load(this, from);
        System.arraycopy(r.fold, 0, out, from, r.count);
      }
      return out;
    }

    /** @return what the block's packed values take */
    long bytes() {
      long out = label.bytes() + weight.bytes() + fold.bytes();
      for (PackedColumn c : x) {
        out += c.bytes();
      }
      return out;
    }

    /**
     * Adds each active model's weighted log-loss sum and gradient (effective coefficients). Row
     * by row, the block's data set's models three at a time: a row is read once for them, and
     * their three margins are independent sums the processor overlaps, each still added up in
     * feature order (the same numbers as one model at a time; 1.5x faster at 6 models).
     */
    static double[] addLoss(double[] acc, Block b, int[][] slices, int[] slice, double[][] gamma,
        int[] offsets) {
      int n = 0;
      int[] mine = new int[slice.length];
      for (int a = 0; a < slice.length; a++) {
        if (slices[slice[a]][0] == b.dataset) {
          mine[n++] = a;
        }
      }
      if (n == 0) {
        return acc;
      }
      int d = gamma[mine[0]].length - 1;
      int chunks = (n + 2) / 3;
      // per chunk of three models, coefficient j of each side by side (unused slots zero)
      double[] gt = new double[chunks * 3 * (d + 1)];
      int[] excluded = new int[n];
      boolean sameFold = true;
      for (int i = 0; i < n; i++) {
        double[] g = gamma[mine[i]];
        int at = i / 3 * 3 * (d + 1) + i % 3;
        for (int j = 0; j <= d; j++) {
          gt[at + 3 * j] = g[j];
        }
        excluded[i] = slices[slice[mine[i]]][1];
        sameFold &= excluded[i] == excluded[0];
      }
      double[] m = new double[chunks * 3];
      Rows rows = new Rows();
      for (int from = 0; from < b.rows; from += rows.count) {
        rows.load(b, from);
        double[] xs = rows.x;
        for (int r = 0; r < rows.count; r++) {
          double w = rows.weight[r];
          int fold = rows.fold[r];
          if (w == 0 || sameFold && fold == excluded[0] && fold >= 0) {
            continue;
          }
          int base = r * b.width;
          for (int c = 0; c < chunks; c++) {
            int g0 = c * 3 * (d + 1);
            double m0 = gt[g0 + 3 * d];
            double m1 = gt[g0 + 3 * d + 1];
            double m2 = gt[g0 + 3 * d + 2];
            for (int j = 0; j < d; j++) {
              double x = xs[base + j];
              int k = g0 + 3 * j;
              m0 += gt[k] * x;
              m1 += gt[k + 1] * x;
              m2 += gt[k + 2] * x;
            }
            m[3 * c] = m0;
            m[3 * c + 1] = m1;
            m[3 * c + 2] = m2;
          }
          double y = rows.label[r];
          for (int i = 0; i < n; i++) {
            if (fold == excluded[i] && fold >= 0) {
              continue;
            }
            double mi = m[i];
            // log(1 + e^m) - y m, stably
            double loss = (mi > 0 ? mi + Math.log1p(Math.exp(-mi)) : Math.log1p(Math.exp(mi)))
                - y * mi;
            double p = 1 / (1 + Math.exp(-mi));
            double mult = w * (p - y);
            int o = offsets[mine[i]];
            acc[o] += w * loss;
            for (int j = 0; j < d; j++) {
              acc[o + 1 + j] += mult * xs[base + j];
            }
            acc[o + 1 + d] += mult;
          }
        }
      }
      return acc;
    }
  }

  /**
   * A chunk of a block's rows decoded to doubles, row-major: 256 rows of 110 features are 220 KiB,
   * which stay in a core's cache while the models pass over them. One per pass over a block,
   * reused from chunk to chunk.
   */
  static final class Rows {
    static final int CHUNK = 256;
    double[] x = new double[0];
    final double[] label = new double[CHUNK];
    final double[] weight = new double[CHUNK];
    final int[] fold = new int[CHUNK];
    private final double[] folds = new double[CHUNK];
    int count;

    /** Decodes rows {@code from} to at most {@code from + CHUNK} of {@code b} ({@link #count}). */
    void load(Block b, int from) {
      count = Math.min(CHUNK, b.rows - from);
      if (x.length != CHUNK * b.width) {
        x = new double[CHUNK * b.width];
      }
      for (int j = 0; j < b.width; j++) {
        b.x[j].decode(from, count, x, j, b.width);
      }
      if (b.scaler != null) {
        b.scaler.apply(x, count);
      }
      b.label.decode(from, count, label, 0, 1);
      b.weight.decode(from, count, weight, 0, 1);
      b.fold.decode(from, count, folds, 0, 1);
      for (int r = 0; r < count; r++) {
        fold[r] = (int) folds[r];
      }
    }
  }

  /** Weighted label counts, mean and M2 of the features of one slice (MLlib's Summarizer). */
  static final class Moments implements Serializable {
    double weightSum;
    double weightSquareSum;
    final double[] labels = new double[2];
    double[] mean;
    double[] m2;

    static Moments[] zeros(int n) {
      Moments[] out = new Moments[n];
      for (int i = 0; i < n; i++) {
        out[i] = new Moments();
      }
      return out;
    }

    static Moments[] add(Moments[] acc, Block b, int[][] slices) {
      for (int s = 0; s < slices.length; s++) {
        if (slices[s][0] != b.dataset) {
          continue;
        }
        Moments m = acc[s];
        if (m.mean == null) {
          m.mean = new double[b.width];
          m.m2 = new double[b.width];
        }
        Rows rows = new Rows();
        for (int from = 0; from < b.rows; from += rows.count) {
          rows.load(b, from);
          for (int r = 0; r < rows.count; r++) {
            double w = rows.weight[r];
            if (w == 0 || rows.fold[r] == slices[s][1] && slices[s][1] >= 0) {
              continue;
            }
            m.weightSum += w;
            m.weightSquareSum += w * w;
            m.labels[(int) rows.label[r]] += w;
            int base = r * b.width;
            for (int j = 0; j < b.width; j++) {
              // Welford as MLlib's SummarizerBuffer: a constant column keeps variance exactly 0
              double diff = rows.x[base + j] - m.mean[j];
              m.mean[j] += w * diff / m.weightSum;
              m.m2[j] += w * (rows.x[base + j] - m.mean[j]) * diff;
            }
          }
        }
      }
      return acc;
    }

    static Moments[] merge(Moments[] a, Moments[] b) {
      for (int s = 0; s < a.length; s++) {
        Moments x = a[s];
        Moments o = b[s];
        if (o.weightSum == 0) {
          continue;
        }
        if (x.weightSum == 0) {
          a[s] = o;
          continue;
        }
        double total = x.weightSum + o.weightSum;
        for (int j = 0; j < x.mean.length; j++) {
          double delta = o.mean[j] - x.mean[j];
          x.mean[j] += delta * o.weightSum / total;
          x.m2[j] += o.m2[j] + delta * delta * x.weightSum * o.weightSum / total;
        }
        x.weightSum = total;
        x.weightSquareSum += o.weightSquareSum;
        x.labels[0] += o.labels[0];
        x.labels[1] += o.labels[1];
      }
      return a;
    }

    /** @return the unbiased weighted standard deviations, as MLlib's {@code std} */
    double[] std() {
      double[] out = new double[mean == null ? 0 : mean.length];
      double denominator = weightSum - weightSquareSum / weightSum;
      for (int j = 0; j < out.length; j++) {
        out[j] = denominator > 0 ? Math.sqrt(Math.max(m2[j] / denominator, 0)) : 0;
      }
      return out;
    }
  }

  /**
   * One task's optimisation in standardised, centred space (coefficients, then the intercept of
   * the centred features), as MLlib's: centring changes the path, not the optimum.
   */
  private static final class Model {
    private final double weightSum;
    private final double[] inverseStd;
    private final double[] scaledMean;
    private final double l2;
    private final QuasiNewton optimiser;
    private final double constantIntercept;

    Model(Task task, Moments m) {
      this.weightSum = m.weightSum;
      double[] std = m.std();
      int d = std.length;
      this.inverseStd = new double[d];
      this.scaledMean = new double[d];
      for (int j = 0; j < d; j++) {
        inverseStd[j] = std[j] > 0 ? 1 / std[j] : 0;
        scaledMean[j] = inverseStd[j] * m.mean[j]; // std() is empty when mean is null
      }
      this.l2 = (1 - task.elasticNetParam()) * task.regParam();
      double l1Weight = task.elasticNetParam() * task.regParam();
      double[] l1 = new double[d + 1];
      Arrays.fill(l1, 0, d, l1Weight);
      double[] x0 = new double[d + 1];
      if (m.labels[0] == 0 || m.labels[1] == 0) {
        // one class only: MLlib's fixed answer, no training (an infinite intercept)
        constantIntercept = m.labels[1] > 0 ? Double.POSITIVE_INFINITY
            : Double.NEGATIVE_INFINITY;
        optimiser = null;
        return;
      }
      constantIntercept = Double.NaN;
      double[] start = task.start();
      if (start != null && start.length == d + 1) {
        // into the optimiser's space, the inverse of raw(): b_j sd_j, intercept + sum b_j mean_j
        x0[d] = start[d];
        for (int j = 0; j < d; j++) {
          if (inverseStd[j] > 0) {
            x0[j] = start[j] / inverseStd[j];
            x0[d] += start[j] * m.mean[j];
          }
        }
      } else {
        x0[d] = Math.log(m.labels[1] / m.labels[0]);
      }
      optimiser = new QuasiNewton(x0, l1, task.maxIter(), task.tol());
    }

    boolean done() {
      return optimiser == null || optimiser.done();
    }

    /** @return the point to evaluate on the raw features: b_j / sd_j, then the intercept */
    double[] effective() {
      return raw(optimiser.point());
    }

    private double[] raw(double[] p) {
      int d = inverseStd.length;
      double[] out = p.clone();
      for (int j = 0; j < d; j++) {
        out[j] = p[j] * inverseStd[j];
        out[d] -= p[j] * scaledMean[j];
      }
      return out;
    }

    /** Takes the pass's sums for this model: weighted loss, then the raw-feature gradient. */
    void accept(double[] sums) {
      double[] p = optimiser.point();
      int d = inverseStd.length;
      double value = sums[0] / weightSum;
      double[] grad = new double[d + 1];
      for (int j = 0; j < d; j++) {
        grad[j] = (sums[1 + j] * inverseStd[j] - sums[1 + d] * scaledMean[j]) / weightSum
            + l2 * p[j];
        value += 0.5 * l2 * p[j] * p[j];
      }
      grad[d] = sums[1 + d] / weightSum;
      optimiser.accept(value, grad);
    }

    Fit fit() {
      int d = inverseStd.length;
      if (optimiser == null) {
        return new Fit(new double[d], constantIntercept, 0, 0, Double.NaN, "CONSTANT_LABEL");
      }
      double[] solution = raw(optimiser.solution());
      return new Fit(Arrays.copyOf(solution, d), solution[d], optimiser.iterations(), optimiser.evaluations(),
          optimiser.objective(), optimiser.stop().name());
    }
  }
}
