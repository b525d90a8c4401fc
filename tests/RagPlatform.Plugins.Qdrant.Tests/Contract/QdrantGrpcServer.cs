using System.Net;
using Google.Protobuf;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Qdrant.Client.Grpc;

namespace RagPlatform.Plugins.Qdrant.Tests.Contract;

/// <summary>
/// Qdrant's gRPC API on 127.0.0.1 (a free port, HTTP/2 without TLS, as Qdrant serves it on 6334), answered by
/// <see cref="QdrantContract"/>. The services, their method names and every message type come from the Qdrant.Client
/// package's own descriptors (<c>Points.Descriptor</c>, <c>Collections.Descriptor</c>, <c>Snapshots.Descriptor</c>):
/// no .proto is copied, so a message the package and this server disagree on cannot exist. Grpc.AspNetCore binds the
/// methods (the package ships client stubs only, so they are bound here by name through a method provider).
/// </summary>
public sealed class QdrantGrpcServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private QdrantGrpcServer(WebApplication app, QdrantContract contract, Uri address)
    {
        _app = app;
        Contract = contract;
        Address = address;
    }

    /// <summary>What the server holds and saw.</summary>
    public QdrantContract Contract { get; }

    /// <summary>e.g. http://127.0.0.1:41234.</summary>
    public Uri Address { get; }

    /// <param name="apiKey">The key every call must carry in its api-key header (null: none needed).</param>
    /// <param name="maxRequestBytes">Largest request accepted (Qdrant's service.max_request_size_mb, 32 MiB by default).</param>
    public static async Task<QdrantGrpcServer> StartAsync(string? apiKey = null, int maxRequestBytes = 32 * 1024 * 1024)
    {
        var contract = new QdrantContract(apiKey);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddSingleton(contract);
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = maxRequestBytes;
            grpc.MaxSendMessageSize = null;
            grpc.EnableDetailedErrors = false;
        });
        builder.Services.AddSingleton<IServiceMethodProvider<QdrantContract>, QdrantMethods>();
        var app = builder.Build();
        app.MapGrpcService<QdrantContract>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new QdrantGrpcServer(app, contract, new Uri(address.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal)));
    }

    /// <summary>Aspire's connection string for this server: <c>Endpoint=http://127.0.0.1:port;Key=…</c>.</summary>
    public string ConnectionString => Contract.ApiKey is null ? $"Endpoint={Address.ToString().TrimEnd('/')}" : $"Endpoint={Address.ToString().TrimEnd('/')};Key={Contract.ApiKey}";

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Binds the contract's handlers to the package's method descriptors.</summary>
    private sealed class QdrantMethods : IServiceMethodProvider<QdrantContract>
    {
        public void OnServiceMethodDiscovery(ServiceMethodProviderContext<QdrantContract> context)
        {
            var collections = global::Qdrant.Client.Grpc.Collections.Descriptor;
            Bind<GetCollectionInfoRequest, GetCollectionInfoResponse>(context, collections, "Get", (c, r, x) => c.GetCollection(r, x));
            Bind<CreateCollection, CollectionOperationResponse>(context, collections, "Create", (c, r, x) => c.CreateCollection(r, x));
            Bind<UpdateCollection, CollectionOperationResponse>(context, collections, "Update", (c, r, x) => c.UpdateCollection(r, x));
            Bind<DeleteCollection, CollectionOperationResponse>(context, collections, "Delete", (c, r, x) => c.DeleteCollection(r, x));
            Bind<ChangeAliases, CollectionOperationResponse>(context, collections, "UpdateAliases", (c, r, x) => c.UpdateAliases(r, x));
            Bind<ListAliasesRequest, ListAliasesResponse>(context, collections, "ListAliases", (c, r, x) => c.ListAliases(r, x));
            Bind<ListCollectionAliasesRequest, ListAliasesResponse>(context, collections, "ListCollectionAliases", (c, r, x) => c.ListCollectionAliases(r, x));

            var points = global::Qdrant.Client.Grpc.Points.Descriptor;
            Bind<CreateFieldIndexCollection, PointsOperationResponse>(context, points, "CreateFieldIndex", (c, r, x) => c.CreateFieldIndex(r, x));
            Bind<UpsertPoints, PointsOperationResponse>(context, points, "Upsert", (c, r, x) => c.Upsert(r, x));
            Bind<DeletePoints, PointsOperationResponse>(context, points, "Delete", (c, r, x) => c.Delete(r, x));
            Bind<GetPoints, GetResponse>(context, points, "Get", (c, r, x) => c.Get(r, x));
            Bind<CountPoints, CountResponse>(context, points, "Count", (c, r, x) => c.Count(r, x));
            Bind<ScrollPoints, ScrollResponse>(context, points, "Scroll", (c, r, x) => c.Scroll(r, x));
            Bind<QueryPoints, QueryResponse>(context, points, "Query", (c, r, x) => c.Query(r, x));

            var snapshots = global::Qdrant.Client.Grpc.Snapshots.Descriptor;
            Bind<CreateSnapshotRequest, CreateSnapshotResponse>(context, snapshots, "Create", (c, r, x) => c.CreateSnapshot(r, x));
            Bind<ListSnapshotsRequest, ListSnapshotsResponse>(context, snapshots, "List", (c, r, x) => c.ListSnapshots(r, x));
            Bind<DeleteSnapshotRequest, DeleteSnapshotResponse>(context, snapshots, "Delete", (c, r, x) => c.DeleteSnapshot(r, x));
        }

        private static void Bind<TRequest, TResponse>(
            ServiceMethodProviderContext<QdrantContract> context,
            ServiceDescriptor service,
            string name,
            Func<QdrantContract, TRequest, ServerCallContext, TResponse> handler)
            where TRequest : class, IMessage<TRequest>, new()
            where TResponse : class, IMessage<TResponse>, new()
        {
            var method = service.FindMethodByName(name) ?? throw new InvalidOperationException($"{service.FullName} has no method {name}.");
            if (method.InputType.ClrType != typeof(TRequest) || method.OutputType.ClrType != typeof(TResponse))
            {
                throw new InvalidOperationException(
                    $"{service.FullName}.{name} takes {method.InputType.ClrType.Name} and gives {method.OutputType.ClrType.Name}, not {typeof(TRequest).Name} → {typeof(TResponse).Name}.");
            }

            var requestParser = new MessageParser<TRequest>(() => new TRequest());
            var responseParser = new MessageParser<TResponse>(() => new TResponse());
            var descriptor = new Method<TRequest, TResponse>(
                MethodType.Unary,
                service.FullName,
                method.Name,
                Marshallers.Create(r => r.ToByteArray(), requestParser.ParseFrom),
                Marshallers.Create(r => r.ToByteArray(), responseParser.ParseFrom));
            context.AddUnaryMethod(descriptor, [], (contract, request, call) =>
            {
                contract.Authorize(call);
                return Task.FromResult(handler(contract, request, call));
            });
        }
    }
}
