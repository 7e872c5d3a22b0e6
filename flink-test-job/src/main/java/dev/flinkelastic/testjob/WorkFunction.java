package dev.flinkelastic.testjob;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The "work" vertex: per record a busy spin of --cost-us microseconds (re-read from --cost-file every second
 * when given) and a keyed-state update, so busy time, backpressure and CPU are real. Forwards the record.
 */
final class WorkFunction extends KeyedProcessFunction<Integer, Tuple3<Integer, Long, Integer>, Tuple3<Integer, Long, Integer>> {
    private static final long serialVersionUID = 1L;

    private final NumberFile costFile;
    private transient ValueState<Long> count;
    private transient long costNs;
    private transient long nextCostReadNs;
    private transient long sink; // keeps the JIT from removing the spin

    WorkFunction(double costUs, String costFilePath) {
        this.costFile = new NumberFile(costFilePath, costUs);
    }

    @Override
    public void open(OpenContext openContext) {
        count = getRuntimeContext().getState(new ValueStateDescriptor<>("work-count", Types.LONG));
        costFile.readNow();
        costNs = (long) (costFile.get(System.currentTimeMillis()) * 1000.0);
        nextCostReadNs = System.nanoTime() + NumberFile.REREAD_MS * 1_000_000L;
    }

    @Override
    public void processElement(
            Tuple3<Integer, Long, Integer> rec, Context ctx, Collector<Tuple3<Integer, Long, Integer>> out)
            throws Exception {
        long start = System.nanoTime();
        if (start >= nextCostReadNs) {
            costNs = (long) (costFile.get(System.currentTimeMillis()) * 1000.0);
            nextCostReadNs = start + NumberFile.REREAD_MS * 1_000_000L;
        }
        Long c = count.value();
        count.update(c == null ? 1L : c + 1);
        long x = rec.f1;
        long end = start + costNs;
        while (System.nanoTime() < end) {
            x = x * 6364136223846793005L + 1442695040888963407L;
        }
        sink += x;
        out.collect(rec);
    }
}
