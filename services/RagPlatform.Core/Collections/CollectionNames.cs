using System.Text.RegularExpressions;
using RagPlatform.Core.Errors;

namespace RagPlatform.Core.Collections;

public static partial class CollectionNames
{
    /// <summary>Lower-case letters, digits, '-' and '_', starting with a letter or digit, at most 63 characters:
    /// a name every backend (file names, SQL identifiers, Qdrant, cloud indexes) can hold unchanged.</summary>
    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static void Validate(string? name, string field = "name")
    {
        if (string.IsNullOrEmpty(name) || !Pattern().IsMatch(name))
        {
            throw new RequestValidationException(field,
                "A collection name is 1-63 characters of a-z, 0-9, '-' and '_', starting with a letter or digit.");
        }
    }
}
