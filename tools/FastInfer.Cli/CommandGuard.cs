using FastInfer.Formats;
using FastInfer.Runtime;

namespace FastInfer.Cli;

/// <summary>
/// Runs a command body and turns every failure into one line on stderr and exit code 2, so a bad file never
/// crashes the process or prints a stack trace (unless <c>--verbose</c>).
/// </summary>
public static class CommandGuard
{
    public static int Run(CliContext ctx, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e)
        {
            ctx.Err.WriteLine("fastinfer: error: " + OneLine(Describe(e)));
            if (ctx.Verbose) ctx.Err.WriteLine(e.ToString());
            return ExitCodes.Error;
        }
    }

    /// <summary>The user-facing message of an exception: what went wrong and where, without the type name for expected kinds.</summary>
    public static string Describe(Exception e) => e switch
    {
        CliException or ModelFormatException or InvalidModelException or FileNotFoundException or DirectoryNotFoundException
            or UnauthorizedAccessException or FastInfer.Runtime.Backends.DeviceUnavailableException => e.Message,
        ArgumentException => e.Message,
        IOException => "I/O error: " + e.Message,
        OutOfMemoryException => "out of memory: " + e.Message,
        AggregateException { InnerExceptions.Count: 1 } a => Describe(a.InnerExceptions[0]),
        _ => $"internal error ({e.GetType().Name}): {e.Message}",
    };

    public static string OneLine(string s) => string.Join(" ", s.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries)).Trim();
}
