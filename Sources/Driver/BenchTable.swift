import Foundation
import IR

/// A table of strings rendered as aligned text (terminal) or GitHub Markdown (`--markdown`).
public struct TextTable: Sendable, Equatable {
    public var headers: [String]
    public var rows: [[String]]
    /// Columns whose cells align right (numbers); the first column is a label.
    public var numeric: [Bool]

    public init(headers: [String], rows: [[String]] = [], numeric: [Bool]? = nil) {
        self.headers = headers
        self.rows = rows
        self.numeric = numeric ?? headers.indices.map { $0 > 0 }
    }

    public var text: String {
        let widths = headers.indices.map { column in
            ([headers] + rows).map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            headers.indices.map { column in
                let cell = cells.indices.contains(column) ? cells[column] : ""
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return numeric[column] ? padding + cell : cell + padding
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n") + "\n"
    }

    public var markdown: String {
        func line(_ cells: [String]) -> String {
            "| " + headers.indices.map { cells.indices.contains($0) ? cells[$0].replacingOccurrences(of: "|", with: "\\|") : "" }
                .joined(separator: " | ") + " |"
        }
        let rule = "|" + numeric.map { $0 ? "---:|" : "---|" }.joined()
        return ([line(headers), rule] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}

/// The bench report as tables: per input, throughput and latency percentiles per variant and
/// concurrency, then where the time goes (ms and share of the mean request), then the
/// slowest nodes.
public enum BenchTables {
    public static func summary(_ input: InputResult, variants: [String]) -> TextTable {
        let first = variants.first ?? ""
        var table = TextTable(headers: [
            "variant", "conc", "workers×thr", "req/s", "img/s", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "mean ms",
            "req/s vs \(first)",
        ])
        for level in input.levels {
            for v in level.variants {
                table.rows.append([
                    v.variant, "\(level.load.concurrency)", "\(level.load.workers)×\(level.load.threadsPerWorker)",
                    fixed(v.throughputRPS, 2), fixed(v.imagesPerSecond, 2), fixed(v.latencyMs.p50), fixed(v.latencyMs.p90),
                    fixed(v.latencyMs.p95), fixed(v.latencyMs.p99), fixed(v.latencyMs.mean),
                    v.variant == first ? "-" : ratio(v.throughputRatioToFirst),
                ])
            }
        }
        return table
    }

    public static func breakdown(_ input: InputResult) -> TextTable {
        var table = TextTable(headers: ["variant", "conc"] + StageCategory.allCases.map(\.rawValue) + ["total ms", "decode MP/s"])
        for level in input.levels {
            for v in level.variants {
                let shares = v.breakdownShare
                table.rows.append(
                    [v.variant, "\(level.load.concurrency)"]
                        + StageCategory.allCases.map { category in
                            let ms = v.breakdownMs[category] ?? 0
                            return ms == 0 ? "-" : "\(fixed(ms)) \(String(format: "%4.1f%%", (shares[category] ?? 0) * 100))"
                        }
                        + [fixed(v.breakdownMs.values.reduce(0, +)), input.decodeMegapixelsPerSecond(v).map { fixed($0, 1) } ?? "-"])
            }
        }
        return table
    }

    /// Per batching queue: items, batches, mean batch, the batch-size histogram, mean wait and
    /// the deepest the queue got; nil for a graph without queues.
    public static func queues(_ input: InputResult) -> TextTable? {
        var table = TextTable(headers: ["variant", "conc", "queue", "items", "batches", "mean batch", "batch sizes", "mean wait ms", "max depth", "timed out"])
        for level in input.levels {
            for v in level.variants {
                for q in v.queues {
                    let sizes = q.batchSizes.sorted { Int($0.key)! < Int($1.key)! }.map { "\($0.key):\($0.value)" }.joined(separator: " ")
                    table.rows.append([
                        v.variant, "\(level.load.concurrency)", q.name, "\(q.items)", "\(q.batches)", fixed(q.meanBatch, 2), sizes,
                        fixed(q.meanWaitMs), "\(q.maxDepth)", "\(q.timedOut)",
                    ])
                }
            }
        }
        return table.rows.isEmpty ? nil : table
    }

    /// Per broker edge: answers, failures, takeovers and dead letters over the measured rounds,
    /// the largest backlog (stream length) and pending count seen after a window, and the
    /// workers in its group; nil for a graph without broker edges run through Redis.
    public static func brokers(_ input: InputResult) -> TextTable? {
        var table = TextTable(headers: ["variant", "conc", "edge", "answered", "failed", "redelivered", "dead letters", "max backlog", "max pending", "workers"])
        for level in input.levels {
            for v in level.variants {
                for e in v.brokers {
                    table.rows.append([
                        v.variant, "\(level.load.concurrency)", e.edge, "\(e.processed)", "\(e.failed)", "\(e.redelivered)", "\(e.deadLetters)",
                        "\(e.length)", "\(e.pending)", "\(e.consumers)",
                    ])
                }
            }
        }
        return table.rows.isEmpty ? nil : table
    }

    /// The `limit` slowest nodes of each variant at the first concurrency level (all when `limit` < 0).
    public static func slowestNodes(_ input: InputResult, limit: Int) -> [(variant: String, count: Int, table: TextTable)] {
        guard limit != 0, let level = input.levels.first else { return [] }
        return level.variants.map { v in
            let sorted = v.nodes.sorted { $0.medianMs > $1.medianMs }
            let shown = limit < 0 ? sorted : Array(sorted.prefix(limit))
            let table = TextTable(
                headers: ["node", "op", "category", "median ms"],
                rows: shown.map { [$0.name, $0.op.rawValue, $0.category.rawValue, fixed($0.medianMs)] },
                numeric: [false, false, false, true])
            return (v.variant, v.nodes.count, table)
        }
    }

    /// The whole report as Markdown (`--markdown`).
    public static func markdown(_ results: BenchResults, nodeLimit: Int) -> String {
        var out = "# visionc bench: \(results.graph)\n\n"
        out += "Machine: \(results.machine.summary)  \n"
        out += "Variants interleaved (\(results.variants.joined(separator: ", "))), \(results.rounds) rounds per level, batch \(results.batch); "
        out += "ratios are medians of per-round ratios; breakdown is the mean ms per request (share of the mean request).\n"
        for input in results.inputs {
            out += "\n## \(input.name) (\(input.sizeLabel))\n\n" + summary(input, variants: results.variants).markdown
            out += "\nWhere the time goes:\n\n" + breakdown(input).markdown
            if let queues = queues(input) { out += "\nBatching queues:\n\n" + queues.markdown }
            if let brokers = brokers(input) { out += "\nBroker edges:\n\n" + brokers.markdown }
            for (variant, count, table) in slowestNodes(input, limit: nodeLimit) {
                out += "\nSlowest nodes, \(variant) (\(count) nodes):\n\n" + table.markdown
            }
        }
        return out
    }

    static func fixed(_ value: Double, _ digits: Int = 3) -> String {
        value.isFinite ? String(format: "%.\(digits)f", value) : "-"
    }

    static func ratio(_ value: Double) -> String { value.isFinite ? String(format: "%.2fx", value) : "-" }
}
