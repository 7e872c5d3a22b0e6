package dev.flinkelastic.testjob;

import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * One "Kafka partition". Records are produced on the wall clock at rate/splits per second whether or not the
 * job runs: {@code produced} is the (fractional) count produced up to {@code lastWallMs}; {@code nextSeq} the
 * next sequence number to read. The backlog (lag) is floor(produced at now) - nextSeq.
 */
public final class LoadSplit implements SourceSplit {
    final int id;
    long nextSeq;
    double produced;
    long lastWallMs;

    LoadSplit(int id, long nextSeq, double produced, long lastWallMs) {
        this.id = id;
        this.nextSeq = nextSeq;
        this.produced = produced;
        this.lastWallMs = lastWallMs;
    }

    @Override
    public String splitId() {
        return "split-" + id;
    }

    LoadSplit copy() {
        return new LoadSplit(id, nextSeq, produced, lastWallMs);
    }

    /** Produces up to {@code nowMs} at {@code ratePerSplit} records/s (the wall clock never runs back here). */
    void accrue(long nowMs, double ratePerSplit) {
        if (nowMs > lastWallMs) {
            produced += ratePerSplit * (nowMs - lastWallMs) / 1000.0;
            lastWallMs = nowMs;
        }
    }

    long available() {
        return Math.max(0, (long) Math.floor(produced) - nextSeq);
    }

    @Override
    public String toString() {
        return splitId() + "{next=" + nextSeq + ", produced=" + (long) produced + "}";
    }

    static void write(DataOutputStream out, LoadSplit s) throws IOException {
        out.writeInt(s.id);
        out.writeLong(s.nextSeq);
        out.writeDouble(s.produced);
        out.writeLong(s.lastWallMs);
    }

    static LoadSplit read(DataInputStream in) throws IOException {
        return new LoadSplit(in.readInt(), in.readLong(), in.readDouble(), in.readLong());
    }

    static final class Serializer implements SimpleVersionedSerializer<LoadSplit> {
        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(LoadSplit s) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(32);
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                write(out, s);
            }
            return bytes.toByteArray();
        }

        @Override
        public LoadSplit deserialize(int version, byte[] data) throws IOException {
            if (version != 1) {
                throw new IOException("unknown LoadSplit version " + version);
            }
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
                return read(in);
            }
        }
    }
}
