package dev.propensity.serve;

import io.delta.kernel.data.ColumnVector;
import io.delta.kernel.data.ColumnarBatch;
import io.delta.kernel.data.Row;
import io.delta.kernel.exceptions.TableNotFoundException;
import io.delta.kernel.types.BinaryType;
import io.delta.kernel.types.DataType;
import io.delta.kernel.types.DateType;
import io.delta.kernel.types.IntegerType;
import io.delta.kernel.types.LongType;
import io.delta.kernel.types.StringType;
import io.delta.kernel.types.StructType;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * One version of {@code customer_propensity} in memory, compact: each customer's row in the
 * binary form of {@link RowCodec} (its id first) packed into large shared chunks, with no object
 * per row, found through an open-addressing index that compares ids as UTF-8 bytes; a lookup is
 * one hash probe and the rendering of one row to JSON. Loading reads the table's data files in
 * parallel in Kernel's columnar batches, and other threads encode the rows straight from the
 * batches' column vectors (encoding, unlike rendering a million rows' JSON, formats no numbers
 * and escapes no strings). The segments job's {@code
 * segment} and {@code action} are added to a row when it is looked up, when {@link Segments} has
 * them for the row's snapshot and run: so {@code customer_segments} loads beside the lookup table,
 * not before it. Immutable once loaded.
 */
final class LookupTable {

  /** The lookup table's name under the warehouse. */
  static final String TABLE = "customer_propensity";
  private static final String ID = "customer_id";
  private static final int CHUNK = 8 << 20;
  private static final int NO_DAY = Integer.MIN_VALUE;

  private final long version;
  private final Segments segments;
  private final RowCodec codec;
  private final byte[][] chunks;
  private final int[] chunkOf;
  private final int[] offset;
  /** Each row's snapshot (epoch day, {@link Integer#MIN_VALUE} for none) and run: the join keys. */
  private final int[] day;
  private final String[] run;
  private final IdIndex index;
  private final double loadSeconds;

  private LookupTable(long version, Segments segments, RowCodec codec, List<Part> parts,
      double start) {
    this.version = version;
    this.segments = segments;
    this.codec = codec;
    int n = parts.stream().mapToInt(p -> p.size).sum();
    chunkOf = new int[n];
    offset = new int[n];
    day = new int[n];
    run = new String[n];
    List<byte[]> all = new ArrayList<>();
    int row = 0;
    for (Part p : parts) {
      for (int i = 0; i < p.size; i++, row++) {
        chunkOf[row] = p.chunkOf[i] + all.size();
        offset[row] = p.offset[i];
        day[row] = p.day[i];
        run[row] = p.run[i];
      }
      all.addAll(p.rows.trimmed());
    }
    chunks = all.toArray(new byte[0][]);
    // a repeated id (not in a table MERGEd by id): its last row
    index = new IdIndex(chunks, chunkOf, offset, (kept, later) -> later);
    this.loadSeconds = (System.nanoTime() - start) / 1e9;
  }

  /**
   * @param table the lookup table
   * @param segments {@code customer_segments}
   * @param threads how many data files to read at once
   * @return the table's latest version, loaded
   * @throws TableNotFoundException if there is no lookup table yet
   */
  static LookupTable load(KernelTable table, KernelTable segments, int threads)
      throws TableNotFoundException {
    double start = System.nanoTime();
    KernelTable.Files files = table.files(Optional.empty());
    StructType schema = files.schema();
    if (schema.indexOf(ID) < 0) {
      throw new IllegalStateException("The lookup table " + TABLE + " has no column " + ID
          + "; columns: " + schema.fieldNames());
    }
    // a table that carries segment and action itself needs no join; the segments load on their
    // own thread beside the lookup table's files (they are joined per lookup, not per load)
    boolean join = schema.indexOf("segment") < 0;
    CompletableFuture<Segments> seg = !join ? CompletableFuture.completedFuture(Segments.NONE)
        : threads <= 1 ? CompletableFuture.completedFuture(Segments.load(segments, 1))
        : CompletableFuture.supplyAsync(() -> Segments.load(segments, threads),
            daemon("serve-segments"));
    RowCodec codec = new RowCodec(schema, schema.indexOf(ID));
    List<Part> parts = readAndEncode(table, files, codec, join, threads);
    try {
      return new LookupTable(files.version(), seg.join(), codec, parts, start);
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException re ? re
          : new IllegalStateException("Cannot load " + Segments.TABLE, e.getCause());
    }
  }

