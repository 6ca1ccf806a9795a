using BenchmarkDotNet.Running;
using ReClip.Bench;

// `serve` speaks the line protocol of bench/compare.py, `onnx-models` writes the ONNX exports when missing;
// anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "serve")
    return CompareServer.Serve(Console.In, Console.Out);
if (args.Length > 0 && args[0] == "onnx-models")
{
    OnnxModels.Ensure();
    return 0;
}
BenchmarkSwitcher.FromAssembly(typeof(CompareServer).Assembly).Run(args);
return 0;
