import Foundation
import IR

/// The bench report as an SVG chart (`--svg`): stacked bars of where a request's time goes,
/// per input and variant (like the paper's figures), at the first and the last concurrency
/// level, then throughput against concurrency, one small chart per input.
///
/// Plain SVG 1.1 with no scripts or external references, so a browser, `rsvg-convert` or an
/// XML parser reads it. Bars and lines carry `data-*` attributes naming their series.
public enum BenchChart {
    static let categoryColors: [StageCategory: String] = [
        .decode: "#4e79a7", .preprocess: "#f28e2b", .transfer: "#76b7b2", .inference: "#e15759",
        .postprocess: "#59a14f", .queue: "#edc948", .other: "#bab0ac",
    ]
    static let variantColors = ["#4e79a7", "#e15759", "#59a14f", "#b07aa1", "#f28e2b", "#76b7b2", "#9c755f", "#ff9da7"]

    static let width = 960.0
    static let margin = 48.0

    public static func svg(_ results: BenchResults) -> String {
        var body = ""
        var y = 34.0
        body += text(margin, y, "visionc bench · \(results.graph)", size: 18, weight: "bold")
        y += 18
        body += text(margin, y, results.machine.summary, size: 11, fill: "#555")
        y += 22

        let levelCount = results.inputs.map(\.levels.count).max() ?? 0
        var barLevels = levelCount > 0 ? [0] : []
        if levelCount > 1 { barLevels.append(levelCount - 1) }
        for levelIndex in barLevels {
            let (panel, height) = barPanel(results, levelIndex: levelIndex, top: y)
            body += panel
            y += height
        }
        body += categoryLegend(top: y)
        y += 34
        if levelCount > 1 {
            let (panel, height) = throughputPanel(results, top: y)
            body += panel
            y += height
        }
        let header = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(y + 16))" viewBox="0 0 \(Int(width)) \(Int(y + 16))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
            <rect width="100%" height="100%" fill="white"/>

