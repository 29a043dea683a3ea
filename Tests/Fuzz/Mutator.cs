namespace FastInfer.Tests.Fuzz;

/// <summary>
/// Seeded byte-level mutations aimed at the places readers trust: bit flips, truncations, inserted and deleted
/// bytes, protobuf varints and little-endian integers overwritten with huge or negative values (lengths, dims,
/// counts, offsets), ASCII numbers replaced by absurd ones (JSON configs), and chunks repeated many times
/// (deep nesting, duplicated records). The same seed always gives the same sequence of inputs.
/// </summary>
internal static class Mutator
{
    /// <summary>Applies one to three mutations to a copy of <paramref name="seed"/>.</summary>
    public static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        int steps = 1 + random.Next(3);
        for (int s = 0; s < steps; s++) MutateOnce(bytes, random);
        return bytes.ToArray();
    }

    private static void MutateOnce(List<byte> bytes, Random random)
    {
        if (bytes.Count == 0) { bytes.Add((byte)random.Next(256)); return; }
        int at = random.Next(bytes.Count);
        switch (random.Next(10))
        {
            case 0: // bit flips
                for (int k = random.Next(1, 5); k > 0; k--) { int j = random.Next(bytes.Count); bytes[j] ^= (byte)(1 << random.Next(8)); }
                break;
            case 1: // truncation
                bytes.RemoveRange(at, bytes.Count - at);
                break;
            case 2: // inserted bytes
                for (int k = random.Next(1, 9); k > 0; k--) bytes.Insert(at, (byte)random.Next(256));
                break;
            case 3: // deleted bytes
                bytes.RemoveRange(at, Math.Min(bytes.Count - at, random.Next(1, 9)));
                break;
            case 4: // a protobuf varint: small, huge, "negative" (ten bytes) or a power of two
                Overwrite(bytes, at, Varint(InterestingValue(random)));
                break;
            case 5: // a little-endian 16/32/64-bit integer (HDF5, zip and image headers)
            {
                ulong v = InterestingValue(random);
                int width = 2 << random.Next(3);
                var le = new byte[width];
                for (int k = 0; k < width; k++) le[k] = (byte)(v >> (8 * k));
                Overwrite(bytes, at, le);
                break;
            }
            case 6: // repeat a chunk many times: nesting, duplicated fields and records
            {
                int len = Math.Min(bytes.Count - at, random.Next(1, 17));
                var chunk = bytes.GetRange(at, len);
                int times = random.Next(2) == 0 ? random.Next(2, 16) : random.Next(100, 2000);
                for (int k = 0; k < times; k++) bytes.InsertRange(at, chunk);
                break;
            }
            case 7: // splice: copy a chunk from elsewhere over this place
            {
                int from = random.Next(bytes.Count);
                int len = Math.Min(Math.Min(bytes.Count - from, bytes.Count - at), random.Next(1, 33));
                var chunk = bytes.GetRange(from, len);
                Overwrite(bytes, at, chunk.ToArray());
                break;
            }
            case 8: // an ASCII number replaced by an absurd one (JSON shapes, units, counts)
                ReplaceNumber(bytes, at, random);
                break;
            default: // a run of one byte value (zeros, 0xFF) over a field
            {
                byte b = random.Next(3) switch { 0 => 0, 1 => 0xFF, _ => (byte)random.Next(256) };
                int len = Math.Min(bytes.Count - at, random.Next(1, 9));
                for (int k = 0; k < len; k++) bytes[at + k] = b;
                break;
            }
        }
    }

    /// <summary>
    /// Mutations for JSON text (Keras configs): half the time a byte-level one, else a number made absurd, a value
    /// replaced by an array nested hundreds or thousands deep, a string swapped for another Keras word, or a chunk cut.
    /// </summary>
    public static byte[] MutateText(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        int steps = 1 + random.Next(2);
        for (int s = 0; s < steps && bytes.Count > 0; s++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0: ReplaceNumber(bytes, at, random); break;
                case 1: ReplaceNumber(bytes, at, random); break;
                case 2: // deep nesting in place of a number
                {
                    int depth = random.Next(2) == 0 ? random.Next(2, 64) : random.Next(200, 5000);
                    ReplaceNumberWith(bytes, at, new string('[', depth) + "1" + new string(']', depth));
                    break;
                }
                case 3: ReplaceString(bytes, at, random); break;
                case 4: // cut from one comma to a later one: a key/value pair or list item disappears
                {
                    int from = bytes.IndexOf((byte)',', at);
                    int to = from < 0 ? -1 : bytes.IndexOf((byte)',', from + 1);
                    if (to > from) bytes.RemoveRange(from, to - from);
                    break;
                }
                default: MutateOnce(bytes, random); break;
            }
        }
        return bytes.ToArray();
    }

    private static readonly string[] KerasWords =
    [
        "", "null", "Conv2D", "Dense", "Flatten", "Reshape", "InputLayer", "Functional", "Sequential", "Add", "Concatenate",
        "same", "valid", "causal", "channels_first", "channels_last", "relu", "softmax", "linear", "float16", "int8",
        "layers", "config", "inbound_nodes", "class_name", "\\u0000", "../../etc/passwd",
    ];

    private static void ReplaceString(List<byte> bytes, int at, Random random)
    {
        int open = bytes.IndexOf((byte)'"', at);
        int close = open < 0 ? -1 : bytes.IndexOf((byte)'"', open + 1);
        if (close <= open) return;
        bytes.RemoveRange(open + 1, close - open - 1);
        bytes.InsertRange(open + 1, System.Text.Encoding.UTF8.GetBytes(KerasWords[random.Next(KerasWords.Length)]));
    }

    private static ulong InterestingValue(Random random) => random.Next(8) switch
    {
        0 => (ulong)random.Next(128),
        1 => (ulong)random.NextInt64(),
        2 => ulong.MaxValue - (ulong)random.Next(16),            // -1, -2, ... as two's complement
        3 => 1UL << random.Next(64),
        4 => (1UL << random.Next(1, 64)) - 1,
        5 => (ulong)int.MaxValue + (ulong)random.Next(-2, 3),
        6 => (ulong)uint.MaxValue - (ulong)random.Next(4),
        _ => 0,
    };

    private static readonly string[] AbsurdNumbers =
    [
        "-1", "0", "-2147483648", "2147483647", "4294967296", "99999999999999999999", "9223372036854775807",
        "-9223372036854775808", "1e309", "-0", "1.5", "NaN", "65536", "1099511627776",
    ];

    private static void ReplaceNumber(List<byte> bytes, int at, Random random)
    {
        // Find the next run of digits at or after 'at' (wrapping once); leave the bytes alone if there is none.
        int start = -1;
        for (int k = 0; k < bytes.Count; k++)
        {
            int i = (at + k) % bytes.Count;
            if (bytes[i] is >= (byte)'0' and <= (byte)'9') { start = i; break; }
        }
        if (start < 0) return;
        while (start > 0 && bytes[start - 1] is >= (byte)'0' and <= (byte)'9') start--;
        int end = start;
        while (end < bytes.Count && bytes[end] is >= (byte)'0' and <= (byte)'9') end++;
        bytes.RemoveRange(start, end - start);
        bytes.InsertRange(start, System.Text.Encoding.ASCII.GetBytes(AbsurdNumbers[random.Next(AbsurdNumbers.Length)]));
    }

    private static void ReplaceNumberWith(List<byte> bytes, int at, string replacement)
    {
        int start = bytes.FindIndex(at, b => b is >= (byte)'0' and <= (byte)'9');
        if (start < 0) return;
        int end = start;
        while (end < bytes.Count && bytes[end] is >= (byte)'0' and <= (byte)'9') end++;
        bytes.RemoveRange(start, end - start);
        bytes.InsertRange(start, System.Text.Encoding.ASCII.GetBytes(replacement));
    }

    private static void Overwrite(List<byte> bytes, int at, byte[] value)
    {
        for (int k = 0; k < value.Length; k++)
        {
            if (at + k < bytes.Count) bytes[at + k] = value[k];
            else bytes.Add(value[k]);
        }
    }

    public static byte[] Varint(ulong v)
    {
        var result = new List<byte>(10);
        while (v >= 0x80) { result.Add((byte)(v | 0x80)); v >>= 7; }
        result.Add((byte)v);
        return result.ToArray();
    }
}
