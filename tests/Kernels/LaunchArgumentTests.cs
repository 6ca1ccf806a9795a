using System.Text.RegularExpressions;
using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

/// <summary>
/// Every kernel launch whose source spells its kernel and arguments passes as many arguments, of the sizes its kernel's
/// parameters have, as NVRTC's PTX declares them. On a GPU the driver checks every launch as it goes
/// (<see cref="KernelParameters"/>); this is the same check where no GPU is, so a launcher that drifts from its kernel
/// fails CI rather than a GPU run. The few launches whose kernel name the source does not spell are left to the GPU.
/// </summary>
[TestFixture]
public sealed partial class LaunchArgumentTests
{
    /// <summary>Launches the scanner must resolve, at least: fewer means it stopped reading the launchers, not that they are right.</summary>
    private const int MinimumChecked = 50;

    [Test]
    public void LaunchersPassTheirKernelsParameters()
    {
        Requires.Nvrtc();
        Dictionary<string, int[]> parameters = KernelParameterSizes();
        string sources = Path.GetDirectoryName(CheckoutFile.Find("src/Kernels/ReClip.Kernels.csproj"))!;
        LaunchSite[] sites = [.. Directory.GetFiles(sources, "*.cs", SearchOption.AllDirectories)
            .Where(file => !file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .SelectMany(file => LaunchSites.In(file, File.ReadAllText(file)))];
        var problems = new List<string>();
        int checkedLaunches = 0;
        foreach (LaunchSite site in sites.Where(s => s.Sizes is not null && s.Names.Count > 0))
        {
            checkedLaunches++;
            foreach (string name in site.Names)
            {
                if (!parameters.TryGetValue(name, out int[]? sizes))
                    problems.Add($"{site}: no kernel {name} in kernels/*.cu");
                else if (KernelParameters.Mismatch(name, sizes, [.. site.Sizes!]) is string mismatch)
                    problems.Add($"{site}: {mismatch}");
            }
        }
        TestContext.Out.WriteLine($"{checkedLaunches} of {sites.Length} launches checked");
        foreach (LaunchSite site in sites.Where(s => s.Sizes is null || s.Names.Count == 0))
            TestContext.Out.WriteLine($"not checked here, {site}: {site.Why}");
        Assert.That(problems, Is.Empty);
        Assert.That(checkedLaunches, Is.GreaterThanOrEqualTo(MinimumChecked), $"launches checked of {sites.Length} found");
    }

    [Test]
    public void TheScannerReadsChainsVariablesConditionalsAndHelpers()
    {
        // Members four spaces in, as in a file with a file-scoped namespace.
        const string source = """
            public static partial class Probe
            {
                private static void Scale()
                {
                    string kernel = Require("Scale", x) ? "scale_wide" : "scale";
                    KernelCache.Load(KernelSources.Get("scale"), device).Kernel(kernel).Launch(LaunchShape.Cover(n, 256), null, new KernelArguments()
                        .Pointer(DeviceTensors.Address(x)).Long(n)
                        .Float(Math.Max(a, b)).Int(rows > 0 ? 1 : 0));
                    CudaKernel second = module.Kernel(bfloat16 ? "copy_bf16" : "copy");
                    second.Launch(shape, null, Sizes(new KernelArguments().Pointer(p)));
                    graph.Launch(stream);
                    module.Kernel("tail").Launch(shape, null, x.Tail(new KernelArguments().Pointer(p)).Long(3));
                    KernelArguments listed = new KernelArguments().Float(1);
                    module.Kernel("listed").Launch(shape, null, listed);
                    Choose(name, variant => module.Kernel(variant).Launch(shape, null, listed));
                }

                private static void Elsewhere(string kernel)
                {
                    module.Kernel(kernel).Launch(shape, null, new KernelArguments().Int(1));
                }

                public KernelArguments Tail(KernelArguments arguments) => arguments
                    .Int(n).Float(s);
            }
            """;
        LaunchSite[] sites = [.. LaunchSites.In("probe.cs", source)];
        Assert.That(sites, Has.Length.EqualTo(6), "the graph's Launch is not a kernel's");
        Assert.That(sites[0].Names, Is.EqualTo(new[] { "scale_wide", "scale" }));
        Assert.That(sites[0].Sizes, Is.EqualTo(new[] { 8, 8, 4, 4 }));
        Assert.That(sites[0].Line, Is.EqualTo(6));
        Assert.That(sites[1].Names, Is.EqualTo(new[] { "copy_bf16", "copy" }));
        Assert.That(sites[1].Sizes, Is.Null);
        Assert.That(sites[1].Why, Does.Contain("helper"), "Sizes is not a helper of this source");
        Assert.That(sites[2].Sizes, Is.EqualTo(new[] { 8, 4, 4, 8 }), "a helper's arguments come after those it is given");
        Assert.That(sites[3].Sizes, Is.EqualTo(new[] { 4 }), "a list built into a variable first");
        Assert.That(sites[4].Names, Is.Empty, "a lambda's argument names no kernel the source spells");
        Assert.That(sites[5].Names, Is.Empty, "a parameter is not the other method's variable of that name");
    }

    [Test]
    public void PtxParametersHaveTheirTypesSizes()
    {
        const string ptx = """
            .visible .entry softmax_forward(
            	.param .u64 .ptr .global .align 1 softmax_forward_param_0,
            	.param .u64 softmax_forward_param_1,
            	.param .u32 softmax_forward_param_2,
            	.param .f32 softmax_forward_param_3,
            	.param .align 8 .b8 softmax_forward_param_4[16]
            )
            .visible .entry empty()
            """;
        Dictionary<string, int[]> entries = Entries(ptx);
        Assert.That(entries["softmax_forward"], Is.EqualTo(new[] { 8, 8, 4, 4, 16 }));
        Assert.That(entries["empty"], Is.Empty);
    }

    /// <summary>The parameter sizes of every kernel of every embedded source, from its PTX for compute_80.</summary>
    private static Dictionary<string, int[]> KernelParameterSizes()
    {
        var result = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (KernelSource source in KernelSources.All)
        {
            CompiledProgram program = Nvrtc.Compile(source.Code, source.Name + ".cu", [.. KernelCache.Options(new KernelTarget(80, MachineCode: false))],
                source.NameExpressions, source.Headers);
            foreach ((string name, int[] sizes) in Entries(program.Ptx))
                if (!result.TryAdd(name, sizes))
                    Assert.Fail($"kernel {name} is in two sources: a launch could not say which it means");
        }
        return result;
    }

    private static Dictionary<string, int[]> Entries(string ptx) =>
        EntryPattern().Matches(ptx).ToDictionary(m => m.Groups[1].Value,
            m => m.Groups[2].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParameterSize).ToArray(),
            StringComparer.Ordinal);

    /// <summary>A PTX parameter's bytes: its type's width, times its element count for an array (a struct passed by value).</summary>
    private static int ParameterSize(string declaration)
    {
        Match type = TypePattern().Match(declaration);
        if (!type.Success)
            throw new FormatException($"a PTX parameter without a type: {declaration}");
        int bytes = int.Parse(type.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) / 8;
        Match count = CountPattern().Match(declaration);
        return count.Success ? bytes * int.Parse(count.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : bytes;
    }

    [GeneratedRegex(@"\.entry\s+(\w+)\s*\(([^)]*)\)")]
    private static partial Regex EntryPattern();

    [GeneratedRegex(@"\.[usbf](8|16|32|64)\b")]
    private static partial Regex TypePattern();

    [GeneratedRegex(@"\[(\d+)\]")]
    private static partial Regex CountPattern();
}
