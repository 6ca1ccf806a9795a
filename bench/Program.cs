using BenchmarkDotNet.Running;
using ReClip.Bench;

// `serve` speaks the line protocol of bench/compare.py; anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "serve")
    return CompareServer.Serve(Console.In, Console.Out);
BenchmarkSwitcher.FromAssembly(typeof(CompareServer).Assembly).Run(args);
return 0;
