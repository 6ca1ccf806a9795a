using System.Text.Json;
using ReClip.Runtime.IO;

namespace ReClip.Model.Sharding;

/// <summary>
/// One shard's partial result on disk, a compact JSON object: a format tag, the run's <see cref="ShardIdentity"/>,
/// the shard (index, count, first sample, images), the seconds it took, and the result of its kind. Written
/// atomically, so a shard killed mid-write leaves no file, and a file that exists is a finished shard.
/// </summary>
public sealed record ShardFile(string Path, ShardIdentity Identity, DatasetShard Shard, int First, double Seconds, ShardResult Result)
{
    /// <summary>The format tag; a file without it is refused rather than guessed at.</summary>
    public const string Format = "reclip-shard-1";

    /// <summary>Writes the result of <paramref name="shard"/> of the run <paramref name="identity"/>; its images must be the shard's block.</summary>
    public static void Write(string path, ShardIdentity identity, DatasetShard shard, double seconds, ShardResult result)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(result);
        if (result.Kind != identity.Kind)
            throw new ArgumentException($"a {result.Kind} result cannot be written under a {identity.Kind} identity", nameof(result));
        (int first, int images) = shard.Block(identity.Files);
        if (result.Images != images)
            throw new ArgumentException($"shard {shard} of {identity.Files} files holds {images} images, the result {result.Images}", nameof(result));
        AtomicFile.Write(path, stream =>
        {
            using var writer = new Utf8JsonWriter(stream);
            writer.WriteStartObject();
            writer.WriteString("format", Format);
            identity.WriteTo(writer);
            writer.WriteStartObject("shard");
            writer.WriteNumber("index", shard.Index);
            writer.WriteNumber("count", shard.Count);
            writer.WriteNumber("first", first);
            writer.WriteNumber("images", images);
            writer.WriteEndObject();
            writer.WriteNumber("seconds", seconds);
            writer.WriteStartObject("result");
            result.WriteTo(writer);
            writer.WriteEndObject();
            writer.WriteEndObject();
        });
    }

    /// <summary>Reads a shard file, checking its format, its shard block against its file count, and its result against its classes.</summary>
    public static ShardFile Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: shard file not found", path);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a shard file (not JSON: {JsonErrorText.Of(e)})", e);
        }
        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out JsonElement format) || format.ValueKind != JsonValueKind.String
                || format.GetString() != Format)
                throw new InvalidDataException($"{path}: not a shard file (no \"format\": \"{Format}\"; written by `reclip hypothesize/eval --shard`)");
            ShardIdentity identity = ShardIdentity.Parse(root, path);
            JsonElement block = ShardJson.Member(root, "shard", JsonValueKind.Object, path);
            int index = ShardJson.Int32(block, "index", path), count = ShardJson.Int32(block, "count", path);
            if (count < 1 || index >= count)
                throw new InvalidDataException($"{path}: shard {index}/{count} is not a shard index i/n with 0 ≤ i < n");
            var shard = new DatasetShard(index, count);
            int first = ShardJson.Int32(block, "first", path), images = ShardJson.Int32(block, "images", path);
            if (count > identity.Files || shard.Block(identity.Files) != (first, images))
                throw new InvalidDataException($"{path}: shard {shard} of {identity.Files} files says images {first}..{first + images - 1}, which is not that shard's block");
            ShardResult result = ShardResult.Parse(identity, ShardJson.Member(root, "result", JsonValueKind.Object, path), path);
            if (result.Images != images)
                throw new InvalidDataException($"{path}: shard {shard} should hold {images} images but its result holds {result.Images}");
            return new ShardFile(path, identity, shard, first, ShardJson.Double(root, "seconds", path), result);
        }
    }
}
