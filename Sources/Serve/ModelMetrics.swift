import Broker
import Driver
import IR
import Prometheus

/// The registry a server's models record their metrics in (one per server).
public typealias MetricsRegistry = PrometheusCollectorRegistry

/// A served model's Prometheus metrics, named and labelled as Triton's (`nv_inference_…`,
/// `model` and `version` labels) so dashboards made for Triton read them, plus visionc's own
/// per-stage time (`visionc_stage_duration_us{stage="decode|preprocess|…|queue"}`): the
/// paper's breakdown of where a served request's time goes, live. Durations are cumulative
/// microseconds, as Triton exports them. Each name is whole in `metricName` (an empty unit
/// adds no suffix), so the names stay exactly Triton's.
final class ModelMetrics: Sendable {
    private let success, failure, inferences, executions: Counter
    private let requestDuration, queueDuration, computeInput, computeInfer, computeOutput: Counter
    private let stages: [StageCategory: Counter]
    let pending: Gauge

    init(registry: PrometheusCollectorRegistry, model: String) {
        let labels = [("model", model), ("version", "1")]
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels)
        }
        success = counter("nv_inference_request_success", "Number of successful inference requests")
        failure = counter("nv_inference_request_failure", "Number of failed inference requests")
        inferences = counter("nv_inference_count", "Number of inferences performed")
        executions = counter("nv_inference_exec_count", "Number of model executions performed")
        requestDuration = counter("nv_inference_request_duration_us", "Cumulative inference request duration in microseconds")
        queueDuration = counter("nv_inference_queue_duration_us", "Cumulative inference queuing duration in microseconds")
        computeInput = counter("nv_inference_compute_input_duration_us", "Cumulative compute input duration in microseconds (decode and preprocess)")
        computeInfer = counter("nv_inference_compute_infer_duration_us", "Cumulative compute inference duration in microseconds (the model)")
        computeOutput = counter("nv_inference_compute_output_duration_us", "Cumulative compute output duration in microseconds (postprocess)")
        pending = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                metricName: "nv_inference_pending_request_count", unitName: "", helpText: "Instantaneous number of pending requests awaiting execution"),
            labels: labels)
        var stages: [StageCategory: Counter] = [:]
        for stage in StageCategory.allCases {
            stages[stage] = registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    metricName: "visionc_stage_duration_us", unitName: "", helpText: "Cumulative time of served requests by stage, in microseconds"),
                labels: labels + [("stage", stage.rawValue)])
        }
        self.stages = stages
    }

    /// One request: its timing when it succeeded, nil when it failed.
    func record(_ timing: RequestTiming?) {
        guard let timing else {
            failure.increment()
            return
        }
        success.increment()
        inferences.increment()
        executions.increment()
        func us(_ nanoseconds: UInt64) -> Int64 { Int64(nanoseconds / 1000) }
        requestDuration.increment(by: us(timing.total))
        queueDuration.increment(by: us(timing.queue))
        computeInput.increment(by: us(timing.computeInput))
        computeInfer.increment(by: us(timing.computeInfer))
        computeOutput.increment(by: us(timing.computeOutput))
        for (stage, counter) in stages { counter.increment(by: us(timing.stages[stage] ?? 0)) }
    }
}

/// A broker edge's figures in Redis as Prometheus gauges, `visionc_broker_*{model, edge}`,
/// refreshed about once a second: what an autoscaler or a dashboard watches (backlog, lag,
/// pending) and what went wrong (takeovers of a dead worker's entries, dead letters).
final class EdgeMetrics: Sendable {
    private let gauges: [(Gauge, @Sendable (EdgeFigures) -> Int)]

    init(registry: PrometheusCollectorRegistry, model: String, edge: String) {
        let labels = [("model", model), ("edge", edge)]
        func gauge(_ name: String, _ help: String, _ value: @escaping @Sendable (EdgeFigures) -> Int) -> (Gauge, @Sendable (EdgeFigures) -> Int) {
            (registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "visionc_broker_\(name)", unitName: "", helpText: help), labels: labels), value)
        }
        gauges = [
            gauge("stream_length", "Entries in the edge's stream: its backlog (answered entries are deleted)", \.length),
            gauge("pending", "Entries delivered to a worker and not yet answered", \.pending),
            gauge("lag", "Entries no worker has taken yet", \.lag),
            gauge("consumers", "Workers in the edge's consumer group", \.consumers),
            gauge("processed", "Answers the workers stored, since the edge was created", \.processed),
            gauge("failed", "Requests the workers answered with an error, since the edge was created", \.failed),
            gauge("redelivered", "Entries taken over from a worker that stopped answering, since the edge was created", \.redelivered),
            gauge("dead_letters", "Entries dead-lettered after max_deliveries, since the edge was created", \.deadLetters),
        ]
    }

    func set(_ figures: EdgeFigures) {
        for (gauge, value) in gauges { gauge.set(Double(value(figures))) }
    }
}
