package dev.flinkelastic.testjob;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

/**
 * The real-Flink test job: source (FLIP-27, fixed splits, wall-clock producer) -> keyBy(key) -> work (CPU cost
 * per record, keyed state) -> keyBy(key) -> verdict (exactly-once check per key) -> discard. See README.md.
 */
public final class LoadJob {
    public static final String SOURCE_UID = "load-source";
    public static final String WORK_UID = "load-work";
    public static final String VERDICT_UID = "load-verdict";
    public static final String SINK_UID = "load-discard";

    private LoadJob() {}

    /** Key of a record: the split's key range, seq's residue within it. */
    static final class ByKey implements KeySelector<Tuple3<Integer, Long, Integer>, Integer> {
        private static final long serialVersionUID = 1L;

        @Override
        public Integer getKey(Tuple3<Integer, Long, Integer> rec) {
            return rec.f2;
        }
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);

        LoadSource.Config src = new LoadSource.Config();
        src.splits = (int) args.num("splits", 8);
        src.keysPerSplit = (int) args.num("keys-per-split", 16);
        src.rate = args.dbl("rate", 1000);
        src.rateFile = args.str("rate-file", null);
        src.batch = (int) args.num("batch", 100);
        src.injectLossEvery = args.num("inject-loss-every", 0);
        src.injectDupEvery = args.num("inject-dup-every", 0);
        double costUs = args.dbl("cost-us", 250);
        String costFile = args.str("cost-file", null);
        String verdictDir = args.str("verdict-dir", null);
        long checkpointMs = args.num("checkpoint-interval-ms", 2000);
        int maxParallelism = (int) args.num("max-parallelism", 128);
        if (src.splits < 1 || src.keysPerSplit < 1 || src.batch < 1) {
            throw new IllegalArgumentException("--splits, --keys-per-split and --batch must be >= 1");
        }

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setMaxParallelism(maxParallelism);
        if (checkpointMs > 0) {
            // exactly-once is the default mode; the one-argument form exists in 1.19, 1.20 and 2.x alike
            env.enableCheckpointing(checkpointMs);
        } // else: the cluster's execution.checkpointing.* settings apply

        DataStream<Tuple3<Integer, Long, Integer>> records = env
                .fromSource(new LoadSource(src), WatermarkStrategy.noWatermarks(), "source", LoadSource.TYPE)
                .uid(SOURCE_UID)
                .name("source");

        DataStream<Tuple3<Integer, Long, Integer>> worked = records
                .keyBy(new ByKey(), Types.INT)
                .process(new WorkFunction(costUs, costFile), LoadSource.TYPE)
                .uid(WORK_UID)
                .name("work");

        worked.keyBy(new ByKey(), Types.INT)
                .process(new VerdictFunction(src.keysPerSplit, verdictDir), Types.INT)
                .uid(VERDICT_UID)
                .name("verdict")
                .sinkTo(new DiscardingSink<>())
                .uid(SINK_UID)
                .name("discard")
                .disableChaining();

        env.execute("flink-elastic-test-job");
    }
}
