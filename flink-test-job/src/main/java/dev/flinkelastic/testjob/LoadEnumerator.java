package dev.flinkelastic.testjob;

import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * Push-assigns the fixed set of splits: split i goes to reader i % parallelism when that reader registers.
 * After the first assignment the splits live in the readers' state (Flink redistributes them on a restore
 * at another parallelism); splits handed back on a failover are assigned again when their reader returns.
 */
final class LoadEnumerator implements SplitEnumerator<LoadSplit, List<LoadSplit>> {
    private final SplitEnumeratorContext<LoadSplit> context;
    private final List<LoadSplit> pending;

    LoadEnumerator(SplitEnumeratorContext<LoadSplit> context, List<LoadSplit> pending) {
        this.context = context;
        this.pending = new ArrayList<>(pending);
    }

    @Override
    public void start() {
        for (int reader : context.registeredReaders().keySet()) {
            assignTo(reader);
        }
    }

    private void assignTo(int reader) {
        int parallelism = context.currentParallelism();
        List<LoadSplit> mine = new ArrayList<>();
        for (Iterator<LoadSplit> it = pending.iterator(); it.hasNext(); ) {
            LoadSplit s = it.next();
            if (s.id % parallelism == reader) {
                mine.add(s);
                it.remove();
            }
        }
        for (LoadSplit s : mine) {
            context.assignSplit(s, reader);
        }
    }

    @Override
    public void handleSplitRequest(int subtaskId, String requesterHostname) {
        // push model: nothing to do
    }

    @Override
    public void addSplitsBack(List<LoadSplit> splits, int subtaskId) {
        pending.addAll(splits);
        if (context.registeredReaders().containsKey(subtaskId)) {
            assignTo(subtaskId);
        }
    }

    @Override
    public void addReader(int subtaskId) {
        assignTo(subtaskId);
    }

    @Override
    public List<LoadSplit> snapshotState(long checkpointId) {
        List<LoadSplit> copy = new ArrayList<>();
        for (LoadSplit s : pending) {
            copy.add(s.copy());
        }
        return copy;
    }

    @Override
    public void close() {}

    static List<LoadSplit> initialSplits(int splits, long nowMs) {
        List<LoadSplit> list = new ArrayList<>();
        for (int i = 0; i < splits; i++) {
            list.add(new LoadSplit(i, 0, 0.0, nowMs));
        }
        return Collections.unmodifiableList(list);
    }

    static final class StateSerializer implements SimpleVersionedSerializer<List<LoadSplit>> {
        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(List<LoadSplit> splits) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                out.writeInt(splits.size());
                for (LoadSplit s : splits) {
                    LoadSplit.write(out, s);
                }
            }
            return bytes.toByteArray();
        }

        @Override
        public List<LoadSplit> deserialize(int version, byte[] data) throws IOException {
            if (version != 1) {
                throw new IOException("unknown enumerator state version " + version);
            }
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
                int n = in.readInt();
                List<LoadSplit> list = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    list.add(LoadSplit.read(in));
                }
                return list;
            }
        }
    }
}
