namespace ReClip.Model.Data.Datasets;

/// <summary>The folder layouts of spec §1.1, plus the generic folder that <c>reclip synth</c> writes.</summary>
public enum DatasetLayout
{
    Voc,
    Context,
    Ade,
    Cityscapes,
    CocoStuff,
    Folder,
}
