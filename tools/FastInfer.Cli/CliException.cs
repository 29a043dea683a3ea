namespace FastInfer.Cli;

/// <summary>A problem the user can fix (a bad option value, a missing input): printed as one line, exit code 2.</summary>
public sealed class CliException(string message) : Exception(message);

/// <summary>The exit codes every command shares.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary><c>check</c>: an output is outside the tolerance.</summary>
    public const int Mismatch = 1;
    /// <summary>The model or an input could not be read, uses unsupported operators, or the command line is wrong.</summary>
    public const int Error = 2;
}
