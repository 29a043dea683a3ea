using FastInfer.Tests.Fuzz;
using SharpFuzz;

namespace FastInfer.Fuzz;

/// <summary>
/// Feeds fuzzer-made bytes to one FastInfer reader. Documented rejections (the exception types in docs/errors.md) are
/// swallowed; anything else escapes and the fuzzer records a crash. Usage:
///   fastinfer-fuzz TARGET --afl          AFL++ through SharpFuzz's out-of-process fork server (input on stdin)
///   fastinfer-fuzz TARGET --libfuzzer    libFuzzer through libfuzzer-dotnet
///   fastinfer-fuzz TARGET FILE...        replay files once each (triage, regression)
/// TARGET may also come from FASTINFER_FUZZ_TARGET (libfuzzer-dotnet passes one --target_arg).
/// </summary>
internal static class Program
{
    private sealed record Target(Action<byte[]> Load, Func<Exception, bool> IsDocumented);

    private static readonly Dictionary<string, Target> Targets = new(StringComparer.Ordinal)
    {
        ["onnx"] = new(FuzzReaders.LoadOnnx, FuzzReaders.IsModelFormat),
        ["onnx-plan"] = new(FuzzReaders.LoadAndPlanOnnx, FuzzReaders.IsModelFormatOrInvalidModel),
        ["onnx-tensor"] = new(FuzzReaders.LoadOnnxTensor, FuzzReaders.IsModelFormat),
        // The Keras reader picks HDF5 or zip by content, so one target serves both.
        ["keras"] = new(b => FuzzReaders.LoadKeras(b, ".keras"), FuzzReaders.IsModelFormat),
        ["image"] = new(ImageDecode.Load, ImageDecode.IsDocumented),
    };

    public static int Main(string[] args)
    {
        string? name = args.Length > 0 && Targets.ContainsKey(args[0]) ? args[0] : Environment.GetEnvironmentVariable("FASTINFER_FUZZ_TARGET");
        if (name is null || !Targets.TryGetValue(name, out var target))
        {
            Console.Error.WriteLine($"usage: fastinfer-fuzz TARGET (--afl | --libfuzzer | FILE...); targets: {string.Join(", ", Targets.Keys)}");
            return 2;
        }
        var rest = args.SkipWhile(a => a == name).ToArray();
        if (rest is ["--afl"])
        {
            Fuzzer.OutOfProcess.Run(stream =>
            {
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                RunOne(target, buffer.ToArray());
            });
            return 0;
        }
        // libfuzzer-dotnet starts the target with one --target_arg (the reader) and announces itself by this variable.
        if (rest is ["--libfuzzer", ..] || (rest.Length == 0 && Environment.GetEnvironmentVariable("__LIBFUZZER_SHM_ID") is not null))
        {
            Fuzzer.LibFuzzer.Run(span => RunOne(target, span.ToArray()));
            return 0;
        }
        if (rest.Length == 0)
        {
            Console.Error.WriteLine("give --afl, --libfuzzer or input files to replay");
            return 2;
        }
        int bad = 0;
        try
        {
            foreach (string file in rest)
            {
                try { RunOne(target, File.ReadAllBytes(file)); Console.WriteLine($"ok      {file}"); }
                catch (Exception e) { bad++; Console.WriteLine($"CRASH   {file}: {e.GetType().FullName}: {e.Message}"); }
            }
        }
        finally { FuzzReaders.CleanUpTempFiles(); }
        return bad == 0 ? 0 : 1;
    }

    /// <summary>Loads; a documented rejection is a normal outcome, anything else propagates to the fuzzer.</summary>
    private static void RunOne(Target target, byte[] bytes)
    {
        try { target.Load(bytes); }
        catch (Exception e) when (target.IsDocumented(e)) { }
    }
}
