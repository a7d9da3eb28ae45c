package dev.propensity.serve;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Byte records packed one after another into large shared chunks, so that a million rows or ids
 * cost a few arrays rather than a million objects. A record is found again by its chunk (the
 * {@link #lastChunk} right after appending it) and the offset {@link #append} returned.
 * Not thread-safe: one loader thread fills one instance.
 */
final class ChunkedBytes {

  private final int chunkSize;
  private final List<byte[]> chunks = new ArrayList<>();
  private byte[] current;
  private int used;

  /** @param chunkSize the size of a chunk; a longer record gets a chunk of its own size */
  ChunkedBytes(int chunkSize) {
    this.chunkSize = chunkSize;
  }

  /** @return the offset of the record, {@code src[0..n)}, in chunk {@link #lastChunk} */
  int append(byte[] src, int n) {
    if (current == null || used + n > current.length) {
      current = new byte[Math.max(chunkSize, n)];
      chunks.add(current);
      used = 0;
    }
    System.arraycopy(src, 0, current, used, n);
    int at = used;
    used += n;
    return at;
  }

  /** @return the index of the chunk the last record went into */
  int lastChunk() {
    return chunks.size() - 1;
  }

  /** @return the chunks, the last one cut to its records */
  List<byte[]> trimmed() {
    if (current != null && used < current.length) {
      chunks.set(chunks.size() - 1, Arrays.copyOf(current, used));
      current = chunks.get(chunks.size() - 1);
    }
    return chunks;
  }
}
