using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using RagPlatform.Core.Collections;

namespace RagPlatform.Storage.Postgres;

/// <summary>
/// Document locks shared by every process on the database: transaction-scoped advisory locks on a 64-bit
/// hash of (collection, document), held by a connection with an open transaction until the handle is
/// disposed. Keys are taken in ascending order so two batches cannot deadlock. If the process dies, its
/// session ends and PostgreSQL releases the locks: no stale lock outlives its holder. Two documents whose
/// hashes collide merely take turns.
/// </summary>
public sealed class PostgresDocumentLocks(NpgsqlDataSource dataSource) : IDocumentLocks
{
    public async Task<IAsyncDisposable> AcquireAsync(string collection, IEnumerable<string> documentIds, CancellationToken cancellationToken)
    {
        var keys = documentIds.Select(id => KeyOf(collection, id)).Distinct().Order().ToArray();
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            // One statement, keys in ascending order: the calls run row by row as unnest yields the array.
            await using var command = new NpgsqlCommand(
                "SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS t(k)", connection, transaction);
            command.Parameters.AddWithValue(keys);
            await command.ExecuteNonQueryAsync(cancellationToken);
            return new Held(connection, transaction);
        }
        catch
        {
            // Cancelled while waiting: closing the session gives up whatever was taken.
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>The lock key of a document: the first 8 bytes of SHA-256 over "collection\0document" (stable across processes, unlike string.GetHashCode).</summary>
    public static long KeyOf(string collection, string documentId)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(collection + "\0" + documentId), hash);
        return BinaryPrimitives.ReadInt64BigEndian(hash);
    }

    private sealed class Held(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        private int _released;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
            {
                return;
            }

            try
            {
                // Ending the transaction releases every key at once.
                await transaction.RollbackAsync(CancellationToken.None);
            }
            finally
            {
                await transaction.DisposeAsync();
                await connection.DisposeAsync();
            }
        }
    }
}
