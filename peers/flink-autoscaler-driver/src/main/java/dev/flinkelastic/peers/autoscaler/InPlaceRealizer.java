package dev.flinkelastic.peers.autoscaler;

import org.apache.flink.api.common.JobID;
import org.apache.flink.autoscaler.JobAutoScalerContext;
import org.apache.flink.autoscaler.realizer.ScalingRealizer;
import org.apache.flink.autoscaler.tuning.ConfigChanges;
import org.apache.flink.runtime.jobgraph.JobResourceRequirements;
import org.apache.flink.runtime.jobgraph.JobVertexID;
import org.apache.flink.runtime.jobgraph.JobVertexResourceRequirements;
import org.apache.flink.runtime.rest.messages.EmptyRequestBody;
import org.apache.flink.runtime.rest.messages.JobMessageParameters;
import org.apache.flink.runtime.rest.messages.job.JobDetailsHeaders;
import org.apache.flink.runtime.rest.messages.job.JobResourceRequirementsBody;
import org.apache.flink.runtime.rest.messages.job.JobResourceRequirementsHeaders;
import org.apache.flink.runtime.rest.messages.job.JobResourcesRequirementsUpdateHeaders;

import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Applies the autoscaler's parallelism overrides in place: reads GET /jobs/{id}/resource-requirements, sets each
 * overridden vertex to [1, p], and PUTs the result back when anything changed (adaptive scheduler). The library calls
 * this on every pass with the full override map, so an unchanged map is a no-op and no decision line.
 */
final class InPlaceRealizer implements ScalingRealizer<JobID, JobAutoScalerContext<JobID>> {
    private final Duration timeout;

    InPlaceRealizer(Duration timeout) {
        this.timeout = timeout;
    }

    @Override
    public void realizeParallelismOverrides(JobAutoScalerContext<JobID> ctx, Map<String, String> overrides) throws Exception {
        JobID id = ctx.getJobID();
        var params = new JobMessageParameters();
        params.jobPathParameter.resolve(id);
        try (var client = ctx.getRestClusterClient()) {
            JobResourceRequirementsBody current = client.sendRequest(JobResourceRequirementsHeaders.INSTANCE, params, EmptyRequestBody.getInstance())
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            Map<JobVertexID, JobVertexResourceRequirements> reqs = new HashMap<>(current.asJobResourceRequirements()
                    .orElseThrow(() -> new IllegalStateException("job " + id + " reports no resource requirements (is the scheduler adaptive?)"))
                    .getJobVertexParallelisms());
            Map<String, String> names = new HashMap<>();
            var details = client.sendRequest(JobDetailsHeaders.getInstance(), params, EmptyRequestBody.getInstance()).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            details.getJobVertexInfos().forEach(v -> names.put(v.getJobVertexID().toString(), v.getName()));

            Map<String, Object> vertices = new LinkedHashMap<>();
            for (var e : reqs.entrySet()) {
                String vid = e.getKey().toString();
                String o = overrides.get(vid);
                if (o == null) continue;
                int p = Integer.parseInt(o);
                var wanted = new JobVertexResourceRequirements.Parallelism(1, p);
                var had = e.getValue().getParallelism();
                if (!had.equals(wanted)) {
                    e.setValue(new JobVertexResourceRequirements(wanted));
                    Map<String, Object> v = new LinkedHashMap<>();
                    v.put("name", names.getOrDefault(vid, vid));
                    v.put("from", had.getUpperBound());
                    v.put("to", p);
                    vertices.put(vid, v);
                }
            }
            if (vertices.isEmpty()) return;
            client.sendRequest(JobResourcesRequirementsUpdateHeaders.INSTANCE, params, new JobResourceRequirementsBody(new JobResourceRequirements(reqs)))
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("jobId", id.toHexString());
            f.put("vertices", vertices);
            int max = 0;
            for (var r : reqs.values()) max = Math.max(max, r.getParallelism().getUpperBound());
            f.put("maxParallelism", max);
            Driver.emit("decision", f);
        }
    }

    @Override
    public void realizeConfigOverrides(JobAutoScalerContext<JobID> ctx, ConfigChanges changes) {
        // memory tuning stays off (its default); a session cluster's TaskManagers cannot be reconfigured in place
    }
}
