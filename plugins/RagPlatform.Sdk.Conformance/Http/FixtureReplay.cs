using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace RagPlatform.Sdk.Conformance.Http;

/// <summary>
/// Replays a committed fixture of request/response exchanges: each request must match the next exchange exactly
/// (method, path and query, listed headers, and the JSON body compared as JSON), and gets that exchange's response.
/// Fixture files hold <c>{"source": "...", "exchanges": [{"request": {"method", "path", "headers"?, "body"?},
/// "response": {"status", "headers"?, "body"?}}]}</c>; <c>source</c> says which documentation the shapes come from.
/// </summary>
public sealed class FixtureReplay
{
    private readonly List<JsonObject> _exchanges;
    private readonly List<string> _mismatches = [];
    private readonly Lock _lock = new();
    private int _next;

    public FixtureReplay(string fixturePath, IReadOnlyDictionary<string, string>? placeholders = null)
    {
        var text = File.ReadAllText(fixturePath);
        foreach (var (name, value) in placeholders ?? new Dictionary<string, string>())
        {
            text = text.Replace("{{" + name + "}}", value, StringComparison.Ordinal);
        }

        var root = JsonNode.Parse(text)!.AsObject();
        Source = root["source"]?.GetValue<string>() ?? throw new InvalidDataException($"{fixturePath} does not say where its shapes come from ('source').");
        _exchanges = [.. root["exchanges"]!.AsArray().Select(e => e!.AsObject())];
        FixturePath = fixturePath;
    }

    public string FixturePath { get; }

    public string Source { get; }

    public CannedResponse Handle(RecordedRequest request)
    {
        lock (_lock)
        {
            if (_next >= _exchanges.Count)
            {
                _mismatches.Add($"Unexpected extra request {request.Method} {request.PathAndQuery}: {request.BodyText}");
                return new CannedResponse(500, "{\"fixture\":\"no more exchanges\"}");
            }

            var exchange = _exchanges[_next++];
            var expected = exchange["request"]!.AsObject();
            var problems = new List<string>();
            var method = expected["method"]!.GetValue<string>();
            var path = expected["path"]!.GetValue<string>();
            if (method != request.Method || path != request.PathAndQuery)
            {
                problems.Add($"expected {method} {path}, got {request.Method} {request.PathAndQuery}");
            }

            foreach (var (name, value) in expected["headers"]?.AsObject() ?? [])
            {
                if (request.Header(name) != value!.GetValue<string>())
                {
                    problems.Add($"header {name}: expected '{value}', got '{request.Header(name)}'");
                }
            }

            if (expected["body"] is JsonNode body)
            {
                var actual = request.Body.Length == 0 ? null : JsonNode.Parse(request.Body);
                if (!JsonNode.DeepEquals(body, actual))
                {
                    problems.Add($"body differs:\n  expected {body.ToJsonString()}\n  got      {actual?.ToJsonString()}");
                }
            }

            if (problems.Count > 0)
            {
                _mismatches.Add($"Exchange {_next} ({method} {path}) in {Path.GetFileName(FixturePath)}: {string.Join("; ", problems)}");
            }

            var response = exchange["response"]!.AsObject();
            var headers = response["headers"]?.AsObject().ToDictionary(h => h.Key, h => h.Value!.GetValue<string>());
            var responseBody = response["body"] switch
            {
                null => null,
                JsonValue raw when raw.GetValueKind() == JsonValueKind.String => raw.GetValue<string>(),
                JsonNode node => node.ToJsonString(),
            };
            return new CannedResponse(response["status"]!.GetValue<int>(), responseBody, headers);
        }
    }

    /// <summary>Fails the test unless every exchange was requested, in order, exactly as the fixture says.</summary>
    public void AssertComplete()
    {
        lock (_lock)
        {
            Assert.True(_mismatches.Count == 0, string.Join("\n", _mismatches));
            Assert.True(_next == _exchanges.Count, $"{_exchanges.Count - _next} exchange(s) of {Path.GetFileName(FixturePath)} were never requested.");
        }
    }
}
