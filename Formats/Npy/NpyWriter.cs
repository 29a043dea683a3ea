using System.Buffers.Binary;
using System.Text;
using FastInfer.Ir;

namespace FastInfer.Formats.Npy;

/// <summary>
/// Writes NumPy <c>.npy</c> files: format 1.0 (2.0 when the header would not fit in 65535 bytes), little-endian
/// elements in C order, header padded with spaces and a newline so the data starts on a 64-byte boundary.
/// </summary>
public static class NpyWriter
{
    public static void Write(string path, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Write(stream, array.ElementType, array.Shape, array.Data);
    }

    /// <summary>Writes raw little-endian C-order element bytes of the given type and shape.</summary>
    public static void Write(string path, DataType type, ReadOnlySpan<long> shape, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Write(stream, type, shape, data);
    }

    public static byte[] ToBytes(NpyArray array)
    {
        using var stream = new MemoryStream();
        Write(stream, array.ElementType, array.Shape, array.Data);
        return stream.ToArray();
    }

    public static void Write(Stream stream, DataType type, ReadOnlySpan<long> shape, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(stream);
        string descr = NpyDescr.From(type) ?? throw new ArgumentException($"Element type {type.ToName()} cannot be written to .npy.", nameof(type));
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ArgumentException("Negative dimension.", nameof(shape));
            count = checked(count * d);
        }
        if (checked(count * type.SizeInBytes()) != data.Length)
            throw new ArgumentException($"{data.Length} bytes given for {count} elements of {type.ToName()}.", nameof(data));

        var sb = new StringBuilder();
        sb.Append("{'descr': '").Append(descr).Append("', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.Length; i++)
        {
            sb.Append(shape[i]);
            if (shape.Length == 1 || i < shape.Length - 1) sb.Append(shape.Length == 1 ? "," : ", ");
        }
        sb.Append("), }");
        int dictLength = sb.Length + 1; // + the final newline
        bool v2 = 10 + dictLength > ushort.MaxValue;
        int prefix = v2 ? 12 : 10;
        int padded = (prefix + dictLength + 63) / 64 * 64;
        sb.Append(' ', padded - prefix - dictLength).Append('\n');
        byte[] header = Encoding.ASCII.GetBytes(sb.ToString());

        Span<byte> head = stackalloc byte[12];
        head[0] = 0x93;
        "NUMPY"u8.CopyTo(head[1..]);
        head[6] = (byte)(v2 ? 2 : 1);
        head[7] = 0;
        if (v2) BinaryPrimitives.WriteUInt32LittleEndian(head[8..], (uint)header.Length);
        else BinaryPrimitives.WriteUInt16LittleEndian(head[8..], (ushort)header.Length);
        stream.Write(head[..prefix]);
        stream.Write(header);
        if (BitConverter.IsLittleEndian || type.SizeInBytes() == 1) stream.Write(data);
        else
        {
            var copy = data.ToArray();
            int size = type.SizeInBytes();
            for (int i = 0; i < copy.Length; i += size) copy.AsSpan(i, size).Reverse();
            stream.Write(copy);
        }
    }
}
