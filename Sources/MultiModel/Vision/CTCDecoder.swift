import Runtime
/// Greedy CTC decoding of a text recognizer's per-step class probabilities.
///
/// Class 0 is the CTC blank; classes 1…n are the model's dictionary (its ONNX metadata
/// entry `character`, one entry per line), and class n+1 is a space, appended as PaddleOCR
/// does because its dictionaries omit it.
public struct CTCDecoder: Sendable {
    /// Index 0 is the blank (never emitted).
    public let classes: [String]

    public init(dictionary: [String]) { classes = ["blank"] + dictionary + [" "] }

    /// Splits the `character` metadata string (newline-separated, a trailing newline or
    /// `\r\n` endings allowed) into dictionary entries.
    public init(characterMetadata: String) {
        var lines = characterMetadata.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        if lines.last == "" { lines.removeLast() }
        self.init(dictionary: lines)
    }

    /// Takes the most likely class per step, merges repeats, drops blanks.
    /// - Parameters:
    ///   - probabilities: `steps × classCount` row-major.
    /// - Returns: the text and its confidence: the mean of the kept steps' probabilities (0
    ///   when nothing is kept).
    /// - Throws: `VisionError` when the row width does not match the dictionary.
    public func decode(_ probabilities: ArraySlice<Float>, steps: Int, classCount: Int) throws -> (text: String, score: Float) {
        guard classCount == classes.count else {
            throw VisionError("the recognizer outputs \(classCount) classes but its dictionary has \(classes.count - 2) entries (+ blank and space = \(classes.count))")
        }
        guard probabilities.count == steps * classCount else {
            throw VisionError("CTC input has \(probabilities.count) values; expected \(steps) steps × \(classCount) classes")
        }
        var text = ""
        var total: Float = 0
        var kept = 0
        var previous = -1
        let base = probabilities.startIndex
        for step in 0..<steps {
            var best = 0
            var bestProbability = -Float.infinity
            for index in 0..<classCount where probabilities[base + step * classCount + index] > bestProbability {
                best = index
                bestProbability = probabilities[base + step * classCount + index]
            }
            if best != 0 && best != previous {
                text += classes[best]
                total += bestProbability
                kept += 1
            }
            previous = best
        }
        return (text, kept == 0 ? 0 : total / Float(kept))
    }
}

/// A postprocessing or image-geometry error, phrased as what was wrong and what was expected.
public struct VisionError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
