using System.ClientModel;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Embeddings;
using RagPlatform.Tests.Shared;

namespace RagPlatform.Extensions.AI.Tests;

/// <summary>
/// The standalone host on Kestrel (127.0.0.1, a free port) with one more embedding provider, "openai-sdk": the OpenAI
/// SDK's IEmbeddingGenerator (Microsoft.Extensions.AI.OpenAI), registered in the service container and pointed at this
/// same host's OpenAI-compatible /v1/embeddings, which serves the hashing model. Its fingerprint is configured as the
/// hashing model's, which it is: the vectors come from that model.
/// </summary>
public sealed class GeneratorPlatform() : LoopbackStandaloneHost("rag-meai-")
{
    public const string ProviderName = "openai-sdk";
    public const string HashingFingerprint = "hashing/korean-ngram-v1@1;dim=1024;pool=none;norm=l2";

    /// <summary>How many embedding calls the registered generator made (each one an HTTP request to /v1/embeddings).</summary>
    public int GeneratorCalls => Counter.Calls;

    private CountingGenerator Counter => (CountingGenerator)Services.GetRequiredKeyedService<IEmbeddingGenerator<string, Embedding<float>>>(ProviderName);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting($"RagPlatform:Embedding:Providers:{ProviderName}:Fingerprint", HashingFingerprint);
        builder.UseSetting($"RagPlatform:Embedding:Providers:{ProviderName}:MaxBatchSize", "64");
        builder.ConfigureServices(services =>
        {
            // Made on first use, when the server listens and its address is known.
            services.AddKeyedSingleton<IEmbeddingGenerator<string, Embedding<float>>>(ProviderName, (sp, _) =>
            {
                var client = new EmbeddingClient("hashing", new ApiKeyCredential("unused-by-a-keyless-loopback-server"),
                    new OpenAIClientOptions { Endpoint = new Uri(AddressOf(sp), "/v1") });
                return new CountingGenerator(client.AsIEmbeddingGenerator());
            });
            services.AddEmbeddingGeneratorProvider(ProviderName, serviceKey: ProviderName);
        });
    }

    private sealed class CountingGenerator(IEmbeddingGenerator<string, Embedding<float>> inner) : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
    {
        private int _calls;

        public int Calls => _calls;

        public override Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
            IEnumerable<string> values, Microsoft.Extensions.AI.EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            return base.GenerateAsync(values, options, cancellationToken);
        }
    }
}
