using System.Buffers.Binary;
using System.Text;

namespace ReClip.Tests.Runtime;

/// <summary>Writes pickle bytes opcode by opcode, so tests can build exactly the stream they mean to feed the interpreter.</summary>
internal sealed class PickleAssembler
{
    private readonly List<byte> bytes = [];

    public PickleAssembler Op(byte opcode)
    {
        bytes.Add(opcode);
        return this;
    }

    public PickleAssembler Proto(byte protocol = 2) => Op(0x80).Op(protocol);

    public PickleAssembler Mark() => Op((byte)'(');

    public PickleAssembler Stop() => Op((byte)'.');

    public PickleAssembler EmptyDict() => Op((byte)'}');

    public PickleAssembler EmptyTuple() => Op((byte)')');

    public PickleAssembler Tuple() => Op((byte)'t');

    public PickleAssembler SetItems() => Op((byte)'u');

    public PickleAssembler Reduce() => Op((byte)'R');

    public PickleAssembler False() => Op(0x89);

    public PickleAssembler Global(string module, string name) => Op((byte)'c').Raw(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));

    /// <summary>BININT1, BININT2, BININT or LONG1, whichever CPython's pickler would choose.</summary>
    public PickleAssembler Int(long value)
    {
        if (value is >= 0 and <= byte.MaxValue)
            return Op((byte)'K').Raw([(byte)value]);
        if (value is >= 0 and <= ushort.MaxValue)
            return Op((byte)'M').Raw(LittleEndian(value, 2));
        if (value is >= int.MinValue and <= int.MaxValue)
            return Op((byte)'J').Raw(LittleEndian(value, 4));
        return Op(0x8a).Op(8).Raw(LittleEndian(value, 8));
    }

    public PickleAssembler String(string value)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(value);
        return Op((byte)'X').Raw(LittleEndian(utf8.Length, 4)).Raw(utf8);
    }

    public PickleAssembler Raw(params byte[] data)
    {
        bytes.AddRange(data);
        return this;
    }

    /// <summary>
    /// <c>_rebuild_tensor_v2(('storage', torch.FloatStorage, key, 'cpu', numel), offset, size, stride, False, OrderedDict())</c>,
    /// as torch.save writes it.
    /// </summary>
    public PickleAssembler FloatTensor(string key, long numel, long offset, long[] size, long[] stride, string storageClass = "FloatStorage")
    {
        Global("torch._utils", "_rebuild_tensor_v2").Mark();
        Mark().String("storage").Global("torch", storageClass).String(key).String("cpu").Int(numel).Tuple().Op((byte)'Q');
        Int(offset).Mark();
        foreach (long dim in size) Int(dim);
        Tuple().Mark();
        foreach (long step in stride) Int(step);
        return Tuple().False().Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple().Reduce();
    }

    public byte[] ToArray() => [.. bytes];

    private static byte[] LittleEndian(long value, int width)
    {
        byte[] buffer = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(buffer, value);
        return buffer[..width];
    }
}
