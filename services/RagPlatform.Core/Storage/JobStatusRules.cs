using System.Data.Common;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Core.Storage;

/// <summary>
/// How a job's state follows from its items, for every metadata store (SQLite and Postgres): the stores count the
/// items, this decides what the counts mean, so a job reads the same whichever store holds it.
/// </summary>
public static class JobStatusRules
{
    /// <summary>
    /// <see cref="JobStates.Queued"/> until a first item is recorded, <see cref="JobStates.Running"/> until every item
    /// is, then <see cref="JobStates.Completed"/> (no failure), <see cref="JobStates.Failed"/> (every item failed) or
    /// <see cref="JobStates.CompletedWithErrors"/>.
    /// </summary>
    public static string StateOf(int total, int processed, int failed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        ArgumentOutOfRangeException.ThrowIfNegative(processed);
        ArgumentOutOfRangeException.ThrowIfNegative(failed);
        return processed < total ? (processed == 0 ? JobStates.Queued : JobStates.Running)
            : failed == 0 ? JobStates.Completed
            : failed == total ? JobStates.Failed
            : JobStates.CompletedWithErrors;
    }

    /// <summary>Whether a job with these counts is over (no item left to record).</summary>
    public static bool IsDone(int total, int processed) => processed >= total;

    /// <summary>
    /// The status of a job from the row both stores' summary query returns, in this column order: collection, total,
    /// created at, completed at (or null), items recorded, succeeded, failed, skipped, unchanged, chunks embedded,
    /// reused, unchanged, deleted. <paramref name="timestamp"/> reads a time column in the store's own format.
    /// </summary>
    public static JobStatus FromSummaryRow(Guid jobId, DbDataReader row, Func<DbDataReader, int, DateTimeOffset> timestamp)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(timestamp);
        var total = Convert.ToInt32(row.GetValue(1), System.Globalization.CultureInfo.InvariantCulture);
        var processed = Convert.ToInt32(row.GetValue(4), System.Globalization.CultureInfo.InvariantCulture);
        var succeeded = Convert.ToInt32(row.GetValue(5), System.Globalization.CultureInfo.InvariantCulture);
        var failed = Convert.ToInt32(row.GetValue(6), System.Globalization.CultureInfo.InvariantCulture);
        return new JobStatus(
            jobId, row.GetString(0), StateOf(total, processed, failed), total, processed, succeeded, failed,
            Convert.ToInt32(row.GetValue(7), System.Globalization.CultureInfo.InvariantCulture),
            Convert.ToInt32(row.GetValue(8), System.Globalization.CultureInfo.InvariantCulture),
            Convert.ToInt64(row.GetValue(9), System.Globalization.CultureInfo.InvariantCulture),
            Convert.ToInt64(row.GetValue(10), System.Globalization.CultureInfo.InvariantCulture),
            Convert.ToInt64(row.GetValue(11), System.Globalization.CultureInfo.InvariantCulture),
            Convert.ToInt64(row.GetValue(12), System.Globalization.CultureInfo.InvariantCulture),
            [], timestamp(row, 2), row.IsDBNull(3) ? null : timestamp(row, 3));
    }

    /// <summary>The failed items of a job, as its status lists them (document id order, at most this many).</summary>
    public const int MaxListedErrors = 1000;

    /// <summary>Reads the (document id, error) rows of a job's failed items.</summary>
    public static async Task<IReadOnlyList<JobItemError>> ReadErrorsAsync(DbDataReader rows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var list = new List<JobItemError>();
        while (await rows.ReadAsync(cancellationToken))
        {
            list.Add(new JobItemError(rows.GetString(0), rows.IsDBNull(1) ? "failed" : rows.GetString(1)));
        }

        return list;
    }
}
