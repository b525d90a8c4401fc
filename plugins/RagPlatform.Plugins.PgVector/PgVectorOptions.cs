using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using RagPlatform.Sdk;
using System.Text.RegularExpressions;

namespace RagPlatform.Plugins.PgVector;

/// <summary>Settings of the pgvector backend (configuration section <c>RagPlatform:VectorStore:Backends:pgvector</c>).</summary>
public sealed partial class PgVectorOptions : IValidatableObject
{
    /// <summary>The checks of <see cref="Validate()"/>, for the generated <see cref="PgVectorOptionsValidator"/>.</summary>
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) =>
        SettingsValidation.AsValidationResults(Validate(), validationContext);

    /// <summary>An Npgsql connection string. Use <see cref="ConnectionName"/> instead to keep the secret out of this section.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Name of a host connection string (<c>ConnectionStrings:{name}</c>, as Aspire injects them). Default "vectors".</summary>
    public string ConnectionName { get; set; } = "vectors";

    /// <summary>The schema holding the catalog table and one table per collection; created when missing.</summary>
    public string Schema { get; set; } = "rag_vectors";

    /// <summary>True: run <c>CREATE EXTENSION IF NOT EXISTS vector</c> at start (needs the right to create extensions).</summary>
    public bool CreateExtension { get; set; } = true;

    /// <summary>HNSW graph degree (pgvector <c>m</c>) of new collections.</summary>
    public int HnswM { get; set; } = 16;

    /// <summary>HNSW build breadth (pgvector <c>ef_construction</c>) of new collections.</summary>
    public int HnswEfConstruction { get; set; } = 64;

    /// <summary>HNSW search breadth (<c>hnsw.ef_search</c>), raised to k when smaller; pgvector caps it at 1,000.</summary>
    public int HnswEfSearch { get; set; } = 100;

    /// <summary>Points per multi-row upsert statement (import and large upserts are cut into batches of this size).</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>Points per page of an export (keyset pagination by point id).</summary>
    public int ExportPageSize { get; set; } = 1000;

    /// <summary>Seconds a statement may run before it is cancelled (HNSW builds on large imports take long).</summary>
    public int CommandTimeoutSeconds { get; set; } = 300;

    /// <summary>Problems with the settings, one sentence each; empty when they are usable. Never echoes the connection string.</summary>
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString) && string.IsNullOrWhiteSpace(ConnectionName))
        {
            yield return $"Set {nameof(ConnectionString)} or {nameof(ConnectionName)} (a name under ConnectionStrings).";
        }

        if (string.IsNullOrWhiteSpace(Schema) || !IdentifierPattern().IsMatch(Schema))
        {
            yield return $"{nameof(Schema)} must be a lower-case SQL identifier (letters, digits, underscores; at most 40 characters).";
        }

        if (HnswM is < 2 or > 100)
        {
            yield return $"{nameof(HnswM)} must be between 2 and 100 (was {HnswM}).";
        }

        if (HnswEfConstruction < 4 || HnswEfConstruction > 1000 || HnswEfConstruction < 2 * HnswM)
        {
            yield return $"{nameof(HnswEfConstruction)} must be between 4 and 1000 and at least twice {nameof(HnswM)} (was {HnswEfConstruction}).";
        }

        if (HnswEfSearch is < 1 or > 1000)
        {
            yield return $"{nameof(HnswEfSearch)} must be between 1 and 1000 (was {HnswEfSearch}).";
        }

        if (BatchSize is < 1 or > 10_000)
        {
            yield return $"{nameof(BatchSize)} must be between 1 and 10000 (was {BatchSize}).";
        }

        if (ExportPageSize is < 1 or > 100_000)
        {
            yield return $"{nameof(ExportPageSize)} must be between 1 and 100000 (was {ExportPageSize}).";
        }

        if (CommandTimeoutSeconds < 1)
        {
            yield return $"{nameof(CommandTimeoutSeconds)} must be at least 1 (was {CommandTimeoutSeconds}).";
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,39}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdentifierPattern();
}

/// <summary>Validates <see cref="PgVectorOptions"/> (generated at compile time); the host runs it at start and on creation.</summary>
[OptionsValidator]
public sealed partial class PgVectorOptionsValidator : IValidateOptions<PgVectorOptions>;
