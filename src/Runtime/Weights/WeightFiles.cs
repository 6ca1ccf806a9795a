namespace ReClip.Runtime.Weights;

/// <summary>Opens a weight file of any supported format, told apart by its first bytes rather than its name.</summary>
public static class WeightFiles
{
    public static IWeightFile Open(string path) => IsTorchCheckpoint(path) ? TorchCheckpoint.Open(path) : SafetensorsFile.Open(path);

    /// <summary>
    /// Whether the file's first bytes are a PyTorch checkpoint's (else it is read as safetensors); a folder, an empty file
    /// or an image is refused here, by what it is.
    /// </summary>
    public static bool IsTorchCheckpoint(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
            throw new WeightFileException(path, "is a folder, not a weight file");
        // Nine bytes: a safetensors header length, then the header's opening brace.
        Span<byte> head = stackalloc byte[9];
        int read;
        try
        {
            using FileStream stream = File.OpenRead(path);
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WeightFileException(path, $"cannot open: {e.Message}", inner: e);
        }
        // A safetensors file is an 8-byte header length and the header's '{'. Its length's bytes can be anything, so they
        // can look like any signature below (0x80 is the low byte of one in 32 of ours, whose headers are padded to 8
        // bytes); none of those formats has a '{' at byte 8, so that byte decides first.
        if (read == head.Length && head[8] == (byte)'{')
            return false;
        // PyTorch checkpoints are zip archives ("PK\x03\x04"); before PyTorch 1.6 they were a bare pickle
        // (protocol opcode 0x80), which TorchCheckpoint recognises and refuses with a way out.
        bool torch = read >= 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4
            || read >= 1 && head[0] == 0x80;
        // An image given for the weights: two arguments swapped.
        if (read >= 4 && head[0] == 0x89 && head[1] == (byte)'P' && head[2] == (byte)'N' && head[3] == (byte)'G')
            throw new WeightFileException(path, "is a PNG image, not a weight file");
        if (read >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF)
            throw new WeightFileException(path, "is a JPEG image, not a weight file");
        if (read == 0)
            throw new WeightFileException(path, "the file is empty");
        return torch;
    }
}
