package dev.flinkelastic.testjob;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.io.Serializable;
import java.util.List;

/**
 * FLIP-27 source modelling a Kafka topic with a fixed number of partitions (splits) and a producer whose total
 * rate is read from a file. Records are {@code (split, seq, key)}; see {@link LoadJob}.
 */
public final class LoadSource
        implements Source<Tuple3<Integer, Long, Integer>, LoadSplit, List<LoadSplit>>,
                ResultTypeQueryable<Tuple3<Integer, Long, Integer>> {
    private static final long serialVersionUID = 1L;

    static final TypeInformation<Tuple3<Integer, Long, Integer>> TYPE =
            Types.TUPLE(Types.INT, Types.LONG, Types.INT);

    /** The source's settings (all from program arguments). */
    static final class Config implements Serializable {
        private static final long serialVersionUID = 1L;
        int splits = 8;
        int keysPerSplit = 16;
        double rate = 1000;
        String rateFile;
        int batch = 100;
        long injectLossEvery;
        long injectDupEvery;
    }

    private final Config config;

    LoadSource(Config config) {
        this.config = config;
    }

    @Override
    public Boundedness getBoundedness() {
        return Boundedness.CONTINUOUS_UNBOUNDED;
    }

    @Override
    public SourceReader<Tuple3<Integer, Long, Integer>, LoadSplit> createReader(SourceReaderContext context) {
        return new LoadReader(config, context);
    }

    @Override
    public SplitEnumerator<LoadSplit, List<LoadSplit>> createEnumerator(
            SplitEnumeratorContext<LoadSplit> context) {
        return new LoadEnumerator(context, LoadEnumerator.initialSplits(config.splits, System.currentTimeMillis()));
    }

    @Override
    public SplitEnumerator<LoadSplit, List<LoadSplit>> restoreEnumerator(
            SplitEnumeratorContext<LoadSplit> context, List<LoadSplit> checkpoint) {
        return new LoadEnumerator(context, checkpoint);
    }

    @Override
    public SimpleVersionedSerializer<LoadSplit> getSplitSerializer() {
        return new LoadSplit.Serializer();
    }

    @Override
    public SimpleVersionedSerializer<List<LoadSplit>> getEnumeratorCheckpointSerializer() {
        return new LoadEnumerator.StateSerializer();
    }

    @Override
    public TypeInformation<Tuple3<Integer, Long, Integer>> getProducedType() {
        return TYPE;
    }
}
