using System.Reflection;
using Microsoft.AspNetCore.Hosting;
using RagPlatform.Tests.Shared;

namespace RagPlatform.Embedding.Tests;

/// <summary>
/// The standalone host (which serves the embedding worker's /v1/embeddings and /v1/models) on real Kestrel,
/// bound to 127.0.0.1 on a free port, with the onnx provider configured on the committed fixture model.
/// </summary>
public sealed class LoopbackWorker() : LoopbackStandaloneHost("rag-embedding-")
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("RagPlatform:Embedding:Providers:onnx:ModelPath", Metadata("TinyBertModel"));
        builder.UseSetting("RagPlatform:Embedding:Providers:onnx:IntraOpThreads", "1");
    }

    private static string Metadata(string key) => typeof(LoopbackWorker).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == key).Value!;
}
