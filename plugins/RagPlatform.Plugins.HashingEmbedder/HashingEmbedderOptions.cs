using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.HashingEmbedder;

/// <summary>Settings of the "hashing" provider (configuration section of the chosen provider).</summary>
public sealed class HashingEmbedderOptions : IValidatableObject
{
    /// <summary>The checks of <see cref="Validate()"/>, for the generated <see cref="HashingEmbedderOptionsValidator"/>.</summary>
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) =>
        SettingsValidation.AsValidationResults(Validate(), validationContext);

    public const int DefaultDimensions = 1024;
    public const int MinDimensions = 32;
    public const int MaxDimensions = 65536;
    public const float MaxWeight = 8f;

    /// <summary>Vector length. More dimensions mean fewer hash collisions (better recall) and more storage.
    /// Part of the fingerprint: changing it makes a new vector space.</summary>
    public int Dimensions { get; set; } = DefaultDimensions;

    /// <summary>Estimated tokens (see <see cref="KoreanTokenEstimator"/>) embedded per input; the rest of a longer
    /// input is ignored. The host chunks to this.</summary>
    public int MaxInputTokens { get; set; } = 8192;

    /// <summary>The most inputs per call the host should send.</summary>
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>
    /// Weight of a Latin (or Greek/Cyrillic) word relative to a Hangul syllable bigram (1). In Korean text a
    /// Latin word is usually a name, acronym or technical term ("ESG", "b2b"), rarer and more telling than a
    /// bigram, so the default is 2 (it measured best of 0.5, 1, 2 and 3 on a Korean retrieval set).
    /// Part of the fingerprint: a non-default value makes a new vector space.
    /// </summary>
    public float LatinWordWeight { get; set; } = FeatureScheme.DefaultWordWeight;

    /// <summary>
    /// Weight of the last syllable bigram of a Hangul word of three or more syllables, where particles and
    /// endings sit ("행의" in "은행의", "니다" in "합니다"), relative to its other bigrams (1). Lower values let
    /// the stem dominate; 1 treats every bigram alike. The default 0.5 measured best of 0.25, 0.5 and 1.
    /// Part of the fingerprint: a non-default value makes a new vector space.
    /// </summary>
    public float HangulTailWeight { get; set; } = FeatureScheme.DefaultTailBigramWeight;

    /// <summary>The problems with these settings, one message per bad setting; empty when valid.</summary>
    public IEnumerable<string> Validate()
    {
        if (Dimensions is < MinDimensions or > MaxDimensions)
        {
            yield return $"Dimensions must be between {MinDimensions} and {MaxDimensions} (was {Dimensions}).";
        }

        if (MaxInputTokens < 1)
        {
            yield return $"MaxInputTokens must be positive (was {MaxInputTokens}).";
        }

        if (MaxBatchSize < 1)
        {
            yield return $"MaxBatchSize must be positive (was {MaxBatchSize}).";
        }

        if (!float.IsFinite(LatinWordWeight) || LatinWordWeight is < 0f or > MaxWeight)
        {
            yield return $"LatinWordWeight must be between 0 and {MaxWeight} (was {LatinWordWeight}).";
        }

        if (!float.IsFinite(HangulTailWeight) || HangulTailWeight is < 0f or > MaxWeight)
        {
            yield return $"HangulTailWeight must be between 0 and {MaxWeight} (was {HangulTailWeight}).";
        }
    }
}

/// <summary>Validates <see cref="HashingEmbedderOptions"/> (generated at compile time); the host runs it at start and on creation.</summary>
[OptionsValidator]
public sealed partial class HashingEmbedderOptionsValidator : IValidateOptions<HashingEmbedderOptions>;
