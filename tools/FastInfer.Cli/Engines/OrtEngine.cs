#if FASTINFER_ORT
using FastInfer.Formats.Npy;
using FastInfer.Ir;
using FastInfer.Runtime;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OrtSession = Microsoft.ML.OnnxRuntime.InferenceSession;
using OrtOptions = Microsoft.ML.OnnxRuntime.SessionOptions;
using Tensor = FastInfer.Runtime.Tensor;

namespace FastInfer.Cli.Engines;

/// <summary>
/// ONNX Runtime, the independent implementation <c>check</c> and <c>bench --compare ort</c> measure against. Kept in this
/// one file (and compiled only with FASTINFER_ORT) so a build without ONNX Runtime, e.g. the NativeAOT binary, drops it.
/// </summary>
public sealed unsafe class OrtEngine : IDisposable
{
    private readonly OrtSession _session;
    private readonly OrtOptions _options;

    public static bool IsAvailable => true;

    private OrtEngine(OrtSession session, OrtOptions options) { _session = session; _options = options; }

    public static OrtEngine Create(string modelPath, int threads) => Create(o => new OrtSession(modelPath, o), threads);

    public static OrtEngine Create(byte[] model, int threads) => Create(o => new OrtSession(model, o), threads);

    private static OrtEngine Create(Func<OrtOptions, OrtSession> open, int threads)
    {
        var options = new OrtOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        try { return new OrtEngine(open(options), options); }
        catch (OnnxRuntimeException e)
        {
            options.Dispose();
            throw new CliException("ONNX Runtime could not load the model: " + e.Message);
        }
    }

    public IReadOnlyList<string> OutputNames => _session.OutputNames;

    /// <summary>The inputs as ONNX Runtime declares them (so a cold ORT run needs nothing of FastInfer's reader).</summary>
    public List<ValueInfo> Inputs => _session.InputMetadata.Select(kv => new ValueInfo(kv.Key, (DataType)(int)kv.Value.ElementDataType,
        kv.Value.Dimensions.Select((d, i) => d >= 0 ? Dimension.Fixed(d) : Dimension.Symbolic(kv.Value.SymbolicDimensions[i])).ToArray())).ToList();

    /// <summary>Runs once on host arrays and returns every output as a host array.</summary>
    public List<(string Name, NpyArray Array)> Run(IReadOnlyList<(string Name, NpyArray Array)> inputs)
    {
        var values = new List<OrtValue>();
        var handles = new List<System.Runtime.InteropServices.GCHandle>();
        try
        {
            foreach (var (_, array) in inputs)
            {
                var h = System.Runtime.InteropServices.GCHandle.Alloc(array.Data, System.Runtime.InteropServices.GCHandleType.Pinned);
                handles.Add(h);
                values.Add(OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, (TensorElementType)(int)array.ElementType,
                    array.Shape, h.AddrOfPinnedObject(), array.Data.LongLength));
            }
            using var runOptions = new RunOptions();
            using var results = _session.Run(runOptions, inputs.Select(i => i.Name).ToArray(), values, _session.OutputNames);
            var outputs = new List<(string, NpyArray)>();
            for (int i = 0; i < results.Count; i++)
            {
                var info = results[i].GetTensorTypeAndShape();
                var type = (DataType)(int)info.ElementDataType;
                var bytes = results[i].GetTensorDataAsSpan<byte>().ToArray();
                outputs.Add((_session.OutputNames[i], new NpyArray(type, info.Shape, bytes)));
            }
            return outputs;
        }
        catch (OnnxRuntimeException e) { throw new CliException("ONNX Runtime failed to run the model: " + e.Message); }
        finally
        {
            foreach (var v in values) v.Dispose();
            foreach (var h in handles) h.Free();
        }
    }

    /// <summary>
    /// Binds inputs (over the given tensors' memory, no copy) and preallocated outputs once, so that each
    /// <see cref="PreparedRun.Run"/> measures ONNX Runtime's own work, as FastInfer's Run over caller tensors does.
    /// </summary>
    public PreparedRun Prepare(IReadOnlyList<NamedTensor> inputs, IReadOnlyList<NamedTensor> outputs) => new(this, inputs, outputs);

    public sealed class PreparedRun : IDisposable
    {
        private readonly OrtEngine _engine;
        private readonly string[] _inputNames, _outputNames;
        private readonly OrtValue[] _inputs, _outputs;
        private readonly RunOptions _runOptions = new();

        internal PreparedRun(OrtEngine engine, IReadOnlyList<NamedTensor> inputs, IReadOnlyList<NamedTensor> outputs)
        {
            _engine = engine;
            _inputNames = inputs.Select(i => i.Name).ToArray();
            _outputNames = outputs.Select(o => o.Name).ToArray();
            _inputs = inputs.Select(i => Wrap(i.Tensor)).ToArray();
            _outputs = outputs.Select(o => Wrap(o.Tensor)).ToArray();
        }

        private static OrtValue Wrap(Tensor t) => OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance,
            (TensorElementType)(int)t.ElementType, t.Shape.ToLongArray(), t.Pointer, t.ByteLength);

        public void Run() => _engine._session.Run(_runOptions, _inputNames, _inputs, _outputNames, _outputs);

        public void Dispose()
        {
            foreach (var v in _inputs) v.Dispose();
            foreach (var v in _outputs) v.Dispose();
            _runOptions.Dispose();
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        _options.Dispose();
    }
}
#else
using FastInfer.Formats.Npy;
using FastInfer.Runtime;

namespace FastInfer.Cli.Engines;

/// <summary>Stand-in for builds without ONNX Runtime (e.g. NativeAOT): every use explains that it is not included.</summary>
public sealed class OrtEngine : IDisposable
{
    public static bool IsAvailable => false;
    private static CliException Missing() => new("ONNX Runtime is not part of this build of fastinfer (built with FastInferOrt=false)");
    public static OrtEngine Create(string modelPath, int threads) => throw Missing();
    public static OrtEngine Create(byte[] model, int threads) => throw Missing();
    public IReadOnlyList<string> OutputNames => throw Missing();
    public List<FastInfer.Ir.ValueInfo> Inputs => throw Missing();
    public List<(string Name, NpyArray Array)> Run(IReadOnlyList<(string Name, NpyArray Array)> inputs) => throw Missing();
    public PreparedRun Prepare(IReadOnlyList<NamedTensor> inputs, IReadOnlyList<NamedTensor> outputs) => throw Missing();
    public sealed class PreparedRun : IDisposable
    {
        public void Run() => throw Missing();
        public void Dispose() { }
    }
    public void Dispose() { }
}
#endif
