package dev.flinkelastic.testjob;

import java.util.HashMap;
import java.util.Map;

/**
 * Program arguments as {@code --name value} pairs (our own parser: Flink's ParameterTool moved package in 2.x).
 * Unknown names fail the job at submission, so a typo in a test is not silently ignored.
 */
final class Args {
    static final String[] KNOWN = {
        "splits", "rate", "rate-file", "keys-per-split", "cost-us", "cost-file", "verdict-dir",
        "checkpoint-interval-ms", "max-parallelism", "batch", "inject-loss-every", "inject-dup-every",
    };

    private final Map<String, String> values = new HashMap<>();

    Args(String[] argv) {
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("expected --name, got '" + a + "'");
            }
            String name = a.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else {
                if (i + 1 >= argv.length) {
                    throw new IllegalArgumentException("--" + name + " needs a value");
                }
                value = argv[++i];
            }
            boolean known = false;
            for (String k : KNOWN) {
                known |= k.equals(name);
            }
            if (!known) {
                throw new IllegalArgumentException("unknown argument --" + name);
            }
            values.put(name, value);
        }
    }

    String str(String name, String def) {
        return values.getOrDefault(name, def);
    }

    long num(String name, long def) {
        String v = values.get(name);
        return v == null ? def : Long.parseLong(v.trim());
    }

    double dbl(String name, double def) {
        String v = values.get(name);
        return v == null ? def : Double.parseDouble(v.trim());
    }
}
