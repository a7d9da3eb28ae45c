package dev.propensity.serve;

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
import java.util.Arrays;

/**
 * A lookup row in a compact binary form: written from Kernel's column vectors when the table
 * loads (no number formatting, no escaping, no field names), rendered to the row's JSON when it
 * is looked up. Rendering a million rows at start-up cost more CPU than reading them; rendering
 * one per request costs microseconds. Hand-written because the rows must render to exactly the
 * JSON {@link JsonBytes#value} writes, which no general binary format (Avro, Smile) does.
 *
 * <p>A row is its key (varint length, then the id's UTF-8 bytes or decimal digits) followed by
 * every other column in schema order. A value is one presence byte (0 for null) and then: a
 * string as varint length and UTF-8 bytes; a double, long or timestamp as 8 bytes, an int, date
 * or float as 4, a short as 2, a byte or boolean as 1, a decimal as its text; a struct as its
 * fields; an array as a varint count and the elements; a map as a varint count and the keys and
 * values in turn. An unsupported type keeps only its presence byte.
 */
final class RowCodec {

  private final StructType schema;
  private final int keyColumn;
  private final boolean stringKey;
  /** Each column's {@code {"name":} or {@code ,"name":}. */
  private final byte[][] names;
  // the last date and timestamp rendered, shared by request threads: a table holds a handful
  private volatile Text lastDate = new Text(Long.MIN_VALUE, null);
  private volatile Text lastTimestamp = new Text(Long.MIN_VALUE, null);

  /** A value and its JSON. */
  private record Text(long value, byte[] json) {}

  /**
   * @param schema the table's logical columns (strings may arrive as UTF-8 bytes)
   * @param keyColumn the id column: a string, integer or long that is never null in a row
   */
  RowCodec(StructType schema, int keyColumn) {
    this.schema = schema;
    this.keyColumn = keyColumn;
    this.stringKey = schema.at(keyColumn).getDataType() instanceof StringType;
    names = new byte[schema.length()][];
    for (int c = 0; c < names.length; c++) {
      JsonBytes name = new JsonBytes().raw(c == 0 ? '{' : ',').name(schema.at(c).getName());
      names[c] = Arrays.copyOf(name.buffer(), name.length());
    }
  }

  /** Writes row {@code r} of the batch's {@code columns}, keyed by {@code key}, to {@code out}. */
  void encode(ColumnVector[] columns, int r, byte[] key, Writer out) {
    out.varint(key.length);
    out.bytes(key, 0, key.length);
    for (int c = 0; c < columns.length; c++) {
      if (c != keyColumn) {
        encode(columns[c], r, schema.at(c).getDataType(), out);
      }
    }
  }

  private static void encode(ColumnVector v, int r, DataType t, Writer out) {
    if (v.isNullAt(r)) {
      out.put(0);
      return;
    }
    out.put(1);
    if (t instanceof StringType) {
      byte[] b = v.getDataType() instanceof BinaryType ? v.getBinary(r)
          : v.getString(r).getBytes(StandardCharsets.UTF_8);
      out.varint(b.length);
      out.bytes(b, 0, b.length);
    } else if (t instanceof DoubleType) {
      out.putLong(Double.doubleToRawLongBits(v.getDouble(r)));
    } else if (t instanceof FloatType) {
      out.putInt(Float.floatToRawIntBits(v.getFloat(r)));
    } else if (t instanceof IntegerType || t instanceof DateType) {
      out.putInt(v.getInt(r));
    } else if (t instanceof LongType || t instanceof TimestampType
        || t instanceof TimestampNTZType) {
      out.putLong(v.getLong(r));
    } else if (t instanceof ShortType) {
      short s = v.getShort(r);
      out.put(s >> 8);
      out.put(s);
    } else if (t instanceof ByteType) {
      out.put(v.getByte(r));
    } else if (t instanceof BooleanType) {
      out.put(v.getBoolean(r) ? 1 : 0);
    } else if (t instanceof DecimalType) {
      byte[] b = v.getDecimal(r).toString().getBytes(StandardCharsets.US_ASCII);
      out.varint(b.length);
      out.bytes(b, 0, b.length);
    } else if (t instanceof StructType st) {
      for (int c = 0; c < st.length(); c++) {
        encode(v.getChild(c), r, st.at(c).getDataType(), out);
      }
    } else if (t instanceof ArrayType at) {
      ArrayValue a = v.getArray(r);
      out.varint(a.getSize());
      for (int k = 0; k < a.getSize(); k++) {
        encode(a.getElements(), k, at.getElementType(), out);
      }
    } else if (t instanceof MapType mt) {
      MapValue m = v.getMap(r);
      out.varint(m.getSize());
      for (int k = 0; k < m.getSize(); k++) {
        encode(m.getKeys(), k, mt.getKeyType(), out);
        encode(m.getValues(), k, mt.getValueType(), out);
      }
    }
  }

  /**
   * Writes the row at {@code offset} as a JSON object, with {@code extra} (fields, each with its
   * leading comma) before the closing brace.
   */
  void render(byte[] chunk, int offset, byte[] extra, JsonBytes json) {
    Reader in = new Reader(chunk, offset);
    int keyLength = in.varint();
    int keyStart = in.pos;
    in.pos += keyLength;
    for (int c = 0; c < names.length; c++) {
      json.raw(names[c]);
      if (c == keyColumn) {
        if (stringKey) {
          json.utf8(chunk, keyStart, keyLength);
        } else {
          json.ascii(chunk, keyStart, keyLength);
        }
      } else {
        render(in, schema.at(c).getDataType(), json);
      }
    }
    if (extra != null) {
      json.raw(extra);
    }
    json.raw('}');
  }

