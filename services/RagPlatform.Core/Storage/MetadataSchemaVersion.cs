namespace RagPlatform.Core.Storage;

/// <summary>A metadata database written by a newer build than this one: refused rather than misread.</summary>
public sealed class MetadataSchemaTooNewException(string message) : InvalidOperationException(message);

/// <summary>What both metadata stores (SQLite and Postgres) do with the schema version they find.</summary>
public static class MetadataSchemaVersion
{
    /// <summary>Throws <see cref="MetadataSchemaTooNewException"/> when <paramref name="found"/> is above what this build knows.</summary>
    /// <param name="where">The database, as an operator finds it (a file path, "the PostgreSQL database").</param>
    public static void EnsureKnown(int found, int known, string where)
    {
        if (found > known)
        {
            throw new MetadataSchemaTooNewException(
                $"The metadata schema of {where} is at version {found}, newer than this build knows ({known}): it was written by a " +
                "newer RagPlatform. Run that version (or newer), or restore a backup made by this one; the data was not changed.");
        }
    }
}
