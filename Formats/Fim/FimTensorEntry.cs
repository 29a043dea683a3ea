using FastInfer.Ir;

namespace FastInfer.Formats.Fim;

/// <summary>One row of the tensor directory: where a tensor's bytes are and their XxHash3.</summary>
/// <param name="Offset">Absolute file offset, a multiple of 4096.</param>
/// <param name="Strings">The values of a string tensor (stored in the directory, not the data area).</param>
internal sealed record FimTensorEntry(string Name, DataType Type, long[] Dims, long Offset, long Length, ulong Hash, string[]? Strings);
