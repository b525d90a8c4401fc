using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Sdk.Storage;

namespace RagPlatform.Core.Tests;

/// <summary>The one journal the file-based stores (embedded vectors, FAISS, lexical index) keep their data in.</summary>
public sealed class JournalTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "rag-journal-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void Appended_frames_are_replayed_in_order_after_reopening()
    {
        using (var journal = Open([]))
        {
            journal.Append("a"u8);
            journal.Append("bb"u8);
        }

        var replayed = new List<(string, JournalPart)>();
        using var reopened = Open(replayed);
        Assert.Equal([("a", JournalPart.Log), ("bb", JournalPart.Log)], replayed);
        Assert.Equal(2 * Journal.FrameHeaderSize + 3, reopened.LogBytes);
    }

    [Fact]
    public void A_torn_last_frame_is_cut_off_and_new_frames_follow_the_last_whole_one()
    {
        using (var journal = Open([]))
        {
            journal.Append("first"u8);
            journal.Append("second"u8);
        }

        var log = Path.Combine(_directory, Journal.LogFileName);
        using (var stream = new FileStream(log, FileMode.Open))
        {
            stream.SetLength(stream.Length - 3);
        }

        var replayed = new List<(string, JournalPart)>();
        using (var reopened = Open(replayed))
        {
            Assert.Equal([("first", JournalPart.Log)], replayed);
            reopened.Append("third"u8);
        }

        replayed.Clear();
        using var again = Open(replayed);
        Assert.Equal(["first", "third"], replayed.Select(r => r.Item1));
    }

    [Fact]
    public void A_frame_whose_checksum_fails_ends_the_replay()
    {
        using (var journal = Open([]))
        {
            journal.Append("good"u8);
            journal.Append("flipped"u8);
        }

        var log = Path.Combine(_directory, Journal.LogFileName);
        var bytes = File.ReadAllBytes(log);
        bytes[^1] ^= 0x40;
        File.WriteAllBytes(log, bytes);

        var replayed = new List<(string, JournalPart)>();
        using var reopened = Open(replayed);
        Assert.Equal(["good"], replayed.Select(r => r.Item1));
    }

    [Fact]
    public void Compaction_moves_every_record_into_the_snapshot_and_empties_the_log()
    {
        using (var journal = Open([]))
        {
            journal.Append("old"u8);
            journal.Compact(2, snapshot =>
            {
                snapshot.Write("x"u8);
                snapshot.Write("y"u8);
            });
            Assert.Equal(0, journal.LogBytes);
            Assert.Equal(1, journal.Generation);
            journal.Append("after"u8);
        }

        var replayed = new List<(string, JournalPart)>();
        using var reopened = Open(replayed);
        Assert.Equal([("x", JournalPart.Snapshot), ("y", JournalPart.Snapshot), ("after", JournalPart.Log)], replayed);
        Assert.False(File.Exists(Path.Combine(_directory, Journal.SnapshotFileName + ".tmp")));
    }

    [Fact]
    public void A_log_of_an_older_generation_is_already_in_the_snapshot_and_is_discarded()
    {
        // A crash after the snapshot was renamed into place and before the log was reset.
        var log = Path.Combine(_directory, Journal.LogFileName);
        byte[] oldLog;
        using (var journal = Open([]))
        {
            journal.Append("folded"u8);
            oldLog = File.ReadAllBytes(log);
            journal.Compact(1, snapshot => snapshot.Write("folded"u8));
        }

        File.WriteAllBytes(log, oldLog);
        var replayed = new List<(string, JournalPart)>();
        using var reopened = Open(replayed);
        Assert.Equal([("folded", JournalPart.Snapshot)], replayed);
    }

    [Fact]
    public void A_snapshot_that_was_never_renamed_into_place_is_ignored()
    {
        using (var journal = Open([]))
        {
            journal.Append("kept"u8);
        }

        File.WriteAllText(Path.Combine(_directory, Journal.SnapshotFileName + ".tmp"), "half a snapshot");
        var replayed = new List<(string, JournalPart)>();
        using var reopened = Open(replayed);
        Assert.Equal(["kept"], replayed.Select(r => r.Item1));
        Assert.False(File.Exists(Path.Combine(_directory, Journal.SnapshotFileName + ".tmp")));
    }

    [Fact]
    public void A_damaged_snapshot_refuses_to_open()
    {
        using (var journal = Open([]))
        {
            journal.Compact(1, snapshot => snapshot.Write("whole"u8));
        }

        var snapshot = Path.Combine(_directory, Journal.SnapshotFileName);
        var bytes = File.ReadAllBytes(snapshot);
        bytes[^2] ^= 1;
        File.WriteAllBytes(snapshot, bytes);

        Assert.Throws<InvalidDataException>(() => Open([]));
    }

    [Fact]
    public void A_file_written_for_another_store_tag_is_refused()
    {
        using (var journal = Open([], tag: 8))
        {
            journal.Append("eight"u8);
        }

        Assert.Throws<InvalidDataException>(() => Open([], tag: 16));
    }

    [Fact]
    public void Older_files_make_a_migration_that_compaction_completes()
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllText(Path.Combine(_directory, "old.bin"), "older format");

        using (var journal = Open([], legacy: ["old.bin"]))
        {
            Assert.True(journal.MigrationPending);
            Assert.Throws<InvalidOperationException>(() => journal.Append("too early"u8));
            journal.SetMigratedGeneration(7);
            journal.Compact(1, snapshot => snapshot.Write("migrated"u8));
            Assert.False(journal.MigrationPending);
            Assert.Equal(8, journal.Generation);
        }

        Assert.False(File.Exists(Path.Combine(_directory, "old.bin")));
        var replayed = new List<(string, JournalPart)>();
        using var reopened = Open(replayed, legacy: ["old.bin"]);
        Assert.False(reopened.MigrationPending);
        Assert.Equal(["migrated"], replayed.Select(r => r.Item1));
    }

    [Fact]
    public void Taking_back_frames_leaves_the_log_as_before_them()
    {
        using (var journal = Open([]))
        {
            journal.Append("kept"u8);
            var position = journal.LogPosition;
            journal.Append("refused"u8);
            journal.TruncateTo(position);
        }

        var replayed = new List<(string, JournalPart)>();
        using var reopened = Open(replayed);
        Assert.Equal(["kept"], replayed.Select(r => r.Item1));
    }

    private Journal Open(List<(string, JournalPart)> replayed, int tag = 0, string[]? legacy = null) =>
        Journal.Open(_directory, new JournalOptions { Tag = tag, LegacyFiles = legacy ?? [] },
            (body, part) => replayed.Add((Encoding.UTF8.GetString(body), part)), NullLogger.Instance);
}
