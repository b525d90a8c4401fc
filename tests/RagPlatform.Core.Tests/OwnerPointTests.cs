using System.Text.Json;
using RagPlatform.Core.IndexOwner;
using RagPlatform.Sdk;

namespace RagPlatform.Core.Tests;

public sealed class OwnerPointTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public void A_packed_vector_round_trips_every_bit()
    {
        float[] vector = [0.1f, -0.0f, float.Epsilon, -3.4028235e38f, 1f / 3, float.NaN, 0.70710677f];
        var payload = new PointPayload("doc", "제목", "본문", ["a"], PointPayload.NoMetadata, "hash", 2);

        var json = JsonSerializer.Serialize(OwnerPoint.From(new VectorPoint("p1", vector, payload)), Json);
        var back = JsonSerializer.Deserialize<OwnerPoint>(json, Json)!.ToPoint();

        Assert.Equal(
            vector.Select(BitConverter.SingleToInt32Bits),
            back.Vector.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal("p1", back.Id);
        Assert.Equal(payload.Text, back.Payload.Text);
        // Packed: one base64 string, 4 bytes a value, rather than an array of decimal numbers.
        Assert.Equal(Convert.ToBase64String(new byte[vector.Length * 4]).Length,
            JsonDocument.Parse(json).RootElement.GetProperty("vector").GetString()!.Length);
    }

    [Fact]
    public void A_packed_vector_that_is_not_whole_floats_is_rejected()
    {
        var json = """{"id":"p1","vector":"AAAAAAA=","payload":{"documentId":"d","text":"t","tags":[],"metadata":{},"contentHash":"h","ordinal":0}}""";

        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<OwnerPoint>(json, Json));
        Assert.Contains("5 bytes", error.Message);
    }
}