  /** @return an executor running each task on a new daemon thread named {@code name} */
  static Executor daemon(String name) {
    return task -> {
      Thread t = new Thread(task, name);
      t.setDaemon(true);
      t.start();
    };
  }

  /** A batch read, waiting for an encoder; {@code data == null} tells an encoder to stop. */
  private record Batch(ColumnarBatch data, Optional<ColumnVector> selection) {}

  /**
   * Reads the files (as many at once as there are threads) and encodes their batches on {@code
   * threads} other threads: decoding a Parquet file is one thread's work, so encoding the rows
   * beside it keeps a single large file from holding the load to one core. At most {@code 4 x
   * threads} batches wait in between.
   *
   * @param segments whether rows keep the keys segments are joined on
   */
  private static List<Part> readAndEncode(KernelTable table, KernelTable.Files files,
      RowCodec codec, boolean segments, int threads) {
    if (threads <= 1) {
      // one thread (a reload beside live traffic): read and encode on the caller's thread
      Part part = new Part(files.schema(), codec, segments);
      for (Row file : files.files()) {
        table.readUtf8(files, file, (data, selection) -> part.add(data, selection));
      }
      return List.of(part);
    }
    int encoders = Math.max(1, threads);
    BlockingQueue<Batch> queue = new ArrayBlockingQueue<>(4 * encoders);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Part> parts = new ArrayList<>();
    List<Thread> workers = new ArrayList<>();
    for (int i = 0; i < encoders; i++) {
      Part part = new Part(files.schema(), codec, segments);
      parts.add(part);
      Thread t = new Thread(() -> {
        while (true) {
          Batch b;
          try {
            b = queue.take();
          } catch (InterruptedException e) {
            failure.compareAndSet(null, e);
            return;
          }
          if (b.data() == null) {
            return;
          }
          if (failure.get() == null) {
            try {
              part.add(b.data(), b.selection());
            } catch (RuntimeException | Error e) {
              failure.compareAndSet(null, e);
            }
          }
        }
      }, "serve-encode-" + i);
      t.setDaemon(true);
      t.start();
      workers.add(t);
    }
    try {
      parallel(files.files(), threads, file -> {
        table.readUtf8(files, file, (data, selection) -> {
          if (failure.get() != null) {
            return;
          }
          try {
            queue.put(new Batch(data, selection));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while loading " + TABLE, e);
          }
        });
        return file;
      });
    } finally {
      for (int i = 0; i < encoders; i++) {
        try {
          queue.put(new Batch(null, Optional.empty()));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      for (Thread t : workers) {
        try {
          t.join();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    Throwable f = failure.get();
    if (f instanceof RuntimeException re) {
      throw re;
    } else if (f instanceof Error err) {
      throw err;
    } else if (f != null) {
      throw new IllegalStateException("Cannot load " + TABLE, f);
    }
    return parts;
  }

  /** Runs {@code task} on every file, {@code threads} at a time; the results in file order. */
  static <T> List<T> parallel(List<Row> files, int threads, Function<Row, T> task) {
    if (files.size() <= 1 || threads <= 1) {
      return files.stream().map(task).toList();
    }
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(threads, files.size()), r -> {
      Thread t = new Thread(r, "serve-load");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (Row f : files) {
        futures.add(pool.submit(() -> task.apply(f)));
      }
      List<T> out = new ArrayList<>();
      for (Future<T> f : futures) {
        out.add(f.get());
      }
      return out;
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException re ? re
          : new IllegalStateException("Cannot load a table", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while loading a table", e);
    } finally {
      pool.shutdownNow();
    }
  }

  /** The rows one encoder wrote, packed into chunks. */
  private static final class Part {
    final ChunkedBytes rows = new ChunkedBytes(CHUNK);
    int[] chunkOf = new int[1024];
    int[] offset = new int[1024];
    int[] day = new int[1024];
    String[] run = new String[1024];
    int size;
    private final RowCodec.Writer row = new RowCodec.Writer();
    private final Interner runs = new Interner();
    private final StructType schema;
    private final RowCodec codec;
    private final int idCol;
    private final int dayCol;
    private final int runCol;
    /** Whether rows keep their snapshot and run, the keys segments are joined on. */
    private final boolean join;

    /**
     * @param schema the table's (logical) columns: string columns arrive as UTF-8 bytes
     * @param codec how rows are encoded
     * @param segments whether segments are joined to the rows
     */
    Part(StructType schema, RowCodec codec, boolean segments) {
      this.schema = schema;
      this.codec = codec;
      idCol = schema.indexOf(ID);
      dayCol = schema.indexOf("snapshot_date");
      runCol = schema.indexOf("run_id");
      join = segments && dayCol >= 0 && runCol >= 0
          && schema.at(dayCol).getDataType() instanceof DateType;
    }

    void add(ColumnarBatch batch, Optional<ColumnVector> selection) {
      if (batch.getSchema().length() != schema.length()) {
        throw new IllegalStateException("A batch of " + TABLE + " has the columns "
            + batch.getSchema().fieldNames() + "; expected " + schema.fieldNames());
      }
      ColumnVector[] columns = new ColumnVector[schema.length()];
      for (int c = 0; c < columns.length; c++) {
        columns[c] = batch.getColumnVector(c);
      }
      for (int r = 0; r < batch.getSize(); r++) {
        if (!KernelTable.selected(selection, r) || columns[idCol].isNullAt(r)) {
          continue;
        }
        row.reset();
        codec.encode(columns, r, key(columns[idCol], r, schema.at(idCol).getDataType()), row);
        boolean keys = join && !columns[dayCol].isNullAt(r);
        append(keys ? columns[dayCol].getInt(r) : NO_DAY,
            keys && !columns[runCol].isNullAt(r)
                ? runs.get(columns[runCol], r) : null);
      }
    }


    private void append(int snapshotDay, String runId) {
      int at = rows.append(row.buffer(), row.length());
      if (size == chunkOf.length) {
        chunkOf = Arrays.copyOf(chunkOf, size * 2);
        offset = Arrays.copyOf(offset, size * 2);
        day = Arrays.copyOf(day, size * 2);
        run = Arrays.copyOf(run, size * 2);
      }
      chunkOf[size] = rows.lastChunk();
      offset[size] = at;
      day[size] = snapshotDay;
      run[size] = runId;
      size++;
    }
  }

  /** @return the id at row {@code r}: a string's UTF-8 bytes, a number's digits */
  private static byte[] key(ColumnVector v, int r, DataType t) {
    if (t instanceof StringType) {
      return v.getDataType() instanceof BinaryType ? v.getBinary(r)
          : v.getString(r).getBytes(StandardCharsets.UTF_8);
    } else if (t instanceof LongType) {
      return Long.toString(v.getLong(r)).getBytes(StandardCharsets.US_ASCII);
    } else if (t instanceof IntegerType) {
      return Integer.toString(v.getInt(r)).getBytes(StandardCharsets.US_ASCII);
    }
    throw new IllegalStateException("The lookup table's " + ID + " has type " + t
        + "; expected a string or an integer");
  }

  /** @return the Delta version loaded */
  long version() {
    return version;
  }

  /** @return the {@code customer_segments} version joined, if there was one */
  Optional<Long> segmentsVersion() {
    return segments.version();
  }

  /** @return how many customers it holds */
  int size() {
    return offset.length;
  }

  /** @return how many customers have a segment */
  int segmented() {
    return segments.size();
  }

  /** @return how long loading took */
  double loadSeconds() {
    return loadSeconds;
  }

  /**
   * @return the customer's row as JSON, with segment and action when the segments job placed the
   *     customer for the row's snapshot and run, or null for an unknown id
   */
  ByteBuffer get(String customerId) {
    byte[] key = customerId.getBytes(StandardCharsets.UTF_8);
    int r = index.row(key);
    if (r < 0) {
      return null;
    }
    byte[] extra = day[r] == NO_DAY ? null : segments.fields(key, day[r], run[r]);
    JsonBytes json = new JsonBytes();
    codec.render(chunks[chunkOf[r]], offset[r], extra, json);
    return ByteBuffer.wrap(json.buffer(), 0, json.length()).asReadOnlyBuffer();
  }
}
