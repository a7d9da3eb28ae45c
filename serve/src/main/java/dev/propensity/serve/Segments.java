package dev.propensity.serve;

import io.delta.kernel.data.ColumnVector;
import io.delta.kernel.data.Row;
import io.delta.kernel.exceptions.TableNotFoundException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The segments job's {@code segment} and {@code action} per customer, from {@code
 * customer_segments} (partitioned by {@code snapshot_date}): only the newest snapshot's partition
 * is read. A lookup row shows them when they are for the same snapshot and run as its
 * propensity; a customer the segments job has not (yet) placed for that snapshot and run has
 * none. Immutable once loaded.
 */
final class Segments {

  /** The segments job's table under the warehouse. */
  static final String TABLE = "customer_segments";
  private static final List<String> COLUMNS =
      List.of("customer_id", "snapshot_date", "run_id", "segment", "action");

  /** One customer's segment: its snapshot (epoch day), run and the JSON fields to add. */
  private record Entry(int day, String runId, byte[] fields) {}

  static final Segments NONE = new Segments(Optional.empty(), Map.of());

  private final Optional<Long> version;
  private final Map<String, Entry> byCustomer;

  private Segments(Optional<Long> version, Map<String, Entry> byCustomer) {
    this.version = version;
    this.byCustomer = byCustomer;
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
    List<Map<String, Entry>> parts = LookupTable.parallel(read, threads, file -> {
      Map<String, Entry> m = new HashMap<>();
      JsonBytes json = new JsonBytes();
      // a table holds a few runs and a few (segment, action) pairs: one copy of each
      Map<String, String> runs = new HashMap<>();
      Map<ByteBuffer, byte[]> fields = new HashMap<>();
      table.readUtf8(files, file, (batch, selection) -> {
        ColumnVector id = batch.getColumnVector(0);
        ColumnVector day = batch.getColumnVector(1);
        ColumnVector run = batch.getColumnVector(2);
        for (int r = 0; r < batch.getSize(); r++) {
          if (!KernelTable.selected(selection, r) || id.isNullAt(r) || day.isNullAt(r)) {
            continue;
          }
          json.reset();
          json.raw(',').name("segment").value(batch.getColumnVector(3), r,
              files.schema().at(3).getDataType());
          json.raw(',').name("action").value(batch.getColumnVector(4), r,
              files.schema().at(4).getDataType());
          byte[] f = fields.get(ByteBuffer.wrap(json.buffer(), 0, json.length()));
          if (f == null) {
            f = Arrays.copyOf(json.buffer(), json.length());
            fields.put(ByteBuffer.wrap(f), f);
          }
          String runId = run.isNullAt(r) ? null
              : runs.computeIfAbsent(KernelTable.string(run, r), k -> k);
          Entry e = new Entry(day.getInt(r), runId, f);
          m.merge(KernelTable.string(id, r), e, (a, b) -> b.day() >= a.day() ? b : a);
        }
      });
      return m;
    });
    Map<String, Entry> all = parts.size() == 1 ? parts.get(0) : new HashMap<>();
    if (parts.size() > 1) {
      parts.forEach(p -> p.forEach((k, e) -> all.merge(k, e, (a, b) -> b.day() >= a.day() ? b
          : a)));
    }
    return new Segments(Optional.of(files.version()), all);
  }

  /** @return the table version read, empty when there was no table */
  Optional<Long> version() {
    return version;
  }

  /** @return how many customers have a segment */
  int size() {
    return byCustomer.size();
  }

  /**
   * @return {@code ,"segment":..,"action":..} for the customer's snapshot and run, or null
   */
  byte[] fields(String customerId, int day, String runId) {
    Entry e = byCustomer.get(customerId);
    return e != null && e.day() == day && java.util.Objects.equals(e.runId(), runId)
        ? e.fields() : null;
  }
}
