package dev.flinkelastic.testjob;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * The "verdict" vertex: checks exactly-once delivery per key (see {@link SeqChecker}) with the last seq per key
 * in keyed state, and keeps the totals (checked, lost, duplicated) in operator ListState: one entry per subtask,
 * redistributed round-robin on a restore, each subtask summing what it receives, so a rescale neither doubles
 * nor drops them. Totals are gauges verdictChecked/verdictLost/verdictDuplicated, and on each completed
 * checkpoint (or savepoint) each subtask writes the totals AS OF THAT CHECKPOINT to verdict-dir/subtask-i.json,
 * so the files of one checkpoint id form a consistent cut.
 */
final class VerdictFunction extends KeyedProcessFunction<Integer, Tuple3<Integer, Long, Integer>, Integer>
        implements CheckpointedFunction, CheckpointListener {
    private static final long serialVersionUID = 1L;

    private final int keysPerSplit;
    private final String verdictDir; // null: no files

    private transient ValueState<Long> lastSeq;
    private transient ListState<Tuple3<Long, Long, Long>> totalsState;
    private transient volatile long checked;
    private transient volatile long lost;
    private transient volatile long duplicated;
    private transient long restoredFrom; // entries summed at restore (for the file)
    private transient TreeMap<Long, long[]> snapshots; // checkpoint id -> totals at that checkpoint

    VerdictFunction(int keysPerSplit, String verdictDir) {
        this.keysPerSplit = keysPerSplit;
        this.verdictDir = (verdictDir == null || verdictDir.isEmpty()) ? null : verdictDir;
    }

    @Override
    public void initializeState(FunctionInitializationContext ctx) throws Exception {
        totalsState = ctx.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>(
                        "verdict-totals", Types.TUPLE(Types.LONG, Types.LONG, Types.LONG)));
        long c = 0, l = 0, d = 0, n = 0;
        if (ctx.isRestored()) {
            for (Tuple3<Long, Long, Long> t : totalsState.get()) {
                c += t.f0;
                l += t.f1;
                d += t.f2;
                n++;
            }
        }
        checked = c;
        lost = l;
        duplicated = d;
        restoredFrom = n;
        snapshots = new TreeMap<>();
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        lastSeq = getRuntimeContext().getState(new ValueStateDescriptor<>("verdict-last-seq", Types.LONG));
        MetricGroup g = getRuntimeContext().getMetricGroup();
        g.gauge("verdictChecked", (Gauge<Long>) () -> checked);
        g.gauge("verdictLost", (Gauge<Long>) () -> lost);
        g.gauge("verdictDuplicated", (Gauge<Long>) () -> duplicated);
        if (verdictDir != null) {
            Files.createDirectories(Paths.get(verdictDir));
            int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
            if (getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 0) {
                // files of subtasks a larger earlier run had are no part of this run's verdict
                try (java.util.stream.Stream<Path> files = Files.list(Paths.get(verdictDir))) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        String name = f.getFileName().toString();
                        if (name.matches("subtask-[0-9]+\\.json")
                                && Integer.parseInt(name.replaceAll("[^0-9]", "")) >= parallelism) {
                            Files.deleteIfExists(f);
                        }
                    }
                }
            }
        }
    }

    private Path fileOf(int subtask) {
        return Paths.get(verdictDir, "subtask-" + subtask + ".json");
    }

    @Override
    public void processElement(Tuple3<Integer, Long, Integer> rec, Context ctx, Collector<Integer> out)
            throws Exception {
        SeqChecker.Outcome o = SeqChecker.check(lastSeq.value(), rec.f1, rec.f2, keysPerSplit);
        checked++;
        if (o.duplicated) {
            duplicated++;
        } else {
            lost += o.lost;
            lastSeq.update(o.newLast);
        }
    }

    @Override
    public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
        totalsState.clear();
        totalsState.add(Tuple3.of(checked, lost, duplicated));
        snapshots.put(ctx.getCheckpointId(), new long[] {checked, lost, duplicated});
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        long[] totals = snapshots.get(checkpointId);
        // forget this and older snapshots (a checkpoint may complete without its own notification)
        for (Iterator<Map.Entry<Long, long[]>> it = snapshots.entrySet().iterator(); it.hasNext(); ) {
            if (it.next().getKey() <= checkpointId) {
                it.remove();
            }
        }
        if (totals != null && verdictDir != null) {
            writeFile(checkpointId, totals);
        }
    }

    private void writeFile(long checkpointId, long[] t) throws IOException {
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        String json = "{\"jobId\":\"" + getRuntimeContext().getJobInfo().getJobId() + "\""
                + ",\"subtask\":" + subtask
                + ",\"parallelism\":" + getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks()
                + ",\"attempt\":" + getRuntimeContext().getTaskInfo().getAttemptNumber()
                + ",\"checkpointId\":" + checkpointId
                + ",\"checked\":" + t[0]
                + ",\"lost\":" + t[1]
                + ",\"duplicated\":" + t[2]
                + ",\"restoredEntries\":" + restoredFrom
                + ",\"writtenAtMs\":" + System.currentTimeMillis()
                + "}\n";
        Path target = fileOf(subtask);
        Path tmp = Paths.get(verdictDir, ".subtask-" + subtask + ".json.tmp");
        Files.write(tmp, json.getBytes(StandardCharsets.UTF_8));
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
