using System.Globalization;
using System.Text.Json;

namespace FastInfer.Formats.Keras;

/// <summary>Typed access to Keras layer config values, accepting Keras 1/2/3 spellings and shapes (int or tuple).</summary>
internal static class KerasJson
{
    /// <summary>The first of <paramref name="keys"/> present with a non-null value.</summary>
    public static JsonElement? Find(JsonElement obj, params string[] keys)
    {
        if (obj.ValueKind != JsonValueKind.Object) return null;
        foreach (string k in keys)
            if (obj.TryGetProperty(k, out var v) && v.ValueKind != JsonValueKind.Null) return v;
        return null;
    }

    public static bool Has(JsonElement obj, params string[] keys) => Find(obj, keys) is not null;

    public static string? Str(JsonElement obj, params string[] keys)
    {
        var v = Find(obj, keys);
        if (v is null) return null;
        return v.Value.ValueKind switch
        {
            JsonValueKind.String => v.Value.GetString(),
            JsonValueKind.Object => Find(v.Value, "config") is { ValueKind: JsonValueKind.String } s ? s.GetString()
                : Find(v.Value, "config") is { ValueKind: JsonValueKind.Object } c && Str(c, "name") is { } n ? n
                : Str(v.Value, "class_name"),
            _ => v.Value.ToString(),
        };
    }

    public static double Num(JsonElement obj, double fallback, params string[] keys)
    {
        var v = Find(obj, keys);
        if (v is null) return fallback;
        if (v.Value.ValueKind == JsonValueKind.Number) return v.Value.GetDouble();
        if (v.Value.ValueKind == JsonValueKind.String &&
            double.TryParse(v.Value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return d;
        if (v.Value.ValueKind == JsonValueKind.Array && v.Value.GetArrayLength() == 1) return Number(v.Value[0], keys[0]);
        throw new ModelFormatException($"config field '{keys[0]}' is not a number ({v.Value.ValueKind})");
    }

    public static double? NumOrNull(JsonElement obj, params string[] keys) =>
        Find(obj, keys) is null ? null : Num(obj, 0, keys);

    public static bool Bool(JsonElement obj, bool fallback, params string[] keys)
    {
        var v = Find(obj, keys);
        if (v is null) return fallback;
        return v.Value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => v.Value.GetDouble() != 0,
            _ => throw new ModelFormatException($"config field '{keys[0]}' is not a boolean"),
        };
    }

    public static int Int(JsonElement obj, int fallback, params string[] keys)
    {
        var v = Find(obj, keys);
        if (v is null) return fallback;
        if (v.Value.ValueKind == JsonValueKind.Array && v.Value.GetArrayLength() == 1) return ToInt(v.Value[0], keys[0]);
        return ToInt(v.Value, keys[0]);
    }

    /// <summary>An int or a tuple of <paramref name="n"/> ints (an int is repeated).</summary>
    public static int[]? Tuple(JsonElement obj, int n, params string[] keys)
    {
        var v = Find(obj, keys);
        if (v is null) return null;
        if (v.Value.ValueKind == JsonValueKind.Number) return Enumerable.Repeat(ToInt(v.Value, keys[0]), n).ToArray();
        if (v.Value.ValueKind != JsonValueKind.Array)
            throw new ModelFormatException($"config field '{keys[0]}' must be an int or a list of {n} ints");
        var list = v.Value.EnumerateArray().Select(e => ToInt(e, keys[0])).ToArray();
        if (list.Length == 1 && n > 1) return Enumerable.Repeat(list[0], n).ToArray();
        if (list.Length != n) throw new ModelFormatException($"config field '{keys[0]}' has {list.Length} values, expected {n}");
        return list;
    }

    /// <summary>A shape list where null means unknown (-1).</summary>
    public static long[]? Shape(JsonElement obj, params string[] keys)
    {
        var v = Find(obj, keys);
        if (v is null) return null;
        if (v.Value.ValueKind != JsonValueKind.Array) throw new ModelFormatException($"config field '{keys[0]}' must be a list");
        return v.Value.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? -1L : (long)ToInt(e, keys[0])).ToArray();
    }

    public static int ToInt(JsonElement e, string field)
    {
        if (e.ValueKind == JsonValueKind.Number)
        {
            if (e.TryGetInt32(out int i)) return i;
            double d = e.GetDouble();
            if (d == Math.Floor(d) && Math.Abs(d) < int.MaxValue) return (int)d;
        }
        throw new ModelFormatException($"config field '{field}' must be an integer, got {e}");
    }

    public static double Number(JsonElement e, string field) => e.ValueKind == JsonValueKind.Number
        ? e.GetDouble() : throw new ModelFormatException($"config field '{field}' must be a number, got {e}");

    /// <summary>Floats from a number, a list (possibly nested) or a Keras 3 <c>__tensor__</c> object.</summary>
    public static float[]? Floats(JsonElement obj, params string[] keys)
    {
        var v = Find(obj, keys);
        if (v is null) return null;
        var list = new List<float>();
        Flatten(v.Value, list, keys[0]);
        return list.ToArray();
    }

    private static void Flatten(JsonElement e, List<float> into, string field)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Number: into.Add((float)e.GetDouble()); break;
            case JsonValueKind.Array: foreach (var x in e.EnumerateArray()) Flatten(x, into, field); break;
            case JsonValueKind.Object when Find(e, "config") is { } c && Find(c, "value") is { } val: Flatten(val, into, field); break;
            default: throw new ModelFormatException($"config field '{field}' must be numeric, got {e}");
        }
    }
}
