package dev.propensity.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.delta.kernel.exceptions.TableNotFoundException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One version of {@code customer_propensity} in memory: each customer's row as ready JSON, so a
 * lookup is one hash probe and one write. Immutable once loaded.
 */
final class LookupTable {

  /** The lookup table's name under the warehouse. */
  static final String TABLE = "customer_propensity";
  private static final String ID = "customer_id";

  private final long version;
  private final Map<String, byte[]> rows;
  private final double loadSeconds;

  private LookupTable(long version, Map<String, byte[]> rows, double loadSeconds) {
    this.version = version;
    this.rows = rows;
    this.loadSeconds = loadSeconds;
  }

  /**
   * @param table the lookup table
   * @param json the mapper that writes each row
   * @return the table's latest version, loaded
   * @throws TableNotFoundException if there is no lookup table yet
   */
  static LookupTable load(KernelTable table, ObjectMapper json) throws TableNotFoundException {
    long start = System.nanoTime();
    Map<String, byte[]> rows = new HashMap<>();
    long version = table.scan(row -> {
      Object id = row.get(ID);
      if (id == null) {
        return;
      }
      try {
        rows.put(id.toString(), json.writeValueAsBytes(row));
      } catch (JsonProcessingException e) {
        throw new UncheckedIOException("Cannot write the lookup row of customer " + id, e);
      }
    });
    return new LookupTable(version, rows, (System.nanoTime() - start) / 1e9);
  }

  /** @return the Delta version loaded */
  long version() {
    return version;
  }

  /** @return how many customers it holds */
  int size() {
    return rows.size();
  }

  /** @return how long loading took */
  double loadSeconds() {
    return loadSeconds;
  }

  /** @return the customer's row as JSON */
  Optional<byte[]> get(String customerId) {
    return Optional.ofNullable(rows.get(customerId));
  }
}
