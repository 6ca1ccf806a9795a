using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ReClip.Runtime.Platform;
using ReClip.Runtime.Tensors;
using Spectre.Console;

namespace ReClip.Cli.Commands;

/// <summary>`reclip info`: the build, the CPU path in use, and which CUDA components this machine has.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        Option<bool> json = JsonOption.Create();
        var weights = new Option<string?>("--weights") { Description = "Also list the tensors of a weight file (safetensors or PyTorch checkpoint)." };
        var command = new Command("info", "Show the version, the CPU features in use and the CUDA driver, NVRTC, cuBLAS and GPUs found.") { json, weights };
        command.SetAction(parse =>
        {
            SystemReport report = SystemReport.Collect();
            WeightsReport? file = parse.GetValue(weights) is { } path ? WeightsReport.Read(path) : null;
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new InfoReport(report, file), CliJson.Output.InfoReport));
            else
                Render(report, file);
            return ExitCode.Success;
        });
        return command;
    }

    private static void Render(SystemReport report, WeightsReport? file)
    {
        Render(report);
        if (file is null) return;
        Console.WriteLine();
        Console.WriteLine($"{file.Path}: {file.Format}, {file.Tensors.Count} tensors, {file.Parameters:N0} parameters; checksums: {file.Checksum}");
        Terminal.KeyValueTable(file.Tensors.Select(t => (t.Name, $"{t.Dtype} {Shape.Format(t.Shape)}")));
    }

    private static void Render(SystemReport report)
    {
        var rows = new List<(string Key, string Value)>
        {
            ("reclip", report.ReclipVersion),
            ("runtime", report.Runtime),
            ("os", report.OperatingSystem),
            ("cpu", report.CpuModel),
            ("cores / threads", $"{report.LogicalCores} / {report.Threads}"),
            ("cpu kernels", $"{CpuInfo.KernelName(report.Simd)} ({string.Join(' ', report.CpuFeatures)})"),
            Component(report.Driver),
            Component(report.Nvrtc),
            Component(report.Cublas),
            Component(report.CublasLt),
        };
        for (int i = 0; i < report.Devices.Count; i++)
        {
            var device = report.Devices[i];
            string kernels = report.KernelTargets[i] is string target ? $", kernels {target}" : "";
            rows.Add(($"cuda:{device.Ordinal}", string.Create(CultureInfo.InvariantCulture,
                $"{device.Name}, compute {device.ComputeCapability}, {device.TotalMemoryBytes / (1024.0 * 1024 * 1024):F1} GiB, {device.Multiprocessors} SMs{kernels}")));
        }
        if (report.Driver.Found && report.Devices.Count == 0)
            rows.Add(("cuda devices", "none usable"));
        Terminal.KeyValueTable(rows);
    }

    private static (string, string) Component(ComponentStatus status) =>
        (status.Name, status switch
        {
            { Found: false } => $"unavailable: {status.Problem}",
            { Problem: not null } => $"{status.Path}: {status.Problem}",
            _ => $"{status.Version} ({status.Path})",
        });
}
