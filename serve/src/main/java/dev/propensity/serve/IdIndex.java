package dev.propensity.serve;

import java.util.Arrays;
import java.util.function.IntBinaryOperator;

/**
 * An open-addressing hash index over ids held as UTF-8 bytes in large shared chunks: the id of
 * row {@code r} is at {@code offset[r]} of {@code chunks[chunkOf[r]]}, as a varint length and its
 * bytes (the layout {@link RowCodec} starts a row with). No object per id; each slot keeps the
 * id's hash beside its row, so a probe reads an id's bytes only when the hashes match.
 * Immutable once built.
 */
final class IdIndex {

  private final byte[][] chunks;
  private final int[] chunkOf;
  private final int[] offset;
  /** A slot: the id's hash in the high half, its row + 1 in the low half; 0 when empty. */
  private final long[] slots;
  private final int size;

  /**
   * Indexes rows {@code 0..n-1} in order.
   *
   * @param keep of an id's row already indexed and a later row with the same id, the row to keep
   */
  IdIndex(byte[][] chunks, int[] chunkOf, int[] offset, IntBinaryOperator keep) {
    this.chunks = chunks;
    this.chunkOf = chunkOf;
    this.offset = offset;
    int n = offset.length;
    slots = new long[Math.max(16, Integer.highestOneBit(Math.max(1, n)) << 2)];
    int distinct = 0;
    for (int r = 0; r < n; r++) {
      byte[] chunk = chunks[chunkOf[r]];
      int length = length(chunk, offset[r]);
      int start = offset[r] + varintSize(length);
      int hash = hash(chunk, start, length);
      int slot = find(hash, chunk, start, length);
      int row = slots[slot] == 0 ? r : keep.applyAsInt((int) slots[slot] - 1, r);
      distinct += slots[slot] == 0 ? 1 : 0;
      slots[slot] = ((long) hash << 32) | (row + 1);
    }
    size = distinct;
  }

  /** @return how many distinct ids it holds */
  int size() {
    return size;
  }

  /** @return the row of an id (its UTF-8 bytes), or -1 */
  int row(byte[] id) {
    int slot = find(hash(id, 0, id.length), id, 0, id.length);
    return (int) slots[slot] - 1;
  }

  /** @return the slot of an id: where it is, or the empty slot where it would go */
  private int find(int hash, byte[] b, int off, int n) {
    int mask = slots.length - 1;
    int slot = hash & mask;
    while (slots[slot] != 0 && !((int) (slots[slot] >>> 32) == hash
        && same((int) slots[slot] - 1, b, off, n))) {
      slot = (slot + 1) & mask;
    }
    return slot;
  }

  private boolean same(int r, byte[] b, int off, int n) {
    byte[] chunk = chunks[chunkOf[r]];
    int start = offset[r] + varintSize(n);
    return length(chunk, offset[r]) == n
        && Arrays.equals(chunk, start, start + n, b, off, off + n);
  }

  /** @return the varint length at {@code pos} */
  private static int length(byte[] b, int pos) {
    int v = 0;
    for (int shift = 0; ; shift += 7) {
      byte x = b[pos++];
      v |= (x & 0x7f) << shift;
      if (x >= 0) {
        return v;
      }
    }
  }

  private static int varintSize(int v) {
    int size = 1;
    while ((v & ~0x7f) != 0) {
      v >>>= 7;
      size++;
    }
    return size;
  }

  /** Murmur3's 32-bit finalizer over the bytes' polynomial hash: sequential ids spread out. */
  private static int hash(byte[] b, int off, int n) {
    int h = 1;
    for (int i = off; i < off + n; i++) {
      h = 31 * h + b[i];
    }
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    return h ^ (h >>> 16);
  }
}
