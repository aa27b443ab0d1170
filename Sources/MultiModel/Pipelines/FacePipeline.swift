import IR
import Runtime
import Kernels

/// One detected face: its box (x1, y1, x2, y2 in image pixels), O-Net's score and the five
/// landmarks (left eye, right eye, nose, mouth left, mouth right).
public struct FaceDetection: Sendable, Equatable {
    public var box: ScoredBox
    public var landmarks: [(x: Double, y: Double)]

    public static func == (a: FaceDetection, b: FaceDetection) -> Bool {
        a.box == b.box && a.landmarks.elementsEqual(b.landmarks) { $0.x == $1.x && $0.y == $1.y }
    }
}

/// A box on its way through the cascade with the network input cut for it.
struct FaceCandidate: Sendable {
    var box: ScoredBox
    /// `side × side × 3`, `[x, y, c]` order, normalized.
    var pixels: [Float]
}

/// A candidate after R-Net or O-Net: its face probability and regression (and O-Net's
/// landmarks, relative to the box).
struct ScoredCandidate: Sendable {
    var box: ScoredBox
    var probability: Double
    var offsets: [Double]
    var landmarks: [Double]
}

/// The MTCNN cascade as stage ops, which Graphs/faces.yaml wires into a graph: P-Net over
/// the pyramid (fan-out: one child per candidate, cut to 24×24) → R-Net (batched queue) →
/// gather, NMS, regress, square up (fan-out: 48×48 crops) → O-Net (batched queue) → gather,
/// landmarks, regression, "Min"-mode NMS.
public enum FacePipeline {
    public struct Settings: Sendable {
        public var minFace = 20.0
        public var scaleFactor = 0.709
        public init() {}
    }

    /// The stage ops of the cascade (wired in Graphs/faces.yaml): `mtcnn_proposals` (fan-out)
    /// → `mtcnn_score` with R-Net → gather → `mtcnn_refine` (fan-out) → `mtcnn_score` with
    /// O-Net → gather → `mtcnn_faces`.
    static let ops: [StageOp] = [
        StageOp(
            "mtcnn_proposals", "fan-out: P-Net over the image pyramid, NMS per scale and across scales; one 24×24 crop per candidate",
            role: .expand, inputs: [.image], output: .faceCandidate, usesModel: true,
            parameters: [
                ("min_face", "the smallest face side searched for, in pixels (20)"),
                ("scale_factor", "the pyramid's scale step, below 1 (0.709)"),
            ],
            configure: { parameters in
                var configured = Settings()
                configured.minFace = try parameters.number("min_face", default: configured.minFace, in: 1...100_000)
                configured.scaleFactor = try parameters.number("scale_factor", default: configured.scaleFactor, in: 0.1...0.95)
                let settings = configured
                return { context in
                    let pnet = try context.modelRunner(op: "mtcnn_proposals")
                    return ClosureWorker.perRecord { values in
                        try proposals(try typed(values[0], "mtcnn_proposals"), pnet: pnet, settings: settings).map { $0 as any Sendable }
                    }
                }
            }),
        StageOp(
            "mtcnn_score", "R-Net or O-Net on a batch of candidate crops (the crop size is the model's input)",
            role: .map, inputs: [.faceCandidate], output: .faceScore, usesModel: true,
            configure: { _ in
                { context in
                    let model = try context.modelRunner(op: "mtcnn_score")
                    return ClosureWorker { batch in try classify(batch.map { try typed($0[0], "mtcnn_score") }, model: model) }
                }
            }),
        StageOp(
            "mtcnn_refine", "fan-out: R-Net's candidates above 0.7, NMS, regressed and squared up; one 48×48 crop each",
            role: .expand, inputs: [.image, .list(.faceScore)], output: .faceCandidate,
            configure: { _ in
                { _ in
                    ClosureWorker.perRecord { values in
                        let scored = try (typed(values[1], "mtcnn_refine") as [any Sendable]).map { try typed($0, "mtcnn_refine") as ScoredCandidate }
                        return refine(scored, image: try typed(values[0], "mtcnn_refine")).map { $0 as any Sendable }
                    }
                }
            }),
        StageOp(
            "mtcnn_faces", "O-Net's candidates above 0.7 with landmarks, regressed, NMS in Min mode",
            role: .map, inputs: [.list(.faceScore)], output: .faces,
            configure: { _ in
                { _ in
                    ClosureWorker.perRecord { values in
                        finalFaces(try (typed(values[0], "mtcnn_faces") as [any Sendable]).map { try typed($0, "mtcnn_faces") as ScoredCandidate })
                    }
                }
            }),
    ]

