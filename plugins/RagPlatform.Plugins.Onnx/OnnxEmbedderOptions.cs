using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.Onnx;

/// <summary>Settings of the "onnx" embedding provider (section <c>RagPlatform:Embedding:Providers:onnx</c>).</summary>
public sealed class OnnxEmbedderOptions : OnnxModelOptions, IValidatableObject
{
    /// <summary>The checks of <see cref="Validate()"/>, for the generated <see cref="OnnxEmbedderOptionsValidator"/>.</summary>
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) =>
        SettingsValidation.AsValidationResults(Validate(), validationContext);

    public const string Section = "RagPlatform:Embedding:Providers:onnx";

    /// <summary>The vector space's revision in the fingerprint; default: a hash of the model file.</summary>
    public string? Revision { get; set; }

    /// <summary>The most inputs per call the host should send.</summary>
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>"mean" or "cls"; empty reads the model's 1_Pooling/config.json (mean when absent).</summary>
    public string? Pooling { get; set; }

    /// <summary>Scale every vector to unit length (the default; cosine then equals the dot product).</summary>
    public bool Normalize { get; set; } = true;

    /// <summary>Put before a query; null detects it from the model id (e5 models: "query: ").</summary>
    public string? QueryPrefix { get; set; }

    /// <summary>Put before a document; null detects it from the model id (e5 models: "passage: ").</summary>
    public string? DocumentPrefix { get; set; }

    protected override string SectionName => Section;

    public override IEnumerable<string> Validate()
    {
        foreach (var problem in base.Validate())
        {
            yield return problem;
        }

        if (MaxBatchSize < 1)
        {
            yield return $"{nameof(MaxBatchSize)} must be positive (was {MaxBatchSize}).";
        }

        if (!string.IsNullOrWhiteSpace(Pooling) && PoolingModes.Parse(Pooling) is null)
        {
            yield return $"{nameof(Pooling)} must be \"mean\" or \"cls\" (was \"{Pooling}\").";
        }
    }
}

/// <summary>How token vectors become one text vector.</summary>
public enum PoolingMode
{
    /// <summary>Average of the token vectors under the attention mask.</summary>
    Mean,

    /// <summary>The first ([CLS]) token's vector.</summary>
    Cls,
}

internal static class PoolingModes
{
    public static PoolingMode? Parse(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "mean" => PoolingMode.Mean,
        "cls" => PoolingMode.Cls,
        _ => null,
    };

    public static string Name(PoolingMode mode) => mode == PoolingMode.Cls ? "cls" : "mean";
}

/// <summary>Validates <see cref="OnnxEmbedderOptions"/> (generated at compile time); the host runs it at start and on creation.</summary>
[OptionsValidator]
public sealed partial class OnnxEmbedderOptionsValidator : IValidateOptions<OnnxEmbedderOptions>;
