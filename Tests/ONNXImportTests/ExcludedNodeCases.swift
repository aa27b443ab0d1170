/// ONNX backend node cases of claimed ops that visionc does not pass, each with its reason.
/// Cases using an element type visionc's IR lacks (float8, int4, int2, bfloat16 data,
/// non-tensor values) are left out by their manifest instead and need no entry here.
enum ExcludedNodeCases {
    private static let blocked = "blocked quantization (block_size, opset 21) is not implemented; per-tensor and per-axis are, which ONNX Runtime's quantizer writes"
    private static let trainingDropout = "training-mode Dropout (a random mask) is not an inference op"

    static let reasons: [String: String] = [
        "test_batchnorm_epsilon_training_mode": "training-mode BatchNormalization (batch statistics) is not an inference op",
        "test_batchnorm_example_training_mode": "training-mode BatchNormalization (batch statistics) is not an inference op",
        "test_dequantizelinear_blocked": blocked,
        "test_quantizelinear_blocked_asymmetric": blocked,
        "test_quantizelinear_blocked_symmetric": blocked,
        "test_training_dropout": trainingDropout,
        "test_training_dropout_default": trainingDropout,
        "test_training_dropout_default_mask": trainingDropout,
        "test_training_dropout_mask": trainingDropout,
        "test_training_dropout_zero_ratio": trainingDropout,
        "test_training_dropout_zero_ratio_mask": trainingDropout,
    ]
}
