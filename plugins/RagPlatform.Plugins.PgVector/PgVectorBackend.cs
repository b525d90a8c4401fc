using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Polly;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Plugins.PgVector;

/// <summary>
/// Vector collections in PostgreSQL with pgvector. A catalog table (<c>{schema}.collections</c>) records each
/// collection's dimensions, metric, model fingerprint and table; each collection is a table of its own, because
/// a <c>vector(n)</c> column and its HNSW index have one fixed dimension and dropping a collection is then one
/// <c>DROP TABLE</c>. Every statement is idempotent by point id, so a statement cut off by a lost connection is
/// simply sent again on a fresh one.
/// </summary>
[SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "Only identifiers we derive (schema validated, table names hashed) and integers are spliced in; every value travels as a parameter.")]
public sealed class PgVectorBackend : IVectorBackend
{
    private const string UndefinedTable = "42P01";

    private readonly PgVectorOptions _options;
    private readonly ILogger<PgVectorBackend> _logger;
    private readonly NpgsqlDataSource _dataSource;
    private readonly ResiliencePipeline _retry;
    private readonly string _catalog;
    private readonly ConcurrentDictionary<string, PgVectorCollection> _collections = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _initialization = new(1, 1);
    private bool _initialized;
    private bool _iterativeScan;
    private string _extensionSchema = "\"public\"";

    public PgVectorBackend(PgVectorOptions options, string connectionString, ILogger<PgVectorBackend> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _options = options;
        _logger = logger;
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.CommandTimeout = options.CommandTimeoutSeconds;
        _dataSource = builder.Build();
        // A broken connection (server restarted, network cut) is retried by the one retry policy on a fresh one,
        // three attempts in all: every statement here is idempotent.
        _retry = RemoteRetry.CreatePipeline(
            new RemoteRetryOptions { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(250), MaxDelay = TimeSpan.FromSeconds(2) },
            "pgvector",
            IsBrokenConnection,
            logger: logger);
        _catalog = $"\"{options.Schema}\".collections";
    }

    /// <summary>True when the server's pgvector (0.8+) can keep scanning the HNSW graph until a filtered search has k rows.</summary>
    internal bool UsesIterativeScan => _iterativeScan;

    // ---- collections -----------------------------------------------------------------------------------

    public async Task EnsureCollectionAsync(VectorCollectionSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        ArgumentOutOfRangeException.ThrowIfGreaterThan(spec.Dimensions, PgVectorCollection.MaxDimensions);
        await InitializeAsync(cancellationToken);

        var created = await RunAsync(async (connection, ct) =>
        {
            await using var transaction = await connection.BeginTransactionAsync(ct);

            // Two processes ensuring the same new collection must not both create its table.
            await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext($1))", connection, transaction))
            {
                lockCommand.Parameters.Add(new NpgsqlParameter { Value = _catalog });
                await lockCommand.ExecuteNonQueryAsync(ct);
            }

            var existing = await ReadCatalogAsync(connection, transaction, spec.Name, ct);
            if (existing is not null)
            {
                await transaction.CommitAsync(ct);
                return existing;
            }

            var collection = new PgVectorCollection(
                spec, _options.Schema, PgVectorCollection.TableNameFor(spec.Name), PgVectorCollection.IndexKindFor(spec.Dimensions), _extensionSchema);
            foreach (var statement in collection.CreateStatements(_options.HnswM, _options.HnswEfConstruction))
            {
                await using var ddl = new NpgsqlCommand(statement, connection, transaction);
                await ddl.ExecuteNonQueryAsync(ct);
            }

            await using (var insert = new NpgsqlCommand(
                $"INSERT INTO {_catalog} (name, table_name, dimensions, metric, fingerprint, index_kind) VALUES ($1, $2, $3, $4, $5, $6)",
                connection,
                transaction))
            {
                insert.Parameters.Add(new NpgsqlParameter { Value = spec.Name });
                insert.Parameters.Add(new NpgsqlParameter { Value = collection.TableName });
                insert.Parameters.Add(new NpgsqlParameter { Value = spec.Dimensions });
                insert.Parameters.Add(new NpgsqlParameter { Value = spec.Metric.ToString() });
                insert.Parameters.Add(new NpgsqlParameter { Value = spec.Fingerprint.ToString() });
                insert.Parameters.Add(new NpgsqlParameter { Value = collection.IndexKind.ToString() });
                await insert.ExecuteNonQueryAsync(ct);
            }

            await transaction.CommitAsync(ct);
            _logger.LogInformation(
                "pgvector collection {Collection} created as {Table} ({Dimensions} dimensions, {Metric}, index {IndexKind})",
                spec.Name, collection.Table, spec.Dimensions, spec.Metric, collection.IndexKind);
            return collection;
        }, cancellationToken);

