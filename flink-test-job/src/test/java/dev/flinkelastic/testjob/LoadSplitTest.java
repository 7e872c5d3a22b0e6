package dev.flinkelastic.testjob;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

class LoadSplitTest {
    @Test
    void producesOnTheWallClockIncludingDowntime() throws Exception {
        LoadSplit s = new LoadSplit(3, 0, 0.0, 1_000);
        s.accrue(2_000, 125.0); // 1 s at 125 rec/s
        assertEquals(125, s.available());
        s.nextSeq = 100;
        assertEquals(25, s.available());
        // snapshot, "job down" 10 s, restore: the backlog produced meanwhile is there
        LoadSplit restored = new LoadSplit.Serializer().deserialize(1, new LoadSplit.Serializer().serialize(s));
        restored.accrue(12_000, 125.0);
        assertEquals(25 + 1250, restored.available());
        assertEquals(100, restored.nextSeq);
        restored.accrue(11_000, 125.0); // clock never runs back
        assertEquals(25 + 1250, restored.available());
    }

    @Test
    void enumeratorStateRoundTrips() throws Exception {
        List<LoadSplit> in = Arrays.asList(new LoadSplit(0, 5, 7.5, 9), new LoadSplit(1, 6, 8.5, 10));
        LoadEnumerator.StateSerializer ser = new LoadEnumerator.StateSerializer();
        List<LoadSplit> out = ser.deserialize(1, ser.serialize(in));
        assertEquals(in.toString(), out.toString());
        assertEquals(7.5, out.get(0).produced);
    }
}
