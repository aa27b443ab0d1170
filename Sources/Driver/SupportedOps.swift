import ONNXImport

/// What the compiler accepts, for `visionc ops`.
public enum SupportedOps {
    /// ONNX op types (default domain) the importer converts.
    public static var onnx: [String] { ONNXModel.supportedOps }
}
