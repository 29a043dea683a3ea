using FastInfer.Ir;

namespace FastInfer.Runtime.Optimization;

/// <summary>
/// MatMul by a constant 2-D weight followed by Add of a constant bias of one value per column becomes
/// <c>fastinfer:MatMulAdd</c>: the bias is added in the GEMM's epilogue instead of a second pass.
/// </summary>
internal static class MatMulAddFusion
{
    public static int Run(ModelGraph graph)
    {
        int fused = 0;
        var index = new GraphIndex(graph);
        foreach (var add in graph.Nodes.ToList())
        {
            if (add.OpType != "Add" || add.Domain is not ("" or "ai.onnx") || add.Inputs.Count != 2 || add.Outputs.Count < 1) continue;
            for (int side = 0; side < 2; side++)
            {
                var mm = index.Producer(add.Inputs[side]);
                var bias = index.Constant(add.Inputs[1 - side]);
                if (mm is null || mm.OpType != "MatMul" || mm.Domain is not ("" or "ai.onnx") || mm.Inputs.Count != 2 || !index.HasSingleReader(add.Inputs[side])) continue;
                var w = index.Constant(mm.Inputs[1]);
                if (w is null || bias is null || w.ElementType != DataType.Float || bias.ElementType != DataType.Float || w.Dims.Length != 2) continue;
                // Only a 1-D bias [N]: a higher-rank one could change the output rank.
                if (bias.Dims.Length != 1 || bias.Dims[0] != w.Dims[1]) continue;
                mm.OpType = "MatMulAdd";
                mm.Domain = "fastinfer";
                mm.Inputs.Add(add.Inputs[1 - side]);
                mm.Outputs[0] = add.Outputs[0];
                graph.Nodes.Remove(add);
                fused++;
                index = new GraphIndex(graph);
                break;
            }
        }
        return fused;
    }
}
