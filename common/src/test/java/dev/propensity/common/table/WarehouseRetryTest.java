package dev.propensity.common.table;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.propensity.common.PropensityException;
import io.delta.exceptions.ConcurrentAppendException;
import io.delta.exceptions.ConcurrentTransactionException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Write conflicts: retryable ones re-run with backoff, then one message naming the other. */
class WarehouseRetryTest {

  private static final String CONFLICT = "Files were added to partition [snapshot_date=2026-06-30]"
      + " by a concurrent update. Please try the operation again.\nConflicting commit:"
      + " {\"timestamp\":1,\"operation\":\"MERGE\",\"operationParameters\":{},\"version\":7}";

  @Test
  void delta4WordingNamesTheOtherOperationToo() {
    assertThat(dev.propensity.common.Failures.operationIn(
        "[DELTA_CONCURRENT_APPEND.WITH_PARTITION_HINT] Transaction conflict detected. a"
            + " concurrent WRITE added data to table delta.`/tmp/t` committed at version 2."
            + " The concurrent operation modified data ...")).isEqualTo("WRITE (version 2)");
    assertThat(dev.propensity.common.Failures.operationIn(CONFLICT)).isEqualTo("MERGE (version 7)");
  }

  @Test
  void retryableConflictIsRetriedUntilItCommits() {
    Warehouse wh = new Warehouse(null, "/tmp/wh", 3, Duration.ofMillis(5));
    AtomicInteger calls = new AtomicInteger();
    wh.commit("customer_propensity", "merge", () -> {
      if (calls.incrementAndGet() < 3) {
        throw new ConcurrentAppendException(CONFLICT);
      }
    });
    assertThat(calls).hasValue(3);
  }

  @Test
  void conflictOutlivingTheRetriesExits2NamingTheOtherWriter() {
    Warehouse wh = new Warehouse(null, "/tmp/wh", 2, Duration.ofMillis(5));
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(() -> wh.commit("customer_propensity", "merge", () -> {
      calls.incrementAndGet();
      throw new RuntimeException("wrapped", new ConcurrentAppendException(CONFLICT));
    }))
        .isInstanceOf(PropensityException.class)
        .hasMessageStartingWith("Cannot commit: another writer changed the same table at the"
            + " same time (ConcurrentAppendException")
        .hasMessageContaining("propensity.write.conflict-retries")
        .satisfies(e -> assertThat(((PropensityException) e).exitCode()).isEqualTo(2));
    assertThat(calls).hasValue(3);
  }

  @Test
  void nonRetryableConflictFailsAtOnceAndOtherFailuresPassThrough() {
    Warehouse wh = new Warehouse(null, "/tmp/wh", 3, Duration.ofMillis(5));
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(() -> wh.commit("t", "append", () -> {
      calls.incrementAndGet();
      throw new ConcurrentTransactionException("txn conflict");
    })).isInstanceOf(PropensityException.class).hasMessageContaining("another writer");
    assertThat(calls).hasValue(1);
    assertThatThrownBy(() -> wh.commit("t", "append", () -> {
      throw new IllegalStateException("boom");
    })).isInstanceOf(IllegalStateException.class).hasMessage("boom");
  }
}
