using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using RagPlatform.Core.Plugins;
using RagPlatform.Sdk;

namespace RagPlatform.Core.Errors;

/// <summary>
/// Turns every failure into an RFC 7807 problem detail with a message a user can act on. Client mistakes
/// are 4xx naming the field; faults are 5xx without internals (and never secrets).
/// </summary>
public sealed class ProblemDetailsExceptionHandler(IProblemDetailsService problemDetails, ILogger<ProblemDetailsExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = Map(exception);
        if (problem.Status >= 500)
        {
            logger.LogError(exception, "Request {Method} {Path} failed", httpContext.Request.Method, httpContext.Request.Path);
        }

        httpContext.Response.StatusCode = problem.Status ?? StatusCodes.Status500InternalServerError;
        if (exception is RateLimitedException limited)
        {
            httpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(limited.RetryAfter.TotalSeconds))
                .ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    internal static ProblemDetails Map(Exception exception) => exception switch
    {
        RequestValidationException validation => new HttpValidationProblemDetails(validation.Errors)
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request is invalid.",
            Detail = validation.Message,
        },
        BadHttpRequestException { InnerException: JsonException json } => new HttpValidationProblemDetails(
            new Dictionary<string, string[]> { [json.Path ?? "$"] = [JsonMessage(json)] })
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request body is not valid JSON for this endpoint.",
            Detail = $"Invalid JSON at {json.Path ?? "$"}: {JsonMessage(json)}",
        },
        BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status413PayloadTooLarge => Problem(
            bad.StatusCode, "The request body is too large.", bad.Message.Contains("RagPlatform:", StringComparison.Ordinal)
                ? "body: " + bad.Message
                : "body: the request body exceeds the configured limit (RagPlatform:Ingestion:MaxRequestBytes; for files, MaxFilesRequestBytes)."),
        BadHttpRequestException bad => Problem(bad.StatusCode, "The request could not be read.", bad.Message),
        ResourceNotFoundException notFound => Problem(StatusCodes.Status404NotFound, "Not found.", notFound.Message),
        RateLimitedException limited => Problem(StatusCodes.Status429TooManyRequests, "Too many requests.", limited.Message),
        ResourceConflictException conflict => Problem(StatusCodes.Status409Conflict, "Conflict.", conflict.Message),
        LexicalAnalyzerMismatchException analyzer => Problem(StatusCodes.Status409Conflict, "Conflict.", analyzer.Message),
        VectorCollectionMismatchException mismatch => Problem(StatusCodes.Status409Conflict, "The vector collection does not match.", mismatch.Message),
        MessageBusUnavailableException bus => Problem(StatusCodes.Status503ServiceUnavailable, "The message bus is unavailable.", bus.Message),
        UpstreamPluginException upstream => Problem(StatusCodes.Status502BadGateway, "A plugin failed.", upstream.Message),
        InvalidVectorException invalid => Problem(StatusCodes.Status502BadGateway, "The embedding provider returned an invalid vector.", invalid.Message),
        PluginNotFoundException missing => Problem(StatusCodes.Status500InternalServerError, "A configured plugin is missing.", missing.Message),
        PluginConfigurationException configuration => Problem(StatusCodes.Status500InternalServerError, "A plugin is misconfigured.", configuration.Message),
        OperationCanceledException => Problem(499, "The request was cancelled.", null),
        _ => Problem(StatusCodes.Status500InternalServerError, "An unexpected error occurred.", "See the service logs for details."),
    };

    private static string JsonMessage(JsonException json)
    {
        // The framework's message repeats the path and byte offsets; keep the first sentence.
        var message = json.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    private static ProblemDetails Problem(int status, string title, string? detail) =>
        new() { Status = status, Title = title, Detail = detail };
}
