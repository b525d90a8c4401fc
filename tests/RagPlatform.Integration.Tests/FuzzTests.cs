using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Core.Security;

namespace RagPlatform.Integration.Tests;

/// <summary>The secured host for the fuzz run: one key may write and read only the "fuzz" collection.</summary>
public sealed class FuzzPlatformFactory : PlatformFactory
{
    // Real HTTP on loopback: Kestrel's own parsing (paths, headers, bodies) is part of what is fuzzed.
    public FuzzPlatformFactory() => UseKestrel(options => options.Listen(IPAddress.Loopback, 0));

    public static readonly TestKey Admin = TestKey.Create("ops", RagScopes.Admin);
    public static readonly TestKey FuzzWriter = TestKey.Create("fuzzer-writer", RagScopes.Ingest, collections: ["fuzz"]);
    public static readonly TestKey FuzzReader = TestKey.Create("fuzzer-reader", RagScopes.Query, collections: ["fuzz"]);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        TestKey[] keys = [Admin, FuzzWriter, FuzzReader];
        for (var i = 0; i < keys.Length; i++)
        {
            var entry = keys[i].Entry;
            var prefix = $"{SecurityOptions.SectionName}:Keys:{i}:";
            builder.UseSetting(prefix + "Id", entry.Id);
            builder.UseSetting(prefix + "Client", entry.Client);
            builder.UseSetting(prefix + "Hash", entry.Hash);
            builder.UseSetting(prefix + "Scopes:0", entry.Scopes[0]);
            for (var c = 0; c < (entry.Collections?.Count ?? 0); c++)
            {
                builder.UseSetting($"{prefix}Collections:{c}", entry.Collections![c]);
            }
        }

        // The run is one client sending 10,000 requests: the request limit is not what is under test here.
        builder.UseSetting($"{SecurityOptions.SectionName}:RateLimits:RequestsPerWindow", "0");
        builder.UseSetting("RagPlatform:Ingestion:MaxRequestBytes", "262144");
    }
}

/// <summary>
/// A bounded, seeded fuzz run: 10,000 malformed or hostile requests across every endpoint of the route table
/// (bad paths and names, methods, headers, keys, content types, JSON that is broken, deep, huge, mistyped or
/// not UTF-8). Every answer must be a 4xx or a success, a key must never see another collection's text, and
/// the documents ingested before the run must be exactly as they were.
/// </summary>
public sealed class FuzzTests(FuzzPlatformFactory factory) : IClassFixture<FuzzPlatformFactory>
{
    private const int Requests = 10_000;
    private const string ProtectedMarker = "보호된문서표식";

    [Fact]
    public async Task Ten_thousand_hostile_requests_get_only_4xx_or_success_and_change_nothing_they_should_not()
    {
        using var admin = Client(FuzzPlatformFactory.Admin.Key);
        await admin.IngestAsync("protected", new object[]
        {
            new { id = "secret-1", title = "기밀", text = $"{ProtectedMarker} 임원 회의록: 합병 일정은 3월이다.", tags = new[] { "internal" } },
            new { id = "secret-2", title = "기밀 2", text = $"{ProtectedMarker} 급여 테이블 개정안.", metadata = new Dictionary<string, object> { ["level"] = 3 } },
        });
        await admin.IngestAsync("fuzz", KoreanSamples.Documents());
        var before = await SnapshotAsync(admin);

        var random = new Random(20261121);
        var templates = RouteTemplates();
        var requests = Enumerable.Range(0, Requests).Select(_ => Generate(random, templates)).ToList();
        var failures = new List<string>();
        var leaks = new List<string>();
        var statuses = new Dictionary<int, int>();
        using var gate = new SemaphoreSlim(16);
        var clients = new Dictionary<string, HttpClient>();
        foreach (var request in requests)
        {
            clients.TryAdd(request.Auth, ClientFor(request.Auth));
        }

        await Task.WhenAll(requests.Select(async request =>
        {
            await gate.WaitAsync();
            try
            {
                using var message = request.ToMessage();
                HttpResponseMessage response;
                try
                {
                    response = await clients[request.Auth].SendAsync(message);
                }
                catch (HttpRequestException)
                {
                    // Kestrel may close a connection over a request it cannot parse; a crash would fail the snapshot below.
                    lock (statuses)
                    {
                        statuses[0] = statuses.GetValueOrDefault(0) + 1;
                    }

                    return;
                }

                using var disposeResponse = response;
                var body = await response.Content.ReadAsStringAsync();
                lock (statuses)
                {
                    statuses[(int)response.StatusCode] = statuses.GetValueOrDefault((int)response.StatusCode) + 1;
                    if ((int)response.StatusCode >= 500)
                    {
                        failures.Add($"{(int)response.StatusCode} {request} -> {body[..Math.Min(300, body.Length)]}");
                    }

                    if (request.Auth != "admin" && body.Contains(ProtectedMarker, StringComparison.Ordinal))
                    {
                        leaks.Add(request.ToString());
                    }
                }
            }
            finally
            {
                gate.Release();
            }
        }));
        foreach (var client in clients.Values)
        {
            client.Dispose();
        }

        Assert.True(failures.Count == 0, $"{failures.Count} server errors, e.g.:\n{string.Join('\n', failures.Take(10))}");
        Assert.True(leaks.Count == 0, $"another collection's text leaked to: {string.Join('\n', leaks.Take(10))}");
        Assert.Equal(Requests, statuses.Values.Sum());
        Assert.True(statuses.GetValueOrDefault(0) < Requests / 100, $"{statuses.GetValueOrDefault(0)} requests got no HTTP answer");
        Assert.True(statuses.Keys.Count(s => s is >= 400 and < 500) >= 5, "the run should meet many kinds of refusal: " + string.Join(", ", statuses.Keys));
        Assert.Equal(before, await SnapshotAsync(admin));
    }

