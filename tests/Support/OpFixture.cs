using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Tests.Support;

/// <summary>
/// A PyTorch reference dump written by tools/reference/ops.py: tensors named "&lt;case&gt;.&lt;what&gt;",
/// and metadata mapping each case to its sizes and parameters.
/// </summary>
public sealed class OpFixture : IDisposable
{
    private readonly SafetensorsFile file;

    public OpFixture(string op) =>
        file = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "fixtures", "ops", op + ".safetensors"));

    public IReadOnlyList<string> Cases => [.. file.Metadata.Keys.Order(StringComparer.Ordinal)];

    public string Describe(string testCase) => file.Metadata[testCase];

    public float[] Values(string testCase, string what)
    {
        using Tensor tensor = file.Load($"{testCase}.{what}");
        return tensor.ToFloatArray();
    }

    public int[] Shape(string testCase, string what) =>
        file.Entries.First(entry => entry.Name == $"{testCase}.{what}").Shape;

    public Tensor Load(string testCase, string what)
    {
        using Tensor mapped = file.Load($"{testCase}.{what}");
        return mapped.Clone();
    }

    public void Dispose() => file.Dispose();

    /// <summary>The case names of a fixture, for [TestCaseSource].</summary>
    public static IEnumerable<string> CasesOf(string op)
    {
        using var fixture = new OpFixture(op);
        return fixture.Cases;
    }
}
