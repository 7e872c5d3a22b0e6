package dev.flinkelastic.testjob;

/**
 * The exactly-once check for one key, kept apart from Flink so it is unit-tested directly. Every key sees the
 * seqs {@code first, first + kps, first + 2*kps, ...} of its split (first = key % kps). A seq at or below the
 * last one seen was delivered before: duplicated. A seq above last + kps skipped (seq - last)/kps - 1 records:
 * lost. The first seq seen for a key is compared with {@code first} the same way.
 */
final class SeqChecker {
    private SeqChecker() {}

    /** Result of one check: records lost before this one, whether it is a duplicate, and the new last seq. */
    static final class Outcome {
        final long lost;
        final boolean duplicated;
        final long newLast;

        Outcome(long lost, boolean duplicated, long newLast) {
            this.lost = lost;
            this.duplicated = duplicated;
            this.newLast = newLast;
        }
    }

    /**
     * @param last the last seq seen for this key, or null for none
     * @param seq the seq just received
     * @param key the record's key
     * @param keysPerSplit the job's --keys-per-split
     */
    static Outcome check(Long last, long seq, int key, int keysPerSplit) {
        long expected = last == null ? key % keysPerSplit : last + keysPerSplit;
        if (last != null && seq <= last) {
            return new Outcome(0, true, last);
        }
        long lost = seq > expected ? (seq - expected + keysPerSplit - 1) / keysPerSplit : 0;
        return new Outcome(lost, false, seq);
    }
}
