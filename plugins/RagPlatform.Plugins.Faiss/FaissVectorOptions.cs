using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.Faiss;

/// <summary>Settings of the FAISS backend (configuration section of the "faiss" vector store).</summary>
public sealed class FaissVectorOptions : IValidatableObject
{
    /// <summary>The checks of <see cref="Validate()"/>, for the generated <see cref="FaissVectorOptionsValidator"/>.</summary>
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) =>
        SettingsValidation.AsValidationResults(Validate(), validationContext);

    public const string DefaultIndexFactory = "HNSW32,Flat";

    /// <summary>
    /// FAISS index factory string of new collections ("Flat", "HNSW32,Flat", "IVF1024,Flat", …). The index is
    /// always wrapped in an id map; an existing collection keeps the index it was written with.
    /// </summary>
    public string IndexFactory { get; set; } = DefaultIndexFactory;

    /// <summary>HNSW search breadth (efSearch). Higher is slower and closer to exact; it is raised to k when smaller.</summary>
    public int HnswEfSearch { get; set; } = 128;

    /// <summary>HNSW build breadth (efConstruction), used while vectors are added.</summary>
    public int HnswEfConstruction { get; set; } = 200;

    /// <summary>Root folder of the collections. Empty means the plugin's data directory; relative paths resolve against it.</summary>
    public string? Path { get; set; }

    /// <summary>Full path of libragfaiss.so, when it is not beside the plugin's assembly.</summary>
    public string? NativeLibraryPath { get; set; }

    /// <summary>A filtered search first asks the index for k × this many neighbours, then widens by this factor.</summary>
    public int Oversampling { get; set; } = 4;

    /// <summary>Filtered searches that would have to look at more than this share of the index scan the stored vectors exactly instead.</summary>
    public double ExactFilterFraction { get; set; } = 0.25;

    /// <summary>Index types that cannot remove (HNSW) are rebuilt once deleted-but-indexed vectors pass this share of the index.</summary>
    public double RebuildTombstoneFraction { get; set; } = 0.2;

    /// <summary>The log of writes since the last checkpoint (index file + snapshot) is folded into a new checkpoint past this size.</summary>
    public long CheckpointAfterLogBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>True: every write batch is fsynced before the call returns (survives power loss, not just a crash).</summary>
    public bool FlushToDisk { get; set; }

    /// <summary>Problems with the settings, one sentence each; empty when they are usable.</summary>
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(IndexFactory))
        {
            yield return $"{nameof(IndexFactory)} must name a FAISS index factory string such as \"Flat\" or \"HNSW32,Flat\".";
        }
        else if (IndexFactory.StartsWith("IDMap", StringComparison.OrdinalIgnoreCase))
        {
            yield return $"{nameof(IndexFactory)} must not include IDMap: the backend adds its own id map.";
        }

        if (HnswEfSearch < 1)
        {
            yield return $"{nameof(HnswEfSearch)} must be at least 1 (was {HnswEfSearch}).";
        }

        if (HnswEfConstruction < 1)
        {
            yield return $"{nameof(HnswEfConstruction)} must be at least 1 (was {HnswEfConstruction}).";
        }

        if (Oversampling < 2)
        {
            yield return $"{nameof(Oversampling)} must be at least 2 (was {Oversampling}).";
        }

        if (ExactFilterFraction is < 0 or > 1)
        {
            yield return $"{nameof(ExactFilterFraction)} must be between 0 and 1 (was {ExactFilterFraction}).";
        }

        if (RebuildTombstoneFraction is <= 0 or > 1)
        {
            yield return $"{nameof(RebuildTombstoneFraction)} must be above 0 and at most 1 (was {RebuildTombstoneFraction}).";
        }

        if (CheckpointAfterLogBytes < 4096)
        {
            yield return $"{nameof(CheckpointAfterLogBytes)} must be at least 4096 (was {CheckpointAfterLogBytes}).";
        }

        if (Path is not null && Path.AsSpan().IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0)
        {
            yield return $"{nameof(Path)} contains characters that are not valid in a path.";
        }

        if (!string.IsNullOrEmpty(NativeLibraryPath) && !System.IO.Path.IsPathFullyQualified(NativeLibraryPath))
        {
            yield return $"{nameof(NativeLibraryPath)} must be a full path to libragfaiss.so.";
        }
    }
}

/// <summary>Validates <see cref="FaissVectorOptions"/> (generated at compile time); the host runs it at start and on creation.</summary>
[OptionsValidator]
public sealed partial class FaissVectorOptionsValidator : IValidateOptions<FaissVectorOptions>;
