namespace ReClip.Model.Data.Datasets;

/// <summary>One image of a split: its id (as in the split list or the file name without extension) and its files.</summary>
public sealed record DatasetSample(string Id, string ImagePath, string? LabelPath);
