using Xunit;

namespace FastInfer.Tests.Support;

/// <summary>Element-wise closeness |a − e| ≤ atol + rtol·|e|, reporting the worst element on failure.</summary>
internal static class TensorAssert
{
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double rtol, double atol, string what = "")
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        int worst = -1;
        double worstExcess = 0;
        int bad = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            if (e == a) continue;
            double excess = Math.Abs(a - e) - (atol + rtol * Math.Abs(e));
            if (double.IsNaN(excess) || excess > 0)
            {
                bad++;
                if (worst < 0 || excess > worstExcess || double.IsNaN(excess)) { worst = i; worstExcess = excess; }
            }
        }
        Assert.True(bad == 0, $"{what}: {bad} of {expected.Length} values outside rtol {rtol}, atol {atol}; worst at {worst}: expected {(worst >= 0 ? expected[worst] : 0)}, got {(worst >= 0 ? actual[worst] : 0)}");
    }

    public static float[] RandomFloats(int count, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var data = new float[count];
        for (int i = 0; i < count; i++) data[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return data;
    }
}
