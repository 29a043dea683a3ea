namespace FastInfer.Kernels.Gemm.MicroKernels;

/// <summary>
/// A compile-time count for generic micro-kernels: instantiated over these structs, the JIT folds
/// <c>TRows.Value</c> to a constant, so one source yields a register-blocked kernel per tile height
/// (M tails run at full speed instead of in a scalar loop).
/// </summary>
internal interface IRowCount { static abstract int Value { get; } }

internal struct R1 : IRowCount { public static int Value => 1; }
internal struct R2 : IRowCount { public static int Value => 2; }
internal struct R3 : IRowCount { public static int Value => 3; }
internal struct R4 : IRowCount { public static int Value => 4; }
internal struct R5 : IRowCount { public static int Value => 5; }
internal struct R6 : IRowCount { public static int Value => 6; }
internal struct R7 : IRowCount { public static int Value => 7; }
internal struct R8 : IRowCount { public static int Value => 8; }
internal struct R9 : IRowCount { public static int Value => 9; }
internal struct R10 : IRowCount { public static int Value => 10; }
internal struct R11 : IRowCount { public static int Value => 11; }
internal struct R12 : IRowCount { public static int Value => 12; }
internal struct R13 : IRowCount { public static int Value => 13; }
internal struct R14 : IRowCount { public static int Value => 14; }
