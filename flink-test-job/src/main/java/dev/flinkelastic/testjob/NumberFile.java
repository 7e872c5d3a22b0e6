package dev.flinkelastic.testjob;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;

/**
 * A number the harness rewrites while the job runs (a file holding e.g. {@code 3000}). Missing, empty or
 * unparsable file: the last good value stays (the fallback at first). Re-read at most once per interval.
 */
final class NumberFile implements Serializable {
    private static final long serialVersionUID = 1L;
    static final long REREAD_MS = 1000;

    private final String path; // null: the value is fixed
    private double value;
    private transient long lastReadMs;

    NumberFile(String path, double fallback) {
        this.path = (path == null || path.isEmpty()) ? null : path;
        this.value = fallback;
    }

    /** The current value, re-reading the file if the last read is older than {@link #REREAD_MS}. */
    double get(long nowMs) {
        if (path != null && (lastReadMs == 0 || nowMs - lastReadMs >= REREAD_MS)) {
            lastReadMs = nowMs;
            readNow();
        }
        return value;
    }

    void readNow() {
        if (path == null) {
            return;
        }
        try {
            String s = new String(Files.readAllBytes(Paths.get(path)), StandardCharsets.UTF_8).trim();
            if (!s.isEmpty()) {
                double v = Double.parseDouble(s);
                if (v >= 0 && !Double.isInfinite(v) && !Double.isNaN(v)) {
                    value = v;
                }
            }
        } catch (Exception e) {
            // keep the last good value: the harness may be mid-rewrite or not have written it yet
        }
    }
}
