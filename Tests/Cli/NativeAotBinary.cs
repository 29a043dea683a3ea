using System.Diagnostics;
using System.Runtime.InteropServices;
using Xunit;

namespace FastInfer.Tests.Cli;

/// <summary>
/// The NativeAOT <c>fastinfer</c> binary under test, and a way to run it as on a machine with no .NET.
/// It comes from <c>FASTINFER_AOT_BIN</c> (the path <c>.ci/run</c> publishes to before <c>dotnet test</c>) or, with
/// <c>FASTINFER_AOT_TEST=1</c>, from a publish into a temporary folder done here (minutes). With neither, the tests skip,
/// so the README's plain <c>dotnet test</c> stays fast.
/// </summary>
public sealed class NativeAotBinary : IDisposable
{
    public const string BinaryVariable = "FASTINFER_AOT_BIN";
    public const string PublishVariable = "FASTINFER_AOT_TEST";

    public static string? SkipReason =>
        Environment.GetEnvironmentVariable(BinaryVariable) is { Length: > 0 } || Environment.GetEnvironmentVariable(PublishVariable) == "1"
            ? null
            : $"no NativeAOT binary asked for: set {BinaryVariable}=PATH (as .ci/run does) or {PublishVariable}=1 to publish one";

    private readonly Lazy<string> _exe;
    private readonly Lazy<string[]?> _hideDotnet;

    private CliHarness.TempDir Dir { get; } = new();

    public NativeAotBinary()
    {
        _exe = new Lazy<string>(Locate);
        _hideDotnet = new Lazy<string[]?>(ProbeHideDotnet);
    }

    /// <summary>Full path of the native executable.</summary>
    public string Exe => _exe.Value;

    /// <summary>True when every run also has the .NET install folder covered by an empty tmpfs (a private mount namespace).</summary>
    public bool DotnetFolderHidden => _hideDotnet.Value is not null;

    /// <summary>
    /// Runs the binary with an environment that has no DOTNET_* variables and a PATH holding only an empty folder, and, where
    /// the machine lets us (root, util-linux <c>unshare</c>), with the .NET install folder hidden: a binary that still
    /// needed the runtime, the host or the SDK would fail here.
    /// </summary>
    public (int Code, string Out, string Err) Run(params string[] args)
    {
        var prefix = _hideDotnet.Value ?? [];
        var all = prefix.Concat(new[] { Exe }).Concat(args).ToArray();
        return Exec(all, cleanEnvironment: true, timeoutSeconds: 600);
    }

    private string Locate()
    {
        string? given = Environment.GetEnvironmentVariable(BinaryVariable);
        if (given is { Length: > 0 })
        {
            string full = Path.GetFullPath(given);
            Assert.True(File.Exists(full), $"{BinaryVariable}={given}: no such file (did the NativeAOT publish in .ci/run fail? its log is TestResults/aot-publish.log)");
            return full;
        }
        string output = Dir.File("aot");
        var (code, stdout, stderr) = Exec(["dotnet", "publish", FindProject(), "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-o", output],
            cleanEnvironment: false, timeoutSeconds: 1800);
        Assert.True(code == 0, $"dotnet publish failed ({code}):\n{stdout}\n{stderr}");
        return Path.Combine(output, "fastinfer");
    }

    private static string FindProject()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string p = Path.Combine(d.FullName, "tools", "FastInfer.Cli", "FastInfer.Cli.csproj");
            if (File.Exists(p)) return p;
        }
        throw new InvalidOperationException("tools/FastInfer.Cli not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The folder .NET is installed in (the test host's own runtime is three levels below it), if found.</summary>
    public static string? DotnetRoot()
    {
        string runtimeDir = RuntimeEnvironment.GetRuntimeDirectory();
        string root = Path.GetFullPath(Path.Combine(runtimeDir, "..", "..", ".."));
        return File.Exists(Path.Combine(root, "dotnet")) ? root : null;
    }

    /// <summary>
    /// A command prefix that runs the rest in a private mount namespace with an empty tmpfs over the .NET folder, when that
    /// works here (it needs root); null otherwise, and the runs then rely on the clean environment alone.
    /// </summary>
    private string[]? ProbeHideDotnet()
    {
        string? root = DotnetRoot();
        string? mount = new[] { "/usr/bin/mount", "/bin/mount" }.FirstOrDefault(File.Exists);
        if (root is null || mount is null || !File.Exists("/usr/bin/unshare") || !File.Exists("/bin/sh")) return null;
        string[] prefix = ["/usr/bin/unshare", "-m", "/bin/sh", "-c", "\"$1\" -t tmpfs tmpfs \"$2\" && shift 2 && exec \"$@\"", "sh", mount, root];
        // The probe checks that the dotnet executable is really gone inside.
        string[] probe = [.. prefix, "/bin/sh", "-c", "[ ! -e \"$0\" ]", Path.Combine(root, "dotnet")];
        try { return Exec(probe, cleanEnvironment: true, timeoutSeconds: 30).Code == 0 ? prefix : null; }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }

    private (int Code, string Out, string Err) Exec(string[] command, bool cleanEnvironment, int timeoutSeconds)
    {
        var psi = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in command.Skip(1)) psi.ArgumentList.Add(a);
        if (cleanEnvironment)
        {
            string emptyBin = Dir.File("empty-path");
            Directory.CreateDirectory(emptyBin);
            psi.Environment.Clear();
            psi.Environment["PATH"] = emptyBin;
            psi.Environment["HOME"] = Dir.Path;
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
        {
            p.Kill(true);
            return (-1, stdout.Result, $"timed out after {timeoutSeconds} s: {string.Join(' ', command)}\n{stderr.Result}");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    public void Dispose() => Dir.Dispose();
}

/// <summary>A fact that runs only when a NativeAOT binary is asked for (see <see cref="NativeAotBinary"/>).</summary>
public sealed class AotFactAttribute : FactAttribute
{
    public AotFactAttribute() { if (NativeAotBinary.SkipReason is { } reason) Skip = reason; }

    /// <summary>Also skip when shared/keras-models is absent (as <c>KerasSharedFact</c> does).</summary>
    public bool NeedsKerasModels
    {
        get => false;
        set
        {
            if (value && Skip is null && FastInfer.Tests.Formats.Keras.KerasShared.Root is null)
                Skip = "shared/keras-models was not found above the test binaries; set FASTINFER_SHARED to the shared folder";
        }
    }
}

/// <summary>A theory that runs only when a NativeAOT binary is asked for (see <see cref="NativeAotBinary"/>).</summary>
public sealed class AotTheoryAttribute : TheoryAttribute
{
    public AotTheoryAttribute() { if (NativeAotBinary.SkipReason is { } reason) Skip = reason; }
}
