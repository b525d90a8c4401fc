using System.ClientModel;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Embeddings;

namespace RagPlatform.Extensions.AI.Tests;

/// <summary>
/// The standalone host on Kestrel (127.0.0.1, a free port) with one more embedding provider, "openai-sdk": the OpenAI
/// SDK's IEmbeddingGenerator (Microsoft.Extensions.AI.OpenAI), registered in the service container and pointed at this
/// same host's OpenAI-compatible /v1/embeddings, which serves the hashing model. Its fingerprint is configured as the
/// hashing model's, which it is: the vectors come from that model.
/// </summary>
public sealed class GeneratorPlatform : WebApplicationFactory<Program>
{
    public const string ProviderName = "openai-sdk";
    public const string HashingFingerprint = "hashing/korean-ngram-v1@1;dim=1024;pool=none;norm=l2";

    public GeneratorPlatform()
    {
        UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        StartServer();
    }

    public Uri BaseAddress => AddressOf(Services);

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "rag-meai-" + Guid.NewGuid().ToString("N"));

    /// <summary>How many embedding calls the registered generator made (each one an HTTP request to /v1/embeddings).</summary>
    public int GeneratorCalls => Counter.Calls;

    private CountingGenerator Counter => (CountingGenerator)Services.GetRequiredKeyedService<IEmbeddingGenerator<string, Embedding<float>>>(ProviderName);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("RagPlatform:DataDirectory", DataDirectory);
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
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

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A plugin still flushing: a temp folder left behind fails no test.
            }
        }
    }

    private static Uri AddressOf(IServiceProvider services) =>
        new(services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());

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
