package tflite

import "strconv"

// Facts from the TFLite schema (tensorflow/compiler/mlir/lite/schema/
// schema.fbs, file identifier "TFL3"): field ids of the tables this
// package reads, and the enum values it names.

// Field ids.
const (
	// Model
	fModelVersion       = 0
	fModelOperatorCodes = 1
	fModelSubgraphs     = 2
	fModelDescription   = 3
	fModelBuffers       = 4

	// OperatorCode
	fOpcodeDeprecatedBuiltin = 0
	fOpcodeCustom            = 1
	fOpcodeVersion           = 2
	fOpcodeBuiltin           = 3

	// SubGraph
	fSubgraphTensors   = 0
	fSubgraphInputs    = 1
	fSubgraphOutputs   = 2
	fSubgraphOperators = 3

	// Tensor
	fTensorShape          = 0
	fTensorType           = 1
	fTensorBuffer         = 2
	fTensorName           = 3
	fTensorQuantization   = 4
	fTensorIsVariable     = 5
	fTensorSparsity       = 6
	fTensorShapeSignature = 7
	fTensorHasRank        = 8
	fTensorVariant        = 9

	// QuantizationParameters
	fQuantScale     = 2
	fQuantZeroPoint = 3
	fQuantDetails   = 4 // union type; 5 is the table
	fQuantDimension = 6

	// Buffer
	fBufferData   = 0
	fBufferOffset = 1
	fBufferSize   = 2

	// Operator
	fOpOpcodeIndex       = 0
	fOpInputs            = 1
	fOpOutputs           = 2
	fOpOptionsType       = 3
	fOpOptions           = 4
	fOpCustomOptions     = 5
	fOpMutatingVariables = 7
	fOpIntermediates     = 8
	fOpLargeCustomOffset = 9
	fOpLargeCustomSize   = 10
	fOpOptions2Type      = 11
)

// TensorType values.
const (
	typeFloat32 = 0
	typeFloat16 = 1
	typeInt32   = 2
	typeUint8   = 3
	typeInt64   = 4
	typeInt16   = 7
	typeInt8    = 9
)

var typeNames = map[uint8]string{
	0: "FLOAT32", 1: "FLOAT16", 2: "INT32", 3: "UINT8", 4: "INT64", 5: "STRING", 6: "BOOL", 7: "INT16",
	8: "COMPLEX64", 9: "INT8", 10: "FLOAT64", 11: "COMPLEX128", 12: "UINT64", 13: "RESOURCE", 14: "VARIANT",
	15: "UINT32", 16: "UINT16", 17: "INT4", 18: "BFLOAT16",
}

// Padding values.
const (
	paddingSame  = 0
	paddingValid = 1
)

// ActivationFunctionType values.
const (
	actNone  = 0
	actRelu  = 1
	actRelu6 = 3
)

var actNames = map[uint8]string{0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}

// BuiltinOperator values of the ops this package translates.
const (
	opAdd              = 0
	opAveragePool2D    = 1
	opConcatenation    = 2
	opConv2D           = 3
	opDepthwiseConv2D  = 4
	opDepthToSpace     = 5
	opDequantize       = 6
	opFullyConnected   = 9
	opL2Normalization  = 11
	opLogistic         = 14
	opMaxPool2D        = 17
	opMul              = 18
	opRelu             = 19
	opRelu6            = 21
	opReshape          = 22
	opResizeBilinear   = 23
	opSoftmax          = 25
	opTanh             = 28
	opPad              = 34
	opTranspose        = 39
	opMean             = 40
	opSub              = 41
	opDiv              = 42
	opSqueeze          = 43
	opExp              = 47
	opPrelu            = 54
	opMaximum          = 55
	opMinimum          = 57
	opNeg              = 59
	opPadV2            = 60
	opLog              = 73
	opSum              = 74
	opSqrt             = 75
	opRsqrt            = 76
	opReduceMax        = 82
	opSquare           = 92
	opLeakyRelu        = 98
	opSquaredDiff      = 99
	opAbs              = 101
	opHardSwish        = 117
	opPlaceholderCodes = 127 // builtin_code holds codes at or above this
)

// opNames names every BuiltinOperator up to 161, for error messages.
var opNames = [...]string{
	"ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE",
	"EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D",
	"LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU",
	"RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH",
	"CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD",
	"UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN",
	"SUB", "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN",
	"EXP", "TOPK_V2", "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU",
	"MAXIMUM", "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL",
	"SELECT", "SLICE", "SIN", "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL",
	"NOT_EQUAL", "LOG", "SUM", "SQRT", "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD",
	"REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN",
	"FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL", "FLOOR_MOD", "RANGE",
	"RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS", "SPLIT_V",
	"UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK", "ELU",
	"REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF", "WHILE",
	"NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2", "DENSIFY",
	"SEGMENT_SUM", "BATCH_MATMUL", "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE",
	"BROADCAST_TO", "RFFT2D", "CONV_3D", "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE", "HASHTABLE_FIND",
	"HASHTABLE_IMPORT", "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE", "VAR_HANDLE",
	"READ_VARIABLE", "ASSIGN_VARIABLE", "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL", "BUCKETIZE",
	"RANDOM_UNIFORM", "MULTINOMIAL", "GELU", "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1",
	"UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_SUM", "ATAN2",
	"UNSORTED_SEGMENT_MIN", "SIGN", "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT",
}

// opName names a BuiltinOperator code.
func opName(code int32) string {
	if code >= 0 && int(code) < len(opNames) {
		return opNames[code]
	}
	return "BUILTIN_" + strconv.Itoa(int(code))
}

// BuiltinOptions union types (1-based positions in the union) of the
// options tables this package reads.
const (
	optNone           = 0
	optConv2D         = 1
	optDepthwiseConv  = 2
	optPool2D         = 5
	optFullyConnected = 8
	optSoftmax        = 9
	optConcatenation  = 10
	optAdd            = 11
	optL2Norm         = 12
	optResizeBilinear = 15
	optReshape        = 17
	optMul            = 21
	optPad            = 22
	optTranspose      = 26
	optReducer        = 27
	optSub            = 28
	optDiv            = 29
	optSqueeze        = 30
	optExp            = 33
	optDequantize     = 38
	optMaximumMinimum = 39
	optNeg            = 42
	optPadV2          = 43
	optSquare         = 66
	optLeakyRelu      = 75
	optSquaredDiff    = 76
	optAbs            = 78
	optHardSwish      = 91
	optDepthToSpace   = 94
)
