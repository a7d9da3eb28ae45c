package dev.propensity.serve;

import io.delta.kernel.data.ColumnVector;
import io.delta.kernel.data.ColumnarBatch;
import io.delta.kernel.data.Row;
import io.delta.kernel.exceptions.TableNotFoundException;
import io.delta.kernel.types.BinaryType;
import io.delta.kernel.types.StructType;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The segments job's {@code segment} and {@code action} per customer, from {@code
 * customer_segments} (partitioned by {@code snapshot_date}): only the newest snapshot's partition
 * is read. A lookup row shows them when they are for the same snapshot and run as its
 * propensity; a customer the segments job has not (yet) placed for that snapshot and run has
 * none. Held compact like the lookup table: ids as UTF-8 bytes in shared chunks under an {@link
 * IdIndex}, one shared copy of each run id and of each (segment, action) pair's JSON, no object
 * per customer. Immutable once loaded.
 */
final class Segments {

  /** The segments job's table under the warehouse. */
  static final String TABLE = "customer_segments";
  private static final List<String> COLUMNS =
      List.of("customer_id", "snapshot_date", "run_id", "segment", "action");
  private static final int CHUNK = 4 << 20;
  private static final byte[] SEGMENT = ",\"segment\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ACTION = ",\"action\":".getBytes(StandardCharsets.US_ASCII);

  static final Segments NONE = new Segments(Optional.empty(), List.of());

  private final Optional<Long> version;
  private final IdIndex index;
  /** Each row's snapshot (epoch day), run and {@code ,"segment":..,"action":..}. */
  private final int[] day;
  private final String[] run;
  private final byte[][] fields;

  private Segments(Optional<Long> version, List<Part> parts) {
    this.version = version;
    int n = parts.stream().mapToInt(p -> p.size).sum();
    int[] chunkOf = new int[n];
    int[] offset = new int[n];
    day = new int[n];
    run = new String[n];
    fields = new byte[n][];
    List<byte[]> chunks = new ArrayList<>();
    int row = 0;
    for (Part p : parts) {
      for (int i = 0; i < p.size; i++, row++) {
        chunkOf[row] = p.chunkOf[i] + chunks.size();
        offset[row] = p.offset[i];
        day[row] = p.day[i];
        run[row] = p.run[i];
        fields[row] = p.fields[i];
      }
      chunks.addAll(p.ids.trimmed());
    }
    // a customer placed twice: the newer snapshot, the later row of the same one
    index = new IdIndex(chunks.toArray(new byte[0][]), chunkOf, offset,
        (kept, later) -> day[later] >= day[kept] ? later : kept);
  }

  /**
   * @param table {@code customer_segments}
   * @param threads how many files to read at once
   * @return its newest snapshot's segments, or {@link #NONE} when there is no table
   */
  static Segments load(KernelTable table, int threads) {
    KernelTable.Files files;
    try {
      files = table.files(Optional.of(COLUMNS));
    } catch (TableNotFoundException e) {
      return NONE;
    }
    String newest = files.files().stream()
        .map(f -> KernelTable.Files.partition(f).get("snapshot_date"))
        .filter(d -> d != null).max(String::compareTo).orElse(null);
    List<Row> read = files.files().stream().filter(f -> newest == null
        || newest.equals(KernelTable.Files.partition(f).get("snapshot_date"))).toList();
    List<Part> parts = LookupTable.parallel(read, threads, file -> {
      Part part = new Part(files.schema());
      table.readUtf8(files, file, part::add);
      return part;
    });
    return new Segments(Optional.of(files.version()), parts);
  }

  /** @return the table version read, empty when there was no table */
  Optional<Long> version() {
    return version;
  }

  /** @return how many customers have a segment */
  int size() {
    return index.size();
  }

  /**
   * @param customerId the customer's id as UTF-8 bytes
   * @return {@code ,"segment":..,"action":..} for the customer's snapshot and run, or null
   */
  byte[] fields(byte[] customerId, int snapshotDay, String runId) {
    int r = index.row(customerId);
    return r >= 0 && day[r] == snapshotDay && Objects.equals(run[r], runId) ? fields[r] : null;
  }

  /** The rows of one data file: ids packed into chunks, the rest in arrays. */
  private static final class Part {
    final ChunkedBytes ids = new ChunkedBytes(CHUNK);
    int[] chunkOf = new int[1024];
    int[] offset = new int[1024];
    int[] day = new int[1024];
    String[] run = new String[1024];
    byte[][] fields = new byte[1024][];
    int size;
    private final StructType schema;
    private final JsonBytes json = new JsonBytes();
    private final RowCodec.Writer key = new RowCodec.Writer();
    // a table holds a few runs and a few (segment, action) pairs: one copy of each
    private final Interner runs = new Interner();
    private final Map<ByteBuffer, byte[]> pairs = new HashMap<>();

    Part(StructType schema) {
      this.schema = schema;
    }

    void add(ColumnarBatch batch, Optional<ColumnVector> selection) {
      ColumnVector id = batch.getColumnVector(0);
      ColumnVector snapshot = batch.getColumnVector(1);
      ColumnVector runId = batch.getColumnVector(2);
      for (int r = 0; r < batch.getSize(); r++) {
        if (!KernelTable.selected(selection, r) || id.isNullAt(r) || snapshot.isNullAt(r)) {
          continue;
        }
        json.reset();
        json.raw(SEGMENT).value(batch.getColumnVector(3), r, schema.at(3).getDataType());
        json.raw(ACTION).value(batch.getColumnVector(4), r, schema.at(4).getDataType());
        byte[] f = pairs.get(ByteBuffer.wrap(json.buffer(), 0, json.length()));
        if (f == null) {
          f = Arrays.copyOf(json.buffer(), json.length());
          pairs.put(ByteBuffer.wrap(f), f);
        }
        append(id(id, r), snapshot.getInt(r), runId.isNullAt(r) ? null
            : runs.get(runId, r), f);
      }
    }

    private static byte[] id(ColumnVector v, int r) {
      return v.getDataType() instanceof BinaryType ? v.getBinary(r)
          : KernelTable.string(v, r).getBytes(StandardCharsets.UTF_8);
    }

    private void append(byte[] id, int snapshotDay, String runId, byte[] pair) {
      key.reset();
      key.varint(id.length);
      key.bytes(id, 0, id.length);
      int at = ids.append(key.buffer(), key.length());
      if (size == chunkOf.length) {
        chunkOf = Arrays.copyOf(chunkOf, size * 2);
        offset = Arrays.copyOf(offset, size * 2);
        day = Arrays.copyOf(day, size * 2);
        run = Arrays.copyOf(run, size * 2);
        fields = Arrays.copyOf(fields, size * 2);
      }
      chunkOf[size] = ids.lastChunk();
      offset[size] = at;
      day[size] = snapshotDay;
      run[size] = runId;
      fields[size] = pair;
      size++;
    }
  }
}
