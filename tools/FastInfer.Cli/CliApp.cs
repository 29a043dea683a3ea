using System.CommandLine;
using FastInfer.Cli.Commands;

namespace FastInfer.Cli;

/// <summary>
/// The <c>fastinfer</c> command line. <see cref="Run"/> is the whole program; tests call it in-process with their own
/// writers. Exit codes: 0 success, 1 <c>check</c> found a mismatch, 2 an unreadable model/input, an unsupported
/// operator, or a usage error (see <see cref="ExitCodes"/>).
/// </summary>
public static class CliApp
{
    public static int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var ctx = new CliContext(stdout, stderr);
        var verbose = new Option<bool>("--verbose") { Description = "Print stack traces with errors", Recursive = true };
        var root = new RootCommand("FastInfer: run ONNX and Keras models on the CPU from .NET, check them against ONNX Runtime, and measure them.");
        root.Options.Add(verbose);
        root.Subcommands.Add(RunCommand.Create(ctx));
        root.Subcommands.Add(CheckCommand.Create(ctx));
        root.Subcommands.Add(InspectCommand.Create(ctx));
        root.Subcommands.Add(BenchCommand.Create(ctx));
        root.Subcommands.Add(SysinfoCommand.Create(ctx));
        root.Subcommands.Add(ConvertCommand.Create(ctx));
        root.Subcommands.Add(ColdRunCommand.Create(ctx));

        ParseResult parse;
        try { parse = root.Parse(args); }
        catch (Exception e)
        {
            ctx.Err.WriteLine("fastinfer: error: " + CommandGuard.OneLine(e.Message));
            return ExitCodes.Error;
        }
        ctx.Verbose = parse.GetValue(verbose);
        if (parse.Errors.Count > 0)
        {
            // Usage errors share exit code 2 with unreadable inputs so that `check`'s 1 always means "outputs differ".
            ctx.Err.WriteLine("fastinfer: error: " + CommandGuard.OneLine(string.Join("; ", parse.Errors.Select(e => e.Message))) +
                " (see fastinfer --help)");
            return ExitCodes.Error;
        }
        var config = new InvocationConfiguration { Output = ctx.Out, Error = ctx.Err, EnableDefaultExceptionHandler = false };
        return CommandGuard.Run(ctx, () => parse.Invoke(config));
    }
}
