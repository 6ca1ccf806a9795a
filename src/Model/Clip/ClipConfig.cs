namespace ReClip.Model.Clip;

/// <summary>
/// The sizes of a CLIP ViT model, read from its weights' shapes (ViT-B/16: vision 768 wide, 12 layers,
/// patch 16, 14×14 grid; text 512 wide, 12 layers, 77 positions, 49408 tokens; embedding 512).
/// Heads are width / 64, as OpenAI's code defines them for both towers.
/// </summary>
public sealed record ClipConfig(
    int VisionWidth, int VisionLayers, int PatchSize, int VisionGrid,
    int TextWidth, int TextLayers, int ContextLength, int VocabularySize,
    int EmbedDim)
{
    /// <summary>OpenAI CLIP's attention head width in both towers.</summary>
    public const int HeadWidth = 64;

    public int VisionHeads => VisionWidth / HeadWidth;

    public int TextHeads => TextWidth / HeadWidth;

    /// <summary>The training resolution: grid × patch (224 for ViT-B/16).</summary>
    public int ImageSize => VisionGrid * PatchSize;

    /// <summary>CLIP's start- and end-of-text tokens are the two last ids of the vocabulary (49406, 49407 for OpenAI's).</summary>
    public int StartToken => VocabularySize - 2;

    public int EndToken => VocabularySize - 1;
}
