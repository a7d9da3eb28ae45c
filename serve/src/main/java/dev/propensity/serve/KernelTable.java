package dev.propensity.serve;

import io.delta.kernel.Scan;
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
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Reads a Delta table at its latest version with Delta Kernel (no Spark): every row as a map of
 * column to a plain Java value ({@code String}, {@code Double}, {@code Integer}, {@code
 * Boolean}, dates and timestamps as ISO strings, maps, lists, structs as maps), which Jackson
 * writes as JSON directly.
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
   * Calls {@code rows} for every row of the latest version.
   *
   * @return the version read
   * @throws TableNotFoundException if there is no table at the path
   */
  long scan(Consumer<Map<String, Object>> rows) throws TableNotFoundException {
    Snapshot snapshot = Table.forPath(engine, path).getLatestSnapshot(engine);
    Scan scan = snapshot.getScanBuilder().build();
    Row state = scan.getScanState(engine);
    StructType physical = ScanStateRow.getPhysicalDataReadSchema(state);
    try (CloseableIterator<FilteredColumnarBatch> files = scan.getScanFiles(engine)) {
      while (files.hasNext()) {
        try (CloseableIterator<Row> fileRows = files.next().getRows()) {
          while (fileRows.hasNext()) {
            readFile(state, fileRows.next(), physical, rows);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read Delta table " + path, e);
    }
    return snapshot.getVersion();
  }

  private void readFile(Row state, Row scanFile, StructType physical,
      Consumer<Map<String, Object>> rows) throws IOException {
    FileStatus file = InternalScanFileUtils.getAddFileStatus(scanFile);
    CloseableIterator<ColumnarBatch> data = engine.getParquetHandler()
        .readParquetFiles(singleton(file), physical, Optional.empty())
        .map(FileReadResult::getData);
    try (CloseableIterator<FilteredColumnarBatch> logical =
        Scan.transformPhysicalData(engine, state, scanFile, data)) {
      while (logical.hasNext()) {
        FilteredColumnarBatch batch = logical.next();
        StructType schema = batch.getData().getSchema();
        try (CloseableIterator<Row> it = batch.getRows()) {
          while (it.hasNext()) {
            Row r = it.next();
            Map<String, Object> m = new LinkedHashMap<>();
            for (int i = 0; i < schema.length(); i++) {
              StructField f = schema.at(i);
              m.put(f.getName(), r.isNullAt(i) ? null : value(r, i, f.getDataType()));
            }
            rows.accept(m);
          }
        }
      }
    }
  }

  private static CloseableIterator<FileStatus> singleton(FileStatus file) {
    return io.delta.kernel.internal.util.Utils.singletonCloseableIterator(file);
  }

  private static Object value(Row r, int i, DataType t) {
    if (t instanceof StringType) {
      return r.getString(i);
    } else if (t instanceof DoubleType) {
      return r.getDouble(i);
    } else if (t instanceof FloatType) {
      return (double) r.getFloat(i);
    } else if (t instanceof IntegerType) {
      return r.getInt(i);
    } else if (t instanceof LongType) {
      return r.getLong(i);
    } else if (t instanceof ShortType) {
      return (int) r.getShort(i);
    } else if (t instanceof BooleanType) {
      return r.getBoolean(i);
    } else if (t instanceof DateType) {
      return LocalDate.ofEpochDay(r.getInt(i)).toString();
    } else if (t instanceof TimestampType) {
      long micros = r.getLong(i);
      return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L),
          Math.floorMod(micros, 1_000_000L) * 1000).toString();
    } else if (t instanceof MapType mt) {
      MapValue mv = r.getMap(i);
      Map<Object, Object> out = new LinkedHashMap<>();
      for (int k = 0; k < mv.getSize(); k++) {
        out.put(vectorValue(mv.getKeys(), k, mt.getKeyType()),
            vectorValue(mv.getValues(), k, mt.getValueType()));
      }
      return out;
    } else if (t instanceof ArrayType at) {
      ArrayValue av = r.getArray(i);
      List<Object> out = new ArrayList<>();
      for (int k = 0; k < av.getSize(); k++) {
        out.add(vectorValue(av.getElements(), k, at.getElementType()));
      }
      return out;
    } else if (t instanceof StructType st) {
      return struct(r.getStruct(i), st);
    }
    return String.valueOf((Object) t) + " (unsupported type)";
  }

  private static Map<String, Object> struct(Row r, StructType st) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (int k = 0; k < st.length(); k++) {
      out.put(st.at(k).getName(), r.isNullAt(k) ? null : value(r, k, st.at(k).getDataType()));
    }
    return out;
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
