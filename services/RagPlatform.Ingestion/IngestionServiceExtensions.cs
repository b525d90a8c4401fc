using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace RagPlatform.Ingestion;

public static class IngestionServiceExtensions
{
    public static IHostApplicationBuilder AddIngestion(this IHostApplicationBuilder builder)
    {
        builder.Services.AddScoped<IngestionService>();
        builder.Services.AddSingleton<Files.DocumentParsing>();
        builder.Services.AddScoped<ReindexService>();
        return builder;
    }
}
