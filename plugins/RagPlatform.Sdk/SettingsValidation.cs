using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace RagPlatform.Sdk;

/// <summary>
/// Runs an options validator (normally the one <c>[OptionsValidator]</c> generates, which recurses into members
/// marked <c>[ValidateObjectMembers]</c>/<c>[ValidateEnumeratedItems]</c>) and words every failure with the full
/// configuration key it is about (<c>RagPlatform:Query:MaxTopK</c>), so an operator knows which setting to fix.
/// </summary>
/// <param name="sectionPath">The configuration path the options are bound from (e.g. <c>RagPlatform</c>).</param>
public sealed partial class ConfigurationKeyValidator<TOptions>(string sectionPath, IValidateOptions<TOptions> inner)
    : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        // Named instances other than the default are not bound from sectionPath: leave them to their own validators.
        if (!string.IsNullOrEmpty(name) && name != Options.DefaultName)
        {
            return ValidateOptionsResult.Skip;
        }

        var problems = SettingsValidation.Problems(sectionPath, options, inner);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

/// <summary>Helpers that plugins and hosts share to validate settings bound from configuration.</summary>
public static partial class SettingsValidation
{
    /// <summary>
    /// The problems <paramref name="validator"/> finds in <paramref name="options"/>, each naming the configuration
    /// key under <paramref name="sectionPath"/> it is about; empty when the options are valid.
    /// </summary>
    public static IReadOnlyList<string> Problems<TOptions>(string sectionPath, TOptions options, IValidateOptions<TOptions> validator)
        where TOptions : class
    {
        // The generated validator names each member by the name it is given plus the member path
        // ("RagPlatform.Query.MaxTopK"): given the section path, the dotted path is the configuration key once
        // its dots become colons.
        var result = validator.Validate(sectionPath, options);
        if (!result.Failed)
        {
            return [];
        }

        var prefix = Regex.Escape(sectionPath);
        return result.Failures
            .Select(failure => Regex.Replace(failure, prefix + @"(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])+",
                match => match.Value.Replace('.', ':').Replace("[", ":", StringComparison.Ordinal).Replace("]", "", StringComparison.Ordinal)))
            // "MaxTopK: The field RagPlatform:Query:MaxTopK must be…": the member list the builder puts first says
            // less than the key the message already names.
            .Select(failure => MemberListPrefix().Match(failure) is { Success: true } members
                && failure.AsSpan(members.Length).Contains(sectionPath, StringComparison.Ordinal)
                    ? failure[members.Length..]
                    : failure)
            .Select(failure => failure.Contains(sectionPath, StringComparison.Ordinal) ? failure : $"{sectionPath}: {failure}")
            .ToList();
    }

    /// <summary>
    /// Binds <paramref name="settings"/> onto a fresh <typeparamref name="TOptions"/> and returns the problems
    /// <paramref name="validator"/> finds, each naming its configuration key; a value that does not convert
    /// (a word where a number belongs) is a problem too.
    /// </summary>
    public static IReadOnlyList<string> Problems<TOptions>(IConfiguration settings, IValidateOptions<TOptions> validator)
        where TOptions : class, new()
    {
        ArgumentNullException.ThrowIfNull(settings);
        var section = (settings as IConfigurationSection)?.Path;
        var sectionPath = section ?? typeof(TOptions).Name;
        var options = new TOptions();
        IReadOnlyList<string> problems;
        try
        {
            settings.Bind(options);
            problems = Problems(sectionPath, options, validator);
        }
        catch (InvalidOperationException e)
        {
            problems = [$"{sectionPath}: {e.Message}"];
        }

        // Settings that are not a section of a larger configuration (a plugin's own, in tests or tools) have no
        // path to name: their problems name the members alone.
        return section is not null
            ? problems
            : problems.Select(p => p.Replace(sectionPath + ": ", "", StringComparison.Ordinal).Replace(sectionPath + ":", "", StringComparison.Ordinal)).ToList();
    }

    /// <summary>
    /// For options classes whose checks are written as one method yielding a sentence per problem (each starting with
    /// the member's name): the same sentences as <see cref="ValidationResult"/>s, for an <see cref="IValidatableObject"/>
    /// that the generated validator calls.
    /// </summary>
    public static IEnumerable<ValidationResult> AsValidationResults(IEnumerable<string> problems, ValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // The generated validator calls IValidatableObject.Validate with "<name>.Validate" as the display name.
        var owner = context.DisplayName.EndsWith(".Validate", StringComparison.Ordinal) ? context.DisplayName[..^".Validate".Length] : context.DisplayName;
        return problems.Select(problem => new ValidationResult(
            $"{owner}.{problem}",
            [LeadingMember().Match(problem) is { Success: true } match ? match.Value : string.Empty]));
    }

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex LeadingMember();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*(, [A-Za-z_][A-Za-z0-9_]*)*: ")]
    private static partial Regex MemberListPrefix();
}
