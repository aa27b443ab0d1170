import Foundation
import IR
import XCTest

/// A manifest of ONNX Runtime reference tensors written by scripts/make_references.py
/// (`assets/references/references.json`) or scripts/make_model_references.py
/// (`assets/references/models/models.json`): raw little-endian f32 files beside it.
public struct ReferenceManifest: Decodable {
    public struct TensorFile: Decodable {
        public let role: String
        public let onnx_name: String
        public let shape: [Int]
        public let raw: String
    }

    public struct Entry: Decodable {
        public let name: String
        public let model: String
        public let tensors: [TensorFile]

        public var input: TensorFile { tensors.first { $0.role == "input" }! }
        public var outputs: [TensorFile] { tensors.filter { $0.role == "output" } }
        public func tensor(role: String) -> TensorFile? { tensors.first { $0.role == role } }
    }

    public let references: [Entry]
    /// The manifest's folder under assets/, where its tensor files are.
    public private(set) var folder = ""

    private enum CodingKeys: String, CodingKey { case references }

    /// Loads the manifest at `assets/<relativePath>`, skipping the test when setup has not run.
    public static func load(_ relativePath: String) throws -> ReferenceManifest {
        let url = TestPaths.asset(relativePath)
        guard TestPaths.exists(url) else { throw XCTSkip("\(relativePath) missing: run scripts/setup") }
        var manifest = try JSONDecoder().decode(ReferenceManifest.self, from: Data(contentsOf: url))
        manifest.folder = (relativePath as NSString).deletingLastPathComponent
        return manifest
    }

    /// The named entry, skipping the test when it or its model file is missing.
    public func entry(_ name: String) throws -> Entry {
        guard let entry = references.first(where: { $0.name == name }) else { throw XCTSkip("no reference \(name): run scripts/setup") }
        guard TestPaths.exists(TestPaths.asset(entry.model)) else { throw XCTSkip("\(entry.model) missing: run scripts/setup") }
        return entry
    }

    public func tensor(_ file: TensorFile) throws -> Tensor {
        let data = try Data(contentsOf: TestPaths.asset(folder + "/" + file.raw))
        return Tensor(shape: file.shape, floats: data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) })
    }
}
