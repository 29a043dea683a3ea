using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace FastInfer.Tests.Conformance;

/// <summary>
/// A theory whose data rows may each carry their own skip reason: a row whose second value is a non-empty
/// string is reported as skipped with that string, so every case is counted and every skip is explained.
/// </summary>
[XunitTestCaseDiscoverer("FastInfer.Tests.Conformance.SkippableRowTheoryDiscoverer", "FastInfer.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class SkippableRowTheoryAttribute : TheoryAttribute;

/// <summary>Discovers <see cref="SkippableRowTheoryAttribute"/> rows; rows with a skip reason become skipped test cases.</summary>
public sealed class SkippableRowTheoryDiscoverer(IMessageSink diagnosticMessageSink) : TheoryDiscoverer(diagnosticMessageSink)
{
    protected override IEnumerable<IXunitTestCase> CreateTestCasesForDataRow(ITestFrameworkDiscoveryOptions discoveryOptions,
        ITestMethod testMethod, IAttributeInfo theoryAttribute, object[] dataRow)
    {
        if (dataRow.Length > 1 && dataRow[1] is string reason && reason.Length > 0)
            return CreateTestCasesForSkippedDataRow(discoveryOptions, testMethod, theoryAttribute, dataRow, reason);
        return base.CreateTestCasesForDataRow(discoveryOptions, testMethod, theoryAttribute, dataRow);
    }
}
