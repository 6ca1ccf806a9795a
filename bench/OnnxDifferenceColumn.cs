using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace ReClip.Bench;

/// <summary>"Max |Δ|": the largest absolute difference between our output and ONNX Runtime's for the row's size and batch.</summary>
public sealed class OnnxDifferenceColumn : IColumn
{
    public string Id => nameof(OnnxDifferenceColumn);

    public string ColumnName => "Max |Δ|";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Largest absolute difference between our MaskCLIP features and ONNX Runtime's";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        OnnxDifferences.Read(benchmarkCase).ToString("0.0e+0", CultureInfo.InvariantCulture);

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
