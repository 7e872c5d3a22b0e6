package dev.flinkelastic.peers.autoscaler;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.autoscaler.JobAutoScalerContext;
import org.apache.flink.autoscaler.JobAutoScalerImpl;
import org.apache.flink.autoscaler.RestApiMetricsCollector;
import org.apache.flink.autoscaler.ScalingExecutor;
import org.apache.flink.autoscaler.config.AutoScalerOptions;
import org.apache.flink.autoscaler.event.AutoScalerEventHandler;
import org.apache.flink.autoscaler.ScalingMetricEvaluator;
import org.apache.flink.autoscaler.state.InMemoryAutoScalerStateStore;
import org.apache.flink.client.program.rest.RestClusterClient;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.runtime.highavailability.nonha.standalone.StandaloneClientHAServices;
import org.apache.flink.runtime.messages.webmonitor.JobDetails;
import org.apache.flink.runtime.rest.messages.EmptyMessageParameters;
import org.apache.flink.runtime.rest.messages.EmptyRequestBody;
import org.apache.flink.runtime.rest.messages.JobsOverviewHeaders;
import org.apache.flink.runtime.rest.messages.job.JobManagerJobConfigurationHeaders;
import org.apache.flink.runtime.rest.messages.JobMessageParameters;
import org.apache.flink.util.function.SupplierWithException;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A thin standalone driver for the Flink Kubernetes Operator's autoscaler library (flink-autoscaler 1.10.0): every
 * interval it lists the cluster's RUNNING jobs over REST (or watches one job id), builds a JobAutoScalerContext for
 * each, and calls JobAutoScalerImpl.scale(). The library collects metrics over REST (RestApiMetricsCollector),
 * evaluates them (ScalingMetricEvaluator) and decides (ScalingExecutor / JobVertexScaler); this driver's realizer
 * applies its parallelism overrides in place with PUT /jobs/{id}/resource-requirements (adaptive scheduler).
 *
 * <p>stdout carries one JSON object per line (type: started | decision | event | error | stopped); logs go to stderr.
 *
 * <p>Usage: java -jar flink-autoscaler-driver.jar --rest http://127.0.0.1:8081 [--job JOBID] [--interval-s 10]
 * [--duration-s N] [-Dkey=value ...] (each -D is a flink-autoscaler option, e.g. -Djob.autoscaler.metrics.window=60s)
 */
public final class Driver {
    static final ObjectMapper JSON = new ObjectMapper();

    private Driver() {}

    /** One JSON line on stdout, flushed (our side parses these). */
    static synchronized void emit(String type, Map<String, Object> fields) {
        ObjectNode n = JSON.createObjectNode();
        long now = System.currentTimeMillis();
        n.put("type", type);
        n.put("time", Instant.ofEpochMilli(now).toString());
        n.put("at", now);
        n.setAll((ObjectNode) JSON.valueToTree(fields));
        System.out.println(n.toString());
        System.out.flush();
    }

    static final class Args {
        String rest;
        JobID job;
        Duration interval = Duration.ofSeconds(10);
        Duration duration;
        final Configuration conf = new Configuration();
    }

    static Args parse(String[] argv) {
        Args a = new Args();
        for (int i = 0; i < argv.length; i++) {
            String s = argv[i];
            if (s.startsWith("-D") && s.contains("=")) {
                int eq = s.indexOf('=');
                a.conf.setString(s.substring(2, eq), s.substring(eq + 1));
                continue;
            }
            if (i + 1 >= argv.length) throw new IllegalArgumentException(s + " needs a value");
            String v = argv[++i];
            switch (s) {
                case "--rest":
                    if (!v.matches("https?://[^/]+/?")) throw new IllegalArgumentException("--rest must be http(s)://host:port (got \"" + v + "\")");
                    a.rest = v.replaceAll("/$", "");
                    break;
                case "--job":
                    a.job = JobID.fromHexString(v);
                    break;
                case "--interval-s":
                    a.interval = Duration.ofMillis(Math.round(Double.parseDouble(v) * 1000));
                    if (a.interval.toMillis() < 100 || a.interval.toMillis() > 3_600_000) throw new IllegalArgumentException("--interval-s must be between 0.1 and 3600 (got " + v + ")");
                    break;
                case "--duration-s":
                    a.duration = Duration.ofMillis(Math.round(Double.parseDouble(v) * 1000));
                    break;
                default:
                    throw new IllegalArgumentException("unknown argument " + s + " (allowed: --rest, --job, --interval-s, --duration-s, -Dkey=value)");
            }
        }
        if (a.rest == null) throw new IllegalArgumentException("--rest is required (the Flink REST address, http://host:port)");
        return a;
    }

