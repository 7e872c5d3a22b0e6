package dev.flinkelastic.testjob;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SeqCheckerTest {
    private static final int KPS = 16;

    /** Runs seqs of one key through the checker; returns {checked, lost, duplicated}. */
    private static long[] run(int key, long... seqs) {
        Long last = null;
        long lost = 0, dup = 0;
        for (long seq : seqs) {
            SeqChecker.Outcome o = SeqChecker.check(last, seq, key, KPS);
            if (o.duplicated) {
                dup++;
            } else {
                lost += o.lost;
                last = o.newLast;
            }
        }
        return new long[] {seqs.length, lost, dup};
    }

    @Test
    void consecutiveSeqsOfAKeyPass() {
        // key 35 = split 2 * 16 + 3: seqs 3, 19, 35, ...
        long[] r = run(35, 3, 19, 35, 51);
        assertEquals(0, r[1]);
        assertEquals(0, r[2]);
    }

    @Test
    void aGapCountsEachMissingRecord() {
        long[] r = run(35, 3, 19, 67); // 35 and 51 missing
        assertEquals(2, r[1]);
        assertEquals(0, r[2]);
    }

    @Test
    void aMissingStartCountsAsLost() {
        long[] r = run(35, 35, 51); // 3 and 19 never arrived
        assertEquals(2, r[1]);
    }

    @Test
    void aRepeatOrAStepBackIsDuplicated() {
        long[] r = run(35, 3, 19, 19, 3, 35);
        assertEquals(0, r[1]);
        assertEquals(2, r[2]);
    }

    @Test
    void replayAfterRestoringOlderStateLooksLikeDuplicates() {
        // a checker whose state is newer than the source's (e.g. source restored from an older savepoint)
        SeqChecker.Outcome o = SeqChecker.check(51L, 19, 35, KPS);
        assertTrue(o.duplicated);
        assertEquals(51, o.newLast);
        SeqChecker.Outcome ok = SeqChecker.check(51L, 67, 35, KPS);
        assertFalse(ok.duplicated);
        assertEquals(0, ok.lost);
    }
}
