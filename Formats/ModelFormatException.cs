namespace FastInfer.Formats;

/// <summary>
/// A model file is malformed, truncated, hostile or uses something FastInfer cannot represent. The message
/// names the file and the place in it (node, tensor, field, byte offset) so the user can act on it.
/// </summary>
public class ModelFormatException : Exception
{
    /// <summary>The file, when known.</summary>
    public string? FilePath { get; }
    /// <summary>Where in the model: a node, tensor, layer or field path.</summary>
    public string? Location { get; }

    public ModelFormatException(string message, string? filePath = null, string? location = null, Exception? inner = null)
        : base(Compose(message, filePath, location), inner)
    {
        FilePath = filePath;
        Location = location;
    }

    private static string Compose(string message, string? filePath, string? location)
    {
        string where = (filePath, location) switch
        {
            (null, null) => "",
            (not null, null) => $"{Path.GetFileName(filePath)}: ",
            (null, not null) => $"{location}: ",
            _ => $"{Path.GetFileName(filePath)}, {location}: ",
        };
        return where + message;
    }
}