    public static void main(String[] argv) throws Exception {
        Args a;
        try {
            a = parse(argv);
        } catch (IllegalArgumentException e) {
            System.err.println("flink-autoscaler-driver: " + e.getMessage());
            System.exit(2);
            return;
        }
        Configuration base = new Configuration();
        base.set(AutoScalerOptions.AUTOSCALER_ENABLED, true);
        base.addAll(a.conf);
        Duration timeout = base.get(AutoScalerOptions.FLINK_CLIENT_TIMEOUT);
        String rest = a.rest;
        SupplierWithException<RestClusterClient<String>, Exception> clients =
                () -> new RestClusterClient<>(new Configuration(), "standalone", (c, e) -> new StandaloneClientHAServices(rest));

        var events = new JsonEventHandler();
        var stateStore = new InMemoryAutoScalerStateStore<JobID, JobAutoScalerContext<JobID>>();
        var autoscaler = new JobAutoScalerImpl<JobID, JobAutoScalerContext<JobID>>(
                new RestApiMetricsCollector<>(),
                new ScalingMetricEvaluator(),
                new ScalingExecutor<>(events, stateStore),
                events,
                new InPlaceRealizer(timeout),
                stateStore);

        Map<String, Object> started = new LinkedHashMap<>();
        started.put("rest", rest);
        started.put("job", a.job == null ? null : a.job.toHexString());
        started.put("intervalMs", a.interval.toMillis());
        started.put("autoscalerVersion", "1.10.0");
        started.put("options", a.conf.toMap());
        emit("started", started);

        long end = a.duration == null ? Long.MAX_VALUE : System.currentTimeMillis() + a.duration.toMillis();
        Set<JobID> known = new HashSet<>();
        while (System.currentTimeMillis() < end) {
            long tick = System.currentTimeMillis();
            Set<JobID> seen = new HashSet<>();
            try (RestClusterClient<String> client = clients.get()) {
                List<JobDetails> jobs = List.copyOf(client.sendRequest(JobsOverviewHeaders.getInstance(), EmptyMessageParameters.getInstance(), EmptyRequestBody.getInstance())
                        .get(timeout.toMillis(), TimeUnit.MILLISECONDS).getJobs());
                for (JobDetails j : jobs) {
                    if (j.getStatus() != JobStatus.RUNNING) continue;
                    if (a.job != null && !a.job.equals(j.getJobId())) continue;
                    seen.add(j.getJobId());
                    try {
                        autoscaler.scale(context(client, base, j.getJobId(), j.getStatus(), clients, timeout));
                    } catch (Exception e) {
                        emit("error", Map.of("jobId", j.getJobId().toHexString(), "message", String.valueOf(e)));
                    }
                }
            } catch (Exception e) {
                emit("error", Map.of("message", "listing jobs: " + e));
            }
            for (JobID gone : known) if (!seen.contains(gone)) autoscaler.cleanup(gone);
            known = seen;
            long sleep = a.interval.toMillis() - (System.currentTimeMillis() - tick);
            if (sleep > 0) Thread.sleep(Math.min(sleep, Math.max(0, end - System.currentTimeMillis())));
        }
        emit("stopped", Map.of());
        System.exit(0);
    }

    /** The job's context: the driver's options, overlaid with the job's own configuration (as Flink reports it). */
    static JobAutoScalerContext<JobID> context(RestClusterClient<String> client, Configuration base, JobID id, JobStatus status,
            SupplierWithException<RestClusterClient<String>, Exception> clients, Duration timeout) throws Exception {
        var params = new JobMessageParameters();
        params.jobPathParameter.resolve(id);
        var info = client.sendRequest(JobManagerJobConfigurationHeaders.getInstance(), params, EmptyRequestBody.getInstance())
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        var conf = new Configuration(base);
        info.forEach(e -> {
            if (!e.getKey().startsWith("job.autoscaler.")) conf.setString(e.getKey(), e.getValue());
        });
        return new JobAutoScalerContext<>(id, id, status, conf, new UnregisteredMetricsGroup(), clients);
    }

    /** Every autoscaler event (scaling reports, warnings) as a JSON line. */
    static final class JsonEventHandler implements AutoScalerEventHandler<JobID, JobAutoScalerContext<JobID>> {
        @Override
        public void handleEvent(JobAutoScalerContext<JobID> ctx, Type type, String reason, String message, String messageKey, Duration interval) {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("jobId", ctx.getJobID() == null ? null : ctx.getJobID().toHexString());
            f.put("level", type.name());
            f.put("reason", reason);
            f.put("message", message);
            emit("event", f);
        }
    }
}