            """
        return header + body + "</svg>\n"
    }

    // MARK: - Stacked bars

    private static func barPanel(_ results: BenchResults, levelIndex: Int, top: Double) -> (String, Double) {
        let plotHeight = 220.0
        let inputs = results.inputs.filter { $0.levels.indices.contains(levelIndex) }
        let concurrency = inputs.first?.levels[levelIndex].load.concurrency ?? 1
        var out = text(margin, top + 16, "Where the time goes at concurrency \(concurrency): share of the mean request (total ms above each bar)", size: 13, weight: "bold")
        let plotTop = top + 44
        let plotBottom = plotTop + plotHeight
        out += axisLines(left: margin + 30, right: width - margin, top: plotTop, bottom: plotBottom, ticks: [0, 0.25, 0.5, 0.75, 1]) { "\(Int($0 * 100))%" }
        let groupWidth = (width - 2 * margin - 40) / Double(max(1, inputs.count))
        let barWidth = min(44, groupWidth / Double(max(1, results.variants.count)) * 0.7)
        for (g, input) in inputs.enumerated() {
            let level = input.levels[levelIndex]
            let groupLeft = margin + 40 + Double(g) * groupWidth
            let step = groupWidth / Double(max(1, level.variants.count))
            for (v, variant) in level.variants.enumerated() {
                let x = groupLeft + Double(v) * step + (step - barWidth) / 2
                let total = variant.breakdownMs.values.reduce(0, +)
                out += "<g class=\"bar\" data-input=\"\(escape(input.name))\" data-variant=\"\(escape(variant.variant))\" data-concurrency=\"\(concurrency)\">\n"
                var cursor = plotBottom
                for category in StageCategory.allCases {
                    let ms = variant.breakdownMs[category] ?? 0
                    guard ms > 0, total > 0 else { continue }
                    let h = ms / total * plotHeight
                    cursor -= h
                    out += "<rect data-category=\"\(category.rawValue)\" x=\(q(x)) y=\(q(cursor)) width=\(q(barWidth)) height=\(q(h)) fill=\"\(categoryColors[category]!)\"><title>\(escape(variant.variant)) \(category.rawValue): \(BenchTables.fixed(ms)) ms</title></rect>\n"
                }
                out += "</g>\n"
                out += text(x + barWidth / 2, plotTop - 4, BenchTables.fixed(total, total < 10 ? 2 : 1), size: 10, anchor: "middle")
                out += text(x + barWidth / 2, plotBottom + 14, variant.variant, size: 10, anchor: "middle")
            }
            out += inputLabel(input, centre: groupLeft + groupWidth / 2, top: plotBottom + 30, width: groupWidth)
        }
        return (out, plotHeight + 104)
    }

    private static func categoryLegend(top: Double) -> String {
        var out = ""
        var x = margin + 40
        for category in StageCategory.allCases {
            out += "<rect x=\(q(x)) y=\(q(top)) width=\"12\" height=\"12\" fill=\"\(categoryColors[category]!)\"/>\n"
            out += text(x + 17, top + 11, category.rawValue, size: 11)
            x += 26 + Double(category.rawValue.count) * 7
        }
        return out
    }

    // MARK: - Throughput lines

    private static func throughputPanel(_ results: BenchResults, top: Double) -> (String, Double) {
        let plotHeight = 180.0
        var out = text(margin, top + 16, "Throughput (requests/s) vs concurrency, closed loop", size: 13, weight: "bold")
        let plotTop = top + 40
        let plotBottom = plotTop + plotHeight
        let count = Double(max(1, results.inputs.count))
        let gap = 56.0
        let chartWidth = (width - 2 * margin - gap * (count - 1)) / count
        for (i, input) in results.inputs.enumerated() {
            let left = margin + Double(i) * (chartWidth + gap) + 28
            let right = left + chartWidth - 28
            let peak = input.levels.flatMap(\.variants).map(\.throughputRPS).max() ?? 1
            let top = niceCeiling(peak * 1.05)
            out += axisLines(left: left, right: right, top: plotTop, bottom: plotBottom, ticks: [0, top / 2, top].map { $0 / top }) {
                BenchTables.fixed($0 * top, top < 10 ? 1 : 0)
            }
            let levels = input.levels
            func xAt(_ index: Int) -> Double {
                levels.count > 1 ? left + 12 + Double(index) / Double(levels.count - 1) * (right - left - 24) : (left + right) / 2
            }
            for (index, level) in levels.enumerated() {
                out += text(xAt(index), plotBottom + 14, "\(level.load.concurrency)", size: 10, anchor: "middle")
            }
            for (v, name) in results.variants.enumerated() {
                let points = levels.enumerated().compactMap { index, level -> (Double, Double)? in
                    guard let result = level.variants.first(where: { $0.variant == name }) else { return nil }
                    return (xAt(index), plotBottom - result.throughputRPS / top * plotHeight)
                }
                let color = variantColors[v % variantColors.count]
                let list = points.map { "\(BenchTables.fixed($0.0, 1)),\(BenchTables.fixed($0.1, 1))" }.joined(separator: " ")
                out += "<polyline class=\"throughput\" data-input=\"\(escape(input.name))\" data-variant=\"\(escape(name))\" points=\"\(list)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
                for point in points {
                    out += "<circle cx=\(q(point.0)) cy=\(q(point.1)) r=\"3\" fill=\"\(color)\"/>\n"
                }
            }
            out += inputLabel(input, centre: (left + right) / 2, top: plotBottom + 30, width: right - left + gap)
        }
        var x = margin + 40
        let legendTop = plotBottom + 56
        for (v, name) in results.variants.enumerated() {
            out += "<line x1=\(q(x)) y1=\(q(legendTop + 6)) x2=\(q(x + 18)) y2=\(q(legendTop + 6)) stroke=\"\(variantColors[v % variantColors.count])\" stroke-width=\"3\"/>\n"
            out += text(x + 24, legendTop + 10, name, size: 11)
            x += 40 + Double(name.count) * 7
        }
        out += text(x + 10, legendTop + 10, "x: concurrent clients", size: 11, fill: "#555")
        return (out, plotHeight + 116)
    }

    // MARK: - Pieces

    /// File name (shortened in the middle to fit `width`) over the image size, centred.
    private static func inputLabel(_ input: InputResult, centre: Double, top: Double, width: Double) -> String {
        let name = URL(fileURLWithPath: input.name).lastPathComponent
        let fitting = max(8, Int(width / 6.5))
        let shown = name.count <= fitting ? name : String(name.prefix(fitting / 2 - 1)) + "…" + String(name.suffix(fitting - fitting / 2))
        return text(centre, top, shown, size: 11, anchor: "middle", weight: "bold")
            + text(centre, top + 13, input.sizeLabel, size: 10, anchor: "middle", fill: "#555")
    }

    /// Horizontal grid lines at `ticks` (0…1 of the height, bottom up) with labels on the left.
    private static func axisLines(left: Double, right: Double, top: Double, bottom: Double, ticks: [Double], label: (Double) -> String) -> String {
        var out = ""
        for tick in ticks {
            let y = bottom - tick * (bottom - top)
            out += "<line x1=\(q(left)) y1=\(q(y)) x2=\(q(right)) y2=\(q(y)) stroke=\"\(tick == 0 ? "#333" : "#ddd")\" stroke-width=\"1\"/>\n"
            out += text(left - 4, y + 4, label(tick), size: 10, anchor: "end", fill: "#555")
        }
        return out
    }

    /// 1, 2 or 5 times a power of ten, at least `value`.
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        let power = pow(10, (log10(value)).rounded(.down))
        return [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= value } ?? 10 * power
    }

    private static func text(_ x: Double, _ y: Double, _ content: String, size: Int, anchor: String = "start", weight: String = "normal", fill: String = "#222") -> String {
        "<text x=\(q(x)) y=\(q(y)) font-size=\"\(size)\" text-anchor=\"\(anchor)\" font-weight=\"\(weight)\" fill=\"\(fill)\">\(escape(content))</text>\n"
    }

    /// A quoted coordinate with one decimal.
    private static func q(_ value: Double) -> String { "\"\(BenchTables.fixed(value, 1))\"" }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
