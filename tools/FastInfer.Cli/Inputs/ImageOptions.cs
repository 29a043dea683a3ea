namespace FastInfer.Cli.Inputs;

/// <summary>How an image file becomes a tensor: pixel values (0..255) × <see cref="Scale"/>, RGB or one gray channel.</summary>
public sealed record ImageOptions(float Scale = 1f, bool Grayscale = false);
