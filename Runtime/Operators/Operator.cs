using FastInfer.Ir;

namespace FastInfer.Runtime.Operators;

/// <summary>
/// What a planned step does during Run: reads and writes the pointers in <paramref name="args"/>.
/// Must not allocate. Created at plan time (closures are fine there), called on every Run.
/// </summary>
internal delegate void StepAction(in StepArgs args);

/// <summary>
/// One node of the graph, created once per session (where constant weights are packed). For each set of
/// concrete input shapes, <see cref="Plan"/> declares the outputs' types and shapes and returns the action
/// that computes them (XNNPACK's create → reshape/setup → run split).
/// </summary>
internal abstract class Operator
{
    protected Operator(Node node) { Node = node; }

    public Node Node { get; }

    /// <summary>Declares outputs via <see cref="PlanContext.SetOutput"/> and returns the step's action.</summary>
    public abstract StepAction Plan(PlanContext ctx);

    /// <summary>Releases packed weights and other native memory.</summary>
    public virtual void Dispose() { }
}

/// <summary>An operator with no per-session state: planning is one function.</summary>
internal sealed class FunctionOperator : Operator
{
    private readonly Func<PlanContext, StepAction> _plan;
    public FunctionOperator(Node node, Func<PlanContext, StepAction> plan) : base(node) { _plan = plan; }
    public override StepAction Plan(PlanContext ctx) => _plan(ctx);
}
