package dev.propensity.jobs.model;

import java.io.Serializable;

/**
 * The values of one column of a block of rows in the narrowest of constant, byte, short, int,
 * float or double that holds every one of them bit for bit (NaN and -0.0 included): one-hot slots,
 * flags and counts take one or two bytes instead of eight, and decode to the very same doubles, so
 * whatever is computed from them does not change.
 */
final class PackedColumn implements Serializable {

  private static final long serialVersionUID = 1L;

  /** The value of every row when all the arrays are null. */
  private final double constant;
  private final byte[] bytes;
  private final short[] shorts;
  private final int[] ints;
  private final float[] floats;
  private final double[] doubles;

  private PackedColumn(double constant, byte[] bytes, short[] shorts, int[] ints, float[] floats,
      double[] doubles) {
    this.constant = constant;
    this.bytes = bytes;
    this.shorts = shorts;
    this.ints = ints;
    this.floats = floats;
    this.doubles = doubles;
  }

  /**
   * @return {@code n} values of {@code values}, from {@code offset}, {@code stride} apart (a column
   *     of a row-major array), packed
   */
  static PackedColumn of(double[] values, int offset, int stride, int n) {
    long first = n == 0 ? 0 : Double.doubleToRawLongBits(values[offset]);
    boolean same = true;
    boolean asByte = true;
    boolean asShort = true;
    boolean asInt = true;
    boolean asFloat = true;
    for (int r = 0, i = offset; r < n; r++, i += stride) {
      double v = values[i];
      long bits = Double.doubleToRawLongBits(v);
      same &= bits == first;
      asByte &= bits == Double.doubleToRawLongBits((byte) v);
      asShort &= bits == Double.doubleToRawLongBits((short) v);
      asInt &= bits == Double.doubleToRawLongBits((int) v);
      asFloat &= bits == Double.doubleToRawLongBits((float) v);
    }
    if (same) {
      return new PackedColumn(Double.longBitsToDouble(first), null, null, null, null, null);
    }
    if (asByte) {
      byte[] out = new byte[n];
      for (int r = 0, i = offset; r < n; r++, i += stride) {
        out[r] = (byte) values[i];
      }
      return new PackedColumn(0, out, null, null, null, null);
    }
    if (asShort) {
      short[] out = new short[n];
      for (int r = 0, i = offset; r < n; r++, i += stride) {
        out[r] = (short) values[i];
      }
      return new PackedColumn(0, null, out, null, null, null);
    }
    if (asInt) {
      int[] out = new int[n];
      for (int r = 0, i = offset; r < n; r++, i += stride) {
        out[r] = (int) values[i];
      }
      return new PackedColumn(0, null, null, out, null, null);
    }
    if (asFloat) {
      float[] out = new float[n];
      for (int r = 0, i = offset; r < n; r++, i += stride) {
        out[r] = (float) values[i];
      }
      return new PackedColumn(0, null, null, null, out, null);
    }
    double[] out = new double[n];
    for (int r = 0, i = offset; r < n; r++, i += stride) {
      out[r] = values[i];
    }
    return new PackedColumn(0, null, null, null, null, out);
  }

  /**
   * Writes values {@code from} to {@code from + n} into {@code out}, from {@code offset},
   * {@code stride} apart.
   */
  void decode(int from, int n, double[] out, int offset, int stride) {
    if (bytes != null) {
      for (int r = 0, i = offset; r < n; r++, i += stride) {
        out[i] = bytes[from + r];
      }
    } else if (shorts != null) {
      for (int r = 0, i = offset; r < n; r++, i += stride) {
        out[i] = shorts[from + r];
      }
    } else if (ints != null) {
      for (int r = 0, i = offset; r < n; r++, i += stride) {
        out[i] = ints[from + r];
      }
    } else if (floats != null) {
      for (int r = 0, i = offset; r < n; r++, i += stride) {
        out[i] = floats[from + r];
      }
    } else if (doubles != null) {
      for (int r = 0, i = offset; r < n; r++, i += stride) {
        out[i] = doubles[from + r];
      }
    } else {
      for (int r = 0, i = offset; r < n; r++, i += stride) {
        out[i] = constant;
      }
    }
  }

  /** @return the bytes of its values (an array's header not counted) */
  long bytes() {
    if (bytes != null) {
      return bytes.length;
    }
    if (shorts != null) {
      return 2L * shorts.length;
    }
    if (ints != null) {
      return 4L * ints.length;
    }
    if (floats != null) {
      return 4L * floats.length;
    }
    return doubles != null ? 8L * doubles.length : 8;
  }

  /** @return the type its values are held in, for tests and the log */
  String type() {
    return bytes != null ? "byte" : shorts != null ? "short" : ints != null ? "int"
        : floats != null ? "float" : doubles != null ? "double" : "constant";
  }
}
