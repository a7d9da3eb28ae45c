package dev.propensity.serve;

import io.delta.kernel.defaults.engine.DefaultEngine;
import io.delta.kernel.engine.Engine;
import io.delta.kernel.exceptions.TableNotFoundException;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the service answers from: one lookup table version and one champion model, held in one
 * immutable {@link Loaded} that a reload replaces with a single atomic swap. A request reads the
 * reference once and uses that state to the end, so no request sees a mix of two versions and
 * none waits for a reload. Reloads run one at a time, in the background on a schedule or when
 * {@code POST /admin/reload} asks; a failed reload keeps the old state.
 */
final class ServingState implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ServingState.class);

  /**
   * One consistent state.
   *
   * @param lookup the lookup table, empty until one exists
   * @param model the champion model
   * @param loadedAt when this state was swapped in
   */
  record Loaded(Optional<LookupTable> lookup, ChampionModel model, Instant loadedAt) {

    boolean ready() {
      return lookup.isPresent() && model.runId().isPresent();
    }
  }

  /**
   * What a reload did.
   *
   * @param changed whether a new state was swapped in
   * @param seconds how long it took
   * @param state the state after it
   */
  record Reload(boolean changed, double seconds, Loaded state) {}

  private final ServeSettings settings;
  private final Configuration hadoop;
  private final KernelTable lookupTable;
  private final KernelTable segmentsTable;
  private final KernelTable registry;
  private final Metrics metrics;
  private final AtomicReference<Loaded> current = new AtomicReference<>();
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(
      r -> {
        Thread t = new Thread(r, "serve-reload");
        t.setDaemon(true);
        return t;
      });

  ServingState(ServeSettings settings, Metrics metrics) {
    this.settings = settings;
    this.hadoop = ChampionModel.hadoop();
    Engine engine = DefaultEngine.create(hadoop);
    this.lookupTable = new KernelTable(engine, settings.table(LookupTable.TABLE));
    this.segmentsTable = new KernelTable(engine, settings.table(Segments.TABLE));
    this.registry = new KernelTable(engine, settings.table(ChampionModel.REGISTRY));
    this.metrics = metrics;
    current.set(new Loaded(Optional.empty(), ChampionModel.load(settings, hadoop,
        Optional.empty()), Instant.now()));
  }

  /** @return the state to answer one request from */
  Loaded get() {
    return current.get();
  }

  /** Starts the scheduled checks (none when the interval is 0). */
  void startBackgroundReload() {
    long ms = settings.reloadInterval().toMillis();
    if (ms > 0) {
      scheduler.scheduleWithFixedDelay(() -> {
        try {
          reload(false);
        } catch (RuntimeException e) {
          // already counted and logged; the next round tries again
        }
      }, ms, ms, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Loads what changed (the lookup table's version, the champion) and swaps it in.
   *
   * @param force load both again even if nothing changed
   * @return what happened
   * @throws RuntimeException if loading failed (the old state stays and keeps serving)
   */
  synchronized Reload reload(boolean force) {
    long start = System.nanoTime();
    Loaded old = current.get();
    try {
      if (force && old.lookup().isEmpty()) {
        return swap(start, firstLoad());
      }
      Optional<Long> version = lookupTable.latestVersion();
      Optional<String> champion = ChampionModel.championId(registry);
      Optional<Long> segments = segmentsTable.latestVersion();
      boolean lookupChanged = force || !version.equals(old.lookup().map(LookupTable::version))
          || old.lookup().isPresent() && !segments.equals(old.lookup().get().segmentsVersion());
      boolean modelChanged = force || !Objects.equals(champion, old.model().runId());
      if (!lookupChanged && !modelChanged) {
        return new Reload(false, seconds(start), old);
      }
      Optional<LookupTable> lookup = old.lookup();
      if (lookupChanged) {
        try {
          lookup = version.isEmpty() ? Optional.empty()
              : Optional.of(LookupTable.load(lookupTable, segmentsTable,
                  old.lookup().isPresent() ? settings.reloadThreads() : settings.loadThreads()));
        } catch (TableNotFoundException e) {
          lookup = Optional.empty();
        }
      }
      ChampionModel model = modelChanged ? ChampionModel.load(settings, hadoop, champion)
          : old.model();
      return swap(start, new Loaded(lookup, model, Instant.now()));
    } catch (RuntimeException e) {
      metrics.reloadFailures.increment();
      LOG.error("serve: reload failed, still serving the state loaded at {}: {}",
          old.loadedAt(), e.toString());
      throw e;
    }
  }

  /**
   * The start-up's load, nothing served yet: every core at once, no version checks first (the
   * table's version is the one read); the champion (registry and model file) loads on a thread
   * of its own beside the lookup table.
   */
  private Loaded firstLoad() {
    CompletableFuture<ChampionModel> model = CompletableFuture.supplyAsync(
        () -> ChampionModel.load(settings, hadoop, ChampionModel.championId(registry)),
        LookupTable.daemon("serve-champion"));
    Optional<LookupTable> lookup;
    try {
      lookup = Optional.of(LookupTable.load(lookupTable, segmentsTable, settings.loadThreads()));
    } catch (TableNotFoundException e) {
      lookup = Optional.empty();
    }
    return new Loaded(lookup, joined(model), Instant.now());
  }

  /** Serves {@code next} from now on. */
  private Reload swap(long start, Loaded next) {
    current.set(next);
    metrics.reloads.increment();
    Optional<LookupTable> lookup = next.lookup();
    ChampionModel model = next.model();
    LOG.info("serve: loaded {} (version {}, {} customers, {} with a segment of {} version {},"
        + " {} s) and champion {} ({})",
        settings.table(LookupTable.TABLE), lookup.map(l -> (Object) l.version()).orElse("none"),
        lookup.map(LookupTable::size).orElse(0), lookup.map(LookupTable::segmented).orElse(0),
        Segments.TABLE, lookup.flatMap(LookupTable::segmentsVersion).map(v -> (Object) v)
            .orElse("none"),
        lookup.map(l -> String.format("%.2f", l.loadSeconds())).orElse("-"),
        model.runId().orElse("none"), model.scorer().isPresent() ? "live scoring on"
            : "live scoring off: " + model.unavailable().orElse(""));
    return new Reload(true, seconds(start), next);
  }

  private static ChampionModel joined(CompletableFuture<ChampionModel> model) {
    try {
      return model.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException re ? re
          : new IllegalStateException("Cannot load the champion", e.getCause());
    }
  }

  private static double seconds(long start) {
    return (System.nanoTime() - start) / 1e9;
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
