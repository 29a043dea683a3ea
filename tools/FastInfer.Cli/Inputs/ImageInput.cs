using FastInfer.Formats.Npy;
using FastInfer.Ir;

namespace FastInfer.Cli.Inputs;

/// <summary>
/// Turns an image into a model input: the layout (NCHW or NHWC) and size come from the input's declared shape,
/// e.g. [1,3,224,224] → NCHW 224×224 RGB, [1,28,28,1] → NHWC 28×28 gray. Pixels are 0..255 times the scale.
/// </summary>
public static class ImageInput
{
    public static NpyArray Load(string path, ValueInfo input, ImageOptions options) =>
        Build(ImageDecoder.Decode(path, options.Grayscale), input, options, path);

    public static NpyArray Build(DecodedImage image, ValueInfo input, ImageOptions options, string path)
    {
        if (input.ElementType is not (DataType.Float or DataType.Undefined))
            throw new CliException($"input '{input.Name}' is {input.ElementType.ToName()}; images can only feed float32 inputs");
        var dims = input.Shape;
        if (dims is null || dims.Count is not (3 or 4))
            throw new CliException($"input '{input.Name}' has shape {Dimension.Format(dims)}; an image needs a rank-4 (N,C,H,W / N,H,W,C) or rank-3 input");
        int offset = dims.Count - 3;
        long Dim(int i) => dims[offset + i].IsFixed ? dims[offset + i].Value : -1;
        bool channelsFirst = Dim(0) is 1 or 3 || (Dim(2) is not (1 or 3) && Dim(0) < 0);
        long channels = channelsFirst ? Dim(0) : Dim(2);
        long height = channelsFirst ? Dim(1) : Dim(0);
        long width = channelsFirst ? Dim(2) : Dim(1);
        if (channels < 0) channels = image.Channels;
        if (channels != image.Channels)
            throw new CliException($"input '{input.Name}' takes {channels} channel(s) but the image was decoded with {image.Channels}" +
                (channels == 1 ? " (add --grayscale)" : " (drop --grayscale)"));
        if (height < 0) height = image.Height;
        if (width < 0) width = image.Width;
        if (height * width > ImageDecoder.MaxPixels) throw new CliException($"input '{input.Name}': {width}×{height} is too large");

        float[] planar = ImageDecoder.ResizeToPlanar(image, (int)width, (int)height);
        int c = (int)channels, h = (int)height, w = (int)width;
        var values = new float[planar.Length];
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    float v = planar[(ch * h + y) * w + x] * options.Scale;
                    values[channelsFirst ? (ch * h + y) * w + x : (y * w + x) * c + ch] = v;
                }
        long[] shape = channelsFirst ? [c, h, w] : [h, w, c];
        if (offset == 1) shape = [1, .. shape];
        return NpyArray.Create<float>(values, shape);
    }
}
