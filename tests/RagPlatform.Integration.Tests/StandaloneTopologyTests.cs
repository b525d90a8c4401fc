using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Core.Caching;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Hosting;
using RagPlatform.Core.Storage;
using RagPlatform.Hosting;
using RagPlatform.Lexical;

namespace RagPlatform.Integration.Tests;

/// <summary>
/// The standalone composition (the Standalone host and `rag serve`) registers each component of its topology exactly
/// once, whichever configuration: every registration reads the one record, none replaces another's.
/// </summary>
public sealed class StandaloneTopologyTests : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "rag-topology-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    [Theory]
    [InlineData("", MetadataPlacement.Sqlite, LexicalPlacement.Embedded)]
    // The database is never reached: registering its components opens no connection.
    [InlineData("--ConnectionStrings:ragdb=Host=127.0.0.1;Port=9;Database=rag", MetadataPlacement.Postgres, LexicalPlacement.Postgres)]
    [InlineData("--ConnectionStrings:ragdb=Host=127.0.0.1;Port=9;Database=rag --RagPlatform:IndexOwner:Endpoint=http://127.0.0.1:9",
        MetadataPlacement.Postgres, LexicalPlacement.OwnerEmbedded)]
    [InlineData("--RagPlatform:IndexOwner:Serve=true", MetadataPlacement.Sqlite, LexicalPlacement.Embedded)]
    public void Each_topology_component_is_registered_once(string settings, MetadataPlacement metadata, LexicalPlacement lexical)
    {
        var builder = StandaloneHost.CreateBuilder(
            [.. settings.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--RagPlatform:DataDirectory=" + _dataDirectory]);

        var topology = builder.GetRagTopology();
        Assert.Equal((RagHostRole.Standalone, metadata, lexical), (topology.Role, topology.Metadata, topology.Lexical));
        foreach (var service in new[] { typeof(RagTopology), typeof(IMetadataStore), typeof(ILexicalIndex), typeof(IRagCache), typeof(IDocumentLocks) })
        {
            Assert.Single(builder.Services, d => d.ServiceType == service);
        }
    }

    [Fact]
    public void A_contradictory_topology_stops_the_standalone_host_before_it_is_built()
    {
        var error = Assert.Throws<InvalidOperationException>(() => StandaloneHost.CreateBuilder(
            ["--RagPlatform:IndexOwner:Serve=true", "--RagPlatform:IndexOwner:Endpoint=http://127.0.0.1:9", "--RagPlatform:DataDirectory=" + _dataDirectory]));
        Assert.Contains("RagPlatform:IndexOwner:Serve", error.Message);
        Assert.Contains("RagPlatform:IndexOwner:Endpoint", error.Message);
    }
}
