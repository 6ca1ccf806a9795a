namespace ReClip.Runtime.Weights;

/// <summary>
/// A restricted pickle interpreter: the opcodes that build plain values and containers, plus GLOBAL,
/// REDUCE, NEWOBJ, BUILD and BINPERSID handed to an <see cref="IPickleResolver"/> that knows a short
/// allow-list. It has no way to import a module or call code: a global is whatever the resolver returns
/// for its name, and REDUCE can only apply what the resolver itself implements. Any other opcode is
/// refused with its name and byte offset. Stack, memo and MARK nesting are bounded so a crafted pickle
/// cannot exhaust memory.
/// </summary>
internal sealed class PickleMachine
{
    /// <summary>Each opcode pushes at most one value; a million open values is far beyond any checkpoint's pickle.</summary>
    public const int MaxStackDepth = 1 << 20;

    public const int MaxMemoEntries = 1 << 20;

    /// <summary>MARKs nest as deep as containers do; a model's module tree is a few dozen levels at most.</summary>
    public const int MaxMarkDepth = 256;

    /// <summary>The newest protocol whose framing we understand; its other opcodes are still refused one by one.</summary>
    private const int HighestProtocol = 5;

    private readonly IPickleResolver resolver;
    private readonly List<object?> stack = [];
    private readonly List<int> marks = [];
    private readonly Dictionary<long, object?> memo = [];

    private PickleMachine(IPickleResolver resolver) => this.resolver = resolver;

    /// <summary>Runs <paramref name="pickle"/> to its STOP and returns the value it built.</summary>
    /// <exception cref="WeightFileException">naming <paramref name="path"/>, the entry, the byte offset and the problem.</exception>
    public static object? Run(ReadOnlySpan<byte> pickle, IPickleResolver resolver, string path, string entryName)
    {
        var machine = new PickleMachine(resolver);
        var reader = new PickleReader(pickle);
        int opcodeOffset = 0;
        try
        {
            while (true)
            {
                opcodeOffset = reader.Position;
                if (reader.Remaining == 0)
                    throw new PickleRefusedException("the pickle ends without a STOP opcode");
                if (machine.Step((PickleOpcode)reader.ReadByte(), ref reader, out object? result))
                    return result;
            }
        }
        catch (PickleRefusedException e)
        {
            throw new WeightFileException(path, $"{entryName}, byte {opcodeOffset}: {e.Message}", inner: e);
        }
    }

