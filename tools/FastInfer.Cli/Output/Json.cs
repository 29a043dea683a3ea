using System.Text.Json.Serialization.Metadata;

namespace FastInfer.Cli.Output;

/// <summary>Writes one JSON object on stdout through the source-generated context (no reflection: AOT-safe).</summary>
public static class Json
{
    public static void Write<T>(CliContext ctx, T value, JsonTypeInfo<T> info) =>
        ctx.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(value, info));
}
