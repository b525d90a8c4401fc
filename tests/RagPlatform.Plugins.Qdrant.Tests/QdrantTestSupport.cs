using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Lexical;
using RagPlatform.Plugins.Qdrant.Tests.Contract;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Plugins.Qdrant.Tests;

internal static class QdrantTestSupport
{
    public const string ApiKey = "test-key-3f9c2b7e-never-log-me";

    /// <summary>The platform's own lexical analysis with its default parameters, as the host hands it to the plugin.</summary>
    public static LexicalAnalysis Lexical { get; } = Analysis(KoreanLexicalTokenizer.Default);

    /// <summary>The analysis the host hands over for a tokenizer (RagPlatform:Lexical:WordTerms and :ParticleStems).</summary>
    public static LexicalAnalysis Analysis(KoreanLexicalTokenizer tokenizer) => new(tokenizer.AnalyzerId, tokenizer.Tokenize, 1.2, 0.75);

    public static QdrantVectorBackend Backend(
        QdrantGrpcServer server, QdrantOptions? options = null, ILogger? logger = null, string? connectionString = null, LexicalAnalysis? lexical = null) =>
        new(options ?? new QdrantOptions { RetryBaseDelayMilliseconds = 10 }, ServiceConnectionString.Parse(connectionString ?? server.ConnectionString), lexical ?? Lexical, logger ?? NullLogger.Instance);
}
