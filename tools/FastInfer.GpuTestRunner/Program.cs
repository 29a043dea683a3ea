using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace FastInfer.GpuTestRunner;

/// <summary>
/// A minimal xunit runner for the GPU tests, for a machine with the .NET runtime but no SDK (so no dotnet test / vstest).
/// It loads FastInfer.Tests.dll, and for each public class in the namespace (default FastInfer.Tests.Gpu) runs every
/// [Fact] and every [Theory] row (InlineData, MemberData, ClassData: anything DataAttribute.GetData yields) on a fresh
/// instance, one at a time, like xunit does for the GPU tests' collection (DisableParallelization). Constructor
/// arguments: ITestOutputHelper and IClassFixture&lt;T&gt; fixtures. Prints one line per test and a summary; the exit
/// code is 1 when a test failed, 2 when nothing matched (so a wrong filter is not read as success).
/// </summary>
/// <remarks>
/// Usage: fastinfer-gpu-test-runner [--assembly FastInfer.Tests.dll] [--namespace FastInfer.Tests.Gpu]
///        [--filter TEXT]... [--exclude TEXT]... [--timeout SECONDS] [--list]
/// --filter / --exclude match a substring of "Namespace.Class.Method" (like dotnet test's FullyQualifiedName~);
/// a test runs when it matches any --filter (or none is given) and no --exclude.
/// --timeout gives up on one test after that many seconds (default 300), reports it failed and goes on; the hung
/// test's thread is left behind and the process ends with Environment.Exit.
/// </remarks>
internal static class Program
{
    private static int Main(string[] args)
    {
        string assemblyPath = Path.Combine(AppContext.BaseDirectory, "FastInfer.Tests.dll");
        string ns = "FastInfer.Tests.Gpu";
        var filters = new List<string>();
        var excludes = new List<string>();
        double timeoutSeconds = 300;
        bool listOnly = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--assembly": assemblyPath = Path.GetFullPath(Next()); break;
                case "--namespace": ns = Next(); break;
                case "--filter": filters.Add(Next()); break;
                case "--exclude": excludes.Add(Next()); break;
                case "--timeout": timeoutSeconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--list": listOnly = true; break;
                default: Console.Error.WriteLine($"unknown argument '{args[i]}'"); return 64;
            }
        }

        Console.WriteLine($"runner: .NET {Environment.Version}, {Environment.ProcessorCount} CPUs, " +
                          $"FASTINFER_GPU_TEST_ACCELERATOR={Environment.GetEnvironmentVariable("FASTINFER_GPU_TEST_ACCELERATOR") ?? "(unset)"}");
        var assembly = Assembly.LoadFrom(assemblyPath);
        var tests = Discover(assembly, ns)
            .Where(t => (filters.Count == 0 || filters.Any(f => t.FullName.Contains(f, StringComparison.Ordinal)))
                        && !excludes.Any(e => t.FullName.Contains(e, StringComparison.Ordinal)))
            .ToList();
        if (listOnly)
        {
            foreach (var t in tests) Console.WriteLine(t.DisplayName);
            return 0;
        }

        int passed = 0, failed = 0, skipped = 0;
        var total = Stopwatch.StartNew();
        var fixtures = new Dictionary<Type, object>();
        foreach (var test in tests)
        {
            if (test.Skip is not null)
            {
                skipped++;
                Console.WriteLine($"SKIP {test.DisplayName}: {test.Skip}");
                continue;
            }
            var sw = Stopwatch.StartNew();
            Exception? error = RunWithTimeout(() => RunOne(test, fixtures), TimeSpan.FromSeconds(timeoutSeconds));
            double ms = sw.Elapsed.TotalMilliseconds;
            if (error is null)
            {
                passed++;
                Console.WriteLine($"PASS {test.DisplayName} ({ms:F0} ms)");
            }
            else
            {
                failed++;
                Console.WriteLine($"FAIL {test.DisplayName} ({ms:F0} ms): {error.GetType().FullName}: {error.Message}");
                for (var inner = error.InnerException; inner is not null; inner = inner.InnerException)
                    Console.WriteLine($"     inner {inner.GetType().FullName}: {inner.Message}");
                // The test's own frames: the runner's reflection frames below them say nothing.
                foreach (var line in (error.StackTrace ?? "").Split('\n').Select(l => l.TrimEnd())
                             .Where(l => l.Length > 0 && !l.Contains("FastInfer.GpuTestRunner", StringComparison.Ordinal)
                                         && !l.Contains("System.Reflection.", StringComparison.Ordinal) && !l.Contains("--- End of", StringComparison.Ordinal))
                             .Take(12))
                    Console.WriteLine("     " + line);
            }
        }
        foreach (var fixture in fixtures.Values) (fixture as IDisposable)?.Dispose();

        Console.WriteLine($"total {total.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"gpu tests: {passed} passed, {failed} failed, {skipped} skipped");
        Console.Out.Flush();
        int code = failed > 0 ? 1 : passed + skipped == 0 ? 2 : 0;
        // Exit rather than return: a timed-out test's thread (or an accelerator's worker threads) must not keep the
        // process alive.
        Environment.Exit(code);
        return code;
    }

    /// <summary>One test: a fact, or one theory row. <paramref name="Error"/>: the theory data could not be produced.</summary>
    private sealed record TestCase(Type Class, MethodInfo Method, object?[] Arguments, string? Skip, string DisplayName, string? Error = null)
    {
        public string FullName => $"{Class.FullName}.{Method.Name}";
    }

    /// <summary>The tests of the public classes in <paramref name="ns"/>, in source order within each class.</summary>
    private static IEnumerable<TestCase> Discover(Assembly assembly, string ns)
    {
        Type?[] types;
        try { types = assembly.GetTypes(); }
        catch (ReflectionTypeLoadException e)
        {
            // Only part of the test assembly may load where some of its dependencies were left out of the bundle
            // (the ONNX Runtime, the MiniLM package): the GPU tests do not need them, so go on with what loaded.
            types = e.Types;
            Console.WriteLine($"note: {e.LoaderExceptions.Length} types of {assembly.GetName().Name} did not load " +
                              $"(first: {e.LoaderExceptions.FirstOrDefault()?.Message})");
        }
        foreach (var type in types.OfType<Type>()
                     .Where(t => t.IsClass && !t.IsAbstract && t.IsVisible && !t.ContainsGenericParameters
                                 && (t.Namespace == ns || t.Namespace?.StartsWith(ns + ".", StringComparison.Ordinal) == true))
                     .OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            var methods = type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
                .OrderBy(m => m.MetadataToken);
            foreach (var method in methods)
            {
                var fact = method.GetCustomAttributes<FactAttribute>(inherit: true).FirstOrDefault();
                if (fact is null) continue;
                string name = $"{type.FullName}.{method.Name}";
                if (fact.Skip is not null || fact is not TheoryAttribute)
                {
                    yield return new TestCase(type, method, Array.Empty<object?>(), fact.Skip, name);
                    continue;
                }
                foreach (var data in method.GetCustomAttributes<DataAttribute>(inherit: true))
                {
                    IEnumerable<object?[]> rows;
                    string? dataError = null;
                    try { rows = data.Skip is not null ? new[] { Array.Empty<object?>() } : data.GetData(method).ToList(); }
                    catch (Exception e)
                    {
                        rows = new[] { Array.Empty<object?>() };
                        dataError = $"{data.GetType().Name} failed: {e.Message}";
                    }
                    foreach (var row in rows)
                    {
                        string display = data.Skip is not null || dataError is not null ? $"{name}({data.GetType().Name})" : $"{name}({Format(row)})";
                        // A data attribute that cannot produce its rows is reported as a failing test, not dropped.
                        yield return new TestCase(type, method, row, dataError is null ? data.Skip : null, display, dataError);
                    }
                }
            }
        }
    }

    /// <summary>Runs <paramref name="body"/> on its own thread; its exception, or a timeout, or null when it passed.</summary>
    private static Exception? RunWithTimeout(Action body, TimeSpan timeout)
    {
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try { body(); }
            catch (Exception e) { error = e; }
        }, maxStackSize: 16 << 20) { IsBackground = true, Name = "test" };
        thread.Start();
        return thread.Join(timeout) ? error : new TimeoutException($"still running after {timeout.TotalSeconds:F0} s; left behind");
    }

    private static void RunOne(TestCase test, Dictionary<Type, object> fixtures)
    {
        if (test.Error is not null) throw new InvalidOperationException(test.Error);
        var output = new ConsoleOutput();
        object? instance = test.Method.IsStatic ? null : Create(test.Class, output, fixtures);
        try
        {
            object? result;
            try { result = test.Method.Invoke(instance, ConvertArguments(test.Method, test.Arguments)); }
            catch (TargetInvocationException e) when (e.InnerException is not null) { throw Rethrow(e.InnerException); }
            if (result is Task task) task.GetAwaiter().GetResult();
            else if (result is ValueTask valueTask) valueTask.GetAwaiter().GetResult();
        }
        finally
        {
            if (instance is IAsyncDisposable asyncDisposable) asyncDisposable.DisposeAsync().AsTask().GetAwaiter().GetResult();
            else (instance as IDisposable)?.Dispose();
        }
    }

    private static Exception Rethrow(Exception e)
    {
        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e).Throw();
        return e;
    }

    /// <summary>A new test class instance; constructor parameters are an ITestOutputHelper or the class's IClassFixture&lt;T&gt; objects.</summary>
    private static object Create(Type type, ITestOutputHelper output, Dictionary<Type, object> fixtures)
    {
        var ctor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
                   ?? throw new InvalidOperationException($"{type.FullName} has no public constructor");
        var fixtureTypes = type.GetInterfaces()
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IClassFixture<>))
            .Select(i => i.GetGenericArguments()[0]).ToHashSet();
        var arguments = ctor.GetParameters().Select(p =>
        {
            if (p.ParameterType == typeof(ITestOutputHelper)) return (object)output;
            if (fixtureTypes.Contains(p.ParameterType))
            {
                // One fixture object per fixture type for the whole run (xunit: per class); the GPU tests use none today.
                if (!fixtures.TryGetValue(p.ParameterType, out var fixture))
                    fixtures[p.ParameterType] = fixture = Activator.CreateInstance(p.ParameterType)!;
                return fixture;
            }
            throw new InvalidOperationException($"{type.FullName}: cannot supply constructor parameter {p.ParameterType.Name} {p.Name}");
        }).ToArray();
        try { return ctor.Invoke(arguments); }
        catch (TargetInvocationException e) when (e.InnerException is not null) { throw Rethrow(e.InnerException); }
    }

    /// <summary>Theory data to the parameter types, as far as xunit's own conversions go for InlineData (numbers, enums, optional parameters).</summary>
    private static object?[] ConvertArguments(MethodInfo method, object?[] row)
    {
        var parameters = method.GetParameters();
        if (row.Length > parameters.Length)
            throw new InvalidOperationException($"{row.Length} data values for {parameters.Length} parameters");
        var result = new object?[parameters.Length];
        for (int i = 0; i < parameters.Length; i++)
        {
            if (i >= row.Length)
            {
                result[i] = parameters[i].HasDefaultValue ? parameters[i].DefaultValue
                    : throw new InvalidOperationException($"no data value for parameter '{parameters[i].Name}'");
                continue;
            }
            object? value = row[i];
            Type target = Nullable.GetUnderlyingType(parameters[i].ParameterType) ?? parameters[i].ParameterType;
            if (value is null || target.IsInstanceOfType(value)) result[i] = value;
            else if (target.IsEnum) result[i] = Enum.ToObject(target, value);
            else if (value is IConvertible && typeof(IConvertible).IsAssignableFrom(target)) result[i] = Convert.ChangeType(value, target, CultureInfo.InvariantCulture);
            else result[i] = value; // let Invoke report the mismatch
        }
        return result;
    }

    private static string Format(object?[] row) => string.Join(", ", row.Select(FormatValue));

    private static string FormatValue(object? v) => v switch
    {
        null => "null",
        string s => $"\"{s}\"",
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable e => "[" + string.Join(", ", e.Cast<object?>().Select(FormatValue)) + "]",
        _ => v.ToString() ?? "",
    };

    /// <summary>ITestOutputHelper that prints at once, indented under the test's line-to-be.</summary>
    private sealed class ConsoleOutput : ITestOutputHelper
    {
        public void WriteLine(string message) => Console.WriteLine("     | " + message);
        public void WriteLine(string format, params object[] args) => WriteLine(string.Format(CultureInfo.InvariantCulture, format, args));
    }
}