        if (created.Spec.Dimensions != spec.Dimensions || created.Spec.Metric != spec.Metric || created.Spec.Fingerprint != spec.Fingerprint)
        {
            throw new VectorCollectionMismatchException(
                $"Vector collection '{spec.Name}' exists with {created.Spec.Dimensions} dimensions, metric {created.Spec.Metric} and model "
                + $"{created.Spec.Fingerprint}; asked for {spec.Dimensions}, {spec.Metric} and {spec.Fingerprint}.");
        }

        _collections[spec.Name] = created;
    }

    public async Task<VectorCollectionSpec?> GetCollectionAsync(string collection, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken);
        var found = await RunAsync((connection, ct) => ReadCatalogAsync(connection, null, collection, ct), cancellationToken);
        if (found is null)
        {
            _collections.TryRemove(collection, out _);
            return null;
        }

        _collections[collection] = found;
        return found.Spec;
    }

    public async Task DeleteCollectionAsync(string collection, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken);
        await RunAsync(async (connection, ct) =>
        {
            await using var transaction = await connection.BeginTransactionAsync(ct);
            var existing = await ReadCatalogAsync(connection, transaction, collection, ct);
            if (existing is not null)
            {
                await using (var drop = new NpgsqlCommand($"DROP TABLE IF EXISTS {existing.Table}", connection, transaction))
                {
                    await drop.ExecuteNonQueryAsync(ct);
                }

                await using var delete = new NpgsqlCommand($"DELETE FROM {_catalog} WHERE name = $1", connection, transaction);
                delete.Parameters.Add(new NpgsqlParameter { Value = collection });
                await delete.ExecuteNonQueryAsync(ct);
            }

            await transaction.CommitAsync(ct);
            return true;
        }, cancellationToken);
        _collections.TryRemove(collection, out _);
    }

    // ---- writes ----------------------------------------------------------------------------------------

    public async Task UpsertAsync(string collection, IReadOnlyList<VectorPoint> points, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(points);
        var target = await GetAsync(collection, cancellationToken);
        if (points.Count == 0)
        {
            return;
        }

        // Everything is checked before anything is written: a bad vector rejects the whole call.
        foreach (var point in points)
        {
            Validate(target, point);
        }

        // One statement per batch; a statement may not touch the same row twice, so the last copy of an id wins.
        var latest = new Dictionary<string, VectorPoint>(points.Count, StringComparer.Ordinal);
        foreach (var point in points)
        {
            latest[point.Id] = point;
        }

        var unique = latest.Values.ToList();
        if (unique.Count <= _options.BatchSize)
        {
            await Guard(target, () => RunAsync((connection, ct) => UpsertBatchAsync(connection, null, target, unique, ct), cancellationToken));
            return;
        }

        // Larger calls stay all-or-nothing: the batches share one transaction.
        await Guard(target, () => RunAsync(async (connection, ct) =>
        {
            await using var transaction = await connection.BeginTransactionAsync(ct);
            for (var start = 0; start < unique.Count; start += _options.BatchSize)
            {
                var batch = unique.GetRange(start, Math.Min(_options.BatchSize, unique.Count - start));
                await UpsertBatchAsync(connection, transaction, target, batch, ct);
            }

            await transaction.CommitAsync(ct);
            return true;
        }, cancellationToken));
    }

    public async Task<long> DeleteAsync(string collection, IReadOnlyList<string> pointIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pointIds);
        var target = await GetAsync(collection, cancellationToken);
        if (pointIds.Count == 0)
        {
            return 0;
        }

        var ids = pointIds.Distinct(StringComparer.Ordinal).ToArray();
        return await Guard(target, () => RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"DELETE FROM {target.Table} WHERE id = ANY($1)", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            return (long)await command.ExecuteNonQueryAsync(ct);
        }, cancellationToken));
    }

    public async Task<long> DeleteByDocumentAsync(string collection, string documentId, CancellationToken cancellationToken)
    {
        var target = await GetAsync(collection, cancellationToken);
        return await Guard(target, () => RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"DELETE FROM {target.Table} WHERE document_id = $1", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = documentId, NpgsqlDbType = NpgsqlDbType.Text });
            return (long)await command.ExecuteNonQueryAsync(ct);
        }, cancellationToken));
    }

    // ---- reads -----------------------------------------------------------------------------------------

    public async Task<IReadOnlyList<VectorPoint>> RetrieveAsync(string collection, IReadOnlyList<string> pointIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pointIds);
        var target = await GetAsync(collection, cancellationToken);
        if (pointIds.Count == 0)
        {
            return [];
        }

        var ids = pointIds.Distinct(StringComparer.Ordinal).ToArray();
        return await Guard(target, () => RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"SELECT {PointColumns} FROM {target.Table} WHERE id = ANY($1)", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            return await ReadPointsAsync(command, target, ct);
        }, cancellationToken));
    }

    public async Task<IReadOnlyList<VectorSearchHit>> SearchAsync(string collection, VectorQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var target = await GetAsync(collection, cancellationToken);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.TopK, 1);
        VectorMath.Validate(query.Vector, target.Spec.Dimensions, "query");
        var filter = query.Filter is { IsEmpty: false } f ? f : null;

        return await Guard(target, () => RunAsync(async (connection, ct) =>
        {
            if (target.IndexKind == PgIndexKind.None)
            {
                return await SearchExactAsync(connection, target, query, filter, ct);
            }

            var hits = await SearchIndexedAsync(connection, target, query, filter, ct);

            // HNSW is approximate: a graph walk can stop short of k rows (a selective filter, or an older pgvector
            // without iterative scans). An exact scan then answers, so a search never returns fewer than it could.
            return hits.Count >= query.TopK ? hits : await SearchExactAsync(connection, target, query, filter, ct);
        }, cancellationToken));
    }

    public async Task<long> CountAsync(string collection, VectorFilter? filter, CancellationToken cancellationToken)
    {
        var target = await GetAsync(collection, cancellationToken);
        var where = filter is { IsEmpty: false } ? Where(filter, 1, out _) : string.Empty;
        return await Guard(target, () => RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"SELECT count(*) FROM {target.Table}{where}", connection);
            if (filter is { IsEmpty: false })
            {
                AddFilterParameters(command, filter);
            }

            return (long)(await command.ExecuteScalarAsync(ct))!;
        }, cancellationToken));
    }

    /// <summary>Every point in id order (ordinal), one keyset page at a time: the order is stable, so a consumer can resume after an id.</summary>
    public async IAsyncEnumerable<VectorPoint> ExportAsync(string collection, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var source = await GetAsync(collection, cancellationToken);
        string? after = null;
        while (true)
        {
            var afterId = after;
            var page = await Guard(source, () => RunAsync(async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand(
                    $"SELECT {PointColumns} FROM {source.Table} WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2", connection);
                command.Parameters.Add(new NpgsqlParameter { Value = (object?)afterId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
                command.Parameters.Add(new NpgsqlParameter { Value = _options.ExportPageSize });
                return await ReadPointsAsync(command, source, ct);
            }, cancellationToken));

            foreach (var point in page)
            {
                yield return point;
            }

            if (page.Count < _options.ExportPageSize)
            {
                yield break;
            }

            after = page[^1].Id;
        }
    }

    public async Task<long> ImportAsync(string collection, IAsyncEnumerable<VectorPoint> points, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(points);
        _ = await GetAsync(collection, cancellationToken);
        long written = 0;
        await foreach (var batch in VectorPointBatches.ReadAsync(points, _options.BatchSize, cancellationToken))
        {
            await UpsertAsync(collection, batch, cancellationToken);
            written += batch.Count;
        }

        return written;
    }

    public async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        _initialization.Dispose();
    }

    // ---- statements ------------------------------------------------------------------------------------

    private const string PointColumns =
        "id, document_id, title, text, tags::text, metadata::text, content_hash, ordinal, embedding::text";

    private static async Task<bool> UpsertBatchAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, PgVectorCollection target, List<VectorPoint> batch, CancellationToken ct)
    {
        // unnest() turns nine arrays into rows: one statement and nine parameters whatever the batch size.
        var sql = $"""
            INSERT INTO {target.Table} (id, document_id, title, text, tags, metadata, content_hash, ordinal, embedding)
            SELECT u.id, u.document_id, u.title, u.text, u.tags::jsonb, u.metadata::jsonb, u.content_hash, u.ordinal, u.embedding::{target.VectorType}
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int4[], $9::text[])
                AS u(id, document_id, title, text, tags, metadata, content_hash, ordinal, embedding)
            ON CONFLICT (id) DO UPDATE SET
                document_id = EXCLUDED.document_id, title = EXCLUDED.title, text = EXCLUDED.text, tags = EXCLUDED.tags,
                metadata = EXCLUDED.metadata, content_hash = EXCLUDED.content_hash, ordinal = EXCLUDED.ordinal,
                embedding = EXCLUDED.embedding
            """;
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        AddArray(command, batch.Select(p => p.Id));
        AddArray(command, batch.Select(p => p.Payload.DocumentId));
        AddArray(command, batch.Select(p => p.Payload.Title));
        AddArray(command, batch.Select(p => p.Payload.Text));
        AddArray(command, batch.Select(p => PgVectorText.FormatTags(p.Payload.Tags)));
        AddArray(command, batch.Select(p => PgVectorText.FormatMetadata(p.Payload.Metadata)));
        AddArray(command, batch.Select(p => p.Payload.ContentHash));
        command.Parameters.Add(new NpgsqlParameter { Value = batch.Select(p => p.Payload.Ordinal).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        AddArray(command, batch.Select(p => PgVectorText.FormatVector(p.Vector)));
        await command.ExecuteNonQueryAsync(ct);
        return true;
    }

    private async Task<IReadOnlyList<VectorSearchHit>> SearchIndexedAsync(
        NpgsqlConnection connection, PgVectorCollection target, VectorQuery query, VectorFilter? filter, CancellationToken ct)
    {
        // halfvec orders candidates with rounded vectors; take twice as many and rank them by the exact distance.
        var candidates = target.IndexKind == PgIndexKind.HalfVector ? query.TopK * 2 : query.TopK;
        var efSearch = Math.Clamp(Math.Max(_options.HnswEfSearch, candidates), 1, 1000);
        var where = filter is null ? string.Empty : Where(filter, 2, out _);

        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(string.Create(CultureInfo.InvariantCulture, $"SET hnsw.ef_search = {efSearch}")));
        if (_iterativeScan)
        {
            // pgvector 0.8: keep walking the graph while the filter rejects rows, in exact distance order.
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SET hnsw.iterative_scan = strict_order"));
        }

        var select = new NpgsqlBatchCommand(
            $"SELECT {PointColumns}, {target.ExactDistance} FROM {target.Table}{where} ORDER BY {target.IndexedDistance} LIMIT $" + (filter is null ? "2" : "4"));
        select.Parameters.Add(new NpgsqlParameter { Value = PgVectorText.FormatVector(query.Vector), NpgsqlDbType = NpgsqlDbType.Text });
        if (filter is not null)
        {
            AddFilterParameters(select, filter);
        }

        select.Parameters.Add(new NpgsqlParameter { Value = candidates });
        batch.BatchCommands.Add(select);

        var hits = new List<VectorSearchHit>(candidates);
        await using (var reader = await batch.ExecuteReaderAsync(ct))
        {
            while (!reader.IsClosed && reader.FieldCount == 0 && await reader.NextResultAsync(ct))
            {
                // SET statements return no rows; skip to the SELECT's result.
            }

            while (await reader.ReadAsync(ct))
            {
                var point = ReadPoint(reader, target);
                hits.Add(new VectorSearchHit(point.Id, target.Score(reader.GetDouble(9)), point.Payload));
            }
        }

        return target.IndexKind == PgIndexKind.HalfVector
            ? [.. hits.OrderByDescending(h => h.Score).ThenBy(h => h.Id, StringComparer.Ordinal).Take(query.TopK)]
            : hits;
    }

    private static async Task<IReadOnlyList<VectorSearchHit>> SearchExactAsync(
        NpgsqlConnection connection, PgVectorCollection target, VectorQuery query, VectorFilter? filter, CancellationToken ct)
    {
        var where = filter is null ? string.Empty : Where(filter, 2, out _);

        // "+ 0" makes the sort key an expression no index serves: the planner scans (with the GIN filter) and sorts exactly.
        await using var command = new NpgsqlCommand(
            $"SELECT {PointColumns}, {target.ExactDistance} FROM {target.Table}{where} ORDER BY {target.ExactDistance} + 0, id LIMIT $" + (filter is null ? "2" : "4"),
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = PgVectorText.FormatVector(query.Vector), NpgsqlDbType = NpgsqlDbType.Text });
        if (filter is not null)
        {
            AddFilterParameters(command, filter);
        }

        command.Parameters.Add(new NpgsqlParameter { Value = query.TopK });
        var hits = new List<VectorSearchHit>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var point = ReadPoint(reader, target);
            hits.Add(new VectorSearchHit(point.Id, target.Score(reader.GetDouble(9)), point.Payload));
        }

        return hits;
    }

    /// <summary>" WHERE tags @> $i AND metadata @> $i+1" (jsonb containment, served by the GIN indexes; numbers compare by value).</summary>
    private static string Where(VectorFilter filter, int firstParameter, out int nextParameter)
    {
        nextParameter = firstParameter + 2;
        return string.Create(
            CultureInfo.InvariantCulture, $" WHERE tags @> ${firstParameter}::jsonb AND metadata @> ${firstParameter + 1}::jsonb");
    }

    private static void AddFilterParameters(NpgsqlCommand command, VectorFilter filter)
    {
        command.Parameters.Add(new NpgsqlParameter { Value = PgVectorText.FormatTags(filter.Tags), NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = PgVectorText.FormatMetadata(filter.Metadata), NpgsqlDbType = NpgsqlDbType.Text });
    }

    private static void AddFilterParameters(NpgsqlBatchCommand command, VectorFilter filter)
    {
        command.Parameters.Add(new NpgsqlParameter { Value = PgVectorText.FormatTags(filter.Tags), NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = PgVectorText.FormatMetadata(filter.Metadata), NpgsqlDbType = NpgsqlDbType.Text });
    }

    private static void AddArray(NpgsqlCommand command, IEnumerable<string?> values) =>
        command.Parameters.Add(new NpgsqlParameter { Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });

    private static async Task<IReadOnlyList<VectorPoint>> ReadPointsAsync(NpgsqlCommand command, PgVectorCollection target, CancellationToken ct)
    {
        var points = new List<VectorPoint>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            points.Add(ReadPoint(reader, target));
        }

        return points;
    }

    private static VectorPoint ReadPoint(NpgsqlDataReader reader, PgVectorCollection target)
    {
        var payload = new PointPayload(
            reader.GetString(1),
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.GetString(3),
            PgVectorText.ParseTags(reader.GetString(4)),
            PgVectorText.ParseMetadata(reader.GetString(5)),
            reader.GetString(6),
            reader.GetInt32(7));
        return new VectorPoint(reader.GetString(0), PgVectorText.ParseVector(reader.GetString(8), target.Spec.Dimensions), payload);
    }

    private static void Validate(PgVectorCollection target, VectorPoint point)
    {
        VectorMath.Validate(point.Vector, target.Spec.Dimensions, point.Id);
        if (target.IndexKind == PgIndexKind.HalfVector)
        {
            foreach (var value in point.Vector)
            {
                if (Math.Abs(value) > PgVectorCollection.MaxHalfValue)
                {
                    throw new InvalidVectorException(
                        $"Vector for point '{point.Id}' has a value beyond ±65504, which the half-precision index of a collection above "
                        + $"{PgVectorCollection.MaxVectorIndexDimensions} dimensions cannot hold.");
                }
            }
        }
    }

    // ---- catalog and connections -----------------------------------------------------------------------

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _initialized))
        {
            return;
        }

        await _initialization.WaitAsync(cancellationToken);
        try
        {
            if (_initialized)
            {
                return;
            }

            var found = await RunAsync(async (connection, ct) =>
            {
                var statements = new List<string>();
                if (_options.CreateExtension)
                {
                    statements.Add("CREATE EXTENSION IF NOT EXISTS vector");
                }

                statements.Add($"CREATE SCHEMA IF NOT EXISTS \"{_options.Schema}\"");
                statements.Add($"""
                    CREATE TABLE IF NOT EXISTS {_catalog} (
                        name text COLLATE "C" PRIMARY KEY,
                        table_name text NOT NULL UNIQUE,
                        dimensions integer NOT NULL,
                        metric text NOT NULL,
                        fingerprint text NOT NULL,
                        index_kind text NOT NULL,
                        created_at timestamptz NOT NULL DEFAULT now())
                    """);
                foreach (var statement in statements)
                {
                    await using var command = new NpgsqlCommand(statement, connection);
                    await command.ExecuteNonQueryAsync(ct);
                }

                await using var versionCommand = new NpgsqlCommand(
                    "SELECT e.extversion, quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'",
                    connection);
                await using var reader = await versionCommand.ExecuteReaderAsync(ct);
                return await reader.ReadAsync(ct) ? (reader.GetString(0), reader.GetString(1)) : ((string, string)?)null;
            }, cancellationToken);

            if (found is not (var version, var extensionSchema))
            {
                throw new InvalidOperationException(
                    "The pgvector extension is not installed in this database; run CREATE EXTENSION vector (or set CreateExtension).");
            }

            _extensionSchema = extensionSchema;
            _iterativeScan = Version.TryParse(version, out var parsed) && parsed >= new Version(0, 8);
            _logger.LogInformation(
                "pgvector backend ready (pgvector {Version}, schema {Schema}, iterative filtered scans {Iterative})",
                version, _options.Schema, _iterativeScan);
            Volatile.Write(ref _initialized, true);
        }
        finally
        {
            _initialization.Release();
        }
    }

    private async Task<PgVectorCollection?> ReadCatalogAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string name, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            $"SELECT table_name, dimensions, metric, fingerprint, index_kind FROM {_catalog} WHERE name = $1", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = name, NpgsqlDbType = NpgsqlDbType.Text });
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        var spec = new VectorCollectionSpec(
            name,
            reader.GetInt32(1),
            Enum.Parse<DistanceMetric>(reader.GetString(2)),
            ModelFingerprint.Parse(reader.GetString(3)));
        return new PgVectorCollection(spec, _options.Schema, reader.GetString(0), Enum.Parse<PgIndexKind>(reader.GetString(4)), _extensionSchema);
    }

    private async Task<PgVectorCollection> GetAsync(string collection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collection);
        if (_collections.TryGetValue(collection, out var known))
        {
            return known;
        }

        await InitializeAsync(cancellationToken);
        var found = await RunAsync((connection, ct) => ReadCatalogAsync(connection, null, collection, ct), cancellationToken)
            ?? throw new VectorCollectionNotFoundException(collection);
        return _collections.GetOrAdd(collection, found);
    }

    /// <summary>Maps "table does not exist" (the collection was dropped, perhaps by another process) to the SDK's not-found.</summary>
    private async Task<T> Guard<T>(PgVectorCollection target, Func<Task<T>> work)
    {
        try
        {
            return await work();
        }
        catch (PostgresException e) when (e.SqlState == UndefinedTable)
        {
            _collections.TryRemove(new KeyValuePair<string, PgVectorCollection>(target.Spec.Name, target));
            throw new VectorCollectionNotFoundException(target.Spec.Name);
        }
    }

    /// <summary>
    /// Runs on a pooled connection. A connection that broke (server restarted, network cut) is dropped from the
    /// pool and the work is sent again on a fresh one (<see cref="_retry"/>): every statement here is idempotent.
    /// </summary>
    private async Task<T> RunAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        await _retry.ExecuteAsync(
            async token =>
            {
                try
                {
                    await using var connection = await _dataSource.OpenConnectionAsync(token);
                    return await work(connection, token);
                }
                catch (Exception e) when (IsBrokenConnection(e))
                {
                    // The pool's other connections went with the server: the next attempt opens a fresh one.
                    _dataSource.Clear();
                    throw;
                }
            },
            cancellationToken);

    private static bool IsBrokenConnection(Exception e) => e switch
    {
        PostgresException => false,
        NpgsqlException { InnerException: IOException or SocketException or EndOfStreamException } => true,
        NpgsqlException npgsql => npgsql.IsTransient,
        IOException or SocketException => true,

        // Npgsql can report a connection the server dropped mid-command as a disposed internal object.
        ObjectDisposedException { Source: "Npgsql" } => true,
        _ => false,
    };
}
