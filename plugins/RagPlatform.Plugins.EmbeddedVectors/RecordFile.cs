using RagPlatform.Sdk.Storage;

namespace RagPlatform.Plugins.EmbeddedVectors;

/// <summary>
/// The embedded store's records inside the platform's <see cref="Journal"/> frames: an operation byte (upsert, delete,
/// end of snapshot) and its fields. Frames are built in place in a <see cref="RecordWriter"/> and sealed by the journal.
/// </summary>
internal static class RecordFile
{
    /// <summary>Version of the collection's spec file (<c>collection.json</c>).</summary>
    public const int SpecFormatVersion = 1;

    public const byte OpUpsert = 1;
    public const byte OpDelete = 2;
    public const byte OpEnd = 3;

    /// <summary>Starts a frame in <paramref name="writer"/>; pass the returned offset to <see cref="EndFrame"/>.</summary>
    public static int BeginFrame(RecordWriter writer) => writer.Reserve(Journal.FrameHeaderSize);

    public static void EndFrame(RecordWriter writer, int frameOffset) =>
        Journal.SealFrame(writer.WrittenSpan(frameOffset, writer.Length - frameOffset));
}
