using Spectre.Console;

namespace FastInfer.Cli;

/// <summary>Where a command writes: plain stdout/stderr writers (JSON, errors) and a Spectre console over stdout (tables, progress).</summary>
public sealed class CliContext
{
    public TextWriter Out { get; }
    public TextWriter Err { get; }
    public IAnsiConsole Console { get; }
    public bool Verbose { get; set; }
    /// <summary>Whether stdout is a terminal (progress bars are shown only then).</summary>
    public bool Interactive { get; }

    public CliContext(TextWriter? stdout = null, TextWriter? stderr = null)
    {
        bool redirected = stdout is not null;
        Out = stdout ?? System.Console.Out;
        Err = stderr ?? System.Console.Error;
        Interactive = !redirected && !System.Console.IsOutputRedirected;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Out),
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = Interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!Interactive) Console.Profile.Width = 160;
    }

    /// <summary>A note on stderr (so it never mixes into --json output on stdout).</summary>
    public void Note(string message) => Err.WriteLine(message);
}
