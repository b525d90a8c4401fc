using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.PgVector;

/// <summary>How a collection's vectors are indexed; stored in the catalog so a collection keeps the kind it was made with.</summary>
internal enum PgIndexKind
{
    /// <summary>HNSW over the <c>vector(n)</c> column itself (up to 2,000 dimensions).</summary>
    Vector,

    /// <summary>HNSW over <c>embedding::halfvec(n)</c> (2,001 to 4,000 dimensions); the column keeps full float32.</summary>
    HalfVector,

    /// <summary>No ANN index (above 4,000 dimensions, pgvector's halfvec HNSW limit): exact scans.</summary>
    None,
}

/// <summary>One collection: its spec, its table and the SQL fragments every statement on it shares.</summary>
internal sealed class PgVectorCollection
{
    /// <summary>pgvector's HNSW limit for vector(n); above it the index is built on halfvec(n).</summary>
    public const int MaxVectorIndexDimensions = 2000;

    /// <summary>pgvector's HNSW limit for halfvec(n).</summary>
    public const int MaxHalfVectorIndexDimensions = 4000;

    /// <summary>pgvector's limit for a stored vector(n).</summary>
    public const int MaxDimensions = 16000;

    /// <summary>The largest magnitude halfvec can hold; vectors of halfvec-indexed collections must stay inside it.</summary>
    public const float MaxHalfValue = 65504f;

    /// <param name="extensionSchema">The quoted schema pgvector's types and operators live in. Every use is qualified with
    /// it: Npgsql resets pooled sessions (DISCARD ALL), and a reset search_path must not hide the vector type.</param>
    public PgVectorCollection(VectorCollectionSpec spec, string schema, string tableName, PgIndexKind indexKind, string extensionSchema)
    {
        Spec = spec;
        TableName = tableName;
        IndexKind = indexKind;
        ExtensionSchema = extensionSchema;
        Table = $"\"{schema}\".\"{tableName}\"";
        var n = spec.Dimensions.ToString(CultureInfo.InvariantCulture);
        VectorType = $"{extensionSchema}.vector({n})";
        var symbol = spec.Metric switch
        {
            DistanceMetric.Cosine => "<=>",
            DistanceMetric.DotProduct => "<#>",
            _ => "<->",
        };
        Operator = $"OPERATOR({extensionSchema}.{symbol})";
        ExactDistance = $"(embedding {Operator} $1::{VectorType})";
        IndexedDistance = indexKind == PgIndexKind.HalfVector
            ? $"((embedding::{extensionSchema}.halfvec({n})) {Operator} ($1::{extensionSchema}.halfvec({n})))"
            : ExactDistance;
    }

    public string ExtensionSchema { get; }

    /// <summary>The column's qualified type, e.g. <c>"public".vector(384)</c>.</summary>
    public string VectorType { get; }

    public VectorCollectionSpec Spec { get; }

    public string TableName { get; }

    public PgIndexKind IndexKind { get; }

    /// <summary>The quoted, schema-qualified table name.</summary>
    public string Table { get; }

    public string Operator { get; }

    /// <summary>Distance of the stored float32 vector to parameter $1.</summary>
    public string ExactDistance { get; }

    /// <summary>The distance expression the HNSW index serves (halfvec for wide vectors), ordering candidates.</summary>
    public string IndexedDistance { get; }

    /// <summary>pgvector distance → our score, where higher is always closer.</summary>
    public float Score(double distance) => Spec.Metric switch
    {
        DistanceMetric.Cosine => (float)(1 - distance),
        _ => (float)-distance,
    };

    public static PgIndexKind IndexKindFor(int dimensions) => dimensions switch
    {
        <= MaxVectorIndexDimensions => PgIndexKind.Vector,
        <= MaxHalfVectorIndexDimensions => PgIndexKind.HalfVector,
        _ => PgIndexKind.None,
    };

    /// <summary>A table name that is a safe identifier whatever the collection is called (names are free text).</summary>
    public static string TableNameFor(string collection) =>
        "c_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(collection)))[..24];

    /// <summary>The DDL of a new collection's table and indexes.</summary>
    public IEnumerable<string> CreateStatements(int hnswM, int hnswEfConstruction)
    {
        var n = Spec.Dimensions.ToString(CultureInfo.InvariantCulture);
        yield return $"""
            CREATE TABLE {Table} (
                id text COLLATE "C" PRIMARY KEY,
                document_id text NOT NULL,
                title text NULL,
                text text NOT NULL,
                tags jsonb NOT NULL,
                metadata jsonb NOT NULL,
                content_hash text NOT NULL,
                ordinal integer NOT NULL,
                embedding {VectorType} NOT NULL)
            """;
        yield return $"CREATE INDEX \"{TableName}_document\" ON {Table} (document_id)";
        yield return $"CREATE INDEX \"{TableName}_tags\" ON {Table} USING gin (tags jsonb_path_ops)";
        yield return $"CREATE INDEX \"{TableName}_metadata\" ON {Table} USING gin (metadata jsonb_path_ops)";
        var ops = Spec.Metric switch
        {
            DistanceMetric.Cosine => "cosine_ops",
            DistanceMetric.DotProduct => "ip_ops",
            _ => "l2_ops",
        };
        var with = string.Create(CultureInfo.InvariantCulture, $"WITH (m = {hnswM}, ef_construction = {hnswEfConstruction})");
        switch (IndexKind)
        {
            case PgIndexKind.Vector:
                yield return $"CREATE INDEX \"{TableName}_hnsw\" ON {Table} USING hnsw (embedding {ExtensionSchema}.vector_{ops}) {with}";
                break;
            case PgIndexKind.HalfVector:
                yield return $"CREATE INDEX \"{TableName}_hnsw\" ON {Table} USING hnsw ((embedding::{ExtensionSchema}.halfvec({n})) {ExtensionSchema}.halfvec_{ops}) {with}";
                break;
            default:
                break;
        }
    }
}
