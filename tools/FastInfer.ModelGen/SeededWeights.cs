namespace FastInfer.ModelGen;

/// <summary>
/// Deterministic uniform weights in [-scale, scale) from a SplitMix64 stream: fast enough for a billion values, and the
/// same seed gives the same model on every machine (System.Random's algorithm is not a documented contract).
/// </summary>
public struct SeededWeights
{
    private ulong _state;

    public SeededWeights(ulong seed) => _state = seed * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL;

    public void Fill(Span<float> destination, float scale)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            // 24 random bits → [0, 1) exactly representable, then to [-1, 1).
            destination[i] = ((z >> 40) * (1f / (1 << 24)) * 2f - 1f) * scale;
        }
    }
}
