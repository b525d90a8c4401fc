using Grpc.Core;
using Grpc.Core.Interceptors;
using Polly;

namespace RagPlatform.Plugins.Qdrant;

/// <summary>
/// Runs every unary gRPC call through RagPlatform's one retry policy (<see cref="Sdk.Remote.RemoteRetry"/>) in place
/// of the gRPC client's own retry configuration, so Qdrant is retried with the same bounds, back-off and counting as
/// every other remote service. Each attempt is a fresh call with the same options, so the call's deadline bounds all
/// attempts together.
/// </summary>
internal sealed class RemoteRetryInterceptor(ResiliencePipeline retry) : Interceptor
{
    /// <summary>What Qdrant answers while it is busy or restarting; every call here is safe to repeat (upserts and deletes by id, reads).</summary>
    public static bool IsTransient(Exception exception) =>
        exception is RpcException { StatusCode: StatusCode.Unavailable or StatusCode.ResourceExhausted };

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        AsyncUnaryCall<TResponse>? last = null;
        var response = retry.ExecuteAsync(
            async _ =>
            {
                last?.Dispose();
                last = continuation(request, context);
                return await last.ResponseAsync.ConfigureAwait(false);
            },
            context.Options.CancellationToken).AsTask();
        return new AsyncUnaryCall<TResponse>(
            response,
            response.ContinueWith(_ => last!.ResponseHeadersAsync, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap(),
            () => last!.GetStatus(),
            () => last!.GetTrailers(),
            () => last?.Dispose());
    }
}