    /// <summary>Executes one opcode; true with the result at STOP.</summary>
    private bool Step(PickleOpcode opcode, ref PickleReader reader, out object? result)
    {
        result = null;
        switch (opcode)
        {
            case PickleOpcode.Proto:
                int protocol = reader.ReadByte();
                if (protocol > HighestProtocol)
                    throw new PickleRefusedException($"pickle protocol {protocol} is newer than {HighestProtocol}");
                break;
            case PickleOpcode.Frame:
                if (reader.ReadUInt64() > (ulong)reader.Remaining)
                    throw new PickleRefusedException("a frame runs past the end of the pickle");
                break;
            case PickleOpcode.Stop:
                result = Pop();
                if (stack.Count != 0 || marks.Count != 0)
                    throw new PickleRefusedException($"STOP leaves {stack.Count} values and {marks.Count} marks behind");
                return true;

            case PickleOpcode.Mark:
                if (marks.Count >= MaxMarkDepth)
                    throw new PickleRefusedException($"MARKs nest deeper than {MaxMarkDepth}");
                marks.Add(stack.Count);
                break;
            case PickleOpcode.EmptyTuple: Push(Array.Empty<object?>()); break;
            case PickleOpcode.EmptyList: Push(new List<object?>()); break;
            case PickleOpcode.EmptyDict: Push(new PickleDict()); break;
            case PickleOpcode.Tuple: Push(PopToMark()); break;
            case PickleOpcode.Tuple1: Push(PopCount(1)); break;
            case PickleOpcode.Tuple2: Push(PopCount(2)); break;
            case PickleOpcode.Tuple3: Push(PopCount(3)); break;
            case PickleOpcode.Append:
                object? item = Pop();
                Peek<List<object?>>("APPEND").Add(item);
                break;
            case PickleOpcode.Appends:
                object?[] items = PopToMark();
                Peek<List<object?>>("APPENDS").AddRange(items);
                break;
            case PickleOpcode.SetItem:
                object? value = Pop();
                object? key = Pop();
                Peek<PickleDict>("SETITEM").Set(key, value);
                break;
            case PickleOpcode.SetItems:
                SetItems(PopToMark());
                break;

            case PickleOpcode.None: Push(null); break;
            case PickleOpcode.NewTrue: Push(true); break;
            case PickleOpcode.NewFalse: Push(false); break;
            case PickleOpcode.BinInt: Push((long)reader.ReadInt32()); break;
            case PickleOpcode.BinInt1: Push((long)reader.ReadByte()); break;
            case PickleOpcode.BinInt2: Push((long)reader.ReadUInt16()); break;
            case PickleOpcode.Long1: Push(reader.ReadSignedInteger(reader.ReadByte())); break;
            case PickleOpcode.BinFloat: Push(reader.ReadBigEndianDouble()); break;
            case PickleOpcode.ShortBinUnicode: Push(reader.ReadUtf8(reader.ReadByte())); break;
            case PickleOpcode.BinUnicode: Push(reader.ReadUtf8(reader.ReadUInt32())); break;
            case PickleOpcode.BinUnicode8: Push(reader.ReadUtf8(reader.ReadUInt64())); break;
            case PickleOpcode.ShortBinBytes: Push(reader.ReadBytes(reader.ReadByte()).ToArray()); break;
            case PickleOpcode.BinBytes: Push(reader.ReadBytes(reader.ReadUInt32()).ToArray()); break;
            case PickleOpcode.BinBytes8: Push(reader.ReadBytes(reader.ReadUInt64()).ToArray()); break;

            case PickleOpcode.BinPut: Remember(reader.ReadByte()); break;
            case PickleOpcode.LongBinPut: Remember(reader.ReadUInt32()); break;
            case PickleOpcode.Memoize: Remember(memo.Count); break;
            case PickleOpcode.BinGet: Push(Recall(reader.ReadByte())); break;
            case PickleOpcode.LongBinGet: Push(Recall(reader.ReadUInt32())); break;

            case PickleOpcode.Global:
                string module = reader.ReadGlobalName();
                Push(resolver.ResolveGlobal(module, reader.ReadGlobalName()));
                break;
            case PickleOpcode.StackGlobal:
                string name = PickleReader.RequireGlobalName(Pop() as string ?? throw new PickleRefusedException("STACK_GLOBAL needs a string name"));
                string owner = PickleReader.RequireGlobalName(Pop() as string ?? throw new PickleRefusedException("STACK_GLOBAL needs a string module"));
                Push(resolver.ResolveGlobal(owner, name));
                break;
            case PickleOpcode.Reduce:
                object?[] arguments = Pop() as object?[] ?? throw new PickleRefusedException("REDUCE needs a tuple of arguments");
                Push(resolver.Apply(Pop(), arguments));
                break;
            case PickleOpcode.NewObj:
                NewObject();
                break;
            case PickleOpcode.Build:
                Build(Pop(), Peek<object>("BUILD"));
                break;
            case PickleOpcode.BinPersId:
                Push(resolver.PersistentLoad(Pop()));
                break;

            default:
                string known = Enum.IsDefined(opcode) ? $"opcode {opcode}" : "unknown opcode";
                throw new PickleRefusedException($"{known} (0x{(byte)opcode:x2}) is not supported; only tensor rebuilding and plain containers are read");
        }
        return false;
    }

    private void SetItems(object?[] pairs)
    {
        if (pairs.Length % 2 != 0)
            throw new PickleRefusedException($"SETITEMS got {pairs.Length} values, not key-value pairs");
        PickleDict dict = Peek<PickleDict>("SETITEMS");
        for (int i = 0; i < pairs.Length; i += 2)
            dict.Set(pairs[i], pairs[i + 1]);
    }