    /// P-Net on every pyramid level, NMS 0.5 per level, then across levels; each survivor
    /// cut to R-Net's 24×24 input.
    static func proposals(_ image: Image, pnet: ModelRunner, settings: Settings) throws -> [FaceCandidate] {
        var candidates: [(box: ScoredBox, offsets: [Double])] = []
        for scale in MTCNN.pyramidScales(width: image.width, height: image.height, minFace: settings.minFace, factor: settings.scaleFactor) {
            let outputs = try pnet.run(MTCNN.pnetInput(image, scale: scale))
            guard outputs.count == 2 else { throw VisionError("P-Net returned \(outputs.count) outputs; expected regression and probability") }
            let level = try MTCNN.pnetCandidates(regression: outputs[0], probability: outputs[1], scale: scale)
            candidates += nonMaximumSuppression(level.map(\.box), threshold: 0.5, mode: .union).map { level[$0] }
        }
        return MTCNN.mergePyramid(candidates).compactMap { box in
            MTCNN.crop(image, box: box, side: 24).map { FaceCandidate(box: box, pixels: $0) }
        }
    }

    /// One batched run of R-Net (outputs: regression, probability) or O-Net (regression,
    /// landmarks, probability).
    static func classify(_ candidates: [FaceCandidate], model: ModelRunner) throws -> [any Sendable] {
        // Candidates are square `side × side × 3` cuts, all of the size the model takes.
        let side = Int((Double((candidates.first?.pixels.count ?? 0) / 3)).squareRoot())
        guard candidates.allSatisfy({ $0.pixels.count == side * side * 3 }) else {
            throw VisionError("\(model.model.path): candidate crops of different sizes in one batch")
        }
        let input = Tensor(shape: [candidates.count, side, side, 3], floats: candidates.flatMap(\.pixels))
        let outputs = try model.run(input)
        let withLandmarks = outputs.count == 3
        guard outputs.count == 2 || withLandmarks else { throw VisionError("\(model.model.path): \(outputs.count) outputs; expected 2 or 3") }
        let offsets = outputs[0].floats
        let probabilities = outputs[outputs.count - 1].floats
        let landmarks = withLandmarks ? outputs[1].floats : []
        guard offsets.count == candidates.count * 4, probabilities.count == candidates.count * 2,
            !withLandmarks || landmarks.count == candidates.count * 10
        else { throw VisionError("\(model.model.path): output sizes do not match a batch of \(candidates.count)") }
        return candidates.indices.map { index in
            ScoredCandidate(
                box: candidates[index].box, probability: Double(probabilities[index * 2 + 1]),
                offsets: (0..<4).map { Double(offsets[index * 4 + $0]) },
                landmarks: withLandmarks ? (0..<10).map { Double(landmarks[index * 10 + $0]) } : [])
        }
    }

    /// After R-Net: keep probability > 0.7, NMS 0.7, regress, square up, truncate, cut 48×48.
    static func refine(_ scored: [ScoredCandidate], image: Image) -> [FaceCandidate] {
        let passed = scored.filter { $0.probability > MTCNN.rnetThreshold }
        let boxes = passed.map { candidate in
            var box = candidate.box
            box.score = candidate.probability
            return box
        }
        return nonMaximumSuppression(boxes, threshold: 0.7, mode: .union).compactMap { index in
            let box = MTCNN.truncated(MTCNN.squaredUp(MTCNN.regressed(boxes[index], passed[index].offsets)))
            return MTCNN.crop(image, box: box, side: 48).map { FaceCandidate(box: box, pixels: $0) }
        }
    }

    /// After O-Net: keep probability > 0.7, place landmarks in the (unregressed) box,
    /// regress, NMS 0.7 in "Min" mode.
    static func finalFaces(_ scored: [ScoredCandidate]) -> [FaceDetection] {
        let faces = scored.filter { $0.probability > MTCNN.onetThreshold }.map { candidate -> FaceDetection in
            var box = candidate.box
            box.score = candidate.probability
            let landmarks = (0..<5).map { k in
                (x: box.width * candidate.landmarks[k] + box.x1 - 1, y: box.height * candidate.landmarks[k + 5] + box.y1 - 1)
            }
            return FaceDetection(box: MTCNN.regressed(box, candidate.offsets), landmarks: landmarks)
        }
        return nonMaximumSuppression(faces.map(\.box), threshold: 0.7, mode: .minimum).map { faces[$0] }
    }
}
