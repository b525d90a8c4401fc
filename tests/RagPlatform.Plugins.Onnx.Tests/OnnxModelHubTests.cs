using System.Net;
using System.Net.Sockets;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance;

namespace RagPlatform.Plugins.Onnx.Tests;

/// <summary>The plugin takes a hub id instead of a folder: downloaded once through the model hub resolver.</summary>
public sealed class OnnxModelHubTests : IDisposable
{
    private readonly TempDirectory _data = new();

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task A_hub_id_is_downloaded_into_the_data_folder_once_and_embeds_like_the_local_folder()
    {
        using var hub = FixtureHub.Start(OnnxTestSupport.TinyBert, "test-org/tiny-bert");
        var settings = new Dictionary<string, string?>
        {
            ["ModelId"] = "test-org/tiny-bert",
            ["IntraOpThreads"] = "1",
            ["ModelHub:Endpoint"] = hub.Endpoint,
        };

        await using var fromHub = await new OnnxEmbedderPlugin().CreateAsync(PluginContexts.FromSettings(settings, _data.Path), default);
        await using var local = await new OnnxEmbedderPlugin().CreateAsync(PluginContexts.FromSettings(
            new Dictionary<string, string?>
            {
                ["ModelPath"] = OnnxTestSupport.TinyBert,
                ["ModelId"] = "test-org/tiny-bert",
                ["IntraOpThreads"] = "1",
            },
            _data.Path), default);

        var a = await fromHub.EmbedAsync(["은행 대출 금리"], EmbeddingPurpose.Document, CancellationToken.None);
        var b = await local.EmbedAsync(["은행 대출 금리"], EmbeddingPurpose.Document, CancellationToken.None);
        Assert.Equal(local.Fingerprint, fromHub.Fingerprint);
        Assert.Equal(b[0].Vector, a[0].Vector);
        Assert.True(Directory.Exists(Path.Combine(_data.Path, "models", "models--test-org--tiny-bert")));

        // A second creation is served from the cache: the hub is not asked again for the model file.
        var requests = hub.Requests;
        await using var again = await new OnnxEmbedderPlugin().CreateAsync(PluginContexts.FromSettings(settings, _data.Path), default);
        Assert.Equal(requests, hub.Requests);
    }

    [Fact]
    public async Task Neither_a_folder_nor_a_hub_id_is_refused_naming_both_settings()
    {
        var error = await Assert.ThrowsAsync<PluginConfigurationException>(async () => await new OnnxEmbedderPlugin().CreateAsync(
            PluginContexts.FromSettings(new Dictionary<string, string?>(), _data.Path), default));
        Assert.Contains("ModelPath", error.Message, StringComparison.Ordinal);
        Assert.Contains("ModelId", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A loopback stand-in for the hub's <c>/{repo}/resolve/{revision}/{file}</c> that serves a model folder.</summary>
    private sealed class FixtureHub : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly string _folder;
        private readonly string _repository;
        private int _requests;

        private FixtureHub(string folder, string repository, int port)
        {
            _folder = folder;
            _repository = repository;
            Endpoint = $"http://127.0.0.1:{port}";
            _listener.Prefixes.Add(Endpoint + "/");
            _listener.Start();
            _ = Task.Run(ServeAsync);
        }

        public string Endpoint { get; }

        public int Requests => Volatile.Read(ref _requests);

        public static FixtureHub Start(string folder, string repository)
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            return new FixtureHub(folder, repository, port);
        }

        public void Dispose() => _listener.Close();

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                Interlocked.Increment(ref _requests);
                var prefix = $"/{_repository}/resolve/main/";
                var path = context.Request.Url!.AbsolutePath;
                var file = path.StartsWith(prefix, StringComparison.Ordinal) ? Path.Combine(_folder, path[prefix.Length..]) : null;
                if (file is null || !File.Exists(file))
                {
                    context.Response.StatusCode = 404;
                    context.Response.Close();
                    continue;
                }

                var bytes = await File.ReadAllBytesAsync(file);
                context.Response.StatusCode = 200;
                context.Response.ContentLength64 = bytes.Length;
                if (context.Request.HttpMethod != "HEAD")
                {
                    await context.Response.OutputStream.WriteAsync(bytes);
                }

                context.Response.Close();
            }
        }
    }
}
