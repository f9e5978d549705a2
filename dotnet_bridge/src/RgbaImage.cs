using System;

namespace AssetGen.Bridge
{
    /// <summary>One sprite as raw pixels: RGBA8 (straight alpha), rows top to bottom.</summary>
    [Serializable]
    public sealed class RgbaImage
    {
        /// <summary>Width in pixels.</summary>
        public int Width { get; private set; }

        /// <summary>Height in pixels.</summary>
        public int Height { get; private set; }

        /// <summary>Width * Height * 4 bytes: R, G, B, A of each pixel, first row first.</summary>
        public byte[] Pixels { get; private set; }

        /// <summary>Wraps <paramref name="pixels"/> (not copied), which must hold exactly
        /// width * height * 4 bytes.</summary>
        public RgbaImage(int width, int height, byte[] pixels)
        {
            if (width <= 0 || height <= 0)
                throw new ArgumentOutOfRangeException("width", "an image needs at least one pixel");
            if (pixels == null || pixels.Length != (long)width * height * 4)
                throw new ArgumentException(string.Format(
                    "expected {0}x{1}x4 = {2} bytes of pixels, got {3}", width, height,
                    (long)width * height * 4, pixels == null ? 0 : pixels.Length), "pixels");
            Width = width;
            Height = height;
            Pixels = pixels;
        }

        /// <summary>The pixels with the last row first: the order Unity's
        /// <c>Texture2D.LoadRawTextureData</c> expects (its origin is the bottom-left).</summary>
        public byte[] RowsBottomToTop()
        {
            int stride = Width * 4;
            var flipped = new byte[Pixels.Length];
            for (int row = 0; row < Height; row++)
                Buffer.BlockCopy(Pixels, row * stride, flipped, (Height - 1 - row) * stride, stride);
            return flipped;
        }
    }
}
