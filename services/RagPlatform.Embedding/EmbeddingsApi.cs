using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Errors;
using RagPlatform.Core.Hosting;
using RagPlatform.Core.Security;
using RagPlatform.Sdk;

namespace RagPlatform.Embedding;

public static class EmbeddingsApi
{
    public const int MaxInputs = 2048;

    /// <summary>
    /// OpenAI-compatible embeddings over this process's shared models, so any OpenAI client (or another
    /// RagPlatform service) uses the one loaded copy instead of loading its own.
    /// </summary>
    public static IEndpointRouteBuilder MapEmbeddingsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1").WithTags("Embeddings").RequireScope(RagScopes.Query).ProducesKeyProblems();
        group.MapPost("/embeddings", CreateEmbeddingsAsync)
            .WithName("CreateEmbeddings")
            .WithSummary("Embed texts (OpenAI-compatible)")
            .WithDescription("The body and answer of OpenAI's POST /v1/embeddings: 'input' is a string or up to 2,048 strings, 'encoding_format' is float or base64. Served from this process's shared models.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .RequireRateLimiting(SecurityExtensions.EmbeddingConcurrencyPolicy);
        group.MapGet("/models", ListModels)
            .WithName("ListModels")
            .WithSummary("List the embedding models served here (OpenAI-compatible)");
        group.MapGet("/models/{id}/status", GetModelStatus)
            .WithName("GetModelStatus")
            .WithSummary("A model's fingerprint, load state and request counts")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Ok<OpenAiEmbeddingResponse>> CreateEmbeddingsAsync(OpenAiEmbeddingRequest? request, ModelRegistry models, CancellationToken ct)
    {
        if (request is null)
        {
            throw new RequestValidationException("$", "The body must be a JSON object with 'input' and 'model'.");
        }

        var model = string.IsNullOrWhiteSpace(request.Model) ? models.DefaultModel : request.Model;
        if (!models.Exists(model))
        {
            throw new RequestValidationException("model", $"Unknown model '{model}'. GET /v1/models lists the models served here.");
        }

        var inputs = ReadInputs(request.Input);
        var base64 = request.EncodingFormat switch
        {
            null or "float" => false,
            "base64" => true,
            _ => throw new RequestValidationException("encoding_format", "encoding_format is 'float' or 'base64'."),
        };

        var provider = await models.GetAsync(model, ct);
        if (request.Dimensions is { } dimensions && dimensions != provider.Fingerprint.Dimensions)
        {
            throw new RequestValidationException("dimensions",
                $"Model '{model}' produces {provider.Fingerprint.Dimensions} dimensions; it cannot return {dimensions}.");
        }

        var results = new List<EmbeddingResult>(inputs.Count);
        for (var offset = 0; offset < inputs.Count; offset += Math.Max(1, provider.MaxBatchSize))
        {
            var batch = inputs.GetRange(offset, Math.Min(Math.Max(1, provider.MaxBatchSize), inputs.Count - offset));
            results.AddRange(await provider.EmbedAsync(batch, EmbeddingPurpose.Document, ct));
        }

        var failed = results.Select((r, i) => (r, i)).Where(x => !x.r.Succeeded).ToList();
        models.RecordRequest(model, inputs.Count, failed.Count > 0 ? failed[0].r.Error : null);
        if (failed.Count > 0)
        {
            throw new RequestValidationException(failed.ToDictionary(
                x => string.Create(CultureInfo.InvariantCulture, $"input[{x.i}]"), x => new[] { x.r.Error ?? "embedding failed" }));
        }

        var data = results.Select((r, i) =>
        {
            VectorMath.Validate(r.Vector, provider.Fingerprint.Dimensions, string.Create(CultureInfo.InvariantCulture, $"input[{i}]"));
            object embedding = base64 ? Convert.ToBase64String(MemoryMarshal.AsBytes(r.Vector.AsSpan())) : r.Vector!;
            return new OpenAiEmbeddingData("embedding", i, embedding);
        }).ToList();
        var tokens = results.Sum(r => r.Tokens);
        return TypedResults.Ok(new OpenAiEmbeddingResponse("list", data, model, new OpenAiUsage(tokens, tokens)));
    }

    public static Ok<OpenAiModelList> ListModels(ModelRegistry models) => TypedResults.Ok(new OpenAiModelList("list",
        models.Models.Order(StringComparer.Ordinal).Select(m => new OpenAiModel(m, "model", 0, "ragplatform")).ToList()));

    public static Ok<ModelStatus> GetModelStatus(string id, ModelRegistry models) =>
        models.Exists(id)
            ? TypedResults.Ok(models.Status(id))
            : throw new ResourceNotFoundException($"Model '{id}' is not served here. GET /v1/models lists the models.");

    private static List<string> ReadInputs(JsonElement input)
    {
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                return [RequireText(input.GetString(), "input")];
            case JsonValueKind.Array:
                var count = input.GetArrayLength();
                if (count == 0 || count > MaxInputs)
                {
                    throw new RequestValidationException("input", $"input holds 1 to {MaxInputs} strings.");
                }

                var list = new List<string>(count);
                var index = 0;
                foreach (var item in input.EnumerateArray())
                {
                    var field = string.Create(CultureInfo.InvariantCulture, $"input[{index++}]");
                    if (item.ValueKind != JsonValueKind.String)
                    {
                        throw new RequestValidationException(field, "Each input is a string (token arrays are not supported).");
                    }

                    list.Add(RequireText(item.GetString(), field));
                }

                return list;
            default:
                throw new RequestValidationException("input", "input is a string or an array of strings.");
        }
    }

    private static string RequireText(string? text, string field) =>
        string.IsNullOrWhiteSpace(text) ? throw new RequestValidationException(field, "An input must not be empty.") : text;
}