    /// <summary>NEWOBJ makes an empty attribute bag, and only of a class the resolver allowed as one.</summary>
    private void NewObject()
    {
        object?[] arguments = Pop() as object?[] ?? throw new PickleRefusedException("NEWOBJ needs a tuple of arguments");
        object? type = Pop();
        if (type is not PickleClass pickleClass)
            throw new PickleRefusedException($"NEWOBJ cannot instantiate {Describe(type)}");
        if (arguments.Length != 0)
            throw new PickleRefusedException($"NEWOBJ of {pickleClass} has constructor arguments");
        Push(new PickleObject(pickleClass));
    }

    /// <summary>
    /// BUILD sets an attribute bag's attributes from a dict. On a dict it carries the instance state of an
    /// OrderedDict (a state dict's <c>_metadata</c>), which holds no tensors and is dropped.
    /// </summary>
    private static void Build(object? state, object target)
    {
        switch (target, state)
        {
            case (PickleObject bag, PickleDict attributes):
                foreach ((object? key, object? value) in attributes.Items)
                    bag.Attributes.Set(key as string ?? throw new PickleRefusedException($"BUILD of {bag.Type} has a non-string attribute name"), value);
                break;
            case (PickleDict, PickleDict):
                break;
            default:
                throw new PickleRefusedException($"BUILD cannot set {Describe(state)} on {Describe(target)}");
        }
    }

    private void Push(object? value)
    {
        if (stack.Count >= MaxStackDepth)
            throw new PickleRefusedException($"the stack grows beyond {MaxStackDepth} values");
        stack.Add(value);
    }

    private object? Pop()
    {
        int floor = marks.Count == 0 ? 0 : marks[^1];
        if (stack.Count <= floor)
            throw new PickleRefusedException("an opcode pops an empty stack");
        object? value = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return value;
    }

    private T Peek<T>(string opcode) where T : class
    {
        int floor = marks.Count == 0 ? 0 : marks[^1];
        if (stack.Count <= floor)
            throw new PickleRefusedException($"{opcode} finds an empty stack");
        return stack[^1] as T ?? throw new PickleRefusedException($"{opcode} cannot apply to {Describe(stack[^1])}");
    }

    private object?[] PopCount(int count)
    {
        object?[] values = new object?[count];
        for (int i = count - 1; i >= 0; i--)
            values[i] = Pop();
        return values;
    }

    private object?[] PopToMark()
    {
        if (marks.Count == 0)
            throw new PickleRefusedException("an opcode needs a MARK and there is none");
        int start = marks[^1];
        marks.RemoveAt(marks.Count - 1);
        object?[] values = stack.GetRange(start, stack.Count - start).ToArray();
        stack.RemoveRange(start, stack.Count - start);
        return values;
    }

    private void Remember(long index)
    {
        if (!memo.ContainsKey(index) && memo.Count >= MaxMemoEntries)
            throw new PickleRefusedException($"the memo grows beyond {MaxMemoEntries} entries");
        int floor = marks.Count == 0 ? 0 : marks[^1];
        if (stack.Count <= floor)
            throw new PickleRefusedException("a memo store finds an empty stack");
        memo[index] = stack[^1];
    }

    private object? Recall(long index) =>
        memo.TryGetValue(index, out object? value) ? value : throw new PickleRefusedException($"memo entry {index} was never stored");

    /// <summary>A value in Python's terms, for messages.</summary>
    public static string Describe(object? value) => value switch
    {
        null => "None",
        bool => "a bool",
        long => "an int",
        double => "a float",
        string => "a str",
        byte[] => "bytes",
        object?[] => "a tuple",
        List<object?> => "a list",
        PickleDict => "a dict",
        PickleObject bag => $"an instance of {bag.Type}",
        PickleClass type => $"class {type}",
        _ => value.ToString() ?? value.GetType().Name,
    };
}
