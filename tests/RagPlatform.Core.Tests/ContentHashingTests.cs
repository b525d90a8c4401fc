using System.Text.Json;
using RagPlatform.Core.Text;

namespace RagPlatform.Core.Tests;

public class ContentHashingTests
{
    [Fact]
    public void Point_ids_are_deterministic_uuids()
    {
        var a = ContentHashing.PointId("docs", "doc-1", "abc", 0);

        Assert.Equal(a, ContentHashing.PointId("docs", "doc-1", "abc", 0));
        Assert.True(Guid.TryParse(a, out _));
        Assert.NotEqual(a, ContentHashing.PointId("docs", "doc-1", "abc", 1));
        Assert.NotEqual(a, ContentHashing.PointId("docs", "doc-2", "abc", 0));
        Assert.NotEqual(a, ContentHashing.PointId("other", "doc-1", "abc", 0));
    }

    [Fact]
    public void Point_id_is_a_known_value_so_ids_cannot_drift_between_versions()
    {
        // Changing this breaks idempotency for every stored collection: it needs a migration, not a test update.
        // Independently computed: SHA-256("docs\u001Fdoc-1\u001Fabc\u001F0"), first 16 bytes, version 8 and variant bits set.
        Assert.Equal("a2ddc6f8-35c2-8642-9c4c-3e8450fa66d5", ContentHashing.PointId("docs", "doc-1", "abc", 0));
    }

    [Fact]
    public void Chunk_hash_depends_on_text_and_chunking_parameters()
    {
        var hash = ContentHashing.ChunkHash("v1;max=256", "은행");

        Assert.Equal(64, hash.Length);
        Assert.NotEqual(hash, ContentHashing.ChunkHash("v1;max=128", "은행"));
        Assert.NotEqual(hash, ContentHashing.ChunkHash("v1;max=256", "은행들"));
    }

    [Fact]
    public void Payload_hash_ignores_metadata_order_but_not_values()
    {
        var a = new Dictionary<string, JsonElement> { ["x"] = Json("1"), ["y"] = Json("\"b\"") };
        var b = new Dictionary<string, JsonElement> { ["y"] = Json("\"b\""), ["x"] = Json("1") };
        var c = new Dictionary<string, JsonElement> { ["x"] = Json("2"), ["y"] = Json("\"b\"") };

        Assert.Equal(ContentHashing.PayloadHash("t", ["k"], a), ContentHashing.PayloadHash("t", ["k"], b));
        Assert.NotEqual(ContentHashing.PayloadHash("t", ["k"], a), ContentHashing.PayloadHash("t", ["k"], c));
        Assert.NotEqual(ContentHashing.PayloadHash("t", ["k"], a), ContentHashing.PayloadHash(null, ["k"], a));
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();
}
