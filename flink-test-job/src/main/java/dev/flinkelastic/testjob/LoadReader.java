package dev.flinkelastic.testjob;

import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.metrics.Gauge;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Emits what its splits have produced and it has not read yet, in batches of at most {@code batch} records per
 * {@link #pollNext} call; when caught up it returns NOTHING_AVAILABLE and an availability future that a timer
 * completes when the next record is due (at most 100 ms later). The rate file is re-read every second on the
 * timer thread.
 */
final class LoadReader implements SourceReader<Tuple3<Integer, Long, Integer>, LoadSplit> {
    private static final long MAX_WAIT_MS = 100;

    private final LoadSource.Config config;
    private final SourceReaderContext context;
    private final NumberFile rateFile;
    private final List<LoadSplit> splits = new ArrayList<>(); // task thread only
    private int cursor;
    private volatile double rate;
    private volatile Stats stats = new Stats(0, System.currentTimeMillis(), 0, 0);
    private ScheduledExecutorService timer;
    private CompletableFuture<Void> available;
    private boolean started;

    /** What the metric thread may read: this reader's splits as of {@code wallMs}. */
    private static final class Stats {
        final double produced;
        final long wallMs;
        final long read;
        final int splits;

        Stats(double produced, long wallMs, long read, int splits) {
            this.produced = produced;
            this.wallMs = wallMs;
            this.read = read;
            this.splits = splits;
        }
    }

    LoadReader(LoadSource.Config config, SourceReaderContext context) {
        this.config = config;
        this.context = context;
        this.rateFile = new NumberFile(config.rateFile, config.rate);
    }

    @Override
    public void start() {
        rateFile.readNow();
        rate = rateFile.get(System.currentTimeMillis());
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "load-source-timer-" + context.getIndexOfSubtask());
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(
                () -> rate = rateFile.get(System.currentTimeMillis()),
                NumberFile.REREAD_MS, NumberFile.REREAD_MS, TimeUnit.MILLISECONDS);
        context.metricGroup().setPendingRecordsGauge((Gauge<Long>) this::pendingNow);
        context.metricGroup().gauge("producedRecords", (Gauge<Long>) this::producedNow);
        started = true;
    }

    private double producedAt(Stats s, long nowMs) {
        double perSplit = rate / config.splits;
        return s.produced + perSplit * s.splits * Math.max(0, nowMs - s.wallMs) / 1000.0;
    }

    /** FLIP-33 pendingRecords: produced minus read over this reader's splits, extrapolated to now. */
    long pendingNow() {
        Stats s = stats;
        return Math.max(0, (long) Math.floor(producedAt(s, System.currentTimeMillis())) - s.read);
    }

    long producedNow() {
        return (long) Math.floor(producedAt(stats, System.currentTimeMillis()));
    }

    private void accrueAll(long nowMs) {
        if (!started) {
            return; // the rate is not known yet: a restored split's downtime backlog must use it
        }
        double perSplit = rate / config.splits;
        double produced = 0;
        long read = 0;
        for (LoadSplit s : splits) {
            s.accrue(nowMs, perSplit);
            produced += s.produced;
            read += s.nextSeq;
        }
        stats = new Stats(produced, nowMs, read, splits.size());
    }

    @Override
    public InputStatus pollNext(ReaderOutput<Tuple3<Integer, Long, Integer>> output) {
        accrueAll(System.currentTimeMillis());
        int n = splits.size();
        for (int i = 0; i < n; i++) {
            int idx = (cursor + i) % n;
            LoadSplit s = splits.get(idx);
            long todo = Math.min(s.available(), config.batch);
            if (todo > 0) {
                emit(s, todo, output);
                cursor = idx + 1;
                accrueAll(System.currentTimeMillis());
                return InputStatus.MORE_AVAILABLE;
            }
        }
        return InputStatus.NOTHING_AVAILABLE;
    }

    private void emit(LoadSplit s, long count, ReaderOutput<Tuple3<Integer, Long, Integer>> output) {
        int kps = config.keysPerSplit;
        long loss = config.injectLossEvery;
        long dup = config.injectDupEvery;
        for (long k = 0; k < count; k++) {
            long seq = s.nextSeq++;
            if (loss > 0 && seq % loss == loss - 1) {
                continue; // fault injection: this record is "lost"
            }
            Tuple3<Integer, Long, Integer> rec = Tuple3.of(s.id, seq, s.id * kps + (int) (seq % kps));
            output.collect(rec);
            if (dup > 0 && seq % dup == dup - 1) {
                output.collect(Tuple3.of(rec.f0, rec.f1, rec.f2)); // fault injection: "duplicated"
            }
        }
    }

    @Override
    public CompletableFuture<Void> isAvailable() {
        accrueAll(System.currentTimeMillis());
        for (LoadSplit s : splits) {
            if (s.available() > 0) {
                return CompletableFuture.completedFuture(null);
            }
        }
        if (available == null || available.isDone()) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            available = f;
            if (timer != null) {
                timer.schedule(() -> f.complete(null), nextDelayMs(), TimeUnit.MILLISECONDS);
            } else {
                f.complete(null);
            }
        }
        return available;
    }

    /** Milliseconds until the first of this reader's splits has a whole record, within [1, 100]. */
    private long nextDelayMs() {
        double perSplit = rate / config.splits;
        if (perSplit <= 0 || splits.isEmpty()) {
            return MAX_WAIT_MS;
        }
        double minMs = MAX_WAIT_MS;
        for (LoadSplit s : splits) {
            double need = (s.nextSeq + 1) - s.produced;
            minMs = Math.min(minMs, Math.max(0, need) / perSplit * 1000.0);
        }
        return Math.max(1, Math.min(MAX_WAIT_MS, (long) Math.ceil(minMs)));
    }

    @Override
    public List<LoadSplit> snapshotState(long checkpointId) {
        List<LoadSplit> copy = new ArrayList<>(splits.size());
        for (LoadSplit s : splits) {
            copy.add(s.copy());
        }
        return copy;
    }

    @Override
    public void addSplits(List<LoadSplit> newSplits) {
        splits.addAll(newSplits);
        splits.sort((a, b) -> Integer.compare(a.id, b.id));
        if (available != null && !available.isDone()) {
            available.complete(null);
        }
    }

    @Override
    public void notifyNoMoreSplits() {}

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
