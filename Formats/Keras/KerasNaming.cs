using System.Text.RegularExpressions;

namespace FastInfer.Formats.Keras;

/// <summary>Keras' <c>utils/naming.to_snake_case</c>, used for Keras 3 weight group keys.</summary>
internal static partial class KerasNaming
{
    public static string ToSnakeCase(string name)
    {
        string s = NonWord().Replace(name, "");
        s = UpperWord().Replace(s, "$1_$2");
        s = LowerUpper().Replace(s, "$1_$2");
        return s.ToLowerInvariant();
    }

    [GeneratedRegex(@"\W")] private static partial Regex NonWord();
    [GeneratedRegex(@"(.)([A-Z][a-z]+)")] private static partial Regex UpperWord();
    [GeneratedRegex(@"([a-z])([A-Z])")] private static partial Regex LowerUpper();
}
