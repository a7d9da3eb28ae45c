package dev.propensity.serve;

import com.fasterxml.jackson.core.io.NumberOutput;
import io.delta.kernel.data.ArrayValue;
import io.delta.kernel.data.ColumnVector;
import io.delta.kernel.data.MapValue;
import io.delta.kernel.types.ArrayType;
import io.delta.kernel.types.BinaryType;
import io.delta.kernel.types.BooleanType;
import io.delta.kernel.types.ByteType;
import io.delta.kernel.types.DataType;
import io.delta.kernel.types.DateType;
import io.delta.kernel.types.DecimalType;
import io.delta.kernel.types.DoubleType;
import io.delta.kernel.types.FloatType;
import io.delta.kernel.types.IntegerType;
import io.delta.kernel.types.LongType;
import io.delta.kernel.types.MapType;
import io.delta.kernel.types.ShortType;
import io.delta.kernel.types.StringType;
import io.delta.kernel.types.StructType;
import io.delta.kernel.types.TimestampNTZType;
import io.delta.kernel.types.TimestampType;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;

/**
 * A growable UTF-8 JSON buffer that writes Delta Kernel column values straight from their
 * vectors, with no intermediate objects: strings (escaped), numbers as Jackson writes them (a
 * double's {@code Double.toString}, NaN and infinities as strings), booleans, dates
 * ({@code yyyy-MM-dd}), timestamps (ISO instants), structs and maps as objects, arrays. One per
 * thread; {@link #reset} between rows. {@link RowCodec} renders lookup rows with it.
 */
final class JsonBytes {

  private byte[] buf = new byte[1024];
  private int len;
  // the last date written: a lookup table holds a handful of snapshot dates
  private int lastDay = Integer.MIN_VALUE;
  private byte[] lastDate;
  private long lastMicros;
  private byte[] lastTimestamp;

  void reset() {
    len = 0;
  }

  int length() {
    return len;
  }

  byte[] buffer() {
    return buf;
  }

  JsonBytes raw(char c) {
    ensure(1);
    buf[len++] = (byte) c;
    return this;
  }

  JsonBytes raw(byte[] b) {
    ensure(b.length);
    System.arraycopy(b, 0, buf, len, b.length);
    len += b.length;
    return this;
  }

  /** Writes {@code "name":}. */
  JsonBytes name(String name) {
    string(name);
    return raw(':');
  }

