using RagPlatform.Core.Security;

namespace RagPlatform.Core.Tests;

public sealed class ApiKeysTests
{
    [Fact]
    public void A_created_key_matches_its_hash_and_carries_its_id()
    {
        var (key, id, hash) = ApiKeys.Create();

        Assert.StartsWith(ApiKeys.Prefix + id + "_", key, StringComparison.Ordinal);
        Assert.Equal(id, ApiKeys.IdOf(key));
        Assert.StartsWith("sha256:", hash, StringComparison.Ordinal);
        Assert.True(ApiKeys.Matches(key, hash));
        Assert.DoesNotContain(key[(ApiKeys.Prefix.Length + id.Length + 1)..], hash, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("rag_")]
    [InlineData("sk-abcdef")]
    [InlineData("rag_ABCDEFGHIJKL_secret")]
    [InlineData("rag_abcdefghijk_secret")]
    public void Malformed_keys_have_no_id(string key) => Assert.Null(ApiKeys.IdOf(key));

    [Fact]
    public void Another_key_or_a_damaged_hash_does_not_match()
    {
        var (key, _, hash) = ApiKeys.Create();
        var (other, _, _) = ApiKeys.Create();

        Assert.False(ApiKeys.Matches(other, hash));
        Assert.False(ApiKeys.Matches(key, hash[..^2]));
        Assert.False(ApiKeys.Matches(key, "sha256:" + new string('z', 64)));
        Assert.False(ApiKeys.Matches(key[..^1], hash));
    }
}
