namespace FastInfer.Runtime;

public sealed partial class SessionOptions
{
    /// <summary>
    /// Check every floating-point input for NaN and ±Inf at each Run and throw <see cref="ArgumentException"/> naming the
    /// input and the first bad element. Off by default: NaN and Inf are then propagated through the model as IEEE
    /// arithmetic does (Run does not look at values), which costs nothing. The check reads each input once.
    /// </summary>
    public bool RejectNonFiniteInputs { get; set; }
}