  /** Writes a JSON string, escaped. */
  JsonBytes string(String s) {
    ensure(s.length() + 2);
    buf[len++] = '"';
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
        ensure(1);
        buf[len++] = (byte) c;
      } else if (c == '"' || c == '\\') {
        ensure(2);
        buf[len++] = '\\';
        buf[len++] = (byte) c;
      } else if (c < 0x20) {
        control(c);
      } else {
        // non-ASCII: encode the rest of the string through the JDK (surrogate pairs included)
        int end = i;
        while (end < s.length() && s.charAt(end) >= 0x80) {
          end++;
        }
        raw(s.substring(i, end).getBytes(StandardCharsets.UTF_8));
        i = end - 1;
      }
    }
    ensure(1);
    buf[len++] = '"';
    return this;
  }

  /** Writes a JSON string from its UTF-8 bytes, escaped (multi-byte characters pass through). */
  JsonBytes utf8(byte[] b) {
    return utf8(b, 0, b.length);
  }

  /** Writes a JSON string from {@code n} UTF-8 bytes of {@code b} at {@code off}, escaped. */
  JsonBytes utf8(byte[] b, int off, int n) {
    ensure(n + 2);
    buf[len++] = '"';
    for (int i = off; i < off + n; i++) {
      byte x = b[i];
      if (x == '"' || x == '\\') {
        ensure(2);
        buf[len++] = '\\';
        buf[len++] = x;
      } else if (x >= 0 && x < 0x20) {
        control(x);
      } else {
        ensure(1);
        buf[len++] = x;
      }
    }
    ensure(1);
    buf[len++] = '"';
    return this;
  }

  /** Writes the string at {@code row} of a string vector (read as UTF-8 bytes or not). */
  private JsonBytes string(ColumnVector v, int row) {
    return v.getDataType() instanceof BinaryType ? utf8(v.getBinary(row))
        : string(v.getString(row));
  }

  /** Writes a control character as its six-character unicode escape. */
  private void control(int c) {
    ascii(String.format("\\u%04x", c));
  }

  JsonBytes number(double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      return string(Double.toString(d));
    }
    // Schubfach (Jackson's fast writer): the shortest digits that read back as d, as Java 19+'s
    // Double.toString; Java 17's is several times slower, the largest cost of loading a table
    return ascii(NumberOutput.toString(d, true));
  }

  JsonBytes ascii(String s) {
    ensure(s.length());
    for (int i = 0; i < s.length(); i++) {
      buf[len++] = (byte) s.charAt(i);
    }
    return this;
  }

  /** Writes {@code n} bytes of ASCII text (a number's digits) from {@code b} at {@code off}. */
  JsonBytes ascii(byte[] b, int off, int n) {
    ensure(n);
    System.arraycopy(b, off, buf, len, n);
    len += n;
    return this;
  }

  /** Writes the value at {@code row} of a column vector of type {@code t}. */
  JsonBytes value(ColumnVector v, int row, DataType t) {
    if (v.isNullAt(row)) {
      return ascii("null");
    }
    if (t instanceof StringType) {
      return string(v, row);
    } else if (t instanceof DoubleType) {
      return number(v.getDouble(row));
    } else if (t instanceof FloatType) {
      return number(v.getFloat(row));
    } else if (t instanceof IntegerType) {
      return ascii(Integer.toString(v.getInt(row)));
    } else if (t instanceof LongType) {
      return ascii(Long.toString(v.getLong(row)));
    } else if (t instanceof ShortType) {
      return ascii(Short.toString(v.getShort(row)));
    } else if (t instanceof ByteType) {
      return ascii(Byte.toString(v.getByte(row)));
    } else if (t instanceof BooleanType) {
      return ascii(v.getBoolean(row) ? "true" : "false");
    } else if (t instanceof DecimalType) {
      return ascii(v.getDecimal(row).toString());
    } else if (t instanceof DateType) {
      return date(v.getInt(row));
    } else if (t instanceof TimestampType) {
      return timestamp(v.getLong(row));
    } else if (t instanceof TimestampNTZType) {
      return timestampNtz(v.getLong(row));
    } else if (t instanceof StructType st) {
      raw('{');
      for (int c = 0; c < st.length(); c++) {
        if (c > 0) {
          raw(',');
        }
        name(st.at(c).getName()).value(v.getChild(c), row, st.at(c).getDataType());
      }
      return raw('}');
    } else if (t instanceof ArrayType at) {
      ArrayValue a = v.getArray(row);
      ColumnVector elements = a.getElements();
      raw('[');
      for (int k = 0; k < a.getSize(); k++) {
        if (k > 0) {
          raw(',');
        }
        value(elements, k, at.getElementType());
      }
      return raw(']');
    } else if (t instanceof MapType mt) {
      MapValue m = v.getMap(row);
      ColumnVector keys = m.getKeys();
      ColumnVector values = m.getValues();
      raw('{');
      for (int k = 0; k < m.getSize(); k++) {
        if (k > 0) {
          raw(',');
        }
        if (mt.getKeyType() instanceof StringType) {
          string(keys, k);
        } else {
          // object keys are strings: any other key as its JSON text
          JsonBytes key = new JsonBytes().value(keys, k, mt.getKeyType());
          string(new String(key.buf, 0, key.len, StandardCharsets.UTF_8));
        }
        raw(':').value(values, k, mt.getValueType());
      }
      return raw('}');
    }
    return string(t + " (unsupported type)");
  }

  /** Writes a timestamp without time zone (microseconds) as its local date-time string. */
  JsonBytes timestampNtz(long micros) {
    return string(LocalDateTime.ofEpochSecond(Math.floorDiv(micros, 1_000_000L),
        (int) Math.floorMod(micros, 1_000_000L) * 1000, ZoneOffset.UTC).toString());
  }

  /** Writes a timestamp (microseconds since the epoch, UTC) as an ISO instant string. */
  JsonBytes timestamp(long micros) {
    if (micros != lastMicros || lastTimestamp == null) {
      lastTimestamp = ('"' + Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L),
          Math.floorMod(micros, 1_000_000L) * 1000).toString() + '"')
          .getBytes(StandardCharsets.US_ASCII);
      lastMicros = micros;
    }
    return raw(lastTimestamp);
  }

  /** Writes a date (days since the epoch) as a {@code yyyy-MM-dd} string. */
  JsonBytes date(int day) {
    if (day != lastDay) {
      lastDate = ('"' + LocalDate.ofEpochDay(day).toString() + '"')
          .getBytes(StandardCharsets.US_ASCII);
      lastDay = day;
    }
    return raw(lastDate);
  }

  private void ensure(int more) {
    if (len + more > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
    }
  }
}