    /// <summary>What must not change: the protected collection's stats and its full search results.</summary>
    private static async Task<string> SnapshotAsync(HttpClient admin)
    {
        var stats = await admin.StatsAsync("protected");
        var results = await admin.SearchAsync("protected", new { query = ProtectedMarker, topK = 10, mode = "lexical" });
        return $"{stats.Documents}/{stats.Chunks}/{stats.Version}|" + string.Join("|", results.Results
            .OrderBy(r => r.ChunkId, StringComparer.Ordinal)
            .Select(r => $"{r.DocumentId}:{r.ChunkId}:{r.Title}:{r.Text}:{string.Join(',', r.Tags)}:{string.Join(',', r.Metadata.Select(m => m.Key + "=" + m.Value.GetRawText()))}"));
    }

    private List<(string Method, RoutePattern Pattern)> RouteTemplates() =>
        [.. factory.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (m, e.RoutePattern)))];

    private HttpClient Client(string? key)
    {
        var client = factory.CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    private HttpClient ClientFor(string auth) => auth switch
    {
        "writer" => Client(FuzzPlatformFactory.FuzzWriter.Key),
        "reader" => Client(FuzzPlatformFactory.FuzzReader.Key),
        "forged" => Client(FuzzPlatformFactory.FuzzWriter.Key[..^3] + "xyz"),
        "garbage" => GarbageAuthClient(),
        _ => Client(null),
    };

    private HttpClient GarbageAuthClient()
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer rag_ ; DROP TABLE \"x\" ==");
        return client;
    }

    private static readonly string[] Names =
    [
        "fuzz", "fuzz", "fuzz", "protected", "", "..", "%2e%2e", "%00", "a%2Fb", new string('a', 300), "한국어컬렉션", "x%20y",
        "CON", "-", "UPPER", "a.b", "fuzz%0A", "%F0%9F%98%80", "null", "1e309", Guid.NewGuid().ToString(), "not-a-guid", "'; --",
    ];

    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

    private static readonly string[] Auths = ["writer", "writer", "reader", "reader", "none", "forged", "garbage"];

    private static readonly string[] ContentTypes =
    [
        "application/json", "application/json", "application/json", "application/json; charset=utf-16", "text/plain",
        "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1", "",
    ];

    private static FuzzRequest Generate(Random random, List<(string Method, RoutePattern Pattern)> templates)
    {
        var (method, pattern) = templates[random.Next(templates.Count)];
        if (random.Next(5) == 0)
        {
            method = Methods[random.Next(Methods.Length)];
        }

        var path = "/" + string.Join('/', pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => random.Next(40) == 0 ? literal.Content.ToUpperInvariant() : literal.Content,
            RoutePatternParameterPart => Names[random.Next(Names.Length)],
            _ => "",
        }))));
        if (random.Next(30) == 0)
        {
            path += random.Next(2) == 0 ? "/../../etc/passwd" : "?topK=-1&query=%ZZ";
        }

        var body = method is "GET" or "HEAD" or "DELETE" && random.Next(4) != 0 ? null : Body(random);
        return new FuzzRequest(method, path, Auths[random.Next(Auths.Length)], ContentTypes[random.Next(ContentTypes.Length)], body);
    }

    private static byte[] Body(Random random)
    {
        string Text() => random.Next(8) switch
        {
            0 => "",
            1 => new string('가', random.Next(1, 20_000)),
            2 => "\u0000\u0001\u001b[31m\u202e\uFEFF" + "\ud800",
            3 => "<script>alert(1)</script>",
            4 => "' OR 1=1; --",
            5 => string.Concat(Enumerable.Range(0, 50).Select(_ => (char)random.Next(0x20, 0xD7FF))),
            6 => "금리 대출 " + ProtectedMarker,
            _ => "정상적인 문장이다.",
        };

        string Json(object? value) => System.Text.Json.JsonSerializer.Serialize(value);
        var json = random.Next(22) switch
        {
            0 => "",
            1 => "null",
            2 => "{",
            3 => "[" + new string('[', 5000),
            4 => new string('[', 200) + new string(']', 200),
            5 => "{\"query\": 5, \"topK\": \"ten\"}",
            6 => "{\"query\": " + Json(Text()) + ", \"topK\": 1e309}",
            7 => "{\"query\": " + Json(Text()) + ", \"topK\": " + random.Next(-5, 2000) + ", \"mode\": " + Json(Text()) + "}",
            8 => "{\"query\": " + Json(Text()) + ", \"tags\": [1, null, {}], \"filter\": {\"a\": {\"b\": [1]}}}",
            9 => "[{\"id\": " + Json(Text()) + ", \"text\": " + Json(Text()) + "}]",
            10 => "[{\"id\": null, \"text\": 5}, 7, null]",
            11 => "[" + string.Join(',', Enumerable.Range(0, random.Next(1, 3000)).Select(i => "{\"id\":\"d" + i + "\",\"text\":\"x\"}")) + "]",
            12 => "{\"embedding\": {\"provider\": " + Json(Text()) + "}, \"vectorBackend\": \"../../etc\", \"chunking\": {\"maxTokens\": -1}}",
            13 => "{\"embedding\": {\"provider\": \"hashing\", \"settings\": {\"Dimensions\": \"99999999\"}}}",
            14 => "{\"model\": " + Json(Text()) + ", \"input\": [" + Json(Text()) + ", 5, null]}",
            15 => "{\"model\": \"hashing\", \"input\": " + Json(Enumerable.Range(0, random.Next(1, 5000)).Select(_ => "a").ToArray()) + ", \"encoding_format\": \"hex\"}",
            16 => "{\"query\": " + Json(Text()) + ", \"maxChars\": " + random.Next(-10, 10_000_000) + ", \"maxDocs\": " + random.Next(-2, 100) + "}",
            17 => "{\"__proto__\": {\"admin\": true}, \"query\": \"금리\"}",
            18 => "[{\"id\": \"fuzz-" + random.Next(100) + "\", \"text\": " + Json(Text()) + ", \"metadata\": {\"k\": " + Json(Text()) + ", \"n\": [1,2]}, \"tags\": [" + Json(Text()) + "]}]",
            19 => "{\"query\": \"금리\"}",
            20 => "[{\"id\": \"" + new string('i', 5000) + "\", \"text\": \"x\"}]",
            _ => "{\"query\":\"" + new string('\\', 3) + "\"}",
        };

        var bytes = Encoding.UTF8.GetBytes(json);
        if (random.Next(12) == 0 && bytes.Length > 2)
        {
            // Not UTF-8 at all.
            bytes[random.Next(bytes.Length)] = 0xFF;
            bytes[random.Next(bytes.Length)] = 0xC3;
        }

        return bytes;
    }

    private sealed record FuzzRequest(string Method, string Path, string Auth, string ContentType, byte[]? Body)
    {
        public HttpRequestMessage ToMessage()
        {
            var message = new HttpRequestMessage(new HttpMethod(Method), Path);
            if (Body is not null)
            {
                message.Content = new ByteArrayContent(Body);
                if (ContentType.Length > 0)
                {
                    message.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
                }
            }

            return message;
        }

        public override string ToString() =>
            $"{Method} {Path} [{Auth}, {ContentType}] {(Body is null ? "" : Encoding.UTF8.GetString(Body, 0, Math.Min(120, Body.Length)))}";
    }
}
