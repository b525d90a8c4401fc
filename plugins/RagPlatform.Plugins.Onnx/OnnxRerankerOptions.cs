using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.Onnx;

/// <summary>Settings of the "onnx" cross-encoder reranker (section <c>RagPlatform:Query:Rerankers:onnx</c>).</summary>
public sealed class OnnxRerankerOptions : OnnxModelOptions, IValidatableObject
{
    /// <summary>The checks of <see cref="Validate()"/>, for the generated <see cref="OnnxRerankerOptionsValidator"/>.</summary>
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) =>
        SettingsValidation.AsValidationResults(Validate(), validationContext);

    public const string Section = "RagPlatform:Query:Rerankers:onnx";

    /// <summary>
    /// How a single relevance logit becomes the score: "sigmoid" (the default; scores in (0, 1), comparable across
    /// queries, as sentence-transformers' CrossEncoder gives them) or "none" (the raw logit). Two-label models
    /// always give the probability of the second label.
    /// </summary>
    public string Activation { get; set; } = "sigmoid";

    /// <summary>Put the candidate's title before its text ("title\ntext"), as the lexical index reads it.</summary>
    public bool IncludeTitle { get; set; } = true;

    protected override string SectionName => Section;

    public override IEnumerable<string> Validate()
    {
        foreach (var problem in base.Validate())
        {
            yield return problem;
        }

        if (Activation?.Trim().ToLowerInvariant() is not ("sigmoid" or "none"))
        {
            yield return $"{nameof(Activation)} must be \"sigmoid\" or \"none\" (was \"{Activation}\").";
        }
    }
}

/// <summary>Validates <see cref="OnnxRerankerOptions"/> (generated at compile time); the host runs it at start and on creation.</summary>
[OptionsValidator]
public sealed partial class OnnxRerankerOptionsValidator : IValidateOptions<OnnxRerankerOptions>;
