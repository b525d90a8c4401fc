using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace RagPlatform.ServiceDefaults.Tests;

/// <summary>
/// A loopback OTLP/gRPC receiver (HTTP/2 without TLS, as Aspire's dashboard serves it in the http profile):
/// answers each Export call with an empty message and grpc-status 0, and keeps the request frames.
/// </summary>
public sealed class GrpcOtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GrpcOtlpReceiver()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Run(async context =>
        {
            // This receiver runs in the process under test: keep its own server spans out of the exported traces.
            if (context.Features.Get<IHttpActivityFeature>()?.Activity is { } activity)
            {
                activity.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
                activity.IsAllDataRequested = false;
            }

            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            Received.Enqueue(new ReceivedExport(
                context.Request.Method, context.Request.Path.Value!, context.Request.ContentType ?? string.Empty,
                context.Request.Headers["x-otlp-api-key"].FirstOrDefault(), body.ToArray()));

            context.Response.ContentType = "application/grpc";
            await context.Response.Body.WriteAsync(new byte[5]); // an uncompressed, empty Export*ServiceResponse
            context.Response.AppendTrailer("grpc-status", "0");
        });
    }

    public ConcurrentQueue<ReceivedExport> Received { get; } = new();

    public Uri Endpoint { get; private set; } = null!;

    public IReadOnlyList<ReceivedExport> For(string service) => Received.Where(r => r.Path == $"/opentelemetry.proto.collector.{service}/Export").ToList();

    public static async Task<GrpcOtlpReceiver> StartAsync()
    {
        var receiver = new GrpcOtlpReceiver();
        await receiver._app.StartAsync();
        receiver.Endpoint = Loopback.AddressOf(receiver._app);
        return receiver;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
