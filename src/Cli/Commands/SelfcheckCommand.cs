using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ReClip.Kernels.Checks;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Cli.Commands;

/// <summary>
/// `reclip selfcheck`: runs every op of the catalog on a device against the plain CPU reference and
/// prints op | case | output | max abs err | max rel err | ms. On the CPU it checks the fast paths; on
/// CUDA it checks every kernel. Exit code 2 when any output is outside its tolerance.
/// </summary>
public static class SelfcheckCommand
{
    private const int Seed = 20_241_126;

    public static Command Create()
    {
        Option<bool> json = JsonOption.Create();
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        device.Validators.Add(result =>
        {
            if (result.Tokens is not [{ } token])
                return;
            try
            {
                Device.Parse(token.Value);
            }
            catch (FormatException e)
            {
                result.AddError(e.Message);
            }
        });
        var op = new Option<string?>("--op") { Description = "Check only the op of this name (e.g. LayerNorm)." };
        var command = new Command("selfcheck", "Check every op on a device against its plain CPU reference.") { device, op, json };
        command.SetAction(parse =>
        {
            Device target = Device.Parse(parse.GetValue(device)!);
            string? only = parse.GetValue(op);
            IOpCheck[] checks = [.. OpCatalog.All.Where(c => only is null || string.Equals(c.Op.Name, only, StringComparison.OrdinalIgnoreCase))];
            if (checks.Length == 0)
                throw new ArgumentException($"no op named '{only}'; known: {string.Join(", ", OpCatalog.All.Select(c => c.Op.Name))}");
            var results = new List<OpCheckResult>();
            var missing = new List<string>();
            var errors = new List<string>();
            foreach (IOpCheck check in checks)
            {
                string[] without = [.. check.Cases.Where(testCase => !RunCase(check, testCase, target, results, errors))];
                // An op with no kernel on the device is named once; a form of it without one (bfloat16 attention on a
                // card without bfloat16 tensor cores), by its case.
                if (without.Length == check.Cases.Count)
                    missing.Add(check.Op.Name);
                else
                    missing.AddRange(without.Select(testCase => $"{check.Op.Name} {testCase}"));
            }
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new SelfcheckReport(target.ToString(), results.ConvertAll(SelfcheckReport.Row.From), missing, errors), CliJson.Output.SelfcheckReport));
            else
                Render(target, results, missing, errors);
            return results.TrueForAll(r => r.Passed) && errors.Count == 0 ? ExitCode.Success : ExitCode.RuntimeFailure;
        });
        return command;
    }

    /// <summary>
    /// One case; false when the device has no kernel for it. A case that throws is recorded as an error and the rest
    /// still run, so one broken kernel does not hide the state of the others. A missing kernel is not an error of the
    /// case; nor is a missing driver, which ends the command with its one-line error.
    /// </summary>
    private static bool RunCase(IOpCheck check, string testCase, Device target, List<OpCheckResult> results, List<string> errors)
    {
        try
        {
            results.AddRange(check.Run(testCase, target, Seed));
        }
        catch (NoKernelException)
        {
            return false;
        }
        catch (Exception e) when (e is not CudaUnavailableException)
        {
            errors.Add($"{check.Op.Name} {testCase}: {e.Message}");
        }
        return true;
    }

    private static void Render(Device device, List<OpCheckResult> results, List<string> missing, List<string> errors)
    {
        Terminal.Table($"selfcheck on {device}", ["op", "case", "output", "max abs err", "max rel err", "ms", "status"],
            results.Select(r => new[]
            {
                r.Op, r.Case, r.Output,
                r.Agreement.MaxAbsoluteError.ToString("E2", CultureInfo.InvariantCulture),
                r.Agreement.MaxRelativeError.ToString("E2", CultureInfo.InvariantCulture),
                r.Milliseconds.ToString("F2", CultureInfo.InvariantCulture),
                r.Passed ? "ok" : "FAIL",
            }));
        int failed = results.Count(r => !r.Passed);
        Console.WriteLine(failed == 0 ? $"{results.Count} outputs within tolerance" : $"{failed} of {results.Count} outputs outside tolerance");
        if (missing.Count > 0)
            Console.WriteLine($"no {device} kernel yet: {string.Join(", ", missing)}");
        foreach (string error in errors)
            Console.WriteLine($"error: {error}");
    }
}

/// <summary>The JSON of `reclip selfcheck`: every compared output, the ops that have no kernel on the device, and the cases that threw.</summary>
public sealed record SelfcheckReport(string Device, IReadOnlyList<SelfcheckReport.Row> Results, IReadOnlyList<string> WithoutKernel, IReadOnlyList<string> Errors)
{
    public sealed record Row(string Op, string Case, string Output, double MaxAbsError, double MaxRelError, double Milliseconds, bool Passed)
    {
        public static Row From(OpCheckResult r) =>
            new(r.Op, r.Case, r.Output, r.Agreement.MaxAbsoluteError, r.Agreement.MaxRelativeError, r.Milliseconds, r.Passed);
    }
}