  private void render(Reader in, DataType t, JsonBytes json) {
    if (in.get() == 0) {
      json.ascii("null");
      return;
    }
    if (t instanceof StringType) {
      int n = in.varint();
      json.utf8(in.buf, in.pos, n);
      in.pos += n;
    } else if (t instanceof DoubleType) {
      json.number(Double.longBitsToDouble(in.getLong()));
    } else if (t instanceof FloatType) {
      json.number(Float.intBitsToFloat(in.getInt()));
    } else if (t instanceof IntegerType) {
      json.ascii(Integer.toString(in.getInt()));
    } else if (t instanceof DateType) {
      int day = in.getInt();
      Text text = lastDate;
      if (text.value() != day || text.json() == null) {
        text = new Text(day, bytes(new JsonBytes().date(day)));
        lastDate = text;
      }
      json.raw(text.json());
    } else if (t instanceof LongType) {
      json.ascii(Long.toString(in.getLong()));
    } else if (t instanceof TimestampType) {
      long micros = in.getLong();
      Text text = lastTimestamp;
      if (text.value() != micros || text.json() == null) {
        text = new Text(micros, bytes(new JsonBytes().timestamp(micros)));
        lastTimestamp = text;
      }
      json.raw(text.json());
    } else if (t instanceof TimestampNTZType) {
      json.timestampNtz(in.getLong());
    } else if (t instanceof ShortType) {
      json.ascii(Short.toString((short) ((in.get() << 8) | (in.get() & 0xff))));
    } else if (t instanceof ByteType) {
      json.ascii(Byte.toString(in.get()));
    } else if (t instanceof BooleanType) {
      json.ascii(in.get() != 0 ? "true" : "false");
    } else if (t instanceof DecimalType) {
      int n = in.varint();
      json.ascii(in.buf, in.pos, n);
      in.pos += n;
    } else if (t instanceof StructType st) {
      json.raw('{');
      for (int c = 0; c < st.length(); c++) {
        if (c > 0) {
          json.raw(',');
        }
        json.name(st.at(c).getName());
        render(in, st.at(c).getDataType(), json);
      }
      json.raw('}');
    } else if (t instanceof ArrayType at) {
      int n = in.varint();
      json.raw('[');
      for (int k = 0; k < n; k++) {
        if (k > 0) {
          json.raw(',');
        }
        render(in, at.getElementType(), json);
      }
      json.raw(']');
    } else if (t instanceof MapType mt) {
      int n = in.varint();
      json.raw('{');
      for (int k = 0; k < n; k++) {
        if (k > 0) {
          json.raw(',');
        }
        if (mt.getKeyType() instanceof StringType) {
          render(in, mt.getKeyType(), json);
        } else {
          // object keys are strings: any other key as its JSON text
          JsonBytes key = new JsonBytes();
          render(in, mt.getKeyType(), key);
          json.string(new String(key.buffer(), 0, key.length(), StandardCharsets.UTF_8));
        }
        json.raw(':');
        render(in, mt.getValueType(), json);
      }
      json.raw('}');
    } else {
      json.string(t + " (unsupported type)");
    }
  }

  private static byte[] bytes(JsonBytes json) {
    return Arrays.copyOf(json.buffer(), json.length());
  }

  /** A growable byte buffer that rows are encoded into, one row at a time. */
  static final class Writer {
    private byte[] buf = new byte[1024];
    private int len;

    void reset() {
      len = 0;
    }

    int length() {
      return len;
    }

    byte[] buffer() {
      return buf;
    }

    void put(int b) {
      ensure(1);
      buf[len++] = (byte) b;
    }

    void bytes(byte[] b, int off, int n) {
      ensure(n);
      System.arraycopy(b, off, buf, len, n);
      len += n;
    }

    void varint(int v) {
      while ((v & ~0x7f) != 0) {
        put((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      put(v);
    }

    void putInt(int v) {
      ensure(4);
      for (int i = 0; i < 4; i++) {
        buf[len++] = (byte) (v >>> (24 - 8 * i));
      }
    }

    void putLong(long v) {
      ensure(8);
      for (int i = 0; i < 8; i++) {
        buf[len++] = (byte) (v >>> (56 - 8 * i));
      }
    }

    private void ensure(int more) {
      if (len + more > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
      }
    }
  }

  /** A position in an encoded row. */
  private static final class Reader {
    final byte[] buf;
    int pos;

    Reader(byte[] buf, int pos) {
      this.buf = buf;
      this.pos = pos;
    }

    byte get() {
      return buf[pos++];
    }

    int varint() {
      int v = 0;
      for (int shift = 0; ; shift += 7) {
        byte b = buf[pos++];
        v |= (b & 0x7f) << shift;
        if (b >= 0) {
          return v;
        }
      }
    }

    int getInt() {
      int v = 0;
      for (int i = 0; i < 4; i++) {
        v = (v << 8) | (buf[pos++] & 0xff);
      }
      return v;
    }

    long getLong() {
      long v = 0;
      for (int i = 0; i < 8; i++) {
        v = (v << 8) | (buf[pos++] & 0xff);
      }
      return v;
    }
  }
}
