using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.EmbeddedVectors;

/// <summary>Settings of the embedded backend (configuration section of the "embedded" vector store).</summary>
public sealed class EmbeddedVectorOptions : IValidatableObject
{
    /// <summary>The checks of <see cref="Validate()"/>, for the generated <see cref="EmbeddedVectorOptionsValidator"/>.</summary>
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) =>
        SettingsValidation.AsValidationResults(Validate(), validationContext);

    /// <summary>Default for <see cref="CompactAfterLogBytes"/>: 256 MiB.</summary>
    public const long DefaultCompactAfterLogBytes = 256L * 1024 * 1024;

    /// <summary>Default for <see cref="ParallelSearchThreshold"/>.</summary>
    public const int DefaultParallelSearchThreshold = 16_384;

    /// <summary>
    /// Root folder of the collections. Empty means the plugin's data directory; a relative path is resolved
    /// against it.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>
    /// False: each write batch is handed to the OS before the call returns (survives a process crash).
    /// True: it is also fsynced (survives a power loss), at the cost of one disk flush per batch.
    /// </summary>
    public bool FlushToDisk { get; set; }

    /// <summary>A collection is snapshotted and its log truncated once the log grows past this many bytes.</summary>
    public long CompactAfterLogBytes { get; set; } = DefaultCompactAfterLogBytes;

    /// <summary>Collections with more points than this are searched in parallel, one partition per processor.</summary>
    public int ParallelSearchThreshold { get; set; } = DefaultParallelSearchThreshold;

    /// <summary>
    /// True (the default): searches that arrive on a collection while another search is scanning it wait for
    /// that scan to end and are then answered together, in one pass over the store that reads each row once
    /// and scores it against all of them (a matrix product, as FAISS does with BLAS for many queries).
    /// A search that finds the collection idle starts at once, so one client alone is never slowed down.
    /// False: every search scans the store on its own.
    /// </summary>
    public bool BatchConcurrentSearches { get; set; } = true;

    /// <summary>
    /// True (the default): each collection also keeps a bfloat16 copy of its vectors (every float's upper
    /// 16 bits: half the bytes, so 50% more memory in all) and a single-query scan reads that copy first,
    /// then scores exactly, from the floats, only the rows whose bounded error leaves them a chance to be in
    /// the top k. The results are the same as scanning the floats (same hits, same scores); the scan,
    /// bound by memory bandwidth, reads about half as much. Only on CPUs with AVX2 and FMA, and not for
    /// Euclidean collections. False: one copy, every scan reads all the floats.
    /// </summary>
    public bool BFloat16Prefilter { get; set; } = true;

    /// <summary>Problems with the settings, one sentence each; empty when they are usable.</summary>
    public IEnumerable<string> Validate()
    {
        if (CompactAfterLogBytes < 4096)
        {
            yield return $"{nameof(CompactAfterLogBytes)} must be at least 4096 (was {CompactAfterLogBytes}).";
        }

        if (ParallelSearchThreshold < 0)
        {
            yield return $"{nameof(ParallelSearchThreshold)} must not be negative (was {ParallelSearchThreshold}).";
        }

        if (Path is not null && Path.AsSpan().IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0)
        {
            yield return $"{nameof(Path)} contains characters that are not valid in a path.";
        }
    }
}

/// <summary>Validates <see cref="EmbeddedVectorOptions"/> (generated at compile time); the host runs it at start and on creation.</summary>
[OptionsValidator]
public sealed partial class EmbeddedVectorOptionsValidator : IValidateOptions<EmbeddedVectorOptions>;
