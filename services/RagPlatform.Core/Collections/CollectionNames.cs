using System.Text.RegularExpressions;
using RagPlatform.Core.Errors;

namespace RagPlatform.Core.Collections;

public static partial class CollectionNames
{
    /// <summary>Lower-case letters, digits, '-' and '_', starting with a letter or digit, at most 63 characters:
    /// a name every backend (file names, SQL identifiers, Qdrant, cloud indexes) can hold unchanged.</summary>
    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    [GeneratedRegex("__v[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionSuffix();

    /// <summary>A name for a new collection: also refuses names that end like another collection's versions (<c>__v2</c>).</summary>
    public static void ValidateNew(string? name, string field = "name")
    {
        Validate(name, field);
        if (VersionSuffix().IsMatch(name!))
        {
            throw new RequestValidationException(field,
                "A collection name must not end in '__v' and digits: that suffix names a collection's re-indexed versions.");
        }
    }

    public static void Validate(string? name, string field = "name")
    {
        if (string.IsNullOrEmpty(name) || !Pattern().IsMatch(name))
        {
            throw new RequestValidationException(field,
                "A collection name is 1-63 characters of a-z, 0-9, '-' and '_', starting with a letter or digit.");
        }
    }
}
