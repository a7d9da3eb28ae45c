package dev.propensity.serve;

import io.delta.kernel.data.ColumnVector;
import io.delta.kernel.types.BinaryType;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * One String per distinct value of a string column that repeats row after row (a table's run id):
 * a row with the same UTF-8 bytes as the row before gets the same String without decoding any.
 * One per loading thread.
 */
final class Interner {

  private final Map<String, String> seen = new HashMap<>();
  private byte[] lastBytes;
  private String last;

  /** @return the string at row {@code r} of a string vector (read as UTF-8 bytes or not) */
  String get(ColumnVector v, int r) {
    if (v.getDataType() instanceof BinaryType) {
      byte[] b = v.getBinary(r);
      if (last == null || !Arrays.equals(b, lastBytes)) {
        last = seen.computeIfAbsent(KernelTable.string(v, r), k -> k);
        lastBytes = b;
      }
      return last;
    }
    return seen.computeIfAbsent(v.getString(r), k -> k);
  }
}
