using ReClip.Kernels.Checks;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

/// <summary>Runs every op of the catalog on every backend against its plain reference (ggml's test-backend-ops, for us).</summary>
[TestFixture]
public sealed class OpCatalogTests
{
    private const int Seed = 1234;

    private static IEnumerable<TestCaseData> Cases() =>
        OpCatalog.All.SelectMany(check => check.Cases.Select(testCase =>
            new TestCaseData(check, testCase).SetArgDisplayNames(check.Op.Name, testCase)));

    [Test]
    public void EveryOpHasACheck()
    {
        Type[] ops = typeof(OpCatalog).Assembly.GetTypes()
            .Where(type => type.Namespace == "ReClip.Kernels.Ops" && type.IsPublic && type.IsAbstract && type.IsSealed)
            .ToArray();
        Assert.That(ops, Is.Not.Empty);
        Assert.That(ops, Is.SubsetOf(OpCatalog.All.Select(check => check.Op)), "an op without an entry in OpCatalog.All");
    }

    [TestCaseSource(nameof(Cases))]
    public void CpuMatchesTheReference(IOpCheck check, string testCase) => AssertAll(check.Run(testCase, Device.Cpu, Seed));

    [TestCaseSource(nameof(Cases))]
    public void CudaMatchesTheReference(IOpCheck check, string testCase)
    {
        Requires.CudaDevice();
        IReadOnlyList<OpCheckResult> results;
        try
        {
            results = check.Run(testCase, Device.Cuda(0), Seed);
        }
        catch (NoKernelException e)
        {
            Assert.Ignore($"{check.Op.Name} has no CUDA kernel yet: {e.Message}");
            return;
        }
        AssertAll(results);
    }

    private static void AssertAll(IReadOnlyList<OpCheckResult> results)
    {
        Assert.That(results, Is.Not.Empty);
        Assert.Multiple(() =>
        {
            foreach (OpCheckResult result in results)
                Assert.That(result.Passed, Is.True,
                    $"{result.Op} {result.Case} {result.Output}: max abs {result.Agreement.MaxAbsoluteError:E2}, max rel {result.Agreement.MaxRelativeError:E2}, worst at {result.Agreement.WorstIndex} is {result.Agreement.WorstRatio:F2}× the tolerance");
        });
    }
}
