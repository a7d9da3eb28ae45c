package dev.propensity.serve;

import io.delta.kernel.Scan;
import io.delta.kernel.ScanBuilder;
import io.delta.kernel.Snapshot;
import io.delta.kernel.Table;
import io.delta.kernel.data.ArrayValue;
import io.delta.kernel.data.ColumnVector;
import io.delta.kernel.data.ColumnarBatch;
import io.delta.kernel.data.FilteredColumnarBatch;
import io.delta.kernel.data.MapValue;
import io.delta.kernel.data.Row;
import io.delta.kernel.engine.Engine;
import io.delta.kernel.engine.FileReadResult;
import io.delta.kernel.exceptions.TableNotFoundException;
import io.delta.kernel.internal.InternalScanFileUtils;
import io.delta.kernel.internal.data.ScanStateRow;
import io.delta.kernel.types.ArrayType;
import io.delta.kernel.types.BinaryType;
import io.delta.kernel.types.BooleanType;
import io.delta.kernel.types.DataType;
import io.delta.kernel.types.DateType;
import io.delta.kernel.types.DoubleType;
import io.delta.kernel.types.FloatType;
import io.delta.kernel.types.IntegerType;
import io.delta.kernel.types.LongType;
import io.delta.kernel.types.MapType;
import io.delta.kernel.types.ShortType;
import io.delta.kernel.types.StringType;
import io.delta.kernel.types.StructField;
import io.delta.kernel.types.StructType;
import io.delta.kernel.types.TimestampType;
import io.delta.kernel.utils.CloseableIterator;
import io.delta.kernel.utils.FileStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Reads a Delta table at its latest version with Delta Kernel (no Spark): its data files one by
 * one in Kernel's columnar batches ({@link #files}, {@link #read}; files can be read by several
 * threads at once), or, for small tables, every row as a map of column to a plain Java value
 * ({@link #scan}: strings, numbers, booleans, dates and timestamps as ISO strings, structs as
 * maps).
 */
final class KernelTable {

  private final Engine engine;
  private final String path;

  KernelTable(Engine engine, String path) {
    this.engine = engine;
    this.path = path;
  }

  /** @return the table's latest version, or empty when there is no table at the path */
  Optional<Long> latestVersion() {
    try {
      return Optional.of(Table.forPath(engine, path).getLatestSnapshot(engine).getVersion());
    } catch (TableNotFoundException e) {
      return Optional.empty();
    }
  }

  /**
   * The latest version's data files, to read one by one (in parallel) with {@link #read}.
   *
   * @param version the snapshot's version
   * @param schema the columns read
   * @param state Kernel's scan state
   * @param files one scan-file row per data file
   */
  record Files(long version, StructType schema, Row state, List<Row> files) {

    /** @return the partition values of a file, column to value as a string */
    static Map<String, String> partition(Row scanFile) {
      return InternalScanFileUtils.getPartitionValues(scanFile);
    }
  }

  /** Receives one batch of a data file: the rows whose selection is unset or true. */
  interface Batches {
    void accept(ColumnarBatch data, Optional<ColumnVector> selection);
  }

  /**
   * @param columns the columns to read, or empty for all
   * @return the latest version's data files
   * @throws TableNotFoundException if there is no table at the path
   */
  Files files(Optional<List<String>> columns) throws TableNotFoundException {
    Snapshot snapshot = Table.forPath(engine, path).getLatestSnapshot(engine);
    ScanBuilder builder = snapshot.getScanBuilder();
    StructType schema = snapshot.getSchema();
    if (columns.isPresent()) {
      StructType read = new StructType();
      for (String c : columns.get()) {
        if (schema.indexOf(c) < 0) {
          throw new IllegalStateException("Delta table " + path + " has no column " + c
              + "; columns: " + schema.fieldNames());
        }
        read = read.add(schema.get(c));
      }
      builder = builder.withReadSchema(read);
      schema = read;
    }
    Scan scan = builder.build();
    Row state = scan.getScanState(engine);
    List<Row> files = new ArrayList<>();
    try (CloseableIterator<FilteredColumnarBatch> batches = scan.getScanFiles(engine)) {
      while (batches.hasNext()) {
        try (CloseableIterator<Row> rows = batches.next().getRows()) {
          rows.forEachRemaining(files::add);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list the files of Delta table " + path, e);
    }
    return new Files(snapshot.getVersion(), schema, state, files);
  }

  /** Reads one data file of {@code files} in Kernel's columnar batches. */
  void read(Files files, Row scanFile, Batches out) {
    read(files, scanFile, out, false);
  }

  /**
   * Reads one data file like {@link #read(Files, Row, Batches)}, but string columns (nested ones
   * too) as their UTF-8 bytes: their vectors are of {@link BinaryType} under the batch's string
   * type, read with {@link #string} or {@link ColumnVector#getBinary}. Kernel's {@code getString}
   * decodes every value through a charset decoder; a loader that only copies the bytes on skips
   * that.
   */
  void readUtf8(Files files, Row scanFile, Batches out) {
    read(files, scanFile, out, true);
  }

  private void read(Files files, Row scanFile, Batches out, boolean utf8) {
    StructType physical = ScanStateRow.getPhysicalDataReadSchema(files.state());
    if (utf8) {
      physical = (StructType) utf8(physical);
    }
    FileStatus file = InternalScanFileUtils.getAddFileStatus(scanFile);
    try {
      CloseableIterator<ColumnarBatch> data = engine.getParquetHandler()
          .readParquetFiles(singleton(file), physical, Optional.empty())
          .map(FileReadResult::getData);
      try (CloseableIterator<FilteredColumnarBatch> logical =
          Scan.transformPhysicalData(engine, files.state(), scanFile, data)) {
        while (logical.hasNext()) {
          FilteredColumnarBatch batch = logical.next();
          out.accept(batch.getData(), batch.getSelectionVector());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file.getPath() + " of Delta table " + path,
          e);
    }
  }

  /** @return {@code t} with every string type, nested ones too, replaced by binary */
  private static DataType utf8(DataType t) {
    if (t instanceof StringType) {
      return BinaryType.BINARY;
    } else if (t instanceof StructType st) {
      return new StructType(st.fields().stream().map(KernelTable::utf8).toList());
    } else if (t instanceof ArrayType at) {
      return new ArrayType(utf8(at.getElementField()));
    } else if (t instanceof MapType mt) {
      return new MapType(utf8(mt.getKeyField()), utf8(mt.getValueField()));
    }
    return t;
  }

  private static StructField utf8(StructField f) {
    DataType t = utf8(f.getDataType());
    return t.equals(f.getDataType()) ? f : f.withDataType(t);
  }

  /**
   * @return the string at row {@code r} of a string column, read by {@link #readUtf8} or not
   */
  static String string(ColumnVector v, int r) {
    return v.getDataType() instanceof BinaryType
        ? new String(v.getBinary(r), StandardCharsets.UTF_8) : v.getString(r);
  }

  /** @return whether row {@code r} of a batch is selected (no deletion vector drops it) */
  static boolean selected(Optional<ColumnVector> selection, int r) {
    return selection.isEmpty() || (!selection.get().isNullAt(r) && selection.get().getBoolean(r));
  }

  /**
   * Calls {@code rows} for every row of the latest version, as a map of column to value (for
   * small tables such as the registry).
   *
   * @return the version read
   * @throws TableNotFoundException if there is no table at the path
   */
  long scan(Consumer<Map<String, Object>> rows) throws TableNotFoundException {
    Files files = files(Optional.empty());
    for (Row file : files.files()) {
      read(files, file, (batch, selection) -> {
        StructType schema = batch.getSchema();
        for (int r = 0; r < batch.getSize(); r++) {
          if (!selected(selection, r)) {
            continue;
          }
          Map<String, Object> m = new LinkedHashMap<>();
          for (int i = 0; i < schema.length(); i++) {
            StructField f = schema.at(i);
            m.put(f.getName(), vectorValue(batch.getColumnVector(i), r, f.getDataType()));
          }
          rows.accept(m);
        }
      });
    }
    return files.version();
  }

  private static CloseableIterator<FileStatus> singleton(FileStatus file) {
    return io.delta.kernel.internal.util.Utils.singletonCloseableIterator(file);
  }

  private static Object vectorValue(ColumnVector v, int k, DataType t) {
    if (v.isNullAt(k)) {
      return null;
    }
    if (t instanceof StringType) {
      return v.getString(k);
    } else if (t instanceof DoubleType) {
      return v.getDouble(k);
    } else if (t instanceof IntegerType) {
      return v.getInt(k);
    } else if (t instanceof LongType) {
      return v.getLong(k);
    } else if (t instanceof BooleanType) {
      return v.getBoolean(k);
    } else if (t instanceof DateType) {
      return LocalDate.ofEpochDay(v.getInt(k)).toString();
    } else if (t instanceof TimestampType) {
      long micros = v.getLong(k);
      return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L),
          Math.floorMod(micros, 1_000_000L) * 1000).toString();
    } else if (t instanceof StructType st) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (int c = 0; c < st.length(); c++) {
        out.put(st.at(c).getName(), vectorValue(v.getChild(c), k, st.at(c).getDataType()));
      }
      return out;
    }
    return String.valueOf((Object) t) + " (unsupported type)";
  }
}
